/*
 * Waits on timers and events (nt.md section 5).  A waiting thread puts one
 * wait block per object on the object's WaitListHead (in arrival order,
 * under the object's stripe) and sleeps on its own condition variable.
 * A signal walks the list in order: a WaitAny waiter is satisfied on the
 * spot (and consumes a synchronization object's signal, so exactly one is
 * released); a WaitAll waiter is only nudged, and re-checks every object
 * with all their stripes held, consuming only when all are signalled at
 * once.  The timeout is a callout on the waiter's stack, so it follows the
 * clock: on a virtual clock a wait times out when another thread advances
 * time past it.
 */
#include <string.h>

#include "nt_impl.h"

enum { NT_W_WAITING, NT_W_SATISFIED, NT_W_TIMEDOUT };

struct nt_waiter {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int state;   /* under mtx */
	ULONG index; /* the satisfying object, WaitAny */
	bool wait_all;
	bool recheck; /* WaitAll: an object was signalled */
};

struct nt_wait_block {
	LIST_ENTRY link;
	struct nt_waiter *w;
	ULONG index;
};

void
nt_signal_locked(DISPATCHER_HEADER *h)
{
	LIST_ENTRY *le;

	for (le = h->WaitListHead.Flink;
	     le != &h->WaitListHead && h->SignalState > 0; le = le->Flink) {
		struct nt_wait_block *wb =
		    NT_CONTAINER(le, struct nt_wait_block, link);
		struct nt_waiter *w = wb->w;

		pthread_mutex_lock(&w->mtx);
		if (w->state == NT_W_WAITING) {
			if (w->wait_all) {
				w->recheck = true;
			} else {
				w->state = NT_W_SATISFIED;
				w->index = wb->index;
				if (nt_header_sync(h))
					h->SignalState = 0;
			}
			pthread_cond_signal(&w->cv);
		}
		pthread_mutex_unlock(&w->mtx);
	}
}

/* The distinct stripes of the objects, ascending: the locking order. */
static unsigned
nt_stripes_of(ULONG count, DISPATCHER_HEADER **objs, unsigned *out)
{
	unsigned n = 0;

	for (ULONG i = 0; i < count; i++) {
		unsigned s = nt_stripe_index(objs[i]), j;

		for (j = 0; j < n && out[j] < s; j++)
			;
		if (j < n && out[j] == s)
			continue;
		memmove(&out[j + 1], &out[j], (n - j) * sizeof(*out));
		out[j] = s;
		n++;
	}
	return n;
}

static void
nt_lock_all(const unsigned *st, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pthread_mutex_lock(&nt_stripes[st[i]]);
}

static void
nt_unlock_all(const unsigned *st, unsigned n)
{
	for (unsigned i = n; i-- > 0;)
		pthread_mutex_unlock(&nt_stripes[st[i]]);
}

static void
nt_consume(DISPATCHER_HEADER *h)
{
	if (nt_header_sync(h))
		h->SignalState = 0;
}

/* Satisfy at once if possible (stripes held); returns the index or -1. */
static long
nt_try_satisfy(ULONG count, DISPATCHER_HEADER **objs, bool all)
{
	if (!all) {
		for (ULONG i = 0; i < count; i++)
			if (objs[i]->SignalState > 0) {
				nt_consume(objs[i]);
				return (long)i;
			}
		return -1;
	}
	if (count == 0)
		return -1;
	for (ULONG i = 0; i < count; i++)
		if (objs[i]->SignalState <= 0)
			return -1;
	for (ULONG i = 0; i < count; i++)
		nt_consume(objs[i]);
	return 0;
}

static void
nt_wait_timeout(void *arg)
{
	struct nt_waiter *w = arg;

	pthread_mutex_lock(&w->mtx);
	if (w->state == NT_W_WAITING) {
		w->state = NT_W_TIMEDOUT;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mtx);
}

static bool
nt_is_dispatcher(const DISPATCHER_HEADER *h)
{
	return h != NULL &&
	    (h->Type == EventNotificationObject ||
		h->Type == EventSynchronizationObject ||
		h->Type == TimerNotificationObject ||
		h->Type == TimerSynchronizationObject);
}

/* The calling thread is running the virtual/external clock's expiries. */
static bool
nt_inside_advance(struct callout_clock *clk)
{
	return clk->mode != CALLOUT_CLOCK_THREADED &&
	    co_clock_advancing_here(clk);
}

static NTSTATUS
nt_wait(const char *call, ULONG count, DISPATCHER_HEADER **objs, bool all,
    PLARGE_INTEGER timeout)
{
	struct callout_clock *clk = nt_clock();
	struct nt_ctx *c = nt_ctx();
	struct nt_wait_block wb[MAXIMUM_WAIT_OBJECTS];
	unsigned st[MAXIMUM_WAIT_OBJECTS], nst;
	struct nt_waiter w;
	struct co_callout tc;
	uint64_t deadline = 0;
	bool poll = timeout != NULL && timeout->QuadPart == 0;
	bool past = false;
	unsigned depth;
	long got;
	NTSTATUS ret;

	if ((c->irql >= DISPATCH_LEVEL || c->pushed) && !poll) {
		co_misuse(call, count > 0 ? (const void *)objs[0] : NULL,
		    "wait at DISPATCH_LEVEL or above without a zero timeout");
		return STATUS_TIMEOUT;
	}
	for (ULONG i = 0; i < count; i++)
		if (!nt_is_dispatcher(objs[i])) {
			co_misuse(call, objs[i], "not a timer or event");
			return STATUS_TIMEOUT;
		}
	if (timeout != NULL && !poll) {
		deadline = nt_due_tick(clk, timeout->QuadPart, &past);
		poll = past;
	}
	nst = nt_stripes_of(count, objs, st);
	nt_lock_all(st, nst);
	got = nt_try_satisfy(count, objs, all);
	if (got >= 0 || poll) {
		nt_unlock_all(st, nst);
		return got >= 0 ? STATUS_WAIT_0 + (NTSTATUS)got
				: STATUS_TIMEOUT;
	}
	if (nt_inside_advance(clk)) {
		nt_unlock_all(st, nst);
		co_misuse(call, count > 0 ? (const void *)objs[0] : NULL,
		    "blocking wait inside the clock's advance or run");
		return STATUS_TIMEOUT;
	}
	pthread_mutex_init(&w.mtx, NULL);
	pthread_cond_init(&w.cv, NULL);
	w.state = NT_W_WAITING;
	w.index = 0;
	w.wait_all = all;
	w.recheck = false;
	for (ULONG i = 0; i < count; i++) {
		wb[i].w = &w;
		wb[i].index = i;
		nt_list_insert_tail(&objs[i]->WaitListHead, &wb[i].link);
	}
	nt_unlock_all(st, nst);

	if (timeout != NULL) {
		struct co_queue *q;
		bool was;

		co_init(&tc, clk, CO_K_MPSAFE);
		tc.fn = nt_wait_timeout;
		tc.arg = &w;
		q = co_lock(&tc);
		q = co_arm_at_locked(&tc, q, deadline, -1, &was);
		co_queue_unlock(q);
	}
	depth = co_giant_release_all();
	pthread_mutex_lock(&w.mtx);
	for (;;) {
		while (w.state == NT_W_WAITING && !w.recheck)
			pthread_cond_wait(&w.cv, &w.mtx);
		if (w.state != NT_W_WAITING)
			break;
		/* WaitAll: look at every object with all stripes held. */
		w.recheck = false;
		pthread_mutex_unlock(&w.mtx);
		nt_lock_all(st, nst);
		pthread_mutex_lock(&w.mtx);
		if (w.state == NT_W_WAITING &&
		    nt_try_satisfy(count, objs, true) >= 0) {
			w.state = NT_W_SATISFIED;
			w.index = 0;
		}
		pthread_mutex_unlock(&w.mtx);
		nt_unlock_all(st, nst);
		pthread_mutex_lock(&w.mtx);
	}
	ret = w.state == NT_W_SATISFIED ? STATUS_WAIT_0 + (NTSTATUS)w.index
					: STATUS_TIMEOUT;
	pthread_mutex_unlock(&w.mtx);

	if (timeout != NULL) {
		struct co_queue *q = co_lock(&tc);
		bool waited;

		co_cancel_locked(&tc, q);
		q = co_wait_not_running(&tc, q, NULL, &waited);
		co_queue_unlock(q);
	}
	nt_lock_all(st, nst);
	for (ULONG i = 0; i < count; i++)
		nt_list_remove(&wb[i].link);
	nt_unlock_all(st, nst);
	co_giant_reacquire(depth);
	pthread_mutex_destroy(&w.mtx);
	pthread_cond_destroy(&w.cv);
	return ret;
}

NTSTATUS NTAPI
KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason,
    KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout)
{
	DISPATCHER_HEADER *h = Object;

	(void)WaitReason;
	(void)WaitMode;
	(void)Alertable;
	return nt_wait("KeWaitForSingleObject", 1, &h, false, Timeout);
}

NTSTATUS NTAPI
KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType,
    KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
    PLARGE_INTEGER Timeout, PKWAIT_BLOCK WaitBlockArray)
{
	DISPATCHER_HEADER *objs[MAXIMUM_WAIT_OBJECTS];

	(void)WaitReason;
	(void)WaitMode;
	(void)Alertable;
	if (Count > MAXIMUM_WAIT_OBJECTS ||
	    (Count > THREAD_WAIT_OBJECTS && WaitBlockArray == NULL)) {
		co_misuse("KeWaitForMultipleObjects", Object,
		    "too many objects for the wait block array");
		return STATUS_TIMEOUT;
	}
	if (WaitType != WaitAll && WaitType != WaitAny) {
		co_misuse(
		    "KeWaitForMultipleObjects", Object, "unknown wait type");
		return STATUS_TIMEOUT;
	}
	for (ULONG i = 0; i < Count; i++)
		objs[i] = Object[i];
	return nt_wait("KeWaitForMultipleObjects", Count, objs,
	    WaitType == WaitAll, Timeout);
}

NTSTATUS NTAPI
KeDelayExecutionThread(
    KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval)
{
	(void)WaitMode;
	(void)Alertable;
	if (Interval == NULL) {
		co_misuse("KeDelayExecutionThread", NULL, "NULL interval");
		return STATUS_SUCCESS;
	}
	if (Interval->QuadPart == 0)
		return STATUS_SUCCESS;
	(void)nt_wait("KeDelayExecutionThread", 0, NULL, false, Interval);
	return STATUS_SUCCESS;
}
