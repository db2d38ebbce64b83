/*
 * KTIMER on pooled callouts (nt.md sections 1 and 3).
 *
 * Storage.  The driver owns the 64-byte KTIMER and never says when it is
 * done with it, so a timer borrows a pool entry (pool.h) only while it is
 * armed.  The link lives in TimerListEntry: Flink holds the entry's index
 * (low 32 bits) and generation (high 32), Blink a check word (Flink ^ the
 * timer's address ^ a constant) that lets garbage be rejected cheaply.
 * The link is trusted only once co_pool_pin finds a lent entry with that
 * index and generation, whose owner is this KTIMER and which is not
 * DETACHED; anything else reads as "no entry".
 *
 * The entry.  data[0] holds flags, data[1] the period in ticks:
 *   ORPHAN   the timer was re-initialised while armed: the expiry still
 *            happens once, as a one-shot, but the timer counts as not
 *            queued (Cancel returns FALSE, Set replaces it and says FALSE);
 *   RUNNING  the expiry handler has re-armed a periodic timer and is still
 *            running its DPC: nobody but the handler may return the entry;
 *   DETACHED the timer no longer owns the entry (cancelled, replaced, or a
 *            one-shot that expired): the handler, when it next gets the
 *            stripe or finishes, gives it back.  The KTIMER's link is
 *            cleared at the same moment, under the stripe.
 * The callout's handler is nt_timer_fire; its cpu is the processor that
 * processes the expiry (the one the setting thread was on).
 *
 * Atomicity.  Every KTIMER state change (Set, Cancel, Init, ReadState,
 * expiry, and the waits on it) happens under one of NT_NSTRIPES mutexes
 * chosen by hashing the KTIMER's address: no process-wide lock.  The
 * expiry "happens" when the handler takes the stripe, not when the wheel
 * dispatches the callout: a Set or Cancel that takes the stripe first wins
 * (the handler then finds DETACHED and only returns the entry), one that
 * comes after sees what the expiry left (a one-shot not queued; a periodic
 * timer queued for its next period, which the handler re-armed under the
 * stripe before releasing it).  Lock order: processor dispatch lock (a
 * thread at DISPATCH_LEVEL) -> stripe -> pool shard (co_pool_pin,
 * co_pool_lend) -> queue lock (co_lock); a processor's p->lock is a leaf
 * taken under any of these.  A pin is released before any lend, because
 * both take a shard lock.
 *
 * Expiry (under the stripe): not inserted, signalled, waiters released
 * (wait.c), a periodic timer re-armed at now + period, then the DPC.  A
 * DPC aimed at another processor is inserted into its queue.  One aimed at
 * the expiring processor is captured (routine, context, system time) and
 * called, not queued: if that processor's dispatch lock is free it is
 * claimed under the stripe and the routine runs as soon as the stripe is
 * dropped; otherwise the run is announced (p->inflight, so that
 * KeFlushQueuedDpcs waits for it) and, after the stripe is dropped, handed
 * to the holder in a lent pool entry (dpc.c), which runs it when it lowers
 * below DISPATCH_LEVEL.  Inside KeSetTimerEx (a due time already past) the
 * caller's processor is the expiring one; a caller below DISPATCH_LEVEL
 * waits for its processor and runs the DPC before returning.
 *
 * DPC queues, dispatch locks and IRQL.  Each emulated processor (one per
 * dispatcher of the clock) has a queue of KDPCs linked through
 * DpcListEntry (DpcData names the processor while queued), a list of
 * captured runs waiting for the lock holder, and a dispatch lock (owner
 * pointer + condition variable).  Every thread has an IRQL context; a
 * thread raising to DISPATCH_LEVEL takes its home processor's dispatch
 * lock and lowering runs what was queued meanwhile before releasing it.
 * Expiry processing and queue runs on behalf of processor n push a
 * temporary context for n, so a thread that is itself at DISPATCH_LEVEL
 * (say, one calling advance) does not run its own processor's DPCs early.
 * Queues run at each tick (the clock's tick hook: after each virtual tick,
 * in advance(0), in callout_clock_run, after a dispatcher's batch), at
 * KeFlushQueuedDpcs and when a holder lowers; on threaded and external
 * clocks a DPC queued to another processor kicks that processor's
 * dispatcher (co_clock_kick_hooks), which runs the hook without waiting
 * for a tick.
 */
#include "nt_impl.h"

#define TM_ORPHAN 0x1u
#define TM_RUNNING 0x2u
#define TM_DETACHED 0x4u

#define TM_LINK_SALT 0x6b74696d65726c6bull /* "ktimerlk" */

static inline uintptr_t
tm_flags(const struct co_pool_entry *e)
{
	return (uintptr_t)e->data[0];
}

static inline void
tm_set_flags(struct co_pool_entry *e, uintptr_t f)
{
	e->data[0] = (void *)f;
}

static inline uint64_t
tm_period(const struct co_pool_entry *e)
{
	return (uint64_t)(uintptr_t)e->data[1];
}

static void
tm_link(PKTIMER t, const struct co_pool_entry *e)
{
	uint64_t a = (uint64_t)e->index | (uint64_t)e->gen << 32;

	t->TimerListEntry.Flink = (PLIST_ENTRY)(uintptr_t)a;
	t->TimerListEntry.Blink =
	    (PLIST_ENTRY)(uintptr_t)(a ^ (uintptr_t)t ^ TM_LINK_SALT);
}

static void
tm_unlink(PKTIMER t)
{
	t->TimerListEntry.Flink = NULL;
	t->TimerListEntry.Blink = NULL;
}

/*
 * The entry t's link names, pinned, if it is t's and attached; else NULL.
 * Called with t's stripe held.
 */
static struct co_pool_entry *
tm_pin(PKTIMER t)
{
	uint64_t a = (uint64_t)(uintptr_t)t->TimerListEntry.Flink;
	uint64_t b = (uint64_t)(uintptr_t)t->TimerListEntry.Blink;
	struct co_pool_entry *e;

	if (a == 0 || b != (a ^ (uintptr_t)t ^ TM_LINK_SALT))
		return NULL;
	e = co_pool_pin((uint32_t)a, (uint32_t)(a >> 32));
	if (e == NULL)
		return NULL;
	if (e->owner != t || (tm_flags(e) & TM_DETACHED)) {
		co_pool_unpin(e);
		return NULL;
	}
	return e;
}

/* Arm e (attached to t) at tick `due` on processor cpu (-1: keep). */
static void
tm_arm(struct co_pool_entry *e, uint64_t due, int cpu)
{
	struct co_queue *q;
	bool was;

	q = co_lock(&e->co);
	q = co_arm_at_locked(&e->co, q, due, cpu, &was);
	co_queue_unlock(q);
}

/* Cancel e's callout; returns whether it was still pending. */
static bool
tm_disarm(struct co_pool_entry *e)
{
	struct co_queue *q = co_lock(&e->co);
	bool pending = co_cancel_locked(&e->co, q);

	co_queue_unlock(q);
	return pending;
}

enum tm_dpc { TM_DPC_NONE, TM_DPC_CLAIMED, TM_DPC_ANNOUNCED };

/*
 * Steps 1-3 of an expiry: not inserted, signalled, waiters.  Stripe held.
 */
static void
tm_signal(PKTIMER t)
{
	t->Header.Inserted = 0;
	t->Header.SignalState = 1;
	nt_signal_locked(&t->Header);
}

/* Step 5: the DPC.  Stripe held; c is the expiring processor's context. */
static enum tm_dpc
tm_dpc(PKTIMER t, uint64_t systime, struct nt_ctx *c, struct nt_run *r)
{
	PKDPC dpc = t->Dpc;
	int cur = nt_ctx_cpu(c);

	if (dpc == NULL)
		return TM_DPC_NONE;
	if (dpc->Number >= 64 && dpc->Number - 64 != cur) {
		nt_dpc_insert(dpc, (PVOID)(uintptr_t)(uint32_t)systime,
		    (PVOID)(uintptr_t)(uint32_t)(systime >> 32), true);
		return TM_DPC_NONE;
	}
	nt_run_capture(r, dpc, systime);
	return nt_run_announce(&nt_g.cpus[cur], c) ? TM_DPC_CLAIMED
						   : TM_DPC_ANNOUNCED;
}

static void
tm_dpc_run(
    enum tm_dpc how, struct nt_ctx *c, const struct nt_run *r, bool may_block)
{
	struct nt_cpu *p = &nt_g.cpus[nt_ctx_cpu(c)];

	if (how == TM_DPC_CLAIMED)
		nt_run_on(p, c, r);
	else if (how == TM_DPC_ANNOUNCED)
		nt_run_finish(p, c, r, may_block);
}

/* The handler of every KTIMER callout: the expiry. */
static void
nt_timer_fire(void *arg)
{
	struct co_pool_entry *e = arg;
	PKTIMER t = e->owner;
	pthread_mutex_t *s = nt_stripe(t);
	struct callout_clock *clk = nt_g.clk;
	struct nt_ctx c;
	struct nt_run r;
	enum tm_dpc how;
	uintptr_t fl;
	uint64_t systime, period;

	pthread_mutex_lock(s);
	fl = tm_flags(e);
	if (fl & TM_DETACHED) {
		pthread_mutex_unlock(s);
		co_pool_return(e);
		return;
	}
	nt_ctx_push(&c, e->co.cpu, PASSIVE_LEVEL);
	systime = (uint64_t)nt_system_time(clk);
	period = (fl & TM_ORPHAN) ? 0 : tm_period(e);
	tm_signal(t);
	if (period != 0) {
		uint64_t next = co_tick_add(co_clock_now(clk), period);

		tm_arm(e, next, -1);
		t->DueTime.QuadPart = nt_tick_interrupt_time(clk, next);
		t->Header.Inserted = 1;
		tm_set_flags(e, fl | TM_RUNNING);
	} else {
		tm_unlink(t);
		tm_set_flags(e, fl | TM_DETACHED);
	}
	how = tm_dpc(t, systime, &c, &r);
	pthread_mutex_unlock(s);

	tm_dpc_run(how, &c, &r, false);
	nt_ctx_pop(&c);
	if (period != 0) {
		pthread_mutex_lock(s);
		fl = tm_flags(e) & ~(uintptr_t)TM_RUNNING;
		tm_set_flags(e, fl);
		pthread_mutex_unlock(s);
		if (!(fl & TM_DETACHED))
			return;
	}
	co_pool_return(e);
}

static struct co_pool_entry *
tm_lend(PKTIMER t, struct callout_clock *clk)
{
	struct co_pool_entry *e = co_pool_lend(t, false);

	if (e == NULL)
		co_fatal(
		    "KeSetTimerEx", t, "out of memory for a timer callout");
	co_init(&e->co, clk, CO_K_POOLED | CO_K_MPSAFE);
	e->co.fn = nt_timer_fire;
	e->co.arg = e;
	tm_set_flags(e, 0);
	return e;
}

/*
 * Take the entry off t (stripe held, e pinned): returns e, unpinned and
 * still attached, if it can be re-armed for a new expiry; otherwise
 * detaches it (its handler gives it back) and returns NULL.
 */
static struct co_pool_entry *
tm_release(PKTIMER t, struct co_pool_entry *e)
{
	uintptr_t fl = tm_flags(e);
	bool pending = tm_disarm(e);

	if (pending && !(fl & TM_RUNNING)) {
		tm_set_flags(e, 0);
		co_pool_unpin(e);
		return e;
	}
	tm_set_flags(e, fl | TM_DETACHED);
	tm_unlink(t);
	co_pool_unpin(e);
	return NULL;
}

VOID NTAPI
KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type)
{
	pthread_mutex_t *s;
	struct co_pool_entry *e;

	nt_clock();
	if ((unsigned)Type > SynchronizationTimer) {
		co_misuse("KeInitializeTimerEx", Timer, "unknown timer type");
		return;
	}
	s = nt_stripe(Timer);
	pthread_mutex_lock(s);
	e = tm_pin(Timer);
	if (e != NULL) {
		/* Armed: it expires once more, as a one-shot (nt.md 3). */
		tm_set_flags(e, tm_flags(e) | TM_ORPHAN);
		co_pool_unpin(e);
	} else {
		tm_unlink(Timer);
	}
	Timer->Header.Type = (UCHAR)(TimerNotificationObject + Type);
	Timer->Header.Absolute = 0;
	Timer->Header.Size = sizeof(KTIMER) / sizeof(LONG);
	Timer->Header.Inserted = 0;
	Timer->Header.SignalState = 0;
	nt_list_init(&Timer->Header.WaitListHead);
	Timer->DueTime.QuadPart = 0;
	Timer->Processor = 0;
	Timer->Period = 0;
	pthread_mutex_unlock(s);
}

VOID NTAPI
KeInitializeTimer(PKTIMER Timer)
{
	KeInitializeTimerEx(Timer, NotificationTimer);
}

BOOLEAN NTAPI
KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
	struct callout_clock *clk = nt_clock();
	struct nt_ctx *c = nt_ctx();
	pthread_mutex_t *s;
	struct co_pool_entry *e, *keep = NULL;
	BOOLEAN was = FALSE;
	enum tm_dpc how = TM_DPC_NONE;
	struct nt_run r;
	uint64_t due, period;
	bool past;
	int cpu;

	if (Period < 0) {
		co_misuse("KeSetTimerEx", Timer, "negative period");
		return FALSE;
	}
	if (Timer->Header.Type != TimerNotificationObject &&
	    Timer->Header.Type != TimerSynchronizationObject) {
		co_misuse("KeSetTimerEx", Timer, "timer not initialised");
		return FALSE;
	}
	cpu = nt_ctx_cpu(c);
	period = nt_period_ticks(clk, Period);
	s = nt_stripe(Timer);
	pthread_mutex_lock(s);
	e = tm_pin(Timer);
	if (e != NULL) {
		was = !(tm_flags(e) & TM_ORPHAN);
		keep = tm_release(Timer, e);
	}
	Timer->Dpc = Dpc;
	Timer->Period = Period;
	Timer->Processor = (ULONG)cpu;
	Timer->Header.SignalState = 0;
	Timer->Header.Inserted = 0;
	due = nt_due_tick(clk, DueTime.QuadPart, &past);
	if (past) {
		tm_signal(Timer);
		if (period != 0)
			due = co_tick_add(co_clock_now(clk), period);
	}
	if (!past || period != 0) {
		if (keep == NULL) {
			keep = tm_lend(Timer, clk);
			tm_link(Timer, keep);
		}
		keep->data[1] = (void *)(uintptr_t)period;
		tm_arm(keep, due, cpu);
		Timer->DueTime.QuadPart = nt_tick_interrupt_time(clk, due);
		Timer->Header.Inserted = 1;
	} else if (keep != NULL) {
		tm_unlink(Timer);
		co_pool_return(keep);
	}
	if (past)
		how = tm_dpc(Timer, (uint64_t)nt_system_time(clk), c, &r);
	pthread_mutex_unlock(s);
	tm_dpc_run(how, c, &r, c->irql < DISPATCH_LEVEL && !c->pushed);
	return was;
}

BOOLEAN NTAPI
KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc)
{
	return KeSetTimerEx(Timer, DueTime, 0, Dpc);
}

BOOLEAN NTAPI
KeCancelTimer(PKTIMER Timer)
{
	pthread_mutex_t *s;
	struct co_pool_entry *e;
	BOOLEAN was = FALSE;

	nt_clock();
	s = nt_stripe(Timer);
	pthread_mutex_lock(s);
	e = tm_pin(Timer);
	if (e != NULL && (tm_flags(e) & TM_ORPHAN)) {
		co_pool_unpin(e);
	} else if (e != NULL) {
		uintptr_t fl = tm_flags(e);
		bool pending = tm_disarm(e);

		was = TRUE;
		tm_unlink(Timer);
		if (pending && !(fl & TM_RUNNING)) {
			co_pool_return_pinned(e);
		} else {
			tm_set_flags(e, fl | TM_DETACHED);
			co_pool_unpin(e);
		}
		Timer->Header.Inserted = 0;
	} else {
		Timer->Header.Inserted = 0;
	}
	pthread_mutex_unlock(s);
	return was;
}

BOOLEAN NTAPI
KeReadStateTimer(PKTIMER Timer)
{
	pthread_mutex_t *s;
	BOOLEAN st;

	nt_clock();
	s = nt_stripe(Timer);
	pthread_mutex_lock(s);
	st = Timer->Header.SignalState != 0;
	pthread_mutex_unlock(s);
	return st;
}
