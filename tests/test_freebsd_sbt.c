/*
 * callout_reset_sbt precision windows on real-time clocks: callouts whose
 * windows [due, due + precision] overlap are served by one wake-up, at a
 * tick inside every window; callouts whose windows do not overlap, or
 * that have no precision, get a wake-up each.  None runs before its due
 * time, and a run inside its window does not count as late.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <callout/freebsd.h>

#include "check.h"

#define LATE_SBT (SANITIZED ? SBT_1S : 100 * SBT_1MS)

struct win {
	struct callout co;
	struct callout_clock *clk;
	sbintime_t from, to; /* the window, on the clock's time */
	sbintime_t ran;
	atomic_int runs;
};

static void
win_fn(void *arg)
{
	struct win *w = arg;

	w->ran = callout_clock_sbinuptime(w->clk);
	atomic_fetch_add(&w->runs, 1);
}

static void
win_arm(struct win *w, struct callout_clock *clk, sbintime_t delay,
    sbintime_t prec, int flags)
{
	sbintime_t before, after;

	w->clk = clk;
	callout_init_clock(&w->co, clk, 1);
	before = callout_clock_sbinuptime(clk);
	callout_reset_sbt_on(&w->co, delay, prec, win_fn, w, 0, flags);
	after = callout_clock_sbinuptime(clk);
	if (flags & 0x7e) { /* C_PREL(n) */
		int n = ((flags >> 1) & 0x3f) - 1;

		if ((delay >> n) > prec)
			prec = delay >> n;
	}
	w->from = before + delay;
	w->to = after + delay + prec;
}

static void
check_in_window(const struct win *w)
{
	CHECK_EQ(atomic_load(&w->runs), 1);
	CHECK(w->ran >= w->from);
	CHECK(w->ran <= w->to + SBT_1MS + LATE_SBT);
}

/*
 * Did w run before its window closed?  Then the batch it ran in was
 * collected inside the window too.  A loaded machine (CI, sanitizers) may
 * wake the dispatcher later; the checks that need a timely wake-up only
 * apply when it happened.
 */
static bool
woke_in_window(const struct win *w)
{
	return w->ran <= w->to;
}

static bool
all_ran(struct win *w, int n)
{
	for (int i = 0; i < n; i++)
		if (atomic_load(&w[i].runs) == 0)
			return false;
	return true;
}

static void
wait_all(struct win *w, int n)
{
	for (int i = 0; i < 3000 && !all_ran(w, n); i++)
		sleep_ms(1);
}

static struct callout_clock *
make_clock(int mode)
{
	struct callout_clock_params p;

	callout_clock_params_init(&p);
	p.mode = mode;
	p.ndispatchers = 1;
	return callout_clock_create(&p);
}

/* Arm the pairs, wait, and return the wake-ups they took. */
static uint64_t
wakeups_for(struct callout_clock *clk, struct win *w, int n)
{
	struct callout_counters k0, k1;

	callout_clock_counters(clk, &k0);
	wait_all(w, n);
	callout_clock_counters(clk, &k1);
	for (int i = 0; i < n; i++)
		check_in_window(&w[i]);
	return k1.wakeups - k0.wakeups;
}

static void
overlapping_windows_share_one_wakeup(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_THREADED);
	struct callout_counters k;
	struct win w[3];

	memset(w, 0, sizeof(w));
	/* [100, 150] ms and [120, 170] ms: one wake-up in [120, 150]. */
	win_arm(&w[0], clk, 100 * SBT_1MS, 50 * SBT_1MS, 0);
	win_arm(&w[1], clk, 120 * SBT_1MS, 50 * SBT_1MS, 0);
	/* C_PREL(1): 140 ms may run up to 70 ms late: same wake-up. */
	win_arm(&w[2], clk, 140 * SBT_1MS, 0, C_PREL(1));
	CHECK_U64(wakeups_for(clk, w, 3), 1);
	/* One batch: back to back (a tick boundary may fall between). */
	CHECK(w[2].ran - w[0].ran <= SBT_1MS + LATE_SBT / 10);
	callout_clock_counters(clk, &k);
	if (woke_in_window(&w[0]))
		CHECK_U64(k.late, 0); /* inside their windows: not late */
	callout_clock_destroy(clk);
}

static void
precise_callout_sets_the_shared_wakeup(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_THREADED);
	struct win w[2];

	memset(w, 0, sizeof(w));
	/* [100, 200] ms with an exact one at 130 ms: both at 130. */
	win_arm(&w[0], clk, 100 * SBT_1MS, 100 * SBT_1MS, 0);
	win_arm(&w[1], clk, 130 * SBT_1MS, 0, 0);
	CHECK_U64(wakeups_for(clk, w, 2), 1);
	CHECK(w[1].ran - w[0].ran <= SBT_1MS + LATE_SBT / 10);
	callout_clock_destroy(clk);
}

static void
disjoint_windows_and_exact_callouts_wake_separately(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_THREADED);
	struct win w[4];

	memset(w, 0, sizeof(w));
	win_arm(&w[0], clk, 60 * SBT_1MS, 10 * SBT_1MS, 0);
	win_arm(&w[1], clk, 150 * SBT_1MS, 10 * SBT_1MS, 0);
	uint64_t n = wakeups_for(clk, w, 2);
	/* Two wake-ups, unless the first came so late both were due. */
	if (w[0].ran < w[1].from)
		CHECK_U64(n, 2);
	else
		CHECK(n == 1 || n == 2);
	win_arm(&w[2], clk, 60 * SBT_1MS, 0, 0);
	win_arm(&w[3], clk, 90 * SBT_1MS, 0, 0);
	n = wakeups_for(clk, w + 2, 2);
	if (w[2].ran < w[3].from)
		CHECK_U64(n, 2);
	else
		CHECK(n == 1 || n == 2);
	callout_clock_destroy(clk);
}

static void
external_clock_serves_overlapping_windows_in_one_run(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_EXTERNAL);
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct win w[2];
	unsigned ran = 0;
	int runs = 0;

	memset(w, 0, sizeof(w));
	epoll_ctl(ep, EPOLL_CTL_ADD, callout_clock_fd(clk), &ev);
	win_arm(&w[0], clk, 50 * SBT_1MS, 60 * SBT_1MS, 0);
	win_arm(&w[1], clk, 80 * SBT_1MS, 60 * SBT_1MS, 0);
	/* next_ns points at the shared wake-up, inside both windows. */
	int64_t next = callout_clock_next_ns(clk);
	CHECK(next >= 75 * 1000000LL);
	CHECK(next <= 110 * 1000000LL);
	while (!all_ran(w, 2) && epoll_wait(ep, &ev, 1, 2000) == 1) {
		ran += callout_clock_run(clk);
		runs++;
	}
	CHECK_EQ(ran, 2);
	CHECK_EQ(runs, 1);
	check_in_window(&w[0]);
	check_in_window(&w[1]);
	close(ep);
	callout_clock_destroy(clk);
}

int
main(void)
{
	RUN(overlapping_windows_share_one_wakeup);
	RUN(precise_callout_sets_the_shared_wakeup);
	RUN(disjoint_windows_and_exact_callouts_wake_separately);
	RUN(external_clock_serves_overlapping_windows_in_one_run);
	return check_finish();
}
