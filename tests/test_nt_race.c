/*
 * Set and Cancel from several threads against expiries on a threaded
 * clock (run under ThreadSanitizer in CI).  Every arming is accounted for
 * exactly once: it fires, or a Cancel returned TRUE for it, or a Set
 * returned TRUE because it replaced it.  After the final cancel nothing
 * fires.  Also: the serialised miniport's timer functions never overlap.
 */
#include <pthread.h>
#include <time.h>

#include <callout/ndis.h>
#include <callout/timeout.h>

#include "check.h"

#define NTIMERS 16
#define NTHREADS 3

static KTIMER timers[NTIMERS];
static KDPC dpcs[NTIMERS];
static atomic_long fires[NTIMERS];
static atomic_long arms[NTIMERS], cancels[NTIMERS], replaced[NTIMERS];

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static VOID NTAPI
fire_dpc(PKDPC d, PVOID ctx, PVOID a1, PVOID a2)
{
	(void)d;
	(void)a1;
	(void)a2;
	atomic_fetch_add(&fires[(intptr_t)ctx], 1);
}

static void *
racer(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u + 1;
	long iters = check_scaled(20000, 2000);

	for (long k = 0; k < iters; k++) {
		seed = seed * 1103515245u + 12345u;
		int i = (int)((seed >> 8) % NTIMERS);
		unsigned op = (seed >> 20) % 4;

		if (op < 2) {
			LARGE_INTEGER due = {
				.QuadPart =
				    -(LONGLONG)((seed >> 24) % 30) * 1000 - 1
			};

			atomic_fetch_add(&arms[i], 1);
			if (KeSetTimer(&timers[i], due, &dpcs[i]))
				atomic_fetch_add(&replaced[i], 1);
		} else if (op == 2) {
			if (KeCancelTimer(&timers[i]))
				atomic_fetch_add(&cancels[i], 1);
		} else {
			(void)KeReadStateTimer(&timers[i]);
		}
		if ((k & 255) == 0)
			msleep(1);
	}
	return NULL;
}

static void
set_and_cancel_race_expiries_accounting_exact(void)
{
	pthread_t th[NTHREADS];
	long total_arms = 0, total_out = 0;

	for (int i = 0; i < NTIMERS; i++) {
		KeInitializeTimerEx(&timers[i], (TIMER_TYPE)(i & 1));
		KeInitializeDpc(&dpcs[i], fire_dpc, (PVOID)(intptr_t)i);
	}
	for (int t = 0; t < NTHREADS; t++)
		pthread_create(&th[t], NULL, racer, (void *)(uintptr_t)t);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	for (int i = 0; i < NTIMERS; i++)
		if (KeCancelTimer(&timers[i]))
			atomic_fetch_add(&cancels[i], 1);
	KeFlushQueuedDpcs();
	long before[NTIMERS];
	for (int i = 0; i < NTIMERS; i++)
		before[i] = atomic_load(&fires[i]);
	msleep(50);
	for (int i = 0; i < NTIMERS; i++) {
		long a = atomic_load(&arms[i]);
		long out = atomic_load(&fires[i]) + atomic_load(&cancels[i]) +
		    atomic_load(&replaced[i]);

		CHECK_EQ(atomic_load(&fires[i]), before[i]);
		CHECK_EQ(out, a);
		total_arms += a;
		total_out += out;
	}
	CHECK_EQ(total_out, total_arms);
	struct callout_pool_counters pc;
	callout_pool_counters(&pc);
	CHECK_EQ(pc.in_use, 0);
}

/* Periodic timers cancelled from other threads never fire afterwards. */
static void
cancelled_periodic_timer_never_fires_again(void)
{
	KTIMER t;
	KDPC d;

	atomic_store(&fires[0], 0);
	KeInitializeTimer(&t);
	KeInitializeDpc(&d, fire_dpc, (PVOID)0);
	for (int k = 0; k < 20; k++) {
		KeSetTimerEx(&t, (LARGE_INTEGER){ .QuadPart = -10000 }, 1, &d);
		msleep(3);
		CHECK_EQ(KeCancelTimer(&t), TRUE);
		KeFlushQueuedDpcs();
		long f = atomic_load(&fires[0]);
		msleep(5);
		CHECK_EQ(atomic_load(&fires[0]), f);
	}
}

static atomic_int inside, overlaps, mruns;

static VOID NTAPI
miniport_fn(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
	(void)s1;
	(void)ctx;
	(void)s2;
	(void)s3;
	if (atomic_exchange(&inside, 1) != 0)
		atomic_fetch_add(&overlaps, 1);
	for (volatile int i = 0; i < 20000; i++)
		;
	atomic_store(&inside, 0);
	atomic_fetch_add(&mruns, 1);
}

struct marm {
	NDIS_MINIPORT_TIMER *t;
	int home;
};

static void *
marm_main(void *arg)
{
	struct marm *m = arg;

	callout_clock_set_home(callout_clock_default(), m->home);
	NdisMSetPeriodicTimer(m->t, 1);
	return NULL;
}

static void
serialized_miniport_timer_functions_never_overlap(void)
{
	NDIS_HANDLE mp = NdisEmuCreateMiniport("serial", TRUE);
	NDIS_MINIPORT_TIMER a, b;
	struct marm ma = { &a, 0 }, mb = { &b, 1 };
	pthread_t t1, t2;
	BOOLEAN c;

	NdisMInitializeTimer(&a, mp, miniport_fn, NULL);
	NdisMInitializeTimer(&b, mp, miniport_fn, NULL);
	pthread_create(&t1, NULL, marm_main, &ma);
	pthread_create(&t2, NULL, marm_main, &mb);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	msleep(200);
	NdisMCancelTimer(&a, &c);
	CHECK_EQ(c, TRUE);
	NdisMCancelTimer(&b, &c);
	CHECK_EQ(c, TRUE);
	KeFlushQueuedDpcs();
	CHECK(atomic_load(&mruns) > 20);
	CHECK_EQ(atomic_load(&overlaps), 0);
	NdisEmuDestroyMiniport(mp);
}

int
main(void)
{
	struct callout_clock_params p;
	struct callout_clock *clk;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_THREADED;
	p.ndispatchers = 2;
	clk = callout_clock_create(&p);
	if (clk == NULL || callout_clock_set_default(clk) != 0)
		return 1;
	RUN(set_and_cancel_race_expiries_accounting_exact);
	RUN(cancelled_periodic_timer_never_fires_again);
	RUN(serialized_miniport_timer_functions_never_overlap);
	callout_clock_destroy(clk);
	return check_finish();
}
