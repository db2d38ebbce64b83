/*
 * The FreeBSD personality's return values on every path: stop, drain,
 * async_drain and reset against an idle, pending, running, running and
 * pending callout, from its own handler, and with the lock-assisted cancel
 * (init_mtx mutex or giant held by the caller while the handler waits for
 * it).  ACTIVE and PENDING, sbintime_t rounding, and misuse.  Paths that
 * need a handler running on another thread use a threaded clock with one
 * dispatcher; the rest a virtual clock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include <callout/freebsd.h>

#include "check.h"

static struct callout_clock *
make_clock(int mode)
{
	struct callout_clock_params p;

	callout_clock_params_init(&p);
	p.mode = mode;
	p.ndispatchers = 1;
	return callout_clock_create(&p);
}

/* Wait until the dispatcher has taken c off its queue (PENDING cleared). */
static bool
wait_dispatched(struct callout *c)
{
	for (int i = 0; i < 5000; i++) {
		if (!callout_pending(c))
			return true;
		sleep_ms(1);
	}
	return false;
}

static void
check_accounting(struct callout_clock *clk)
{
	struct callout_counters k;

	callout_clock_counters(clk, &k);
	CHECK_U64(k.armed, k.fired + k.stopped);
}

/* A handler whose runs are counted, and which can be held on a gate. */
struct probe {
	struct callout co;
	pthread_mutex_t mtx;
	atomic_int runs;
	atomic_int entered;
	atomic_int gate;     /* handler waits for it when `hold` */
	atomic_int finished; /* handler returned */
	bool hold;
	bool unlock_first; /* CALLOUT_RETURNUNLOCKED: unlock, then wait */
	int self_op;       /* what the handler does to its own callout */
	int self_ret;
	atomic_int drains;
	atomic_int drain_saw_finished;
	atomic_int drain_saw_unlocked;
};

enum {
	SELF_NONE,
	SELF_STOP,
	SELF_REARM_STOP,
	SELF_DRAIN,
	SELF_ASYNC,
	SELF_RESET_LATER
};

static void drain_cb(void *arg);

static void
probe_fn(void *arg)
{
	struct probe *p = arg;

	atomic_fetch_add(&p->runs, 1);
	atomic_store(&p->entered, 1);
	if (p->unlock_first)
		pthread_mutex_unlock(&p->mtx);
	if (p->hold)
		wait_flag(&p->gate);
	switch (p->self_op) {
	case SELF_STOP:
		p->self_ret = callout_stop(&p->co);
		break;
	case SELF_REARM_STOP:
		callout_reset(&p->co, 5, probe_fn, p);
		p->self_ret = callout_stop(&p->co);
		break;
	case SELF_DRAIN:
		p->self_ret = callout_drain(&p->co);
		break;
	case SELF_ASYNC:
		p->self_ret = callout_async_drain(&p->co, drain_cb);
		break;
	case SELF_RESET_LATER:
		sleep_ms(100);
		p->self_ret = callout_reset(&p->co, 1, probe_fn, p);
		break;
	}
	atomic_store(&p->finished, 1);
}

static void
drain_cb(void *arg)
{
	struct probe *p = arg;

	atomic_fetch_add(&p->drains, 1);
	atomic_store(&p->drain_saw_finished, atomic_load(&p->finished));
	if (pthread_mutex_trylock(&p->mtx) == 0) {
		atomic_store(&p->drain_saw_unlocked, 1);
		pthread_mutex_unlock(&p->mtx);
	}
}

static void
probe_init(struct probe *p, struct callout_clock *clk, int kind)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mtx, NULL);
	if (kind == 0)
		callout_init_clock(&p->co, clk, 1);
	else if (kind == 1)
		callout_init_mtx_clock(&p->co, clk, &p->mtx, 0);
	else if (kind == 2)
		callout_init_mtx_clock(
		    &p->co, clk, &p->mtx, CALLOUT_RETURNUNLOCKED);
	else
		callout_init_clock(&p->co, clk, 0); /* giant */
}

/* Idle and pending paths, on a virtual clock. */

static void
stop_idle_returns_minus_one(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_VIRTUAL);
	struct probe p;

	probe_init(&p, clk, 0);
	CHECK_EQ(callout_stop(&p.co), -1);
	CHECK_EQ(callout_drain(&p.co), -1);
	CHECK_EQ(callout_async_drain(&p.co, drain_cb), -1);
	callout_clock_advance(clk, 10);
	CHECK_EQ(atomic_load(&p.drains), 0);
	callout_clock_destroy(clk);
}

static void
stop_pending_returns_one_and_it_never_runs(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_VIRTUAL);
	struct probe p;

	probe_init(&p, clk, 0);
	CHECK_EQ(callout_reset(&p.co, 5, probe_fn, &p), 0);
	CHECK_EQ(callout_pending(&p.co), 1);
	CHECK_EQ(callout_active(&p.co), 1);
	CHECK_EQ(callout_stop(&p.co), 1);
	CHECK_EQ(callout_pending(&p.co), 0);
	CHECK_EQ(callout_active(&p.co), 0);
	CHECK_EQ(callout_stop(&p.co), -1);
	callout_clock_advance(clk, 10);
	CHECK_EQ(atomic_load(&p.runs), 0);
	check_accounting(clk);
	callout_clock_destroy(clk);
}

static void
drain_and_async_drain_of_pending_return_one(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_VIRTUAL);
	struct probe p;

	probe_init(&p, clk, 0);
	callout_reset(&p.co, 5, probe_fn, &p);
	CHECK_EQ(callout_drain(&p.co), 1);
	CHECK_EQ(callout_active(&p.co), 0);
	callout_reset(&p.co, 5, probe_fn, &p);
	CHECK_EQ(callout_async_drain(&p.co, drain_cb), 1);
	CHECK_EQ(callout_active(&p.co), 0);
	callout_clock_advance(clk, 10);
	CHECK_EQ(atomic_load(&p.runs), 0);
	CHECK_EQ(atomic_load(&p.drains), 0);
	/* Not left draining: it arms again. */
	CHECK_EQ(callout_reset(&p.co, 1, probe_fn, &p), 0);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&p.runs), 1);
	check_accounting(clk);
	callout_clock_destroy(clk);
}

static void
reset_returns_one_only_when_it_replaced_a_pending_run(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_VIRTUAL);
	struct probe p;

	probe_init(&p, clk, 0);
	CHECK_EQ(callout_reset(&p.co, 5, probe_fn, &p), 0);
	CHECK_EQ(callout_reset(&p.co, 8, probe_fn, &p), 1);
	CHECK_EQ(callout_schedule(&p.co, 3), 1);
	callout_clock_advance(clk, 2);
	CHECK_EQ(atomic_load(&p.runs), 0);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&p.runs), 1);
	CHECK_EQ(callout_schedule(&p.co, 0), 0); /* ticks <= 0: next tick */
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&p.runs), 2);
	CHECK_EQ(callout_reset(&p.co, -5, probe_fn, &p), 0);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&p.runs), 3);
	check_accounting(clk);
	callout_clock_destroy(clk);
}

static void
expiry_clears_pending_but_not_active(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_VIRTUAL);
	struct probe p;

	probe_init(&p, clk, 0);
	callout_reset(&p.co, 2, probe_fn, &p);
	callout_clock_advance(clk, 2);
	CHECK_EQ(atomic_load(&p.runs), 1);
	CHECK_EQ(callout_pending(&p.co), 0);
	CHECK_EQ(callout_active(&p.co), 1);
	callout_deactivate(&p.co);
	CHECK_EQ(callout_active(&p.co), 0);
	CHECK_EQ(callout_stop(&p.co), -1);
	callout_clock_destroy(clk);
}

static void
calls_from_own_handler_do_not_wait(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_VIRTUAL);
	struct probe p;

	probe_init(&p, clk, 0);
	p.self_op = SELF_STOP;
	callout_reset(&p.co, 1, probe_fn, &p);
	callout_clock_advance(clk, 1);
	CHECK_EQ(p.self_ret, 0); /* running: cannot be stopped */
	CHECK_EQ(callout_active(&p.co), 0);

	p.self_op = SELF_REARM_STOP;
	callout_reset(&p.co, 1, probe_fn, &p);
	callout_clock_advance(clk, 1);
	CHECK_EQ(p.self_ret, 0); /* still 0, but the next run is gone */
	CHECK_EQ(callout_pending(&p.co), 0);
	callout_clock_advance(clk, 10);
	CHECK_EQ(atomic_load(&p.runs), 2);

	p.self_op = SELF_DRAIN;
	callout_reset(&p.co, 1, probe_fn, &p);
	callout_clock_advance(clk, 1);
	CHECK_EQ(p.self_ret, -1);

	p.self_op = SELF_ASYNC;
	atomic_store(&p.finished, 0);
	callout_reset(&p.co, 1, probe_fn, &p);
	callout_clock_advance(clk, 1);
	CHECK_EQ(p.self_ret, 0);
	CHECK_EQ(atomic_load(&p.drains), 1);
	CHECK_EQ(atomic_load(&p.drain_saw_finished), 1);
	check_accounting(clk);
	callout_clock_destroy(clk);
}

static void
init_mtx_handler_runs_with_the_mutex_held(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_VIRTUAL);
	struct probe p;

	probe_init(&p, clk, 1);
	pthread_mutex_lock(&p.mtx);
	callout_reset(&p.co, 1, probe_fn, &p);
	pthread_mutex_unlock(&p.mtx);
	p.self_op = SELF_STOP; /* allowed: the handler holds the mutex */
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&p.runs), 1);
	CHECK_EQ(p.self_ret, 0);
	CHECK_EQ(pthread_mutex_trylock(&p.mtx), 0); /* released after */
	pthread_mutex_unlock(&p.mtx);

	/* RETURNUNLOCKED: the handler unlocks; the library must not. */
	struct probe r;

	probe_init(&r, clk, 2);
	r.unlock_first = true;
	pthread_mutex_lock(&r.mtx);
	callout_reset(&r.co, 1, probe_fn, &r);
	pthread_mutex_unlock(&r.mtx);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&r.runs), 1);
	CHECK_EQ(pthread_mutex_trylock(&r.mtx), 0);
	pthread_mutex_unlock(&r.mtx);
	callout_clock_destroy(clk);
}

static void
sbt_deadlines_round_up_to_ticks(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_VIRTUAL);
	struct probe p;

	probe_init(&p, clk, 0);
	CHECK_EQ(callout_clock_sbinuptime(clk), 0);
	callout_reset_sbt(&p.co, SBT_1MS + SBT_1MS / 2, 0, probe_fn, &p, 0);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&p.runs), 0); /* 1.5 ms: tick 2, not 1 */
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&p.runs), 1);

	callout_reset_sbt(&p.co, 10 * SBT_1MS, 0, probe_fn, &p, C_ABSOLUTE);
	callout_clock_advance(clk, 7);
	CHECK_EQ(atomic_load(&p.runs), 1);
	callout_clock_advance(clk, 1); /* tick 10 */
	CHECK_EQ(atomic_load(&p.runs), 2);
	CHECK_EQ(callout_clock_sbinuptime(clk), 10 * SBT_1S / 1000);

	/* An absolute time in the past: the next tick. */
	callout_reset_sbt(
	    &p.co, 3 * SBT_1MS, 0, probe_fn, &p, C_ABSOLUTE | C_HARDCLOCK);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&p.runs), 3);

	/* Precision on a virtual clock: exact, at the due tick. */
	callout_reset_sbt(&p.co, 4 * SBT_1MS, 0, probe_fn, &p, C_PREL(1));
	callout_clock_advance(clk, 3);
	CHECK_EQ(atomic_load(&p.runs), 3);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&p.runs), 4);
	callout_clock_advance(clk, 1500 - callout_clock_ticks(clk));
	CHECK_EQ(callout_clock_sbinuptime(clk), SBT_1S + SBT_1S / 2);
	CHECK_EQ(sbttoms(mstosbt(1234)), 1234);
	CHECK_EQ(sbttous(ustosbt(1234567)), 1234567);
	callout_clock_destroy(clk);
}

static void
misuse_is_reported_and_has_no_effect(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_VIRTUAL);
	struct probe p;
	struct callout junk;

	callout_set_misuse_handler(check_misuse);
	probe_init(&p, clk, 1);
	pthread_mutex_lock(&p.mtx);
	callout_reset(&p.co, 5, probe_fn, &p);
	pthread_mutex_unlock(&p.mtx);
	CHECK_EQ(callout_stop(&p.co), -1); /* mutex not held */
	CHECK_MISUSE("callout_stop");
	CHECK_EQ(callout_pending(&p.co), 1);
	CHECK_EQ(callout_reset(&p.co, 5, probe_fn, &p), 0);
	CHECK_MISUSE("callout_reset");
	pthread_mutex_lock(&p.mtx);
	CHECK_EQ(callout_drain(&p.co), -1); /* mutex held: would deadlock */
	CHECK_MISUSE("callout_drain");
	CHECK_EQ(callout_pending(&p.co), 1);
	CHECK_EQ(callout_reset_sbt(&p.co, SBT_1MS, 0, probe_fn, &p, 0x8000), 0);
	CHECK_MISUSE("callout_reset_sbt");
	CHECK_EQ(callout_reset_on(&p.co, 1, probe_fn, &p, 7), 0);
	CHECK_MISUSE("callout_reset");
	CHECK_EQ(callout_stop(&p.co), 1);
	pthread_mutex_unlock(&p.mtx);

	memset(&junk, 0, sizeof(junk));
	CHECK_EQ(callout_stop(&junk), -1);
	CHECK_MISUSE("callout_stop");
	callout_init_clock(&junk, clk, 1);
	CHECK_EQ(callout_schedule(&junk, 1), 0); /* no handler yet */
	CHECK_MISUSE("callout_schedule");
	CHECK_EQ(callout_async_drain(&junk, NULL), -1);
	CHECK_MISUSE("callout_async_drain");
	callout_set_misuse_handler(NULL);
	callout_clock_advance(clk, 10);
	CHECK_EQ(atomic_load(&p.runs), 0);
	callout_clock_destroy(clk);
}

/* Running paths, on a threaded clock with one dispatcher. */

static void
stop_of_running_returns_zero_and_removes_next_run(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_THREADED);
	struct probe p;

	probe_init(&p, clk, 0);
	p.hold = true;
	callout_reset(&p.co, 1, probe_fn, &p);
	CHECK(wait_flag(&p.entered));
	CHECK_EQ(callout_stop(&p.co), 0);
	CHECK_EQ(callout_active(&p.co), 0);
	CHECK_EQ(callout_reset(&p.co, 1, probe_fn, &p), 0); /* not pending */
	CHECK_EQ(callout_pending(&p.co), 1);
	CHECK_EQ(callout_stop(&p.co), 0); /* running: 0, next run removed */
	CHECK_EQ(callout_pending(&p.co), 0);
	atomic_store(&p.gate, 1);
	CHECK(wait_flag(&p.finished));
	sleep_ms(30);
	CHECK_EQ(atomic_load(&p.runs), 1);
	check_accounting(clk);
	callout_clock_destroy(clk);
}

static void
stop_with_mutex_held_cancels_blocked_run(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_THREADED);
	struct callout_counters k;
	struct probe p;

	probe_init(&p, clk, 1);
	pthread_mutex_lock(&p.mtx);
	CHECK_EQ(callout_reset(&p.co, 1, probe_fn, &p), 0);
	CHECK(wait_dispatched(&p.co)); /* dispatcher now waits for mtx */
	CHECK_EQ(callout_stop(&p.co), 1);
	CHECK_EQ(callout_stop(&p.co), -1); /* already skipped */
	pthread_mutex_unlock(&p.mtx);
	sleep_ms(50);
	CHECK_EQ(atomic_load(&p.runs), 0);
	callout_clock_counters(clk, &k);
	CHECK_U64(k.fired, 0);
	CHECK_U64(k.stopped, 1);
	check_accounting(clk);
	callout_clock_destroy(clk);
}

static void
reset_with_mutex_held_replaces_blocked_run(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_THREADED);
	struct probe p;

	probe_init(&p, clk, 1);
	pthread_mutex_lock(&p.mtx);
	callout_reset(&p.co, 1, probe_fn, &p);
	CHECK(wait_dispatched(&p.co));
	CHECK_EQ(callout_reset(&p.co, 20, probe_fn, &p), 1);
	CHECK_EQ(callout_pending(&p.co), 1);
	/* The blocked run is skipped; the new one is pending: 1. */
	CHECK_EQ(callout_reset(&p.co, 20, probe_fn, &p), 1);
	pthread_mutex_unlock(&p.mtx);
	CHECK(wait_flag(&p.finished));
	sleep_ms(50);
	CHECK_EQ(atomic_load(&p.runs), 1);
	check_accounting(clk);
	callout_clock_destroy(clk);
}

static void
started_returnunlocked_run_cannot_be_cancelled(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_THREADED);
	struct probe p;

	probe_init(&p, clk, 2);
	p.unlock_first = true;
	p.hold = true;
	pthread_mutex_lock(&p.mtx);
	callout_reset(&p.co, 1, probe_fn, &p);
	pthread_mutex_unlock(&p.mtx);
	CHECK(wait_flag(&p.entered));
	pthread_mutex_lock(&p.mtx); /* the handler dropped it, still runs */
	CHECK_EQ(callout_stop(&p.co), 0);
	pthread_mutex_unlock(&p.mtx);
	atomic_store(&p.gate, 1);
	CHECK(wait_flag(&p.finished));
	CHECK_EQ(atomic_load(&p.runs), 1);
	check_accounting(clk);
	callout_clock_destroy(clk);
}

static void
stop_with_giant_held_cancels_blocked_giant_run(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_THREADED);
	struct probe p;

	probe_init(&p, clk, 3);
	callout_giant_lock();
	callout_reset(&p.co, 1, probe_fn, &p);
	CHECK(wait_dispatched(&p.co));
	CHECK_EQ(callout_stop(&p.co), 1);
	callout_giant_unlock();
	sleep_ms(50);
	CHECK_EQ(atomic_load(&p.runs), 0);
	/* Without giant held, a blocked run cannot be cancelled. */
	callout_giant_lock();
	callout_reset(&p.co, 1, probe_fn, &p);
	CHECK(wait_dispatched(&p.co));
	callout_giant_unlock();
	CHECK(wait_flag(&p.finished));
	CHECK_EQ(atomic_load(&p.runs), 1);
	check_accounting(clk);
	callout_clock_destroy(clk);
}

static void
drain_waits_and_blocks_rearm(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_THREADED);
	struct probe p;

	probe_init(&p, clk, 0);
	p.self_op = SELF_RESET_LATER; /* re-arms after 100 ms */
	p.self_ret = 7;
	callout_reset(&p.co, 1, probe_fn, &p);
	CHECK(wait_flag(&p.entered));
	CHECK_EQ(callout_drain(&p.co), -1);
	CHECK_EQ(atomic_load(&p.finished), 1);
	CHECK_EQ(p.self_ret, 0); /* reset during the drain: refused */
	CHECK_EQ(callout_pending(&p.co), 0);
	CHECK_EQ(callout_active(&p.co), 0);
	sleep_ms(20);
	CHECK_EQ(atomic_load(&p.runs), 1);

	/* Running with a next run pending: that one is removed, so 1. */
	atomic_store(&p.entered, 0);
	atomic_store(&p.finished, 0);
	p.self_op = SELF_NONE;
	p.hold = true;
	callout_reset(&p.co, 1, probe_fn, &p);
	CHECK(wait_flag(&p.entered));
	CHECK_EQ(callout_reset(&p.co, 1000, probe_fn, &p), 0);
	atomic_store(&p.gate, 1);
	CHECK_EQ(callout_drain(&p.co), 1);
	CHECK_EQ(atomic_load(&p.finished), 1);
	CHECK_EQ(callout_pending(&p.co), 0);
	/* Drained: it may be re-armed again. */
	p.hold = false;
	CHECK_EQ(callout_reset(&p.co, 1, probe_fn, &p), 0);
	sleep_ms(50);
	CHECK_EQ(callout_drain(&p.co), -1);
	CHECK_EQ(atomic_load(&p.runs), 3);
	check_accounting(clk);
	callout_clock_destroy(clk);
}

static void
async_drain_of_running_calls_drain_after_handler_and_mutex(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_THREADED);
	struct probe p;

	/* Handler running, a next run pending. */
	probe_init(&p, clk, 0);
	p.hold = true;
	callout_reset(&p.co, 1, probe_fn, &p);
	CHECK(wait_flag(&p.entered));
	CHECK_EQ(callout_reset(&p.co, 1, probe_fn, &p), 0);
	CHECK_EQ(callout_async_drain(&p.co, drain_cb), 0);
	CHECK_EQ(callout_pending(&p.co), 0);
	CHECK_EQ(callout_active(&p.co), 0);
	CHECK_EQ(callout_reset(&p.co, 1, probe_fn, &p), 0); /* refused */
	CHECK_EQ(callout_pending(&p.co), 0);
	CHECK_EQ(atomic_load(&p.drains), 0);
	atomic_store(&p.gate, 1);
	CHECK(wait_flag(&p.drains));
	CHECK_EQ(atomic_load(&p.drain_saw_finished), 1);
	sleep_ms(30);
	CHECK_EQ(atomic_load(&p.drains), 1);
	CHECK_EQ(atomic_load(&p.runs), 1);
	check_accounting(clk);
	callout_clock_destroy(clk);
}

static void
async_drain_waits_for_mutex_release(void)
{
	struct callout_clock *clk = make_clock(CALLOUT_CLOCK_THREADED);
	struct probe p;

	/* init_mtx handler blocked on the mutex we hold: async drain does
	 * not cancel it; the drain function runs after it, unlocked. */
	probe_init(&p, clk, 1);
	pthread_mutex_lock(&p.mtx);
	callout_reset(&p.co, 1, probe_fn, &p);
	CHECK(wait_dispatched(&p.co));
	CHECK_EQ(callout_async_drain(&p.co, drain_cb), 0);
	pthread_mutex_unlock(&p.mtx);
	CHECK(wait_flag(&p.drains));
	CHECK_EQ(atomic_load(&p.runs), 1);
	CHECK_EQ(atomic_load(&p.drain_saw_finished), 1);
	CHECK_EQ(atomic_load(&p.drain_saw_unlocked), 1);
	check_accounting(clk);
	callout_clock_destroy(clk);
}

int
main(void)
{
	RUN(stop_idle_returns_minus_one);
	RUN(stop_pending_returns_one_and_it_never_runs);
	RUN(drain_and_async_drain_of_pending_return_one);
	RUN(reset_returns_one_only_when_it_replaced_a_pending_run);
	RUN(expiry_clears_pending_but_not_active);
	RUN(calls_from_own_handler_do_not_wait);
	RUN(init_mtx_handler_runs_with_the_mutex_held);
	RUN(sbt_deadlines_round_up_to_ticks);
	RUN(misuse_is_reported_and_has_no_effect);
	RUN(stop_of_running_returns_zero_and_removes_next_run);
	RUN(stop_with_mutex_held_cancels_blocked_run);
	RUN(reset_with_mutex_held_replaces_blocked_run);
	RUN(started_returnunlocked_run_cannot_be_cancelled);
	RUN(stop_with_giant_held_cancels_blocked_giant_run);
	RUN(drain_waits_and_blocks_rearm);
	RUN(async_drain_of_running_calls_drain_after_handler_and_mutex);
	RUN(async_drain_waits_for_mutex_release);
	return check_finish();
}
