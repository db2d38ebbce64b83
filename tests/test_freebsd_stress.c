/*
 * The FreeBSD personality under threads (run under ThreadSanitizer in CI):
 * four threads reset and stop shared init_mtx callouts while two
 * dispatchers fire them and handlers re-arm themselves, and arm, drain and
 * free heap callouts through callout_async_drain.
 *
 * With the mutex held, callout_stop's answer is a promise: whatever it
 * returns, the handler does not run again until the next reset.  The
 * return values alone account for every arming: each reset arms once, and
 * each 1 from reset or stop cancels one arming, so at the end
 * resets == handler runs + ones.  No handler may overlap itself, and every
 * heap callout is freed exactly once, by its drain function or its owner.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include <callout/freebsd.h>

#include "check.h"

#define NRECS 16
#define NWORKERS 4

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

struct rec {
	struct callout co;
	pthread_mutex_t mtx;
	/* All under mtx. */
	long arms, ones, runs;
	bool stopped; /* stop returned: no run until the next reset */
	int rearms;
	atomic_int inside;
};

static struct rec recs[NRECS];
static atomic_long overlaps, runs_after_stop, zero_stops;

static void
rec_fn(void *arg)
{
	struct rec *r = arg;

	if (atomic_fetch_add(&r->inside, 1) != 0)
		atomic_fetch_add(&overlaps, 1);
	if (r->stopped)
		atomic_fetch_add(&runs_after_stop, 1);
	r->runs++;
	if (r->rearms > 0) {
		r->rearms--;
		r->arms++;
		if (callout_reset(&r->co, 1, rec_fn, r) == 1)
			r->ones++;
	}
	if (r->runs % 16 == 0)
		sleep_ms(1); /* hold the mutex: resets and stops block */
	atomic_fetch_sub(&r->inside, 1);
}

/* Heap callouts freed through async drain. */
struct heap {
	struct callout co;
	atomic_int inside;
	long magic;
};

static atomic_long heap_made, heap_freed, heap_runs;

static void
heap_fn(void *arg)
{
	struct heap *h = arg;

	if (atomic_fetch_add(&h->inside, 1) != 0 || h->magic != 0x4ea9)
		atomic_fetch_add(&overlaps, 1);
	atomic_fetch_add(&heap_runs, 1);
	if (atomic_load(&heap_runs) % 8 == 0)
		sleep_ms(1);
	atomic_fetch_sub(&h->inside, 1);
}

static void
heap_free(void *arg)
{
	struct heap *h = arg;

	if (h->magic != 0x4ea9 || atomic_load(&h->inside) != 0)
		atomic_fetch_add(&overlaps, 1);
	h->magic = 0;
	free(h);
	atomic_fetch_add(&heap_freed, 1);
}

struct worker {
	pthread_t t;
	struct callout_clock *clk;
	uint64_t seed;
	long ops;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t x = w->seed;
	struct heap *mine = NULL;

	for (long i = 0; i < w->ops; i++) {
		struct rec *r = &recs[rnd(&x) % NRECS];
		int ret;

		switch (rnd(&x) % 8) {
		case 0:
		case 1:
		case 2:
			pthread_mutex_lock(&r->mtx);
			r->stopped = false;
			r->rearms = (int)(rnd(&x) % 3);
			r->arms++;
			ret = rnd(&x) & 1
			    ? callout_reset(
				  &r->co, 1 + (int)(rnd(&x) % 3), rec_fn, r)
			    : callout_reset_sbt(&r->co, SBT_1MS * (rnd(&x) % 4),
				  SBT_1MS * (rnd(&x) % 3), rec_fn, r, 0);
			if (ret == 1)
				r->ones++;
			pthread_mutex_unlock(&r->mtx);
			break;
		case 3:
		case 4:
			pthread_mutex_lock(&r->mtx);
			ret = callout_stop(&r->co);
			if (ret == 1)
				r->ones++;
			else if (ret == 0)
				atomic_fetch_add(&zero_stops, 1);
			r->stopped = true;
			pthread_mutex_unlock(&r->mtx);
			break;
		case 5:
			/* A heap callout: arm it, later drain and free it. */
			if (mine == NULL) {
				mine = malloc(sizeof(*mine));
				if (mine == NULL)
					break;
				memset(mine, 0, sizeof(*mine));
				mine->magic = 0x4ea9;
				callout_init_clock(&mine->co, w->clk, 1);
				atomic_fetch_add(&heap_made, 1);
			}
			callout_reset(
			    &mine->co, 1 + (int)(rnd(&x) % 2), heap_fn, mine);
			break;
		case 6:
			if (mine == NULL)
				break;
			if (callout_async_drain(&mine->co, heap_free) != 0)
				heap_free(mine); /* not running: ours to free */
			mine = NULL; /* else the drain function frees it */
			break;
		default:
			if (rnd(&x) % 2 == 0)
				sleep_ms(1);
			break;
		}
	}
	if (mine != NULL && callout_async_drain(&mine->co, heap_free) != 0)
		heap_free(mine);
	return NULL;
}

static void
stress_returns_account_for_every_arming(void)
{
	struct callout_clock_params p;
	struct callout_clock *clk;
	struct worker w[NWORKERS];
	struct callout_counters k;
	uint64_t seed = 0xfeedf00dcafe1234ull;
	long ops = check_scaled(20000, 1000);
	long arms = 0, ones = 0, runs = 0;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_THREADED;
	p.ndispatchers = 2;
	clk = callout_clock_create(&p);
	CHECK(clk != NULL);
	for (int i = 0; i < NRECS; i++) {
		pthread_mutex_init(&recs[i].mtx, NULL);
		callout_init_mtx_clock(&recs[i].co, clk, &recs[i].mtx, 0);
	}
	fprintf(stderr, "stress: seed %#llx, %ld ops per thread\n",
	    (unsigned long long)seed, ops);
	for (int i = 0; i < NWORKERS; i++) {
		w[i].clk = clk;
		w[i].seed = seed + (uint64_t)i * 0x9e3779b9;
		w[i].ops = ops;
		pthread_create(&w[i].t, NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(w[i].t, NULL);
	for (int i = 0; i < NRECS; i++) {
		struct rec *r = &recs[i];

		pthread_mutex_lock(&r->mtx);
		if (callout_stop(&r->co) == 1)
			r->ones++;
		r->stopped = true;
		pthread_mutex_unlock(&r->mtx);
		CHECK_EQ(callout_drain(&r->co), -1); /* stopped: nothing left */
	}
	for (int i = 0;
	     i < 5000 && atomic_load(&heap_freed) < atomic_load(&heap_made);
	     i++)
		sleep_ms(1);
	for (int i = 0; i < NRECS; i++) {
		pthread_mutex_lock(&recs[i].mtx);
		arms += recs[i].arms;
		ones += recs[i].ones;
		runs += recs[i].runs;
		pthread_mutex_unlock(&recs[i].mtx);
	}
	CHECK_EQ(arms, runs + ones);
	CHECK_EQ(atomic_load(&overlaps), 0);
	CHECK_EQ(atomic_load(&runs_after_stop), 0);
	CHECK_EQ(atomic_load(&zero_stops), 0); /* mutex held: never 0 */
	CHECK_EQ(atomic_load(&heap_freed), atomic_load(&heap_made));
	callout_clock_counters(clk, &k);
	CHECK_U64(k.armed, k.fired + k.stopped);
	CHECK_U64(k.fired, (uint64_t)(runs + atomic_load(&heap_runs)));
	fprintf(stderr,
	    "stress: %ld resets, %ld runs, %ld cancelled; %ld heap callouts; "
	    "clock stopped %llu\n",
	    arms, runs, ones, atomic_load(&heap_made),
	    (unsigned long long)k.stopped);
	callout_clock_destroy(clk);
	for (int i = 0; i < NRECS; i++)
		pthread_mutex_destroy(&recs[i].mtx);
}

int
main(void)
{
	RUN(stress_returns_account_for_every_arming);
	return check_finish();
}
