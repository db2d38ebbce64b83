/*
 * The FreeBSD rows of the misuse catalogue (callout_freebsd(3)): a
 * translation unit of its own, since <callout/freebsd.h> and <callout.h>
 * give the same names different meanings.
 */
#include <pthread.h>
#include <string.h>

#include <callout/freebsd.h>

#include "misuse_catalogue.h"

static void
count_fn(void *arg)
{
	(void)arg;
}

static void
drain_fn(void *arg)
{
	(void)arg;
}

/* Every call that takes a struct callout, with that callout. */
static void
every_fbsd_call(struct callout *c, const char *what)
{
	MC_CHECK(callout_fbsd_reset_on(c, 1, count_fn, NULL, -1) == 0);
	MC_EXPECT("callout_reset", what);
	MC_CHECK(callout_fbsd_schedule_on(c, 1, -1) == 0);
	MC_EXPECT("callout_schedule", what);
	MC_CHECK(callout_fbsd_reset_sbt_on(
		     c, mstosbt(1), 0, count_fn, NULL, -1, 0) == 0);
	MC_EXPECT("callout_reset_sbt", what);
	MC_CHECK(callout_fbsd_schedule_sbt_on(c, mstosbt(1), 0, -1, 0) == 0);
	MC_EXPECT("callout_schedule_sbt", what);
	callout_fbsd_stop(c);
	MC_EXPECT("callout_stop", what);
	callout_fbsd_drain(c);
	MC_EXPECT("callout_drain", what);
	callout_fbsd_async_drain(c, drain_fn);
	MC_EXPECT("callout_async_drain", what);
	MC_CHECK(!callout_fbsd_pending(c));
	MC_EXPECT("callout_pending", what);
	MC_CHECK(!callout_fbsd_active(c));
	MC_EXPECT("callout_active", what);
	callout_fbsd_deactivate(c);
	MC_EXPECT("callout_deactivate", what);
	callout_fbsd_curcpu(c);
	MC_EXPECT("callout_reset_curcpu", what);
}

static union {
	struct callout c;
	uint64_t align[16];
} netbsd_one;

struct so_init {
	struct callout_clock *clk;
	struct callout c;
	pthread_mutex_t m;
};

static void
so_init_calls(void *arg)
{
	struct so_init *s = arg;
	const char *what = "single-owner clock used from another thread";

	callout_fbsd_init_clock(&s->c, s->clk, 1);
	MC_EXPECT("callout_init", what);
	callout_fbsd_init_mtx_clock(&s->c, s->clk, &s->m, 0);
	MC_EXPECT("callout_init_mtx", what);
}

void
mc_freebsd_cases(void)
{
	struct callout_clock *clk = mc_virtual_clock(2, 0);
	struct callout c, m;
	pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
	struct so_init s;

	every_fbsd_call(NULL, "NULL callout");
	memset(&c, 0xa5, sizeof(c));
	every_fbsd_call(&c, "callout not initialised or destroyed");
	mc_netbsd_init(&netbsd_one.c, clk);
	every_fbsd_call(&netbsd_one.c, "not a FreeBSD callout");
	mc_netbsd_destroy(&netbsd_one.c);
	MC_NONE();

	callout_fbsd_init_clock(NULL, clk, 1);
	MC_EXPECT("callout_init", "NULL callout or clock");
	callout_fbsd_init_mtx_clock(NULL, clk, &mtx, 0);
	MC_EXPECT("callout_init_mtx", "NULL callout or clock");
	memset(&m, 0, sizeof(m));
	callout_fbsd_init_mtx_clock(&m, clk, &mtx, 0x40000);
	MC_EXPECT("callout_init_mtx", "unknown flags");
	MC_CHECK(!callout_fbsd_pending(&m)); /* still not initialised */
	MC_EXPECT("callout_pending", "callout not initialised or destroyed");

	s.clk = mc_virtual_clock(1, CALLOUT_CLOCK_SINGLE_OWNER);
	pthread_mutex_init(&s.m, NULL);
	mc_in_thread(so_init_calls, &s);
	pthread_mutex_destroy(&s.m);
	callout_clock_destroy(s.clk);

	/* The mutex of a callout_init_mtx callout must be held. */
	callout_fbsd_init_mtx_clock(&m, clk, &mtx, 0);
	{
		const char *what = "the callout's mutex is not held";

		MC_CHECK(callout_fbsd_reset_on(&m, 1, count_fn, NULL, -1) == 0);
		MC_EXPECT("callout_reset", what);
		MC_CHECK(callout_fbsd_schedule_on(&m, 1, -1) == 0);
		MC_EXPECT("callout_schedule", what);
		MC_CHECK(callout_fbsd_reset_sbt_on(
			     &m, mstosbt(1), 0, count_fn, NULL, -1, 0) == 0);
		MC_EXPECT("callout_reset_sbt", what);
		MC_CHECK(callout_fbsd_schedule_sbt_on(
			     &m, mstosbt(1), 0, -1, 0) == 0);
		MC_EXPECT("callout_schedule_sbt", what);
		callout_fbsd_stop(&m);
		MC_EXPECT("callout_stop", what);
		callout_fbsd_async_drain(&m, drain_fn);
		MC_EXPECT("callout_async_drain", what);
	}
	MC_CHECK(!callout_fbsd_pending(&m));
	pthread_mutex_lock(&mtx);
	MC_CHECK(callout_fbsd_drain(&m) == -1);
	MC_EXPECT("callout_drain", "called with the callout's mutex held");
	pthread_mutex_unlock(&mtx);
	callout_fbsd_drain(&m);
	MC_NONE();

	callout_fbsd_init_clock(&c, clk, 1);
	MC_CHECK(callout_fbsd_schedule_on(&c, 1, -1) == 0);
	MC_EXPECT("callout_schedule", "no handler set");
	MC_CHECK(callout_fbsd_schedule_sbt_on(&c, mstosbt(1), 0, -1, 0) == 0);
	MC_EXPECT("callout_schedule_sbt", "no handler set");
	MC_CHECK(callout_fbsd_reset_on(&c, 1, NULL, NULL, -1) == 0);
	MC_EXPECT("callout_reset", "NULL handler");
	MC_CHECK(callout_fbsd_reset_sbt_on(
		     &c, mstosbt(1), 0, NULL, NULL, -1, 0) == 0);
	MC_EXPECT("callout_reset_sbt", "NULL handler");
	MC_CHECK(callout_fbsd_reset_on(&c, 1, count_fn, NULL, 9) == 0);
	MC_EXPECT("callout_reset", "no such dispatcher");
	MC_CHECK(callout_fbsd_reset_sbt_on(
		     &c, mstosbt(1), 0, count_fn, NULL, 9, 0) == 0);
	MC_EXPECT("callout_reset_sbt", "no such dispatcher");
	MC_CHECK(callout_fbsd_reset_sbt_on(
		     &c, mstosbt(1), 0, count_fn, NULL, -1, 0x40000000) == 0);
	MC_EXPECT("callout_reset_sbt", "unknown flags");
	MC_CHECK(!callout_fbsd_pending(&c));
	MC_NONE();
	/* With a handler set, the schedule calls check the rest. */
	MC_CHECK(callout_fbsd_reset_on(&c, 5, count_fn, NULL, -1) == 0);
	callout_fbsd_stop(&c);
	MC_NONE();
	MC_CHECK(callout_fbsd_schedule_on(&c, 1, 9) == 0);
	MC_EXPECT("callout_schedule", "no such dispatcher");
	MC_CHECK(callout_fbsd_schedule_sbt_on(&c, mstosbt(1), 0, 9, 0) == 0);
	MC_EXPECT("callout_schedule_sbt", "no such dispatcher");
	MC_CHECK(callout_fbsd_schedule_sbt_on(
		     &c, mstosbt(1), 0, -1, 0x40000000) == 0);
	MC_EXPECT("callout_schedule_sbt", "unknown flags");
	MC_CHECK(callout_fbsd_async_drain(&c, NULL) == -1);
	MC_EXPECT("callout_async_drain", "NULL drain function");
	MC_CHECK(!callout_fbsd_pending(&c));
	callout_fbsd_drain(&c);
	MC_NONE();

	MC_CHECK(callout_clock_sbinuptime(NULL) == 0);
	MC_EXPECT("callout_clock_sbinuptime", "NULL clock");
	callout_clock_destroy(clk);
	MC_NONE();
}
