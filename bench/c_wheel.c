/*
 * libcallout's raw wheel (src/wheel.h): the data structure alone, with no
 * callout state, no clock and no dispatch, to show what the API layers
 * above it cost.  A node not filed has pprev == NULL.
 */
#include <stdlib.h>

#include "bench.h"
#include "wheel.h"

struct wh_timer {
	struct wheel_node node;
	uint32_t id;
};

struct wh {
	struct wheel w;
	struct wh_timer *t;
};

static inline void
wh_arm(struct wh *h, uint32_t id, uint32_t ticks)
{
	struct wh_timer *x = &h->t[id];

	if (x->node.pprev != NULL)
		wheel_rearm(&h->w, &x->node, bench_vnow + ticks);
	else
		wheel_insert(&h->w, &x->node, bench_vnow + ticks);
}

static inline void
wh_cancel(struct wh *h, uint32_t id)
{
	struct wh_timer *x = &h->t[id];

	if (x->node.pprev != NULL) {
		wheel_remove(&h->w, &x->node);
		x->node.pprev = NULL;
	}
}

static inline void
wh_advance(struct wh *h, uint32_t ticks)
{
	struct wheel_list expired;
	struct wheel_node *n, *next;

	(void)ticks;
	wheel_list_init(&expired);
	wheel_advance(&h->w, bench_vnow, &expired);
	for (n = expired.first; n != NULL; n = next) {
		struct wh_timer *x = (struct wh_timer *)(void *)n;

		next = n->next;
		n->pprev = NULL;
		bench_fired(x->id);
	}
}

static inline uint64_t
wh_next(struct wh *h)
{
	return wheel_next(&h->w);
}

static void *
wh_create(uint32_t ntimers)
{
	struct wh *h = malloc(sizeof(*h));

	wheel_init(&h->w, bench_vnow);
	h->t = bench_alloc(ntimers, sizeof(*h->t));
	for (uint32_t i = 0; i < ntimers; i++)
		h->t[i].id = i;
	return h;
}

static void
wh_run(void *ctx, const struct op *ops, size_t n, struct run_stats *st)
{
	struct wh *h = ctx;

	BENCH_LOOP(h, ops, n, st, wh_arm, wh_cancel, wh_advance, wh_next);
}

static void
wh_destroy(void *ctx)
{
	struct wh *h = ctx;

	free(h->t);
	free(h);
}

const struct contender contender_wheel = {
	.name = "wheel",
	.layer = "libcallout raw wheel",
	.has_next = true,
	.exact_next = false,
	.timer_size = sizeof(struct wh_timer),
	.create = wh_create,
	.run = wh_run,
	.destroy = wh_destroy,
};
