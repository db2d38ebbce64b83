/*
 * callout(9) under threads, NetBSD personality, on a threaded clock with
 * two dispatchers (run under ThreadSanitizer in CI).
 *
 * The stress test has four threads arm, stop, halt (with and without an
 * interlock, with and without giant) and free shared callouts, and arm
 * callouts their own handlers destroy and free, while the dispatchers fire
 * them and some handlers re-arm themselves.  It checks that no callout
 * runs concurrently with itself, none runs after a halt returned (until it
 * is armed again), every handler call is counted by the clock, every
 * arming ends fired or stopped, and every self-freeing callout is freed.
 *
 * The other cases pin down halt (from the handler itself, with an
 * interlock the handler takes, against a self-re-arming handler), re-arms
 * during a run, migration to the arming thread's home dispatcher, bind,
 * the giant lock, destroy checks and single-owner clocks.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include <callout.h>

#include "check.h"

static struct callout_clock *
make_threaded(int ndisp)
{
	struct callout_clock_params p;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_THREADED;
	p.ndispatchers = ndisp;
	return callout_clock_create(&p);
}

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The stress test. */

#define NRECS 24
#define NWORKERS 4

struct rec {
	callout_t c;
	pthread_mutex_t m;
	atomic_int inside;
	atomic_long fires;
	bool halted; /* under m: halt returned, not armed since */
	int rearms;  /* under m: self re-arms left */
	bool mpsafe;
};

struct selffree {
	callout_t c;
	long magic;
};

static struct rec recs[NRECS];
static atomic_long concurrent_runs, runs_after_halt, rec_fires;
static atomic_long sf_made, sf_freed;

static void
spin(long n)
{
	for (volatile long i = 0; i < n; i++)
		continue;
}

static void
stress_fn(void *arg)
{
	struct rec *r = arg;

	if (atomic_fetch_add(&r->inside, 1) != 0)
		atomic_fetch_add(&concurrent_runs, 1);
	/* Widen the race windows: a spin, now and then a sleep. */
	if (atomic_load(&r->fires) % 8 == 7)
		sleep_ms(1);
	else
		spin(atomic_load(&r->fires) % 4 * 20000);
	pthread_mutex_lock(&r->m);
	if (r->halted)
		atomic_fetch_add(&runs_after_halt, 1);
	atomic_fetch_add(&r->fires, 1);
	atomic_fetch_add(&rec_fires, 1);
	if (r->rearms > 0) {
		r->rearms--;
		callout_schedule(&r->c, 1);
	}
	pthread_mutex_unlock(&r->m);
	atomic_fetch_sub(&r->inside, 1);
}

static void
selffree_fn(void *arg)
{
	struct selffree *s = arg;

	if (s->magic != 0x5e1f) /* freed twice or never made */
		atomic_fetch_add(&concurrent_runs, 1);
	s->magic = 0;
	callout_destroy(&s->c); /* allowed from its own handler */
	free(s);
	atomic_fetch_add(&sf_freed, 1);
}

struct worker {
	pthread_t t;
	struct callout_clock *clk;
	uint64_t seed;
	long ops;
};

static void
arm_rec(struct rec *r, uint64_t *x)
{
	pthread_mutex_lock(&r->m);
	r->halted = false;
	r->rearms = (int)(rnd(x) % 3);
	if (rnd(x) & 1)
		callout_reset(&r->c, 1 + (int)(rnd(x) % 3), stress_fn, r);
	else
		callout_schedule(&r->c, (int)(rnd(x) % 3) - 1);
	pthread_mutex_unlock(&r->m);
}

static void
halt_rec(struct rec *r, bool giant)
{
	if (giant)
		callout_giant_lock();
	pthread_mutex_lock(&r->m);
	callout_halt(&r->c, &r->m);
	/* Not pending, not running: it must not run until armed again. */
	if (callout_pending(&r->c))
		atomic_fetch_add(&runs_after_halt, 1);
	r->halted = true;
	pthread_mutex_unlock(&r->m);
	if (giant)
		callout_giant_unlock();
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t x = w->seed;

	for (long i = 0; i < w->ops; i++) {
		struct rec *r = &recs[rnd(&x) % NRECS];

		switch (rnd(&x) % 10) {
		case 0:
		case 1:
		case 2:
			arm_rec(r, &x);
			break;
		case 3:
		case 4:
			callout_stop(&r->c);
			break;
		case 5:
			halt_rec(r, false);
			break;
		case 6:
			halt_rec(r, true);
			break;
		case 7:
			callout_halt(&r->c, NULL); /* no bookkeeping: noise */
			break;
		case 8: {
			struct selffree *s = malloc(sizeof(*s));

			if (s == NULL)
				break;
			s->magic = 0x5e1f;
			callout_init_clock(&s->c, w->clk, CALLOUT_MPSAFE);
			atomic_fetch_add(&sf_made, 1);
			callout_reset(
			    &s->c, 1 + (int)(rnd(&x) % 2), selffree_fn, s);
			break;
		}
		default:
			/* Let the dispatchers catch up now and then. */
			if (rnd(&x) % 2 == 0)
				sleep_ms(1);
			break;
		}
	}
	return NULL;
}

static void
stress_no_overlap_no_run_after_halt_all_accounted(void)
{
	struct callout_clock *clk = make_threaded(2);
	struct worker w[NWORKERS];
	struct callout_counters k;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	long ops = check_scaled(20000, 1000);
	long total_fires = 0;

	CHECK(clk != NULL);
	atomic_store(&concurrent_runs, 0);
	atomic_store(&runs_after_halt, 0);
	for (int i = 0; i < NRECS; i++) {
		struct rec *r = &recs[i];

		pthread_mutex_init(&r->m, NULL);
		r->mpsafe = i % 4 != 0; /* a quarter run under giant */
		callout_init_clock(&r->c, clk, r->mpsafe ? CALLOUT_MPSAFE : 0);
		callout_setfunc(&r->c, stress_fn, r);
	}
	fprintf(stderr, "stress: seed %#llx, %ld ops per thread\n",
	    (unsigned long long)seed, ops);
	for (int i = 0; i < NWORKERS; i++) {
		w[i].clk = clk;
		w[i].seed = seed + (uint64_t)i * 0x1234567;
		w[i].ops = ops;
		pthread_create(&w[i].t, NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(w[i].t, NULL);
	for (int i = 0; i < NRECS; i++)
		halt_rec(&recs[i], false);
	for (int i = 0;
	     i < 5000 && atomic_load(&sf_freed) < atomic_load(&sf_made); i++)
		sleep_ms(1);
	CHECK_EQ(atomic_load(&sf_freed), atomic_load(&sf_made));
	CHECK_EQ(atomic_load(&concurrent_runs), 0);
	CHECK_EQ(atomic_load(&runs_after_halt), 0);
	for (int i = 0; i < NRECS; i++) {
		total_fires += atomic_load(&recs[i].fires);
		CHECK_EQ(callout_pending(&recs[i].c), false);
	}
	callout_clock_counters(clk, &k);
	CHECK_U64(
	    k.fired, (uint64_t)total_fires + (uint64_t)atomic_load(&sf_freed));
	CHECK_U64(k.armed, k.fired + k.stopped);
	CHECK(k.fired > 0);
	fprintf(stderr,
	    "stress: armed %llu fired %llu (%ld self-freed) "
	    "stopped %llu halt_waits %llu\n",
	    (unsigned long long)k.armed, (unsigned long long)k.fired,
	    atomic_load(&sf_freed), (unsigned long long)k.stopped,
	    (unsigned long long)k.halt_waits);
	for (int i = 0; i < NRECS; i++) {
		callout_destroy(&recs[i].c);
		pthread_mutex_destroy(&recs[i].m);
	}
	callout_clock_destroy(clk);
}

/* Halt. */

struct probe {
	callout_t c;
	pthread_mutex_t m;
	struct callout_clock *clk;
	atomic_int entered, finished, runs, inside, overlap;
	atomic_int gate;
	bool take_m;      /* handler locks m */
	bool rearm;       /* handler re-arms itself */
	long sleep;       /* ms the handler sleeps */
	int self_halt;    /* result of halt from the handler, +1 */
	pthread_t thread; /* where it last ran */
};

static void
probe_fn(void *arg)
{
	struct probe *p = arg;

	if (atomic_fetch_add(&p->inside, 1) != 0)
		atomic_store(&p->overlap, 1);
	p->thread = pthread_self();
	atomic_fetch_add(&p->runs, 1);
	atomic_store(&p->entered, 1);
	if (p->take_m)
		pthread_mutex_lock(&p->m);
	if (p->sleep > 0)
		sleep_ms(p->sleep);
	if (p->self_halt == -1)
		p->self_halt = 1 + callout_halt(&p->c, NULL);
	if (p->rearm)
		callout_schedule(&p->c, 1);
	if (p->take_m)
		pthread_mutex_unlock(&p->m);
	atomic_fetch_sub(&p->inside, 1);
	atomic_store(&p->finished, 1);
}

static void
probe_init(struct probe *p, struct callout_clock *clk, unsigned flags)
{
	pthread_mutexattr_t a;

	memset(p, 0, sizeof(*p));
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&p->m, &a);
	pthread_mutexattr_destroy(&a);
	p->clk = clk;
	callout_init_clock(&p->c, clk, flags);
}

static void
halt_from_own_handler_returns_false_at_once(void)
{
	struct callout_clock *clk = make_threaded(2);
	struct probe p;

	probe_init(&p, clk, CALLOUT_MPSAFE);
	p.self_halt = -1;
	callout_reset(&p.c, 1, probe_fn, &p);
	CHECK(wait_flag(&p.finished));
	CHECK_EQ(p.self_halt, 1); /* false: it did not wait for itself */
	callout_destroy(&p.c);
	callout_clock_destroy(clk);
}

static void
halt_drops_interlock_the_handler_takes(void)
{
	struct callout_clock *clk = make_threaded(2);
	struct callout_counters k;
	struct probe p;

	probe_init(&p, clk, CALLOUT_MPSAFE);
	p.take_m = true;
	pthread_mutex_lock(&p.m);
	callout_reset(&p.c, 1, probe_fn, &p);
	CHECK(wait_flag(&p.entered)); /* blocked on m, which we hold */
	CHECK_EQ(callout_halt(&p.c, &p.m), true);
	CHECK_EQ(atomic_load(&p.finished), 1);
	/* Re-taken before return: an error-checking mutex knows. */
	CHECK_EQ(pthread_mutex_unlock(&p.m), 0);
	callout_clock_counters(clk, &k);
	CHECK_U64(k.halt_waits, 1);
	callout_destroy(&p.c);
	callout_clock_destroy(clk);
}

static void
halt_stops_handler_that_rearms_itself(void)
{
	struct callout_clock *clk = make_threaded(2);
	struct callout_counters k;
	struct probe p;
	int runs;

	probe_init(&p, clk, CALLOUT_MPSAFE);
	p.rearm = true;
	p.sleep = 3;
	callout_reset(&p.c, 1, probe_fn, &p);
	for (int i = 0; i < 20; i++) { /* catch it running at least once */
		sleep_ms(7);
		callout_halt(&p.c, NULL);
		CHECK_EQ(callout_pending(&p.c), false);
		runs = atomic_load(&p.runs);
		sleep_ms(15);
		CHECK_EQ(atomic_load(&p.runs), runs); /* no run after halt */
		callout_schedule(&p.c, 1);
	}
	callout_halt(&p.c, NULL);
	CHECK_EQ(atomic_load(&p.overlap), 0);
	callout_clock_counters(clk, &k);
	CHECK(k.halt_waits > 0);
	CHECK_U64(k.armed, k.fired + k.stopped);
	callout_destroy(&p.c);
	callout_clock_destroy(clk);
}

static void
rearm_from_other_thread_during_run_never_overlaps(void)
{
	struct callout_clock *clk = make_threaded(2);
	struct probe p;
	pthread_t first;

	probe_init(&p, clk, CALLOUT_MPSAFE);
	p.sleep = 50;
	callout_clock_set_home(clk, 0);
	callout_reset(&p.c, 1, probe_fn, &p);
	CHECK(wait_flag(&p.entered));
	first = p.thread;
	/* Armed while running, from a thread whose home is the other
	 * dispatcher: it stays, and waits for the run to finish. */
	callout_clock_set_home(clk, 1);
	atomic_store(&p.entered, 0);
	callout_reset(&p.c, 1, probe_fn, &p);
	CHECK_EQ(callout_pending(&p.c), true);
	CHECK(wait_flag(&p.finished));
	for (int i = 0; i < 5000 && atomic_load(&p.runs) < 2; i++)
		sleep_ms(1);
	CHECK_EQ(atomic_load(&p.runs), 2);
	CHECK(pthread_equal(p.thread, first));
	CHECK_EQ(atomic_load(&p.overlap), 0);
	callout_halt(&p.c, NULL);
	callout_destroy(&p.c);
	callout_clock_destroy(clk);
}

/* Dispatchers: home, migration of idle callouts, bind, giant. */

static pthread_t
dispatcher_thread(struct callout_clock *clk, unsigned cpu)
{
	struct probe p;
	pthread_t t;

	probe_init(&p, clk, CALLOUT_MPSAFE);
	callout_bind(&p.c, cpu);
	callout_reset(&p.c, 1, probe_fn, &p);
	wait_flag(&p.finished);
	t = p.thread;
	callout_halt(&p.c, NULL);
	callout_destroy(&p.c);
	return t;
}

struct homed_arm {
	struct probe *p;
	int home;
	int ticks;
};

static void *
arm_from_home(void *arg)
{
	struct homed_arm *h = arg;

	callout_clock_set_home(h->p->clk, h->home);
	callout_reset(&h->p->c, h->ticks, probe_fn, h->p);
	return NULL;
}

static void
arm_in_thread(struct probe *p, int home, int ticks)
{
	struct homed_arm h = { p, home, ticks };
	pthread_t t;

	pthread_create(&t, NULL, arm_from_home, &h);
	pthread_join(t, NULL);
}

static void
idle_callout_moves_to_arming_threads_home(void)
{
	struct callout_clock *clk = make_threaded(2);
	pthread_t d0 = dispatcher_thread(clk, 0);
	pthread_t d1 = dispatcher_thread(clk, 1);
	struct probe p;

	CHECK(!pthread_equal(d0, d1));
	probe_init(&p, clk, CALLOUT_MPSAFE);
	arm_in_thread(&p, 0, 1);
	CHECK(wait_flag(&p.finished));
	CHECK(pthread_equal(p.thread, d0));
	atomic_store(&p.finished, 0);
	callout_halt(&p.c, NULL);
	arm_in_thread(&p, 1, 1);
	CHECK(wait_flag(&p.finished));
	CHECK(pthread_equal(p.thread, d1));

	/* Pending: re-arming from the other home does not move it. */
	atomic_store(&p.finished, 0);
	callout_halt(&p.c, NULL);
	arm_in_thread(&p, 0, 30);
	arm_in_thread(&p, 1, 1);
	CHECK(wait_flag(&p.finished));
	CHECK(pthread_equal(p.thread, d0));

	/* Bound: stays on its dispatcher whoever arms it. */
	atomic_store(&p.finished, 0);
	callout_halt(&p.c, NULL);
	callout_bind(&p.c, 1);
	arm_in_thread(&p, 0, 1);
	CHECK(wait_flag(&p.finished));
	CHECK(pthread_equal(p.thread, d1));
	callout_halt(&p.c, NULL);
	callout_destroy(&p.c);

	/* Not MPSAFE: dispatcher 0, under giant. */
	probe_init(&p, clk, 0);
	callout_giant_lock();
	arm_in_thread(&p, 1, 1);
	sleep_ms(30);
	CHECK_EQ(atomic_load(&p.runs), 0); /* waits for giant */
	callout_giant_unlock();
	CHECK(wait_flag(&p.finished));
	CHECK(pthread_equal(p.thread, d0));
	callout_halt(&p.c, NULL);
	callout_destroy(&p.c);
	callout_clock_destroy(clk);
}

static void
halt_releases_every_level_of_giant(void)
{
	struct callout_clock *clk = make_threaded(2);
	struct probe p;

	probe_init(&p, clk, 0);
	callout_giant_lock();
	callout_giant_lock();
	callout_reset(&p.c, 1, probe_fn, &p);
	/* Dispatched (INVOKING) but blocked on giant, which we hold. */
	for (int i = 0; i < 5000 && !callout_invoking(&p.c); i++)
		sleep_ms(1);
	CHECK_EQ(callout_invoking(&p.c), true);
	CHECK_EQ(atomic_load(&p.runs), 0);
	CHECK_EQ(callout_halt(&p.c, NULL), true);
	CHECK_EQ(atomic_load(&p.finished), 1);
	callout_giant_unlock();
	callout_giant_unlock(); /* both levels were given back */
	callout_set_misuse_handler(check_misuse);
	callout_giant_unlock();
	CHECK_MISUSE("callout_giant_unlock");
	callout_set_misuse_handler(NULL);
	callout_destroy(&p.c);
	callout_clock_destroy(clk);
}

static void
destroy_while_running_elsewhere_is_misuse(void)
{
	struct callout_clock *clk = make_threaded(2);
	struct probe p;

	callout_set_misuse_handler(check_misuse);
	probe_init(&p, clk, CALLOUT_MPSAFE);
	p.sleep = 100;
	callout_reset(&p.c, 1, probe_fn, &p);
	CHECK(wait_flag(&p.entered));
	callout_destroy(&p.c);
	CHECK_MISUSE("callout_destroy");
	CHECK_EQ(callout_halt(&p.c, NULL), true); /* still a live callout */
	callout_reset(&p.c, 100, probe_fn, &p);
	callout_destroy(&p.c);
	CHECK_MISUSE("callout_destroy"); /* pending */
	callout_stop(&p.c);
	callout_destroy(&p.c);
	CHECK_EQ(atomic_load(&check_misuse_count), 0);
	callout_set_misuse_handler(NULL);
	callout_clock_destroy(clk);
}

static void
destroy_clock_fn(void *arg)
{
	struct probe *p = arg;

	callout_clock_destroy(p->clk); /* would join its own thread */
	atomic_store(&p->finished, 1);
}

static void
clock_destroy_from_its_handler_is_misuse(void)
{
	struct callout_clock *clk = make_threaded(2);
	struct probe p;

	callout_set_misuse_handler(check_misuse);
	atomic_store(&check_misuse_count, 0);
	probe_init(&p, clk, CALLOUT_MPSAFE);
	callout_reset(&p.c, 1, destroy_clock_fn, &p);
	CHECK(wait_flag(&p.finished));
	CHECK_MISUSE("callout_clock_destroy");
	callout_set_misuse_handler(NULL);
	callout_destroy(&p.c);
	callout_clock_destroy(clk);
}

/* A callout whose handler destroyed it, and memory reused meanwhile. */
static callout_t reused;
static atomic_int reused_destroyed, reused_release;

static void
destroy_self_then_linger(void *arg)
{
	(void)arg;
	callout_destroy(&reused);
	atomic_store(&reused_destroyed, 1);
	wait_flag(&reused_release); /* still running, memory "freed" */
}

static void
new_callout_at_address_of_running_one_is_not_running(void)
{
	struct callout_clock *clk = make_threaded(2);

	callout_set_misuse_handler(check_misuse);
	atomic_store(&check_misuse_count, 0);
	callout_init_clock(&reused, clk, CALLOUT_MPSAFE);
	callout_reset(&reused, 1, destroy_self_then_linger, NULL);
	CHECK(wait_flag(&reused_destroyed));
	/* The same memory as a new callout: not the one running. */
	callout_init_clock(&reused, clk, CALLOUT_MPSAFE);
	CHECK_EQ(callout_halt(&reused, NULL), false); /* did not wait */
	callout_destroy(&reused);
	CHECK_EQ(atomic_load(&check_misuse_count), 0);
	atomic_store(&reused_release, 1);
	callout_set_misuse_handler(NULL);
	callout_clock_destroy(clk);
}

/* Single-owner clocks. */

struct foreign {
	struct callout_clock *clk;
	bool external;
	callout_t *c;
	int reports;
};

static void
nothing(void *arg)
{
	(void)arg;
}

/* Every call a foreign thread makes on a single-owner clock is misuse. */
static void *
foreign_calls(void *arg)
{
	struct foreign *f = arg;
	int before = atomic_load(&check_misuse_count);

	callout_reset(f->c, 1, nothing, NULL);
	callout_stop(f->c);
	callout_halt(f->c, NULL);
	if (f->external) {
		callout_clock_fd(f->clk);
		callout_clock_run(f->clk);
		callout_clock_next_ns(f->clk);
	} else {
		callout_clock_advance(f->clk, 1);
	}
	f->reports = atomic_load(&check_misuse_count) - before;
	return NULL;
}

static void
single_owner_clock_refuses_other_threads(void)
{
	struct callout_clock_params p;
	struct callout_clock *clk;
	struct foreign f;
	callout_t c;
	pthread_t t;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_THREADED;
	p.flags = CALLOUT_CLOCK_SINGLE_OWNER;
	errno = 0;
	CHECK(callout_clock_create(&p) == NULL);
	CHECK_EQ(errno, EINVAL);

	callout_set_misuse_handler(check_misuse);
	atomic_store(&check_misuse_count, 0);
	p.mode = CALLOUT_CLOCK_EXTERNAL;
	clk = callout_clock_create(&p);
	CHECK(clk != NULL);
	callout_init_clock(&c, clk, CALLOUT_MPSAFE);
	f.clk = clk;
	f.external = true;
	f.c = &c;
	pthread_create(&t, NULL, foreign_calls, &f);
	pthread_join(t, NULL);
	CHECK_EQ(f.reports, 6); /* reset stop halt fd run next_ns */
	CHECK_EQ(callout_pending(&c), false); /* the foreign arm did nothing */
	atomic_store(&check_misuse_count, 0);
	callout_destroy(&c);
	callout_clock_destroy(clk);

	p.mode = CALLOUT_CLOCK_VIRTUAL;
	clk = callout_clock_create(&p);
	callout_init_clock(&c, clk, CALLOUT_MPSAFE);
	f.clk = clk;
	f.external = false;
	pthread_create(&t, NULL, foreign_calls, &f);
	pthread_join(t, NULL);
	CHECK_EQ(f.reports, 4); /* reset stop halt advance */
	callout_clock_advance(clk, 5);
	CHECK_U64(callout_clock_ticks(clk), 5);
	atomic_store(&check_misuse_count, 0);
	callout_destroy(&c);
	callout_clock_destroy(clk);
	callout_set_misuse_handler(NULL);
}

int
main(void)
{
	RUN(halt_from_own_handler_returns_false_at_once);
	RUN(halt_drops_interlock_the_handler_takes);
	RUN(halt_stops_handler_that_rearms_itself);
	RUN(rearm_from_other_thread_during_run_never_overlaps);
	RUN(idle_callout_moves_to_arming_threads_home);
	RUN(halt_releases_every_level_of_giant);
	RUN(destroy_while_running_elsewhere_is_misuse);
	RUN(new_callout_at_address_of_running_one_is_not_running);
	RUN(clock_destroy_from_its_handler_is_misuse);
	RUN(single_owner_clock_refuses_other_threads);
	RUN(stress_no_overlap_no_run_after_halt_all_accounted);
	return check_finish();
}
