/*
 * libcallout through its public callout(9) API on a virtual clock: once on
 * a single-owner clock (no lock, no atomic read-modify-write) and once on
 * a thread-safe clock, to show what thread safety costs.  The handler's
 * argument is the callout itself; its index is the timer id.
 */
#include <stdlib.h>

#include <callout.h>

#include "bench.h"

struct co_bench {
	struct callout_clock *clk;
	callout_t *t;
	uint32_t n;
};

static callout_t *co_base; /* timers of the contender being run */

static void
co_fire(void *arg)
{
	bench_fired((uint32_t)((callout_t *)arg - co_base));
}

static inline void
co_arm(struct co_bench *b, uint32_t id, uint32_t ticks)
{
	callout_reset(&b->t[id], (int)ticks, co_fire, &b->t[id]);
}

static inline void
co_cancel(struct co_bench *b, uint32_t id)
{
	callout_stop(&b->t[id]);
}

static inline void
co_advance(struct co_bench *b, uint32_t ticks)
{
	callout_clock_advance(b->clk, ticks);
}

static inline uint64_t
co_next(struct co_bench *b)
{
	(void)b;
	return UINT64_MAX; /* a virtual clock has no next_ns: see README */
}

static void *
co_create(uint32_t ntimers, unsigned flags)
{
	struct callout_clock_params p;
	struct co_bench *b;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	p.ndispatchers = 1;
	p.flags = flags;
	p.start_ticks = bench_vnow;
	b = calloc(1, sizeof(*b));
	b->clk = callout_clock_create(&p);
	if (b->clk == NULL) {
		free(b);
		return NULL;
	}
	b->n = ntimers;
	b->t = bench_alloc(ntimers, sizeof(*b->t));
	for (uint32_t i = 0; i < ntimers; i++)
		callout_init_clock(&b->t[i], b->clk, CALLOUT_MPSAFE);
	co_base = b->t;
	return b;
}

static void *
co_create_so(uint32_t ntimers)
{
	return co_create(ntimers, CALLOUT_CLOCK_SINGLE_OWNER);
}

static void *
co_create_mt(uint32_t ntimers)
{
	return co_create(ntimers, 0);
}

static void
co_run(void *ctx, const struct op *ops, size_t n, struct run_stats *st)
{
	struct co_bench *b = ctx;

	co_base = b->t;
	BENCH_LOOP(b, ops, n, st, co_arm, co_cancel, co_advance, co_next);
}

static void
co_destroy(void *ctx)
{
	struct co_bench *b = ctx;

	for (uint32_t i = 0; i < b->n; i++) {
		callout_stop(&b->t[i]);
		callout_destroy(&b->t[i]);
	}
	callout_clock_destroy(b->clk);
	free(b->t);
	free(b);
}

const struct contender contender_callout_so = {
	.name = "callout",
	.layer = "libcallout API, single-owner clock",
	.has_next = false,
	.timer_size = sizeof(callout_t),
	.create = co_create_so,
	.run = co_run,
	.destroy = co_destroy,
};

const struct contender contender_callout_mt = {
	.name = "callout-mt",
	.layer = "libcallout API, thread-safe clock",
	.has_next = false,
	.timer_size = sizeof(callout_t),
	.create = co_create_mt,
	.run = co_run,
	.destroy = co_destroy,
};
