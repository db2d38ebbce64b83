/*
 * libevent 2.1 timers (event_add with a timeout, event_del): a binary
 * min-heap of struct event.  It reads CLOCK_MONOTONIC, which vtime.c turns
 * into the stream's virtual time; the base is told not to cache time, and
 * after each advance one non-blocking loop fires what is due.  libevent
 * has no public "next expiry" call.
 */
#include <stdlib.h>
#include <sys/time.h>

#include <event2/event.h>

#include "bench.h"

struct le {
	struct event_base *base;
	unsigned char *ev; /* ntimers events of event_get_struct_event_size() */
	size_t evsize;
	uint32_t n;
};

static inline struct event *
le_ev(struct le *l, uint32_t id)
{
	return (struct event *)(void *)(l->ev + (size_t)id * l->evsize);
}

static void
le_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	bench_fired((uint32_t)(uintptr_t)arg);
}

static inline void
le_arm(struct le *l, uint32_t id, uint32_t ticks)
{
	struct timeval tv = { (time_t)(ticks / 1000),
		(suseconds_t)(ticks % 1000) * 1000 };

	event_add(le_ev(l, id), &tv);
}

static inline void
le_cancel(struct le *l, uint32_t id)
{
	event_del(le_ev(l, id));
}

static inline void
le_advance(struct le *l, uint32_t ticks)
{
	(void)ticks;
	event_base_loop(l->base, EVLOOP_NONBLOCK);
}

static inline uint64_t
le_next(struct le *l)
{
	(void)l;
	return UINT64_MAX;
}

static void *
le_create(uint32_t ntimers)
{
	struct event_config *cfg = event_config_new();
	struct le *l = calloc(1, sizeof(*l));

	event_config_set_flag(cfg, EVENT_BASE_FLAG_NO_CACHE_TIME);
	l->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (l->base == NULL) {
		free(l);
		return NULL;
	}
	l->n = ntimers;
	l->evsize = event_get_struct_event_size();
	l->ev = bench_alloc(ntimers, l->evsize);
	for (uint32_t i = 0; i < ntimers; i++)
		event_assign(
		    le_ev(l, i), l->base, -1, 0, le_fire, (void *)(uintptr_t)i);
	return l;
}

static void
le_run(void *ctx, const struct op *ops, size_t n, struct run_stats *st)
{
	struct le *l = ctx;

	BENCH_LOOP(l, ops, n, st, le_arm, le_cancel, le_advance, le_next);
}

static void
le_destroy(void *ctx)
{
	struct le *l = ctx;

	for (uint32_t i = 0; i < l->n; i++)
		event_del(le_ev(l, i));
	event_base_free(l->base);
	free(l->ev);
	free(l);
}

const struct contender contender_libevent = {
	.name = "libevent",
	.layer = "libevent 2.1 event_add/event_del",
	.has_next = false,
	.create = le_create,
	.run = le_run,
	.destroy = le_destroy,
};
