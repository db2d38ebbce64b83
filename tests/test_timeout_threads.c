/*
 * timeout() under threads (run under ThreadSanitizer in CI): several
 * threads arm timeouts and untimeout their own, older and stale handles,
 * some with a foreign argument, while dispatchers fire.  Every timeout
 * must be accounted for exactly once: it fired once, or it was cancelled
 * by an untimeout of its own handle, and the clock's counters agree.
 * Runs on a threaded clock, and on a virtual clock advanced by one thread
 * while the others arm.
 */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <time.h>

#include <callout.h>
#include <callout/timeout.h>

#include "check.h"

#define NWORKERS 4

struct rec {
	atomic_int fired;
	bool untimed; /* untimeout was called with its own handle and arg */
	struct callout_handle h;
};

struct worker {
	pthread_t t;
	struct callout_clock *clk;
	struct rec *recs;
	long n;
	uint64_t seed;
	long nulls;
};

static atomic_bool workers_done;

static void
fire(void *arg)
{
	struct rec *r = arg;

	atomic_fetch_add_explicit(&r->fired, 1, memory_order_relaxed);
}

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void *
worker_run(void *p)
{
	struct worker *w = p;
	long i, j;

	for (i = 0; i < w->n; i++) {
		struct rec *r = &w->recs[i];
		uint64_t x = rnd(&w->seed);

		r->h = timeout_on(w->clk, fire, r, (int)(x % 4));
		if (callout_handle_is_null(r->h))
			w->nulls++;
		j = i - 1 - (long)((x >> 8) % 16);
		switch ((x >> 16) % 5) {
		case 0:
			untimeout(fire, r, r->h);
			r->untimed = true;
			break;
		case 1: /* an older one: pending, running or over */
			if (j >= 0) {
				untimeout(fire, &w->recs[j], w->recs[j].h);
				w->recs[j].untimed = true;
			}
			break;
		case 2: /* an older handle with this timeout's arg: nothing */
			if (j >= 0)
				untimeout(fire, r, w->recs[j].h);
			break;
		case 3: /* this handle with an older arg: nothing */
			if (j >= 0)
				untimeout(fire, &w->recs[j], r->h);
			break;
		default:
			(void)callout_handle_pending(r->h);
			break;
		}
		if ((x >> 24) % 64 == 0)
			sched_yield();
	}
	return NULL;
}

static void *
advancer_run(void *p)
{
	struct callout_clock *clk = p;

	while (!atomic_load(&workers_done)) {
		callout_clock_advance(clk, 1);
		sched_yield();
	}
	callout_clock_advance(clk, 10);
	return NULL;
}

static size_t
in_use(void)
{
	struct callout_pool_counters c;

	callout_pool_counters(&c);
	return c.in_use;
}

static void
run_workers(struct callout_clock *clk, bool advance)
{
	struct worker w[NWORKERS];
	struct callout_counters cc;
	struct timespec ms = { 0, 1000000 };
	pthread_t adv;
	long n = check_scaled(100000, 2000);
	uint64_t fired = 0, unfired = 0, twice = 0, lost = 0, nulls = 0;
	int i, k;

	atomic_store(&workers_done, false);
	if (advance)
		pthread_create(&adv, NULL, advancer_run, clk);
	for (i = 0; i < NWORKERS; i++) {
		w[i].clk = clk;
		w[i].n = n;
		w[i].recs = calloc((size_t)n, sizeof(struct rec));
		w[i].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		w[i].nulls = 0;
		pthread_create(&w[i].t, NULL, worker_run, &w[i]);
	}
	for (i = 0; i < NWORKERS; i++)
		pthread_join(w[i].t, NULL);
	atomic_store(&workers_done, true);
	if (advance)
		pthread_join(adv, NULL);
	for (k = 0; k < 30000 && in_use() != 0; k++)
		nanosleep(&ms, NULL);
	CHECK_EQ(in_use(), 0);
	for (i = 0; i < NWORKERS; i++) {
		nulls += (uint64_t)w[i].nulls;
		for (long j = 0; j < n; j++) {
			struct rec *r = &w[i].recs[j];
			int f = atomic_load(&r->fired);

			if (f > 1)
				twice++;
			if (f == 0 && !r->untimed)
				lost++;
			if (f >= 1)
				fired++;
			else
				unfired++;
		}
		free(w[i].recs);
	}
	CHECK_U64(nulls, 0);
	CHECK_U64(twice, 0);
	CHECK_U64(lost, 0);
	callout_clock_counters(clk, &cc);
	CHECK_U64(cc.armed, (uint64_t)n * NWORKERS);
	CHECK_U64(cc.fired, fired);
	CHECK_U64(cc.stopped, unfired);
	fprintf(stderr, "%" PRIu64 " fired, %" PRIu64 " cancelled\n", fired,
	    unfired);
}

static void
threads_arm_and_cancel_while_dispatchers_fire(void)
{
	struct callout_clock_params p;
	struct callout_clock *clk;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_THREADED;
	p.ndispatchers = 2;
	clk = callout_clock_create(&p);
	CHECK(clk != NULL);
	if (clk == NULL)
		return;
	run_workers(clk, false);
	callout_clock_destroy(clk);
}

static void
threads_arm_and_cancel_while_one_advances_virtual_time(void)
{
	struct callout_clock_params p;
	struct callout_clock *clk;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	clk = callout_clock_create(&p);
	CHECK(clk != NULL);
	if (clk == NULL)
		return;
	run_workers(clk, true);
	callout_clock_destroy(clk);
}

int
main(void)
{
	RUN(threads_arm_and_cancel_while_dispatchers_fire);
	RUN(threads_arm_and_cancel_while_one_advances_virtual_time);
	CHECK_EQ(in_use(), 0);
	return check_finish();
}
