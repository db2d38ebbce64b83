/*
 * The NT emulation on a virtual clock, one test per rule of nt.md
 * sections 2 to 5: exact ticks, exact system times, deterministic DPCs.
 * All scenarios share one default clock (hz 1000, two processors), run in
 * sequence; each leaves nothing armed.
 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <callout/ntoskrnl.h>
#include <callout/timeout.h>

#include "check.h"

#define T0 132000000000000000LL /* system time at tick 0 */

static struct callout_clock *clk;

static LARGE_INTEGER
rel_ms(LONGLONG ms)
{
	LARGE_INTEGER d;

	d.QuadPart = -ms * 10000;
	return d;
}

static LARGE_INTEGER
li(LONGLONG v)
{
	LARGE_INTEGER d;

	d.QuadPart = v;
	return d;
}

static LONGLONG
sys_now(void)
{
	LARGE_INTEGER t;

	KeQuerySystemTime(&t);
	return t.QuadPart;
}

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static size_t
pool_in_use(void)
{
	struct callout_pool_counters pc;

	callout_pool_counters(&pc);
	return pc.in_use;
}

/* A DPC routine that records its calls. */
struct rec {
	atomic_int n;
	PVOID a1, a2;
	KIRQL irql;
	ULONG cpu;
	int order[8];
	atomic_int norder;
	int tag;
	PKTIMER cancel_self; /* cancel this timer from the routine */
	BOOLEAN cancel_ret;
	int requeue; /* re-insert itself this many times */
};

static atomic_int order_seq;
static int order_log[16];

static VOID NTAPI
rec_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct rec *r = ctx;

	r->a1 = a1;
	r->a2 = a2;
	r->irql = KeGetCurrentIrql();
	r->cpu = KeGetCurrentProcessorNumber();
	order_log[atomic_fetch_add(&order_seq, 1) & 15] = r->tag;
	if (r->cancel_self != NULL)
		r->cancel_ret = KeCancelTimer(r->cancel_self);
	if (r->requeue > 0) {
		r->requeue--;
		CHECK_EQ(KeInsertQueueDpc(dpc, a1, a2), TRUE);
	}
	atomic_fetch_add(&r->n, 1);
}

static void
time_queries_follow_the_virtual_clock(void)
{
	LARGE_INTEGER t;
	ULONGLONG it0 = KeQueryInterruptTime();
	LONGLONG s0 = sys_now();

	CHECK_EQ(KeQueryTimeIncrement(), 10000);
	CHECK_EQ(s0, T0 + (LONGLONG)it0);
	callout_clock_advance(clk, 5);
	CHECK_U64(KeQueryInterruptTime(), it0 + 50000);
	CHECK_EQ(sys_now(), s0 + 50000);
	KeQueryTickCount(&t);
	CHECK_EQ(t.QuadPart * 10000, (LONGLONG)KeQueryInterruptTime());
}

static void
notification_timer_signal_state(void)
{
	KTIMER t;

	KeInitializeTimer(&t);
	CHECK_EQ(t.Header.Type, 8);
	CHECK_EQ(KeReadStateTimer(&t), FALSE);
	CHECK_EQ(KeSetTimer(&t, rel_ms(10), NULL), FALSE);
	CHECK_EQ(t.Header.Inserted, 1);
	callout_clock_advance(clk, 9);
	CHECK_EQ(KeReadStateTimer(&t), FALSE);
	callout_clock_advance(clk, 1);
	CHECK_EQ(KeReadStateTimer(&t), TRUE);
	CHECK_EQ(t.Header.Inserted, 0);
	/* A wait on a notification timer does not consume the signal. */
	CHECK_EQ(KeWaitForSingleObject(&t, Executive, KernelMode, FALSE,
		     &(LARGE_INTEGER){ .QuadPart = 0 }),
	    STATUS_SUCCESS);
	CHECK_EQ(KeReadStateTimer(&t), TRUE);
	/* Cancel after expiry: FALSE, and the signal stays. */
	CHECK_EQ(KeCancelTimer(&t), FALSE);
	CHECK_EQ(KeReadStateTimer(&t), TRUE);
	/* Re-set clears it. */
	CHECK_EQ(KeSetTimer(&t, rel_ms(3), NULL), FALSE);
	CHECK_EQ(KeReadStateTimer(&t), FALSE);
	/* Cancel while queued: TRUE, not inserted, state unchanged. */
	CHECK_EQ(KeCancelTimer(&t), TRUE);
	CHECK_EQ(t.Header.Inserted, 0);
	callout_clock_advance(clk, 10);
	CHECK_EQ(KeReadStateTimer(&t), FALSE);
	CHECK_EQ(pool_in_use(), 0);
}

static void
synchronization_timer_wait_consumes_signal(void)
{
	KTIMER t;
	LARGE_INTEGER zero = li(0);

	KeInitializeTimerEx(&t, SynchronizationTimer);
	CHECK_EQ(t.Header.Type, 9);
	KeSetTimer(&t, rel_ms(2), NULL);
	callout_clock_advance(clk, 2);
	CHECK_EQ(KeReadStateTimer(&t), TRUE);
	CHECK_EQ(KeWaitForSingleObject(&t, Executive, KernelMode, FALSE, &zero),
	    STATUS_SUCCESS);
	CHECK_EQ(KeReadStateTimer(&t), FALSE);
	CHECK_EQ(KeWaitForSingleObject(&t, Executive, KernelMode, FALSE, &zero),
	    STATUS_TIMEOUT);
}

static void
periodic_timer_cancel_returns_true(void)
{
	KTIMER t;
	KDPC d;
	struct rec r = { 0 };

	KeInitializeTimer(&t);
	KeInitializeDpc(&d, rec_dpc, &r);
	CHECK_EQ(KeSetTimerEx(&t, rel_ms(10), 5, &d), FALSE);
	callout_clock_advance(clk, 10);
	CHECK_EQ(atomic_load(&r.n), 1);
	CHECK_EQ(KeReadStateTimer(&t), TRUE); /* stays signalled */
	callout_clock_advance(clk, 4);
	CHECK_EQ(atomic_load(&r.n), 1);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&r.n), 2);
	CHECK_EQ(t.Header.Inserted, 1);
	CHECK_EQ(KeCancelTimer(&t), TRUE);
	callout_clock_advance(clk, 100);
	CHECK_EQ(atomic_load(&r.n), 2);
	CHECK_EQ(pool_in_use(), 0);

	/* From inside its own DPC, too; and it never fires again. */
	r.cancel_self = &t;
	CHECK_EQ(KeSetTimerEx(&t, rel_ms(1), 1, &d), FALSE);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&r.n), 3);
	CHECK_EQ(r.cancel_ret, TRUE);
	callout_clock_advance(clk, 50);
	CHECK_EQ(atomic_load(&r.n), 3);
	CHECK_EQ(pool_in_use(), 0);
}

static void
synchronization_periodic_gives_one_wait_per_period(void)
{
	KTIMER t;
	LARGE_INTEGER zero = li(0);

	KeInitializeTimerEx(&t, SynchronizationTimer);
	KeSetTimerEx(&t, rel_ms(3), 3, NULL);
	for (int i = 0; i < 4; i++) {
		callout_clock_advance(clk, 3);
		CHECK_EQ(KeWaitForSingleObject(
			     &t, Executive, KernelMode, FALSE, &zero),
		    STATUS_SUCCESS);
		CHECK_EQ(KeWaitForSingleObject(
			     &t, Executive, KernelMode, FALSE, &zero),
		    STATUS_TIMEOUT);
	}
	CHECK_EQ(KeCancelTimer(&t), TRUE);
}

static void
set_while_pending_replaces_due_time_and_dpc(void)
{
	KTIMER t;
	KDPC d1, d2;
	struct rec r1 = { 0 }, r2 = { 0 };

	KeInitializeTimer(&t);
	KeInitializeDpc(&d1, rec_dpc, &r1);
	KeInitializeDpc(&d2, rec_dpc, &r2);
	CHECK_EQ(KeSetTimer(&t, rel_ms(5), &d1), FALSE);
	CHECK_EQ(KeSetTimer(&t, rel_ms(20), &d2), TRUE);
	callout_clock_advance(clk, 19);
	CHECK_EQ(atomic_load(&r1.n) + atomic_load(&r2.n), 0);
	CHECK_EQ(KeReadStateTimer(&t), FALSE);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&r1.n), 0);
	CHECK_EQ(atomic_load(&r2.n), 1);
	CHECK_EQ(pool_in_use(), 0);
}

static void
past_absolute_due_time_expires_inside_set(void)
{
	KTIMER t;
	KDPC d;
	struct rec r = { 0 };

	KeInitializeTimer(&t);
	KeInitializeDpc(&d, rec_dpc, &r);
	CHECK_EQ(KeSetTimer(&t, li(0), &d), FALSE);
	CHECK_EQ(atomic_load(&r.n), 1); /* before Set returned */
	CHECK_EQ(KeReadStateTimer(&t), TRUE);
	CHECK_EQ(t.Header.Inserted, 0);
	CHECK_EQ(r.irql, DISPATCH_LEVEL);
	CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

	/* An absolute "now" is past too; a periodic one re-arms. */
	CHECK_EQ(KeSetTimerEx(&t, li(sys_now()), 7, &d), FALSE);
	CHECK_EQ(atomic_load(&r.n), 2);
	CHECK_EQ(t.Header.Inserted, 1);
	callout_clock_advance(clk, 6);
	CHECK_EQ(atomic_load(&r.n), 2);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&r.n), 3);
	CHECK_EQ(KeCancelTimer(&t), TRUE);

	/* An absolute due time 1 tick ahead is not past. */
	CHECK_EQ(KeSetTimer(&t, li(sys_now() + 10000), &d), FALSE);
	CHECK_EQ(atomic_load(&r.n), 3);
	callout_clock_advance(clk, 1);
	CHECK_EQ(atomic_load(&r.n), 4);
	CHECK_EQ(pool_in_use(), 0);
}

static void
dpc_arguments_are_system_time_at_expiry(void)
{
	KTIMER t;
	KDPC d;
	struct rec r = { 0 };
	LONGLONG due;

	KeInitializeTimer(&t);
	KeInitializeDpc(&d, rec_dpc, &r);
	d.SystemArgument1 = (PVOID)1; /* Init does not touch them */
	KeSetTimer(&t, rel_ms(12), &d);
	due = sys_now() + 12 * 10000;
	callout_clock_advance(clk, 30);
	CHECK_EQ(atomic_load(&r.n), 1);
	CHECK_EQ((uintptr_t)r.a1, (uint32_t)due);
	CHECK_EQ((uintptr_t)r.a2, (uint32_t)((uint64_t)due >> 32));
	CHECK_EQ(r.irql, DISPATCH_LEVEL);
}

static void
relative_due_time_is_never_early(void)
{
	KTIMER t;

	/* 1.5 ticks from the start of a tick: due at the 2nd tick. */
	KeInitializeTimer(&t);
	KeSetTimer(&t, li(-15000), NULL);
	callout_clock_advance(clk, 1);
	CHECK_EQ(KeReadStateTimer(&t), FALSE);
	callout_clock_advance(clk, 1);
	CHECK_EQ(KeReadStateTimer(&t), TRUE);
	/* 100 ns: the next tick, not this one. */
	KeSetTimer(&t, li(-1), NULL);
	CHECK_EQ(KeReadStateTimer(&t), FALSE);
	callout_clock_advance(clk, 0);
	CHECK_EQ(KeReadStateTimer(&t), FALSE);
	callout_clock_advance(clk, 1);
	CHECK_EQ(KeReadStateTimer(&t), TRUE);
	/* A huge period saturates and stays parked. */
	KeSetTimerEx(&t, rel_ms(1), INT32_MAX, NULL);
	callout_clock_advance(clk, 1);
	CHECK_EQ(t.Header.Inserted, 1);
	CHECK_EQ(KeCancelTimer(&t), TRUE);
}

static void
insert_queue_dpc_twice_keeps_first_arguments(void)
{
	KDPC d;
	struct rec r = { 0 };
	KIRQL old;

	KeInitializeDpc(&d, rec_dpc, &r);
	CHECK_EQ(d.Type, DpcObject);
	CHECK_EQ(d.Importance, MediumImportance);
	KeRaiseIrql(DISPATCH_LEVEL, &old);
	CHECK_EQ(old, PASSIVE_LEVEL);
	CHECK_EQ(KeInsertQueueDpc(&d, (PVOID)1, (PVOID)2), TRUE);
	CHECK_EQ(KeInsertQueueDpc(&d, (PVOID)3, (PVOID)4), FALSE);
	callout_clock_advance(clk, 0); /* held off: we hold the processor */
	CHECK_EQ(atomic_load(&r.n), 0);
	KeLowerIrql(old);
	CHECK_EQ(atomic_load(&r.n), 1);
	CHECK_EQ((uintptr_t)r.a1, 1);
	CHECK_EQ((uintptr_t)r.a2, 2);
	/* Below DISPATCH_LEVEL on its own processor: runs before return. */
	CHECK_EQ(KeInsertQueueDpc(&d, (PVOID)5, (PVOID)6), TRUE);
	CHECK_EQ(atomic_load(&r.n), 2);
	CHECK_EQ((uintptr_t)r.a1, 5);
}

static void
remove_queue_dpc_prevents_the_run(void)
{
	KDPC d;
	struct rec r = { 0 };
	KIRQL old;

	KeInitializeDpc(&d, rec_dpc, &r);
	CHECK_EQ(KeRemoveQueueDpc(&d), FALSE);
	KeRaiseIrql(DISPATCH_LEVEL, &old);
	CHECK_EQ(KeInsertQueueDpc(&d, NULL, NULL), TRUE);
	CHECK_EQ(KeRemoveQueueDpc(&d), TRUE);
	CHECK_EQ(KeRemoveQueueDpc(&d), FALSE);
	KeLowerIrql(old);
	CHECK_EQ(atomic_load(&r.n), 0);
}

static void
dpc_requeued_from_its_routine_runs_again(void)
{
	KDPC d;
	struct rec r = { 0 };

	r.requeue = 2;
	KeInitializeDpc(&d, rec_dpc, &r);
	CHECK_EQ(KeInsertQueueDpc(&d, NULL, NULL), TRUE);
	CHECK_EQ(atomic_load(&r.n), 3);
}

static void
high_importance_runs_first(void)
{
	KDPC a, b, c;
	struct rec ra = { .tag = 1 }, rb = { .tag = 2 }, rc = { .tag = 3 };
	KIRQL old;

	KeInitializeDpc(&a, rec_dpc, &ra);
	KeInitializeDpc(&b, rec_dpc, &rb);
	KeInitializeDpc(&c, rec_dpc, &rc);
	KeSetImportanceDpc(&b, LowImportance);
	KeSetImportanceDpc(&c, HighImportance);
	atomic_store(&order_seq, 0);
	KeRaiseIrql(DISPATCH_LEVEL, &old);
	KeInsertQueueDpc(&a, NULL, NULL); /* Medium: tail */
	KeInsertQueueDpc(&b, NULL, NULL); /* Low: tail */
	KeInsertQueueDpc(&c, NULL, NULL); /* High: head */
	KeLowerIrql(old);
	CHECK_EQ(atomic_load(&order_seq), 3);
	CHECK_EQ(order_log[0], 3);
	CHECK_EQ(order_log[1], 1);
	CHECK_EQ(order_log[2], 2);
}

static void
dpc_for_other_processor_runs_at_next_advance(void)
{
	KDPC d;
	struct rec r = { 0 };

	KeInitializeDpc(&d, rec_dpc, &r);
	KeSetTargetProcessorDpc(&d, 1);
	CHECK_EQ(d.Number, 65);
	CHECK_EQ(KeInsertQueueDpc(&d, NULL, NULL), TRUE);
	CHECK_EQ(atomic_load(&r.n), 0);
	callout_clock_advance(clk, 0);
	CHECK_EQ(atomic_load(&r.n), 1);
	CHECK_EQ(r.cpu, 1);
	CHECK_EQ(KeInsertQueueDpc(&d, NULL, NULL), TRUE);
	KeFlushQueuedDpcs();
	CHECK_EQ(atomic_load(&r.n), 2);
}

/* A thread that holds processor 1 at DISPATCH_LEVEL for a while. */
struct holder {
	pthread_barrier_t ready;
	atomic_int lowered;
	int hold_ms;
};

static void *
holder_main(void *arg)
{
	struct holder *h = arg;
	KIRQL old;

	callout_clock_set_home(clk, 1);
	KeRaiseIrql(DISPATCH_LEVEL, &old);
	pthread_barrier_wait(&h->ready);
	msleep(h->hold_ms);
	atomic_store(&h->lowered, 1);
	KeLowerIrql(old);
	return NULL;
}

static void
flush_waits_for_the_processor_holder(void)
{
	struct holder h = { .hold_ms = 50 };
	pthread_t th;
	KDPC d;
	struct rec r = { 0 };

	pthread_barrier_init(&h.ready, NULL, 2);
	KeInitializeDpc(&d, rec_dpc, &r);
	KeSetTargetProcessorDpc(&d, 1);
	pthread_create(&th, NULL, holder_main, &h);
	pthread_barrier_wait(&h.ready);
	KeInsertQueueDpc(&d, NULL, NULL);
	callout_clock_advance(clk, 0); /* processor 1 is held: not run */
	CHECK_EQ(atomic_load(&r.n), 0);
	KeFlushQueuedDpcs();
	CHECK_EQ(atomic_load(&h.lowered), 1);
	CHECK_EQ(atomic_load(&r.n), 1);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&h.ready);
}

static void
raised_processor_holds_off_timer_dpcs_until_lowering(void)
{
	struct holder h = { .hold_ms = 30 };
	pthread_t th;
	KTIMER t;
	KDPC d;
	struct rec r = { 0 };
	struct callout_counters c0, c1;

	/* Periodic timer on processor 1, its DPC aimed at processor 1. */
	callout_clock_set_home(clk, 1);
	KeInitializeTimer(&t);
	KeInitializeDpc(&d, rec_dpc, &r);
	KeSetTimerEx(&t, rel_ms(1), 1, &d);
	callout_clock_set_home(clk, 0);
	pthread_barrier_init(&h.ready, NULL, 2);
	pthread_create(&th, NULL, holder_main, &h);
	pthread_barrier_wait(&h.ready);
	callout_clock_counters(clk, &c0);
	callout_clock_advance(clk, 3);
	CHECK_EQ(atomic_load(&r.n), 0); /* captured, handed to the holder */
	pthread_join(th, NULL);
	CHECK_EQ(atomic_load(&r.n), 3);
	CHECK_EQ(r.cpu, 1);
	CHECK_EQ(KeCancelTimer(&t), TRUE);
	KeFlushQueuedDpcs();
	CHECK_EQ(pool_in_use(), 0);

	/* Aimed at another processor: queued, and coalesced while queued. */
	atomic_store(&r.n, 0);
	KeSetTargetProcessorDpc(&d, 1);
	KeSetTimerEx(&t, rel_ms(1), 1, &d); /* expires on processor 0 */
	atomic_store(&h.lowered, 0);
	pthread_create(&th, NULL, holder_main, &h);
	pthread_barrier_wait(&h.ready);
	callout_clock_advance(clk, 4);
	CHECK_EQ(atomic_load(&r.n), 0);
	pthread_join(th, NULL);
	CHECK_EQ(atomic_load(&r.n), 1);
	callout_clock_counters(clk, &c1);
	CHECK_U64(c1.dpcs_coalesced - c0.dpcs_coalesced, 3);
	CHECK_EQ(KeCancelTimer(&t), TRUE);
	KeFlushQueuedDpcs();
	pthread_barrier_destroy(&h.ready);
}

static void
wait_any_and_wait_all_consume_exactly(void)
{
	KEVENT e0, e1, e2, n3;
	PVOID objs[4] = { &e0, &e1, &e2, &n3 };
	LARGE_INTEGER zero = li(0);
	KWAIT_BLOCK wbs[4];

	KeInitializeEvent(&e0, SynchronizationEvent, FALSE);
	KeInitializeEvent(&e1, SynchronizationEvent, TRUE);
	KeInitializeEvent(&e2, SynchronizationEvent, TRUE);
	KeInitializeEvent(&n3, NotificationEvent, TRUE);
	CHECK_EQ(KeWaitForMultipleObjects(3, objs, WaitAny, Executive,
		     KernelMode, FALSE, &zero, NULL),
	    STATUS_WAIT_0 + 1);
	CHECK_EQ(KeReadStateEvent(&e1), 0);
	CHECK_EQ(KeReadStateEvent(&e2), 1);
	/* Unsatisfied WaitAll consumes nothing. */
	CHECK_EQ(KeWaitForMultipleObjects(4, objs, WaitAll, Executive,
		     KernelMode, FALSE, &zero, wbs),
	    STATUS_TIMEOUT);
	CHECK_EQ(KeReadStateEvent(&e2), 1);
	CHECK_EQ(KeReadStateEvent(&n3), 1);
	CHECK_EQ(KeSetEvent(&e0, 0, FALSE), 0);
	CHECK_EQ(KeSetEvent(&e1, 0, TRUE), 0);
	CHECK_EQ(KeWaitForMultipleObjects(4, objs, WaitAll, Executive,
		     KernelMode, FALSE, &zero, wbs),
	    STATUS_SUCCESS);
	CHECK_EQ(KeReadStateEvent(&e0), 0);
	CHECK_EQ(KeReadStateEvent(&e1), 0);
	CHECK_EQ(KeReadStateEvent(&e2), 0);
	CHECK_EQ(KeReadStateEvent(&n3), 1); /* notification: not consumed */
	CHECK_EQ(KeResetEvent(&n3), 1);
	KeSetEvent(&n3, 0, FALSE);
	KeClearEvent(&n3);
	CHECK_EQ(KeReadStateEvent(&n3), 0);
}

struct waiter {
	PVOID obj;
	LARGE_INTEGER *timeout;
	NTSTATUS st;
	atomic_int done;
	int id;
};

static atomic_int release_seq;
static int release_order[8];

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->st = KeWaitForSingleObject(
	    w->obj, Executive, KernelMode, FALSE, w->timeout);
	release_order[atomic_fetch_add(&release_seq, 1) & 7] = w->id;
	atomic_store(&w->done, 1);
	return NULL;
}

static int
count_done(struct waiter *w, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += atomic_load(&w[i].done);
	return k;
}

/* Wait (really) until `want` waiters are done, up to 2 s. */
static int
await_done(struct waiter *w, int n, int want)
{
	for (int i = 0; i < 400 && count_done(w, n) < want; i++)
		msleep(5);
	msleep(20); /* and no more than that follow */
	return count_done(w, n);
}

static void
synchronization_timer_releases_one_waiter_per_expiry(void)
{
	KTIMER t;
	struct waiter w[3];
	pthread_t th[3];

	KeInitializeTimerEx(&t, SynchronizationTimer);
	atomic_store(&release_seq, 0);
	for (int i = 0; i < 3; i++) {
		w[i] = (struct waiter){ .obj = &t, .id = i };
		pthread_create(&th[i], NULL, waiter_main, &w[i]);
		msleep(20); /* queue them in order: first come, first served */
	}
	KeSetTimerEx(&t, rel_ms(2), 2, NULL);
	for (int k = 1; k <= 3; k++) {
		callout_clock_advance(clk, 2);
		CHECK_EQ(await_done(w, 3, k), k);
		CHECK_EQ(KeReadStateTimer(&t), FALSE); /* consumed */
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(w[i].st, STATUS_SUCCESS);
		CHECK_EQ(release_order[i], i);
	}
	KeCancelTimer(&t);
	/* A notification timer releases all of them at once. */
	KeInitializeTimer(&t);
	for (int i = 0; i < 3; i++) {
		w[i] = (struct waiter){ .obj = &t, .id = i };
		pthread_create(&th[i], NULL, waiter_main, &w[i]);
	}
	msleep(30);
	KeSetTimer(&t, rel_ms(1), NULL);
	callout_clock_advance(clk, 1);
	CHECK_EQ(await_done(w, 3, 3), 3);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
}

static void
wait_timeout_follows_virtual_time(void)
{
	KEVENT e;
	LARGE_INTEGER to = rel_ms(10);
	struct waiter w = { .obj = &e, .timeout = &to };
	pthread_t th;

	KeInitializeEvent(&e, NotificationEvent, FALSE);
	pthread_create(&th, NULL, waiter_main, &w);
	msleep(30);
	callout_clock_advance(clk, 9);
	CHECK_EQ(await_done(&w, 1, 1), 0);
	callout_clock_advance(clk, 1);
	CHECK_EQ(await_done(&w, 1, 1), 1);
	pthread_join(th, NULL);
	CHECK_EQ(w.st, STATUS_TIMEOUT);
	/* A zero interval returns at once; a poll never blocks. */
	CHECK_EQ(KeDelayExecutionThread(
		     KernelMode, FALSE, &(LARGE_INTEGER){ .QuadPart = 0 }),
	    STATUS_SUCCESS);
}

static void
reinit_while_armed_expires_once_and_leaks_nothing(void)
{
	KTIMER t;
	KDPC d1, d2;
	struct rec r1 = { 0 }, r2 = { 0 };

	KeInitializeDpc(&d1, rec_dpc, &r1);
	KeInitializeDpc(&d2, rec_dpc, &r2);
	KeInitializeTimer(&t);
	KeSetTimerEx(&t, rel_ms(5), 5, &d1);
	KeInitializeTimerEx(&t, SynchronizationTimer);
	CHECK_EQ(KeReadStateTimer(&t), FALSE);
	CHECK_EQ(KeCancelTimer(&t), FALSE); /* counts as not queued */
	CHECK_EQ(pool_in_use(), 1);
	t.Dpc = &d2; /* the DPC named at expiry runs */
	callout_clock_advance(clk, 5);
	CHECK_EQ(atomic_load(&r1.n), 0);
	CHECK_EQ(atomic_load(&r2.n), 1);
	CHECK_EQ(KeReadStateTimer(&t), TRUE);
	callout_clock_advance(clk, 20); /* one-shot now */
	CHECK_EQ(atomic_load(&r2.n), 1);
	CHECK_EQ(pool_in_use(), 0);

	/* Set after re-init: FALSE, and replaces the pending expiry. */
	KeSetTimer(&t, rel_ms(5), &d1);
	KeInitializeTimer(&t);
	CHECK_EQ(KeSetTimer(&t, rel_ms(8), &d2), FALSE);
	CHECK_EQ(pool_in_use(), 1);
	callout_clock_advance(clk, 8);
	CHECK_EQ(atomic_load(&r1.n), 0);
	CHECK_EQ(atomic_load(&r2.n), 2);
	CHECK_EQ(pool_in_use(), 0);
}

static void
garbage_in_driver_memory_is_harmless(void)
{
	KTIMER t;
	unsigned char junk[] = { 0xAB, 0x00, 0xFF, 0x01 };

	for (unsigned i = 0; i < sizeof(junk); i++) {
		memset(&t, junk[i], sizeof(t));
		KeInitializeTimer(&t);
		CHECK_EQ(KeReadStateTimer(&t), FALSE);
		CHECK_EQ(KeCancelTimer(&t), FALSE);
	}
	/* A stale link copied from an armed timer names someone else's. */
	KTIMER a, b;
	KeInitializeTimer(&a);
	KeSetTimer(&a, rel_ms(5), NULL);
	memcpy(&b, &a, sizeof(b));
	KeInitializeTimer(&b);
	CHECK_EQ(KeCancelTimer(&b), FALSE);
	CHECK_EQ(KeCancelTimer(&a), TRUE);
	CHECK_EQ(pool_in_use(), 0);
}

static void
misuse_is_reported_and_has_no_effect(void)
{
	KEVENT e;
	KDPC d;
	struct rec r = { 0 };
	KIRQL old;
	PVOID objs[4] = { &e, &e, &e, &e };

	callout_set_misuse_handler(check_misuse);
	atomic_store(&check_misuse_count, 0);
	KeInitializeEvent(&e, NotificationEvent, FALSE);
	KeRaiseIrql(DISPATCH_LEVEL, &old);
	CHECK_EQ(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, NULL),
	    STATUS_TIMEOUT);
	CHECK_MISUSE("KeWaitForSingleObject");
	KeFlushQueuedDpcs();
	CHECK_MISUSE("KeFlushQueuedDpcs");
	KeRaiseIrql(PASSIVE_LEVEL, &old);
	CHECK_MISUSE("KeRaiseIrql");
	KeLowerIrql(PASSIVE_LEVEL);
	KeLowerIrql(DISPATCH_LEVEL);
	CHECK_MISUSE("KeLowerIrql");
	CHECK_EQ(
	    KeWaitForMultipleObjects(4, objs, WaitAny, Executive, KernelMode,
		FALSE, &(LARGE_INTEGER){ .QuadPart = 0 }, NULL),
	    STATUS_TIMEOUT);
	CHECK_MISUSE("KeWaitForMultipleObjects");
	KeInitializeDpc(&d, rec_dpc, &r);
	KeSetTargetProcessorDpc(&d, 2);
	CHECK_MISUSE("KeSetTargetProcessorDpc");
	CHECK_EQ(d.Number, 0);
	KeRaiseIrql(DISPATCH_LEVEL, &old);
	KeInsertQueueDpc(&d, NULL, NULL);
	KeInitializeDpc(&d, rec_dpc, NULL);
	CHECK_MISUSE("KeInitializeDpc");
	KeLowerIrql(old);
	CHECK_EQ(atomic_load(&r.n), 1); /* still queued with its context */
	KeInitializeDpc(&d, NULL, NULL);
	KeInsertQueueDpc(&d, NULL, NULL);
	CHECK_MISUSE("DPC");
	callout_set_misuse_handler(NULL);
}

int
main(void)
{
	struct callout_clock_params p;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	p.ndispatchers = 2;
	p.system_time_at_start = T0;
	clk = callout_clock_create(&p);
	if (clk == NULL || callout_clock_set_default(clk) != 0) {
		fprintf(stderr, "cannot install the virtual clock\n");
		return 1;
	}
	callout_clock_set_home(clk, 0);
	RUN(time_queries_follow_the_virtual_clock);
	RUN(notification_timer_signal_state);
	RUN(synchronization_timer_wait_consumes_signal);
	RUN(periodic_timer_cancel_returns_true);
	RUN(synchronization_periodic_gives_one_wait_per_period);
	RUN(set_while_pending_replaces_due_time_and_dpc);
	RUN(past_absolute_due_time_expires_inside_set);
	RUN(dpc_arguments_are_system_time_at_expiry);
	RUN(relative_due_time_is_never_early);
	RUN(insert_queue_dpc_twice_keeps_first_arguments);
	RUN(remove_queue_dpc_prevents_the_run);
	RUN(dpc_requeued_from_its_routine_runs_again);
	RUN(high_importance_runs_first);
	RUN(dpc_for_other_processor_runs_at_next_advance);
	RUN(flush_waits_for_the_processor_holder);
	RUN(raised_processor_holds_off_timer_dpcs_until_lowering);
	RUN(wait_any_and_wait_all_consume_exactly);
	RUN(synchronization_timer_releases_one_waiter_per_expiry);
	RUN(wait_timeout_follows_virtual_time);
	RUN(reinit_while_armed_expires_once_and_leaks_nothing);
	RUN(garbage_in_driver_memory_is_harmless);
	RUN(misuse_is_reported_and_has_no_effect);
	CHECK_EQ(pool_in_use(), 0);
	callout_clock_destroy(clk);
	return check_finish();
}
