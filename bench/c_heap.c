/*
 * The textbook baseline: a binary min-heap of pointers to timers, each
 * timer remembering its index so it can be removed or re-keyed in
 * O(log n).  Also the reference the other contenders are checked against.
 */
#include <stdlib.h>

#include "bench.h"

#define HEAP_NONE UINT32_MAX

struct hp_timer {
	uint64_t expire;
	uint32_t idx; /* position in the heap, HEAP_NONE if not pending */
	uint32_t id;
};

struct hp {
	struct hp_timer **a;
	uint32_t n;
	struct hp_timer *t;
};

static inline void
hp_place(struct hp *h, uint32_t i, struct hp_timer *x)
{
	h->a[i] = x;
	x->idx = i;
}

static inline void
hp_up(struct hp *h, uint32_t i, struct hp_timer *x)
{
	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (h->a[p]->expire <= x->expire)
			break;
		hp_place(h, i, h->a[p]);
		i = p;
	}
	hp_place(h, i, x);
}

static inline void
hp_down(struct hp *h, uint32_t i, struct hp_timer *x)
{
	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->a[c + 1]->expire < h->a[c]->expire)
			c++;
		if (x->expire <= h->a[c]->expire)
			break;
		hp_place(h, i, h->a[c]);
		i = c;
	}
	hp_place(h, i, x);
}

static inline void
hp_remove(struct hp *h, struct hp_timer *x)
{
	uint32_t i = x->idx;
	struct hp_timer *last = h->a[--h->n];

	x->idx = HEAP_NONE;
	if (last == x)
		return;
	if (i > 0 && last->expire < h->a[(i - 1) / 2]->expire)
		hp_up(h, i, last);
	else
		hp_down(h, i, last);
}

static inline void
hp_arm(struct hp *h, uint32_t id, uint32_t ticks)
{
	struct hp_timer *x = &h->t[id];
	uint64_t old = x->expire;

	x->expire = bench_vnow + ticks;
	if (x->idx == HEAP_NONE)
		hp_up(h, h->n++, x);
	else if (x->expire < old)
		hp_up(h, x->idx, x);
	else
		hp_down(h, x->idx, x);
}

static inline void
hp_cancel(struct hp *h, uint32_t id)
{
	struct hp_timer *x = &h->t[id];

	if (x->idx != HEAP_NONE)
		hp_remove(h, x);
}

static inline void
hp_advance(struct hp *h, uint32_t ticks)
{
	uint64_t now = bench_vnow;

	(void)ticks;
	while (h->n > 0 && h->a[0]->expire <= now) {
		struct hp_timer *x = h->a[0];

		hp_remove(h, x);
		bench_fired(x->id);
	}
}

static inline uint64_t
hp_next(struct hp *h)
{
	return h->n > 0 ? h->a[0]->expire : UINT64_MAX;
}

static void *
hp_create(uint32_t ntimers)
{
	struct hp *h = calloc(1, sizeof(*h));

	h->a = malloc(sizeof(*h->a) * ntimers);
	h->t = bench_alloc(ntimers, sizeof(*h->t));
	for (uint32_t i = 0; i < ntimers; i++) {
		h->t[i].idx = HEAP_NONE;
		h->t[i].id = i;
	}
	return h;
}

static void
hp_run(void *ctx, const struct op *ops, size_t n, struct run_stats *st)
{
	struct hp *h = ctx;

	BENCH_LOOP(h, ops, n, st, hp_arm, hp_cancel, hp_advance, hp_next);
}

static void
hp_destroy(void *ctx)
{
	struct hp *h = ctx;

	free(h->a);
	free(h->t);
	free(h);
}

const struct contender contender_heap = {
	.name = "heap",
	.layer = "binary heap (bench)",
	.has_next = true,
	.exact_next = true,
	.timer_size = sizeof(struct hp_timer) + sizeof(struct hp_timer *),
	.create = hp_create,
	.run = hp_run,
	.destroy = hp_destroy,
};
