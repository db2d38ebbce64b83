/*
 * NDIS timers on a virtual clock (nt.md section 6): NDIS 5 timers and
 * miniport timers, NDIS 6 timer objects, their return values, and that a
 * periodic timer object's cancel returns with no callback running.
 */
#include <pthread.h>
#include <time.h>

#include <callout/ndis.h>
#include <callout/timeout.h>

#include "check.h"

static struct callout_clock *clk;

struct calls {
	atomic_int n;
	PVOID ctx;
	KIRQL irql;
	atomic_int inside;
	int sleep_ms;
	NDIS_HANDLE free_self;
};

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static struct calls *cur;

static VOID NTAPI
timer_fn(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
	(void)s1;
	(void)s2;
	(void)s3;
	atomic_store(&cur->inside, 1);
	cur->ctx = ctx;
	cur->irql = KeGetCurrentIrql();
	if (cur->sleep_ms > 0)
		msleep(cur->sleep_ms);
	if (cur->free_self != NULL) {
		NdisFreeTimerObject(cur->free_self);
		cur->free_self = NULL;
	}
	atomic_fetch_add(&cur->n, 1);
	atomic_store(&cur->inside, 0);
}

static size_t
pool_in_use(void)
{
	struct callout_pool_counters pc;

	callout_pool_counters(&pc);
	return pc.in_use;
}

static void
ndis5_timer_fires_with_its_context(void)
{
	struct calls c = { 0 };
	NDIS_TIMER t;
	BOOLEAN cancelled;

	cur = &c;
	NdisInitializeTimer(&t, timer_fn, (PVOID)7);
	NdisSetTimer(&t, 10);
	callout_clock_advance(clk, 9);
	CHECK_EQ(atomic_load(&c.n), 0);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&c.n), 1);
	CHECK_EQ((uintptr_t)c.ctx, 7);
	CHECK_EQ(c.irql, DISPATCH_LEVEL);
	NdisSetTimerEx(&t, 5, (PVOID)8);
	NdisCancelTimer(&t, &cancelled);
	CHECK_EQ(cancelled, TRUE);
	NdisSetTimerEx(&t, 5, (PVOID)9);
	callout_clock_advance(clk, 5);
	CHECK_EQ(atomic_load(&c.n), 2);
	CHECK_EQ((uintptr_t)c.ctx, 9);
	NdisCancelTimer(&t, &cancelled);
	CHECK_EQ(cancelled, FALSE);
}

static void
miniport_periodic_timer_cancel_returns_true(void)
{
	struct calls c = { 0 };
	NDIS_HANDLE mp = NdisEmuCreateMiniport("m", TRUE);
	NDIS_MINIPORT_TIMER t;
	BOOLEAN cancelled;

	cur = &c;
	NdisMInitializeTimer(&t, mp, timer_fn, (PVOID)3);
	NdisMSetPeriodicTimer(&t, 4);
	callout_clock_advance(clk, 3);
	CHECK_EQ(atomic_load(&c.n), 0); /* first run after one period */
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&c.n), 1);
	callout_clock_advance(clk, 8);
	CHECK_EQ(atomic_load(&c.n), 3);
	CHECK_EQ((uintptr_t)c.ctx, 3);
	NdisMCancelTimer(&t, &cancelled);
	CHECK_EQ(cancelled, TRUE);
	callout_clock_advance(clk, 20);
	CHECK_EQ(atomic_load(&c.n), 3);
	NdisMSetTimer(&t, 2);
	callout_clock_advance(clk, 2);
	CHECK_EQ(atomic_load(&c.n), 4);
	NdisMCancelTimer(&t, &cancelled);
	CHECK_EQ(cancelled, FALSE);
	NdisEmuDestroyMiniport(mp);
	CHECK_EQ(pool_in_use(), 0);
}

static NDIS_HANDLE
alloc_obj(PVOID ctx)
{
	NDIS_TIMER_CHARACTERISTICS ch = { 0 };
	NDIS_HANDLE h = NULL;

	ch.Header.Type = NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS;
	ch.Header.Revision = NDIS_TIMER_CHARACTERISTICS_REVISION_1;
	ch.Header.Size = NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1;
	ch.TimerFunction = timer_fn;
	ch.FunctionContext = ctx;
	CHECK_EQ(NdisAllocateTimerObject(NULL, &ch, &h), NDIS_STATUS_SUCCESS);
	return h;
}

static void
timer_object_set_returns_whether_queued(void)
{
	struct calls c = { 0 };
	NDIS_HANDLE h;
	LARGE_INTEGER due = { .QuadPart = -50000 };
	NDIS_TIMER_CHARACTERISTICS bad = { 0 };
	NDIS_HANDLE hb;

	cur = &c;
	CHECK_EQ(NdisAllocateTimerObject(NULL, &bad, &hb),
	    NDIS_STATUS_BAD_CHARACTERISTICS);
	h = alloc_obj((PVOID)1);
	CHECK_EQ(NdisSetTimerObject(h, due, 0, NULL), FALSE);
	CHECK_EQ(NdisSetTimerObject(h, due, 0, (PVOID)2), TRUE);
	callout_clock_advance(clk, 5);
	CHECK_EQ(atomic_load(&c.n), 1);
	CHECK_EQ((uintptr_t)c.ctx, 2);
	CHECK_EQ(NdisSetTimerObject(h, due, 0, NULL), FALSE);
	callout_clock_advance(clk, 5);
	CHECK_EQ((uintptr_t)c.ctx, 1); /* NULL: the default context */
	CHECK_EQ(NdisCancelTimerObject(h), FALSE);
	NdisFreeTimerObject(h);
	callout_set_misuse_handler(check_misuse);
	atomic_store(&check_misuse_count, 0);
	CHECK_EQ(NdisSetTimerObject(h, due, 0, NULL), FALSE);
	CHECK_MISUSE("NdisSetTimerObject");
	callout_set_misuse_handler(NULL);
}

struct advancer {
	atomic_int stop;
};

static void *
advancer_main(void *arg)
{
	struct advancer *a = arg;

	while (!atomic_load(&a->stop))
		callout_clock_advance(clk, 1);
	return NULL;
}

static void
periodic_object_cancel_waits_for_callback(void)
{
	struct calls c = { .sleep_ms = 20 };
	struct advancer a = { 0 };
	NDIS_HANDLE h = alloc_obj(NULL);
	pthread_t th;
	LARGE_INTEGER due = { .QuadPart = -10000 };

	cur = &c;
	NdisSetTimerObject(h, due, 1, NULL);
	pthread_create(&th, NULL, advancer_main, &a);
	while (atomic_load(&c.inside) == 0)
		msleep(1);
	CHECK_EQ(NdisCancelTimerObject(h), TRUE);
	CHECK_EQ(atomic_load(&c.inside), 0);
	int n = atomic_load(&c.n);
	msleep(30);
	CHECK_EQ(atomic_load(&c.n), n);
	atomic_store(&a.stop, 1);
	pthread_join(th, NULL);

	/* Freed from its own callback: takes effect after it returns. */
	c.sleep_ms = 0;
	c.free_self = h;
	NdisSetTimerObject(h, due, 0, NULL);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&c.n), n + 1);
	CHECK_EQ(pool_in_use(), 0);
}

int
main(void)
{
	struct callout_clock_params p;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	clk = callout_clock_create(&p);
	if (clk == NULL || callout_clock_set_default(clk) != 0)
		return 1;
	RUN(ndis5_timer_fires_with_its_context);
	RUN(miniport_periodic_timer_cancel_returns_true);
	RUN(timer_object_set_returns_whether_queued);
	RUN(periodic_object_cancel_waits_for_callback);
	callout_clock_destroy(clk);
	return check_finish();
}
