/*
 * The threaded clock against real time: handlers never run before the
 * start of their due tick and run within a generous bound after it
 * (100 ms, 1 s under sanitizers); an idle clock does not wake; an earlier
 * arm wakes a sleeping dispatcher; after a stall (a dispatcher blocked by
 * a handler, the whole process stopped with SIGSTOP) every due callout
 * runs exactly once, in due order, and the lateness is counted.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <callout.h>

#include "check.h"
#include "clock.h"

/* Lateness allowed: 100 ms, or 1 s under sanitizers. */
#define LATE_NS (SANITIZED ? 1000000000LL : 100000000LL)

static int64_t
ts_ns(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(ts);
}

static struct callout_clock *
make_threaded(int hz, int ndisp)
{
	struct callout_clock_params p;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_THREADED;
	p.hz = hz;
	p.ndispatchers = ndisp;
	return callout_clock_create(&p);
}

struct timed {
	callout_t c;
	struct callout_clock *clk;
	uint64_t earliest; /* due tick seen before arming */
	uint64_t latest;   /* due tick seen after arming */
	int64_t ran_ns;
	uint64_t ran_tick;
	atomic_int runs;
	int index;
	int *order;
	atomic_int *order_n;
	long sleep;
	int tid;
};

static void
timed_fn(void *arg)
{
	struct timed *t = arg;

	t->ran_ns = mono_ns();
	t->ran_tick = callout_clock_ticks(t->clk);
	t->tid = (int)syscall(SYS_gettid);
	if (t->order != NULL)
		t->order[atomic_fetch_add(t->order_n, 1)] = t->index;
	atomic_fetch_add(&t->runs, 1);
	if (t->sleep > 0)
		sleep_ms(t->sleep);
}

static void
timed_arm(struct timed *t, struct callout_clock *clk, int ticks)
{
	t->clk = clk;
	t->earliest = callout_clock_ticks(clk) + (uint64_t)ticks;
	callout_reset(&t->c, ticks, timed_fn, t);
	t->latest = callout_clock_ticks(clk) + (uint64_t)ticks;
}

/* Ran once, not before its due tick started, and not too late. */
static void
check_timely(const struct timed *t)
{
	int64_t start = ts_ns(co_tick_start(t->clk, t->earliest));
	int64_t bound = ts_ns(co_tick_start(t->clk, t->latest)) + LATE_NS;

	CHECK_EQ(atomic_load(&t->runs), 1);
	if (t->ran_ns < start)
		fprintf(stderr, "early by %lld ns\n",
		    (long long)(start - t->ran_ns));
	CHECK(t->ran_ns >= start);
	CHECK(t->ran_tick >= t->earliest);
	if (t->ran_ns > bound)
		fprintf(stderr, "late by %lld ns\n",
		    (long long)(t->ran_ns - bound + LATE_NS));
	CHECK(t->ran_ns <= bound);
}

/* Wait until each of t[0..n) ran once, or `ms` passed. */
static void
wait_runs(struct timed *t, int n, long ms)
{
	for (long waited = 0; waited < ms; waited++) {
		int i;

		for (i = 0; i < n && atomic_load(&t[i].runs) > 0; i++)
			continue;
		if (i == n)
			return;
		sleep_ms(1);
	}
}

static void
never_early_and_late_within_bound(void)
{
	static const int delays[] = { 1, 2, 3, 5, 8, 13, 25, 50, 100, 150 };
	const int n = (int)(sizeof(delays) / sizeof(delays[0]));
	int hzs[] = { 1000, 100, 64 };

	for (int h = 0; h < 3; h++) {
		struct callout_clock *clk = make_threaded(hzs[h], 2);
		struct timed t[10];

		memset(t, 0, sizeof(t));
		for (int i = 0; i < n; i++) {
			callout_init_clock(&t[i].c, clk, CALLOUT_MPSAFE);
			timed_arm(&t[i], clk, delays[i] * hzs[h] / 1000 + 1);
		}
		wait_runs(t, n, 200 + LATE_NS / 1000000 + 100);
		for (int i = 0; i < n; i++) {
			check_timely(&t[i]);
			callout_destroy(&t[i].c);
		}
		callout_clock_destroy(clk);
	}
}

/* Voluntary context switches of a thread: how often it slept. */
static long
ctxt_switches(int tid)
{
	char path[64], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void
idle_clock_sleeps_and_earlier_arm_wakes_it(void)
{
	struct callout_clock *clk = make_threaded(1000, 1);
	struct callout_counters k0, k1;
	struct timed first, far, near;
	long sw0, sw1;

	memset(&first, 0, sizeof(first));
	memset(&far, 0, sizeof(far));
	memset(&near, 0, sizeof(near));
	callout_init_clock(&first.c, clk, CALLOUT_MPSAFE);
	callout_init_clock(&far.c, clk, CALLOUT_MPSAFE);
	callout_init_clock(&near.c, clk, CALLOUT_MPSAFE);
	timed_arm(&first, clk, 1);
	sleep_ms(50);
	CHECK_EQ(atomic_load(&first.runs), 1);

	/* A callout 2 s away: the dispatcher sleeps until then. */
	timed_arm(&far, clk, 2000);
	callout_clock_counters(clk, &k0);
	sw0 = ctxt_switches(first.tid);
	sleep_ms(300);
	sw1 = ctxt_switches(first.tid);
	callout_clock_counters(clk, &k1);
	CHECK(sw0 >= 0);
	CHECK(sw1 - sw0 <= 5); /* polling each tick would be ~300 */
	CHECK_U64(k1.wakeups, k0.wakeups);

	/* An earlier arm wakes it. */
	timed_arm(&near, clk, 20);
	wait_runs(&near, 1, 20 + LATE_NS / 1000000 + 100);
	check_timely(&near);
	CHECK_EQ(atomic_load(&far.runs), 0);
	callout_clock_counters(clk, &k1);
	CHECK_U64(k1.wakeups, k0.wakeups + 1);
	callout_stop(&far.c);
	callout_destroy(&first.c);
	callout_destroy(&far.c);
	callout_destroy(&near.c);
	callout_clock_destroy(clk);
}

#define NSTALL 30

static void
blocked_dispatcher_catches_up_exactly_once_in_order(void)
{
	struct callout_clock *clk = make_threaded(1000, 1);
	struct callout_counters k0, k1;
	struct timed blocker, t[NSTALL];
	int order[NSTALL + 8];
	atomic_int order_n = 0;

	memset(&blocker, 0, sizeof(blocker));
	memset(t, 0, sizeof(t));
	callout_init_clock(&blocker.c, clk, CALLOUT_MPSAFE);
	blocker.sleep = 400;
	callout_clock_counters(clk, &k0);
	timed_arm(&blocker, clk, 1);
	/* Armed in reverse, due 10, 20, ... 300 ticks from now. */
	for (int i = NSTALL - 1; i >= 0; i--) {
		callout_init_clock(&t[i].c, clk, CALLOUT_MPSAFE);
		t[i].index = i;
		t[i].order = order;
		t[i].order_n = &order_n;
		timed_arm(&t[i], clk, 10 * (i + 1));
	}
	sleep_ms(700 + (SANITIZED ? 1000 : 0));
	CHECK_EQ(atomic_load(&order_n), NSTALL);
	for (int i = 0; i < NSTALL; i++) {
		CHECK_EQ(atomic_load(&t[i].runs), 1);
		CHECK_EQ(order[i], i); /* in due order */
		CHECK(t[i].ran_tick >= t[i].earliest);
		callout_destroy(&t[i].c);
	}
	callout_clock_counters(clk, &k1);
	CHECK(k1.late - k0.late >= NSTALL - 2);
	CHECK(k1.max_late_ticks >= 80);
	CHECK_U64(k1.fired - k0.fired, NSTALL + 1);
	/* The blocker's wake-up and one catch-up pass (maybe two). */
	CHECK(k1.wakeups - k0.wakeups <= 3);
	callout_destroy(&blocker.c);
	callout_clock_destroy(clk);
}

/*
 * A child process arms callouts and is stopped with SIGSTOP across their
 * due times; after SIGCONT each must run exactly once, none early.
 */
static int
stalled_child(int ready_fd)
{
	struct callout_clock *clk = make_threaded(1000, 2);
	struct callout_counters k;
	struct timed t[20];
	char byte = 1;
	int bad = 0;

	memset(t, 0, sizeof(t));
	for (int i = 0; i < 20; i++) {
		callout_init_clock(&t[i].c, clk, CALLOUT_MPSAFE);
		timed_arm(&t[i], clk, 100 + 10 * i);
	}
	if (write(ready_fd, &byte, 1) != 1)
		return 2;
	sleep_ms(1000 + (SANITIZED ? 1000 : 0)); /* stopped in here */
	for (int i = 0; i < 20; i++) {
		if (atomic_load(&t[i].runs) != 1 ||
		    t[i].ran_ns < ts_ns(co_tick_start(clk, t[i].earliest))) {
			fprintf(stderr, "child: callout %d ran %d times\n", i,
			    atomic_load(&t[i].runs));
			bad = 1;
		}
		callout_destroy(&t[i].c);
	}
	callout_clock_counters(clk, &k);
	if (k.late < 10 || k.max_late_ticks < 100) {
		fprintf(stderr, "child: late %llu max_late %llu\n",
		    (unsigned long long)k.late,
		    (unsigned long long)k.max_late_ticks);
		bad = 1;
	}
	callout_clock_destroy(clk);
	return bad;
}

static void
stopped_process_catches_up_exactly_once(void)
{
	int fds[2];
	pid_t pid;
	char byte;
	int status = -1;

	CHECK_EQ(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		_exit(stalled_child(fds[1]));
	}
	CHECK(pid > 0);
	close(fds[1]);
	CHECK_EQ(read(fds[0], &byte, 1), 1);
	kill(pid, SIGSTOP);
	sleep_ms(500); /* every callout falls due while stopped */
	kill(pid, SIGCONT);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	close(fds[0]);
}

int
main(void)
{
	/* First, while this process has no other thread to fork with. */
	RUN(stopped_process_catches_up_exactly_once);
	RUN(never_early_and_late_within_bound);
	RUN(idle_clock_sleeps_and_earlier_arm_wakes_it);
	RUN(blocked_dispatcher_catches_up_exactly_once_in_order);
	return check_finish();
}
