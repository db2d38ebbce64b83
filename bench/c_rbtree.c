/*
 * The other textbook baseline: an intrusive red-black tree ordered by
 * (expiry, id), with its leftmost node cached so that "next" and expiry
 * start in O(1).  Re-arming is a removal and an insertion.
 */
#include <stdlib.h>

#include "bench.h"

struct rb_timer {
	struct rb_timer *left, *right, *parent;
	uint64_t expire;
	uint32_t id;
	uint8_t red;
	uint8_t pending;
};

struct rb {
	struct rb_timer *root;
	struct rb_timer *first; /* leftmost */
	struct rb_timer *t;
};

static inline bool
rb_less(const struct rb_timer *a, const struct rb_timer *b)
{
	return a->expire < b->expire ||
	    (a->expire == b->expire && a->id < b->id);
}

static inline void
rb_replace_child(struct rb *r, struct rb_timer *p, struct rb_timer *old,
    struct rb_timer *new)
{
	if (p == NULL)
		r->root = new;
	else if (p->left == old)
		p->left = new;
	else
		p->right = new;
}

static inline void
rb_rotate_left(struct rb *r, struct rb_timer *x)
{
	struct rb_timer *y = x->right;

	x->right = y->left;
	if (y->left != NULL)
		y->left->parent = x;
	y->parent = x->parent;
	rb_replace_child(r, x->parent, x, y);
	y->left = x;
	x->parent = y;
}

static inline void
rb_rotate_right(struct rb *r, struct rb_timer *x)
{
	struct rb_timer *y = x->left;

	x->left = y->right;
	if (y->right != NULL)
		y->right->parent = x;
	y->parent = x->parent;
	rb_replace_child(r, x->parent, x, y);
	y->right = x;
	x->parent = y;
}

static inline bool
rb_is_red(const struct rb_timer *x)
{
	return x != NULL && x->red;
}

static void
rb_insert(struct rb *r, struct rb_timer *x)
{
	struct rb_timer **link = &r->root, *p = NULL;
	bool leftmost = true;

	while (*link != NULL) {
		p = *link;
		if (rb_less(x, p)) {
			link = &p->left;
		} else {
			link = &p->right;
			leftmost = false;
		}
	}
	x->left = x->right = NULL;
	x->parent = p;
	x->red = 1;
	*link = x;
	if (leftmost)
		r->first = x;
	while ((p = x->parent) != NULL && p->red) {
		struct rb_timer *g = p->parent;

		if (p == g->left) {
			struct rb_timer *u = g->right;

			if (rb_is_red(u)) {
				p->red = u->red = 0;
				g->red = 1;
				x = g;
				continue;
			}
			if (x == p->right) {
				rb_rotate_left(r, p);
				x = p;
				p = x->parent;
			}
			p->red = 0;
			g->red = 1;
			rb_rotate_right(r, g);
		} else {
			struct rb_timer *u = g->left;

			if (rb_is_red(u)) {
				p->red = u->red = 0;
				g->red = 1;
				x = g;
				continue;
			}
			if (x == p->left) {
				rb_rotate_right(r, p);
				x = p;
				p = x->parent;
			}
			p->red = 0;
			g->red = 1;
			rb_rotate_left(r, g);
		}
	}
	r->root->red = 0;
}

static inline struct rb_timer *
rb_min(struct rb_timer *x)
{
	while (x->left != NULL)
		x = x->left;
	return x;
}

static void
rb_fixup_remove(struct rb *r, struct rb_timer *x, struct rb_timer *xp)
{
	while (x != r->root && !rb_is_red(x)) {
		if (x == xp->left) {
			struct rb_timer *w = xp->right;

			if (w->red) {
				w->red = 0;
				xp->red = 1;
				rb_rotate_left(r, xp);
				w = xp->right;
			}
			if (!rb_is_red(w->left) && !rb_is_red(w->right)) {
				w->red = 1;
				x = xp;
				xp = x->parent;
				continue;
			}
			if (!rb_is_red(w->right)) {
				w->left->red = 0;
				w->red = 1;
				rb_rotate_right(r, w);
				w = xp->right;
			}
			w->red = xp->red;
			xp->red = 0;
			w->right->red = 0;
			rb_rotate_left(r, xp);
			x = r->root;
			break;
		} else {
			struct rb_timer *w = xp->left;

			if (w->red) {
				w->red = 0;
				xp->red = 1;
				rb_rotate_right(r, xp);
				w = xp->left;
			}
			if (!rb_is_red(w->left) && !rb_is_red(w->right)) {
				w->red = 1;
				x = xp;
				xp = x->parent;
				continue;
			}
			if (!rb_is_red(w->left)) {
				w->right->red = 0;
				w->red = 1;
				rb_rotate_left(r, w);
				w = xp->left;
			}
			w->red = xp->red;
			xp->red = 0;
			w->left->red = 0;
			rb_rotate_right(r, xp);
			x = r->root;
			break;
		}
	}
	if (x != NULL)
		x->red = 0;
}

static void
rb_remove(struct rb *r, struct rb_timer *z)
{
	struct rb_timer *x, *xp;
	bool black_removed;

	if (r->first == z)
		r->first = z->right != NULL ? rb_min(z->right) : z->parent;
	if (z->left == NULL || z->right == NULL) {
		x = z->left != NULL ? z->left : z->right;
		xp = z->parent;
		black_removed = !z->red;
		if (x != NULL)
			x->parent = xp;
		rb_replace_child(r, xp, z, x);
	} else {
		struct rb_timer *y = rb_min(z->right);

		black_removed = !y->red;
		x = y->right;
		if (y->parent == z) {
			xp = y;
		} else {
			xp = y->parent;
			if (x != NULL)
				x->parent = xp;
			xp->left = x;
			y->right = z->right;
			y->right->parent = y;
		}
		rb_replace_child(r, z->parent, z, y);
		y->parent = z->parent;
		y->left = z->left;
		y->left->parent = y;
		y->red = z->red;
	}
	if (black_removed)
		rb_fixup_remove(r, x, xp);
}

static inline void
rb_cancel(struct rb *r, uint32_t id)
{
	struct rb_timer *x = &r->t[id];

	if (x->pending) {
		rb_remove(r, x);
		x->pending = 0;
	}
}

static inline void
rb_arm(struct rb *r, uint32_t id, uint32_t ticks)
{
	struct rb_timer *x = &r->t[id];

	if (x->pending)
		rb_remove(r, x);
	x->expire = bench_vnow + ticks;
	x->pending = 1;
	rb_insert(r, x);
}

static inline void
rb_advance(struct rb *r, uint32_t ticks)
{
	uint64_t now = bench_vnow;
	struct rb_timer *x;

	(void)ticks;
	while ((x = r->first) != NULL && x->expire <= now) {
		rb_remove(r, x);
		x->pending = 0;
		bench_fired(x->id);
	}
}

static inline uint64_t
rb_next(struct rb *r)
{
	return r->first != NULL ? r->first->expire : UINT64_MAX;
}

static void *
rb_create(uint32_t ntimers)
{
	struct rb *r = calloc(1, sizeof(*r));

	r->t = bench_alloc(ntimers, sizeof(*r->t));
	for (uint32_t i = 0; i < ntimers; i++)
		r->t[i].id = i;
	return r;
}

static void
rb_run(void *ctx, const struct op *ops, size_t n, struct run_stats *st)
{
	struct rb *r = ctx;

	BENCH_LOOP(r, ops, n, st, rb_arm, rb_cancel, rb_advance, rb_next);
}

static void
rb_destroy(void *ctx)
{
	struct rb *r = ctx;

	free(r->t);
	free(r);
}

const struct contender contender_rbtree = {
	.name = "rbtree",
	.layer = "red-black tree (bench)",
	.has_next = true,
	.exact_next = true,
	.timer_size = sizeof(struct rb_timer),
	.create = rb_create,
	.run = rb_run,
	.destroy = rb_destroy,
};
