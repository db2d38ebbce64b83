/*
 * libuv timers (uv_timer_start, uv_timer_stop): a pointer heap.  The loop
 * caches its time; vtime.c makes CLOCK_MONOTONIC the virtual time and
 * uv_run(UV_RUN_NOWAIT) after each advance reads it and fires what is due.
 * "Next expiry" is uv_backend_timeout, relative to the loop's time.
 */
#include <stdlib.h>

#include <uv.h>

#include "bench.h"

struct lu {
	uv_loop_t loop;
	uv_timer_t *t;
	uint32_t n;
};

static uv_timer_t *lu_base;

static void
lu_fire(uv_timer_t *h)
{
	bench_fired((uint32_t)(h - lu_base));
}

static inline void
lu_arm(struct lu *l, uint32_t id, uint32_t ticks)
{
	uv_timer_start(&l->t[id], lu_fire, ticks, 0);
}

static inline void
lu_cancel(struct lu *l, uint32_t id)
{
	uv_timer_stop(&l->t[id]);
}

static inline void
lu_advance(struct lu *l, uint32_t ticks)
{
	(void)ticks;
	uv_run(&l->loop, UV_RUN_NOWAIT);
}

static inline uint64_t
lu_next(struct lu *l)
{
	int ms = uv_backend_timeout(&l->loop);

	return ms < 0 ? UINT64_MAX : uv_now(&l->loop) + (uint64_t)ms;
}

static void *
lu_create(uint32_t ntimers)
{
	struct lu *l = calloc(1, sizeof(*l));

	if (uv_loop_init(&l->loop) != 0) {
		free(l);
		return NULL;
	}
	uv_update_time(&l->loop);
	l->n = ntimers;
	l->t = bench_alloc(ntimers, sizeof(*l->t));
	for (uint32_t i = 0; i < ntimers; i++)
		uv_timer_init(&l->loop, &l->t[i]);
	/* Until the loop has run once, uv_backend_timeout says 0. */
	uv_run(&l->loop, UV_RUN_NOWAIT);
	lu_base = l->t;
	return l;
}

static void
lu_run(void *ctx, const struct op *ops, size_t n, struct run_stats *st)
{
	struct lu *l = ctx;

	lu_base = l->t;
	BENCH_LOOP(l, ops, n, st, lu_arm, lu_cancel, lu_advance, lu_next);
}

static void
lu_destroy(void *ctx)
{
	struct lu *l = ctx;

	for (uint32_t i = 0; i < l->n; i++)
		uv_close((uv_handle_t *)&l->t[i], NULL);
	uv_run(&l->loop, UV_RUN_DEFAULT);
	uv_loop_close(&l->loop);
	free(l->t);
	free(l);
}

const struct contender contender_libuv = {
	.name = "libuv",
	.layer = "libuv uv_timer_start/stop",
	.has_next = true,
	.exact_next = true,
	.timer_size = sizeof(uv_timer_t),
	.create = lu_create,
	.run = lu_run,
	.destroy = lu_destroy,
};
