/*
 * The external clock driven by a plain epoll loop.  A scripted scenario
 * (arms, re-arms and stops from handlers, absolute deadlines) fires the
 * same callouts in the same order with the same due ticks as on a virtual
 * clock; the timerfd is one descriptor for the clock's life, readable
 * while work is due until callout_clock_run runs it; next_ns is never
 * later than the truth; the tick hook runs after each batch; misuse is
 * reported.  Uses the FreeBSD personality for its absolute deadlines.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <callout/freebsd.h>

#include "check.h"
#include "clock.h"

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
ts_ns(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct callout_clock *
make_clock(int mode, int hz, unsigned flags)
{
	struct callout_clock_params p;

	callout_clock_params_init(&p);
	p.mode = mode;
	p.hz = hz;
	p.flags = flags;
	return callout_clock_create(&p);
}

/* Is fd readable right now? */
static bool
readable(int ep)
{
	struct epoll_event ev;

	return epoll_wait(ep, &ev, 1, 0) == 1;
}

static int
epoll_for(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ev.data.fd = fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	return ep;
}

/* The scenario.  hz 100; due ticks distinct, re-arms far enough ahead. */

#define NS 12
#define HZ 100
#define MAXEV 32

struct scen;

struct actor {
	struct callout co;
	struct scen *s;
	int id;
	uint64_t due; /* requested due tick */
	int runs;
};

struct scen {
	struct callout_clock *clk;
	struct actor a[NS], x[NS];
	int ids[MAXEV];
	uint64_t dues[MAXEV];
	int n;
	int early;
};

static sbintime_t
tick_sbt(uint64_t t)
{
	return (sbintime_t)(t * (uint64_t)SBT_1S / HZ);
}

static void actor_fn(void *arg);

static void
actor_arm(struct actor *a, uint64_t due)
{
	a->due = due;
	callout_reset_sbt(&a->co, tick_sbt(due), 0, actor_fn, a, C_ABSOLUTE);
}

static void
actor_fn(void *arg)
{
	struct actor *a = arg;
	struct scen *s = a->s;

	if (callout_clock_ticks(s->clk) < a->due)
		s->early++;
	if (s->n < MAXEV) {
		s->ids[s->n] = a->id;
		s->dues[s->n] = a->due;
	}
	s->n++;
	a->runs++;
	if (a->id >= NS)
		return; /* an x: just runs */
	switch (a->id % 3) {
	case 0: /* re-arm itself once, 40 ticks later */
		if (a->runs == 1)
			actor_arm(a, a->due + 40);
		break;
	case 1: /* stop the one two places on */
		if (a->id + 2 < NS)
			callout_stop(&s->a[a->id + 2].co);
		break;
	case 2: /* arm a new one 25 ticks later */
		actor_arm(&s->x[a->id], a->due + 25);
		break;
	}
}

static void
scen_start(struct scen *s, struct callout_clock *clk)
{
	memset(s, 0, sizeof(*s));
	s->clk = clk;
	for (int i = 0; i < NS; i++) {
		s->a[i].s = s;
		s->a[i].id = i;
		s->x[i].s = s;
		s->x[i].id = NS + i;
		callout_init_clock(&s->a[i].co, clk, 1);
		callout_init_clock(&s->x[i].co, clk, 1);
	}
	for (int i = 0; i < NS; i++)
		actor_arm(&s->a[i], 10 + 7 * (uint64_t)i);
}

static void
scen_end(struct scen *s)
{
	for (int i = 0; i < NS; i++) {
		callout_stop(&s->a[i].co);
		callout_stop(&s->x[i].co);
	}
}

static void
epoll_scenario_matches_virtual_clock(void)
{
	struct callout_clock *vclk, *eclk;
	struct scen *v = calloc(1, sizeof(*v)), *e = calloc(1, sizeof(*e));
	struct callout_counters k;
	int64_t give_up;
	int ep;

	vclk = make_clock(CALLOUT_CLOCK_VIRTUAL, HZ, 0);
	scen_start(v, vclk);
	callout_clock_advance(vclk, 300);
	CHECK_EQ(v->n, 14);

	eclk =
	    make_clock(CALLOUT_CLOCK_EXTERNAL, HZ, CALLOUT_CLOCK_SINGLE_OWNER);
	CHECK(eclk != NULL);
	scen_start(e, eclk);
	ep = epoll_for(callout_clock_fd(eclk));
	give_up = mono_ns() + 5000000000LL;
	while (e->n < v->n && mono_ns() < give_up) {
		struct epoll_event ev;
		int64_t next = callout_clock_next_ns(eclk);
		int timeout = next < 0 ? 1000 : (int)(next / 1000000) + 1;

		if (epoll_wait(ep, &ev, 1, timeout) == 1)
			callout_clock_run(eclk);
	}
	CHECK_EQ(e->n, v->n);
	CHECK_EQ(e->early, 0);
	CHECK_EQ(v->early, 0);
	for (int i = 0; i < v->n && i < e->n && i < MAXEV; i++) {
		CHECK_EQ(e->ids[i], v->ids[i]);
		CHECK_U64(e->dues[i], v->dues[i]);
	}
	callout_clock_counters(eclk, &k);
	CHECK(k.wakeups > 0);
	CHECK_U64(k.fired, 14);
	CHECK_EQ(callout_clock_next_ns(eclk), -1);
	scen_end(v);
	scen_end(e);
	close(ep);
	callout_clock_destroy(vclk);
	callout_clock_destroy(eclk);
	free(v);
	free(e);
}

/* The timerfd and next_ns. */

static int count_runs;

static void
count_fn(void *arg)
{
	(void)arg;
	count_runs++;
}

static void
fd_is_level_triggered_and_constant(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_EXTERNAL, 1000, 0);
	struct callout c;
	int fd = callout_clock_fd(clk);
	int ep = epoll_for(fd);
	struct epoll_event ev;
	uint64_t due;
	int64_t woke;

	CHECK(fd >= 0);
	CHECK_EQ(callout_clock_next_ns(clk), -1);
	CHECK(!readable(ep));
	callout_init_clock(&c, clk, 1);
	count_runs = 0;
	due = callout_clock_ticks(clk) + 30;
	callout_reset(&c, 30, count_fn, NULL);
	CHECK(!readable(ep));
	CHECK_EQ(epoll_wait(ep, &ev, 1, 2000), 1);
	woke = mono_ns();
	CHECK(woke >= ts_ns(co_tick_start(clk, due)));
	CHECK(readable(ep)); /* stays readable: nobody ran the work */
	CHECK(readable(ep));
	CHECK_EQ(callout_clock_next_ns(clk), 0);
	CHECK_EQ(callout_clock_run(clk), 1);
	CHECK_EQ(count_runs, 1);
	CHECK(!readable(ep));
	CHECK_EQ(callout_clock_run(clk), 0);
	CHECK_EQ(callout_clock_fd(clk), fd);
	CHECK_EQ(callout_clock_next_ns(clk), -1);
	callout_stop(&c);
	close(ep);
	callout_clock_destroy(clk);
}

static void
fd_is_readable_only_while_work_is_due(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_EXTERNAL, 1000, 0);
	struct callout c;
	int ep = epoll_for(callout_clock_fd(clk));
	struct epoll_event ev;
	uint64_t due;

	callout_init_clock(&c, clk, 1);
	count_runs = 0;
	/* Cancelled before it is due: the fd never becomes readable. */
	callout_reset(&c, 20, count_fn, NULL);
	callout_stop(&c);
	CHECK_EQ(epoll_wait(ep, &ev, 1, 60), 0);
	/* Cancelled after it fell due, before the run: quiet again. */
	callout_reset(&c, 5, count_fn, NULL);
	CHECK_EQ(epoll_wait(ep, &ev, 1, 2000), 1);
	callout_stop(&c);
	CHECK(!readable(ep));
	/* 150 ticks: beyond wheel level 0; no readability at the cascade. */
	due = callout_clock_ticks(clk) + 150;
	callout_reset(&c, 150, count_fn, NULL);
	while (epoll_wait(ep, &ev, 1, 1000) == 1) {
		CHECK(mono_ns() >= ts_ns(co_tick_start(clk, due)));
		if (callout_clock_run(clk) == 1)
			break;
		CHECK(0); /* readable with nothing to run */
	}
	CHECK_EQ(count_runs, 1);
	CHECK_EQ(callout_clock_run(clk), 0);
	close(ep);
	callout_clock_destroy(clk);
}

static void
next_ns_never_later_than_truth(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_EXTERNAL, 1000, 0);
	struct callout c[3];
	static const int delays[] = { 200, 5000, 70 };
	uint64_t due = UINT64_MAX;

	for (int i = 0; i < 3; i++) {
		uint64_t d = callout_clock_ticks(clk) + (uint64_t)delays[i];

		callout_init_clock(&c[i], clk, 1);
		callout_reset(&c[i], delays[i], count_fn, NULL);
		if (d < due)
			due = d;
		int64_t before = mono_ns();
		int64_t ns = callout_clock_next_ns(clk);
		int64_t truth = ts_ns(co_tick_start(clk, due)) - before;

		CHECK(ns >= 0);
		CHECK(ns <= truth);
		CHECK(ns >= truth - 50000000); /* and not absurdly early */
	}
	/* Far away (level > 0 of the wheel): still never later. */
	for (int i = 0; i < 3; i++)
		callout_stop(&c[i]);
	callout_reset(&c[0], 100000, count_fn, NULL);
	int64_t ns = callout_clock_next_ns(clk);
	CHECK(ns > 0);
	CHECK(ns <= 100000LL * 1000000);
	callout_stop(&c[0]);
	callout_clock_destroy(clk);
}

static unsigned hook_calls;

static unsigned
count_hook(struct callout_clock *clk, int cpu, void *ctx)
{
	(void)clk;
	(void)cpu;
	(void)ctx;
	hook_calls++;
	return 0;
}

static void
several_dispatchers_and_tick_hook_run_on_caller(void)
{
	struct callout_clock_params p;
	struct callout_clock *clk;
	struct callout c[3];
	int ep;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_EXTERNAL;
	p.ndispatchers = 3;
	clk = callout_clock_create(&p);
	CHECK(clk != NULL);
	CHECK_EQ(callout_clock_ndispatchers(clk), 3);
	co_clock_set_tick_hook(clk, count_hook, NULL);
	hook_calls = 0;
	count_runs = 0;
	for (int i = 0; i < 3; i++) {
		callout_init_clock(&c[i], clk, 1);
		callout_reset_on(&c[i], 5, count_fn, NULL, i);
	}
	ep = epoll_for(callout_clock_fd(clk));
	while (count_runs < 3) {
		struct epoll_event ev;

		if (epoll_wait(ep, &ev, 1, 2000) != 1)
			break;
		callout_clock_run(clk);
	}
	CHECK_EQ(count_runs, 3);
	CHECK(hook_calls >= 3); /* once per dispatcher per batch, at least */
	close(ep);
	callout_clock_destroy(clk);
}

static struct callout_clock *reentry_clk;

static void
run_from_handler(void *arg)
{
	(void)arg;
	CHECK_EQ(callout_clock_run(reentry_clk), 0);
}

static void
run_from_handler_is_misuse(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_EXTERNAL, 1000, 0);
	struct callout_clock *vclk = make_clock(CALLOUT_CLOCK_VIRTUAL, 1000, 0);
	struct callout c;
	int ep = epoll_for(callout_clock_fd(clk));
	struct epoll_event ev;

	callout_set_misuse_handler(check_misuse);
	reentry_clk = clk;
	callout_init_clock(&c, clk, 1);
	callout_reset(&c, 1, run_from_handler, NULL);
	CHECK_EQ(epoll_wait(ep, &ev, 1, 2000), 1);
	CHECK_EQ(callout_clock_run(clk), 1);
	CHECK_MISUSE("callout_clock_run");
	CHECK_EQ(callout_clock_run(vclk), 0);
	CHECK_MISUSE("callout_clock_run");
	CHECK_EQ(callout_clock_fd(vclk), -1);
	CHECK_MISUSE("callout_clock_fd");
	CHECK_EQ(callout_clock_next_ns(vclk), -1);
	CHECK_MISUSE("callout_clock_next_ns");
	callout_set_misuse_handler(NULL);
	close(ep);
	callout_clock_destroy(clk);
	callout_clock_destroy(vclk);
}

int
main(void)
{
	RUN(fd_is_level_triggered_and_constant);
	RUN(fd_is_readable_only_while_work_is_due);
	RUN(next_ns_never_later_than_truth);
	RUN(several_dispatchers_and_tick_hook_run_on_caller);
	RUN(run_from_handler_is_misuse);
	RUN(epoll_scenario_matches_virtual_clock);
	return check_finish();
}
