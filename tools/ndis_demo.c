/*
 * ndis_demo: the first program a new user runs.  It loads a few simulated
 * NDIS miniport drivers on the NT emulation and runs the timer patterns
 * real network drivers use, then reports what the library did: how many
 * timers the drivers initialised and forgot, how few callouts that cost,
 * how late the DPCs ran, and whether the emulation kept its promises.
 *
 * Each miniport has:
 *   - a watchdog on NdisMSetPeriodicTimer (WATCHDOG_MS), which also drives
 *     the NDIS 6 timer objects: each run allocates a short one-shot object
 *     that fires and frees itself from its own callback, and a long one
 *     that the next run cancels and frees;
 *   - a link-state poll on NdisMSetTimer, re-armed from its own callback;
 *   - a background scan and a channel dwell timer, two periodic KTIMERs
 *     set with KeSetTimerEx that share one DPC aimed at another processor,
 *     so that expiries on the same tick share one DPC run (coalesced);
 *   - a traffic timer whose DPC sends and completes the simulated packets
 *     (demo_traffic.h): each packet arms a transmit-timeout KTIMER that is
 *     cancelled when the packet completes; lost packets time out;
 *   - a worker thread waiting on a periodic synchronization timer;
 *   - an NDIS 6 periodic statistics timer object;
 *   - an NDIS_TIMER for a reset that never comes: initialised, never set.
 * No timer is ever destroyed (NT has no call for it): the drivers free
 * their memory and the library is never told.
 *
 * The run uses the threaded clock in real time, or with --virtual a
 * virtual clock advanced by this program, where the packet stream is
 * seeded and every count is reproducible (demo_check verifies them).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <callout.h>
#include <callout/ndis.h>
#include <callout/timeout.h>

#include "demo_traffic.h"

#define DEMO_HZ 1000
#define WATCHDOG_MS 2000
#define LINK_MS 500
#define SCAN_MS 1000
#define DWELL_MS 250
#define WORKER_MS 1000
#define STATS_MS 1000
#define SHORT_MS 300
#define LONG_MS 5000
#define TX_TIMEOUT_MS 200
#define LAT_MAX_MS 50
#define RING 1024
#define NSLOTS 4

/*
 * What a pooled callout costs: a 64-byte callout and the pool's
 * bookkeeping (112 bytes on LP64), in slabs of 64.  The pool does not
 * publish these sizes; they are used only to put bytes on the report.
 */
#define POOL_ENTRY_BYTES 112
#define POOL_SLAB_ENTRIES 64

/* Lateness histogram: 10 us buckets up to 200 ms, then one overflow. */
#define LAT_BUCKET_100NS 100
#define LAT_NBUCKETS 20001

#define MS_100NS(ms) (-(LONGLONG)(ms)*10000)

typedef _Atomic uint64_t counter_t;

static struct stats {
	counter_t timers_initialised;
	counter_t arms, cancels_ok, dpc_runs;
	counter_t fired_after_cancel, early;
	_Atomic int64_t armed; /* timers armed now */
	counter_t watchdog_runs;
	counter_t link_arms, link_cancels, link_runs;
	counter_t traffic_arms, traffic_cancels, traffic_runs;
	counter_t scan_arms, scan_cancels, scan_runs;
	counter_t tx_sent, tx_completed, tx_timeouts, tx_stop_cancels;
	counter_t tx_drops, tx_late_completions;
	counter_t worker_arms, worker_cancels, worker_expiries;
	counter_t worker_wakeups;
	counter_t ndis6_allocs, ndis6_frees;
	counter_t short_sets, short_cancels, short_fires;
	counter_t long_sets, long_cancels, long_fires;
	counter_t stats_sets, stats_cancels, stats_runs;
	counter_t lat[LAT_NBUCKETS];
	_Atomic uint64_t lat_max;
	counter_t lat_n;
} st;

#define CNT(f) atomic_fetch_add_explicit(&st.f, 1, memory_order_relaxed)
#define ADD(f, n) atomic_fetch_add_explicit(&st.f, (n), memory_order_relaxed)
#define GET(f) atomic_load_explicit(&st.f, memory_order_relaxed)

enum { SLOT_EMPTY, SLOT_ARMED, SLOT_FIRED, SLOT_CANCELLED };

/* One NDIS 6 timer object and what happened to its arming. */
struct obj_slot {
	struct miniport *m;
	NDIS_HANDLE h;
	int state;
	int is_long;
};

struct tx_desc {
	KTIMER timer;
	KDPC dpc;
	struct miniport *m;
	uint64_t seq;
	uint64_t done_tick; /* UINT64_MAX: lost, never completes */
	unsigned slot;      /* index in m->inflight while in flight */
	struct tx_desc *next_free;
};

struct miniport {
	int id;
	NDIS_HANDLE handle;
	KSPIN_LOCK lock; /* the driver's own: rings, slots, stopping */
	int stopping;
	atomic_int dead; /* stopped and flushed: no callback may run */

	NDIS_MINIPORT_TIMER watchdog;
	uint64_t watchdog_due;
	unsigned watchdog_count;
	NDIS_MINIPORT_TIMER link;
	NDIS_TIMER reset; /* initialised, never set */
	KTIMER scan, dwell;
	KDPC scan_dpc;
	KTIMER traffic;
	KDPC traffic_dpc;

	struct demo_traffic gen;
	uint64_t seq;
	struct tx_desc ring[RING];
	struct tx_desc *free_desc;
	struct tx_desc *inflight[RING];
	unsigned ninflight;

	struct obj_slot shorts[NSLOTS], longs[NSLOTS];
	struct obj_slot *cur_long;
	NDIS_HANDLE stats;
	atomic_int stats_cancelled;

	KTIMER worker_timer;
	KDPC worker_dpc;
	uint64_t worker_due;
	KEVENT worker_stop;
	pthread_t worker;
};

static struct options {
	int virt;
	double duration; /* seconds, real or simulated */
	int miniports;
	unsigned rate;
	uint32_t loss_ppm;
	uint64_t seed;
	const char *json;
	const char *plot;
	int quiet;
} opt;

static struct callout_clock *clk;
static ULONG ncpu;

static void
lat_record(uint64_t due)
{
	uint64_t now = KeQueryInterruptTime(), late, b, max;

	if (now < due) {
		CNT(early);
		return;
	}
	late = now - due;
	b = late / LAT_BUCKET_100NS;
	if (b >= LAT_NBUCKETS)
		b = LAT_NBUCKETS - 1;
	CNT(lat[b]);
	CNT(lat_n);
	max = atomic_load_explicit(&st.lat_max, memory_order_relaxed);
	while (late > max &&
	    !atomic_compare_exchange_weak(&st.lat_max, &max, late))
		;
}

static void
dpc_enter(struct miniport *m)
{
	CNT(dpc_runs);
	if (atomic_load(&m->dead))
		CNT(fired_after_cancel);
}

static uint64_t
ticks_now(void)
{
	LARGE_INTEGER t;

	KeQueryTickCount(&t);
	return (uint64_t)t.QuadPart;
}

static void
armed_add(int64_t n)
{
	atomic_fetch_add_explicit(&st.armed, n, memory_order_relaxed);
}

/* Arm a one-shot that is known not to be queued. */
static void
oneshot_set(PKTIMER t, LONGLONG due, PKDPC dpc)
{
	CNT(arms);
	armed_add(1);
	if (KeSetTimer(t, (LARGE_INTEGER){ .QuadPart = due }, dpc))
		fprintf(stderr, "ndis_demo: a one-shot was still queued\n");
}

/* Cancel; count it if the timer was queued. */
static BOOLEAN
timer_cancel(PKTIMER t)
{
	BOOLEAN was = KeCancelTimer(t);

	if (was) {
		CNT(cancels_ok);
		armed_add(-1);
	}
	return was;
}

/* NDIS 6 timer objects, driven by the watchdog. */

static VOID NTAPI
object_fn(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
	struct obj_slot *s = ctx;
	struct miniport *m = s->m;
	NDIS_HANDLE self = NULL;

	(void)s1;
	(void)s2;
	(void)s3;
	dpc_enter(m);
	KeAcquireSpinLockAtDpcLevel(&m->lock);
	if (s->state == SLOT_CANCELLED) {
		CNT(fired_after_cancel);
	} else if (s->state == SLOT_ARMED) {
		s->state = SLOT_FIRED;
		armed_add(-1);
		if (s->is_long) {
			CNT(long_fires);
		} else {
			CNT(short_fires);
			self = s->h; /* it frees itself */
			s->h = NULL;
			s->state = SLOT_EMPTY;
		}
	}
	KeReleaseSpinLockFromDpcLevel(&m->lock);
	if (self != NULL) {
		NdisFreeTimerObject(self);
		CNT(ndis6_frees);
	}
}

/* Cancel and free the object in s, if any; m->lock held. */
static void
slot_retire(struct obj_slot *s)
{
	if (s->h == NULL)
		return;
	if (s->state == SLOT_ARMED && NdisCancelTimerObject(s->h)) {
		s->state = SLOT_CANCELLED;
		CNT(cancels_ok);
		armed_add(-1);
		if (s->is_long)
			CNT(long_cancels);
		else
			CNT(short_cancels);
	}
	NdisFreeTimerObject(s->h);
	CNT(ndis6_frees);
	s->h = NULL;
}

static void
slot_arm(struct miniport *m, struct obj_slot *s, int is_long)
{
	NDIS_TIMER_CHARACTERISTICS ch;
	LONG ms = is_long ? LONG_MS : SHORT_MS;

	slot_retire(s);
	memset(&ch, 0, sizeof(ch));
	ch.Header.Type = NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS;
	ch.Header.Revision = NDIS_TIMER_CHARACTERISTICS_REVISION_1;
	ch.Header.Size = NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1;
	ch.AllocationTag = 0x6f6d6564; /* "demo" */
	ch.TimerFunction = object_fn;
	ch.FunctionContext = s;
	if (NdisAllocateTimerObject(m->handle, &ch, &s->h) !=
	    NDIS_STATUS_SUCCESS) {
		s->h = NULL;
		return;
	}
	CNT(ndis6_allocs);
	s->m = m;
	s->is_long = is_long;
	s->state = SLOT_ARMED;
	CNT(arms);
	armed_add(1);
	if (is_long)
		CNT(long_sets);
	else
		CNT(short_sets);
	(void)NdisSetTimerObject(
	    s->h, (LARGE_INTEGER){ .QuadPart = MS_100NS(ms) }, 0, NULL);
}

/* The watchdog: periodic, under the serialised miniport's lock. */
static VOID NTAPI
watchdog_fn(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
	struct miniport *m = ctx;
	unsigned n;

	(void)s1;
	(void)s2;
	(void)s3;
	dpc_enter(m);
	CNT(watchdog_runs);
	KeAcquireSpinLockAtDpcLevel(&m->lock);
	lat_record(m->watchdog_due);
	m->watchdog_due = m->watchdog.Timer.DueTime.QuadPart;
	if (!m->stopping) {
		n = m->watchdog_count++;
		slot_arm(m, &m->shorts[n % NSLOTS], 0);
		if (m->cur_long != NULL)
			slot_retire(m->cur_long);
		m->cur_long = &m->longs[n % NSLOTS];
		slot_arm(m, m->cur_long, 1);
	}
	KeReleaseSpinLockFromDpcLevel(&m->lock);
}

/* The link-state poll re-arms itself from its own callback. */
static VOID NTAPI
link_fn(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
	struct miniport *m = ctx;

	(void)s1;
	(void)s2;
	(void)s3;
	dpc_enter(m);
	CNT(link_runs);
	armed_add(-1);
	lat_record(m->link.Timer.DueTime.QuadPart);
	KeAcquireSpinLockAtDpcLevel(&m->lock);
	if (!m->stopping) {
		CNT(link_arms);
		oneshot_set(&m->link.Timer, MS_100NS(LINK_MS), &m->link.Dpc);
	}
	KeReleaseSpinLockFromDpcLevel(&m->lock);
}

/* The shared DPC of the scan and dwell timers, on another processor. */
static VOID NTAPI
scan_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct miniport *m = ctx;

	(void)dpc;
	(void)a1;
	(void)a2;
	dpc_enter(m);
	CNT(scan_runs);
}

static VOID NTAPI
worker_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct miniport *m = ctx;

	(void)dpc;
	(void)a1;
	(void)a2;
	dpc_enter(m);
	CNT(worker_expiries);
	lat_record(m->worker_due);
	m->worker_due = m->worker_timer.DueTime.QuadPart;
}

static void *
worker_main(void *arg)
{
	struct miniport *m = arg;
	PVOID objs[2] = { &m->worker_timer, &m->worker_stop };

	for (;;) {
		NTSTATUS s = KeWaitForMultipleObjects(
		    2, objs, WaitAny, Executive, KernelMode, FALSE, NULL, NULL);

		if (s != STATUS_WAIT_0)
			break;
		CNT(worker_wakeups);
	}
	return NULL;
}

static VOID NTAPI
stats_fn(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
	struct miniport *m = ctx;

	(void)s1;
	(void)s2;
	(void)s3;
	dpc_enter(m);
	CNT(stats_runs);
	if (atomic_load(&m->stats_cancelled))
		CNT(fired_after_cancel);
}

/* Transmit path. */

static void
inflight_remove(struct miniport *m, struct tx_desc *d)
{
	struct tx_desc *last = m->inflight[--m->ninflight];

	m->inflight[d->slot] = last;
	last->slot = d->slot;
	d->next_free = m->free_desc;
	m->free_desc = d;
}

static VOID NTAPI
tx_timeout_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct tx_desc *d =
	    (struct tx_desc *)((char *)dpc - offsetof(struct tx_desc, dpc));
	struct miniport *m = d->m;
	uint64_t seq = (uint64_t)(uintptr_t)ctx;

	(void)a1;
	(void)a2;
	dpc_enter(m);
	lat_record(d->timer.DueTime.QuadPart);
	KeAcquireSpinLockAtDpcLevel(&m->lock);
	if (d->seq != seq || d->slot >= m->ninflight ||
	    m->inflight[d->slot] != d) {
		/* Its packet completed and the cancel said TRUE. */
		CNT(fired_after_cancel);
	} else {
		CNT(tx_timeouts);
		armed_add(-1);
		inflight_remove(m, d);
	}
	KeReleaseSpinLockFromDpcLevel(&m->lock);
}

static void
tx_send(struct miniport *m, uint64_t now, unsigned lat)
{
	struct tx_desc *d = m->free_desc;

	if (d == NULL) {
		CNT(tx_drops);
		return;
	}
	m->free_desc = d->next_free;
	d->seq = ++m->seq;
	d->done_tick = lat == 0 ? UINT64_MAX : now + lat;
	d->slot = m->ninflight;
	m->inflight[m->ninflight++] = d;
	/* As drivers do: initialise the descriptor's timer at every use. */
	KeInitializeTimer(&d->timer);
	KeInitializeDpc(&d->dpc, tx_timeout_dpc, (PVOID)(uintptr_t)d->seq);
	CNT(timers_initialised);
	CNT(tx_sent);
	oneshot_set(&d->timer, MS_100NS(TX_TIMEOUT_MS), &d->dpc);
}

/*
 * The traffic DPC: complete the packets due by now, send those due by now,
 * and re-arm for the next of either.
 */
static VOID NTAPI
traffic_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct miniport *m = ctx;
	uint64_t now, next;

	(void)dpc;
	(void)a1;
	(void)a2;
	dpc_enter(m);
	CNT(traffic_runs);
	armed_add(-1);
	lat_record(m->traffic.DueTime.QuadPart);
	now = ticks_now();
	KeAcquireSpinLockAtDpcLevel(&m->lock);
	for (unsigned i = 0; i < m->ninflight;) {
		struct tx_desc *d = m->inflight[i];

		if (d->done_tick > now) {
			i++;
			continue;
		}
		if (timer_cancel(&d->timer)) {
			CNT(tx_completed);
			inflight_remove(m, d);
		} else {
			/* Timed out meanwhile: its DPC frees it. */
			CNT(tx_late_completions);
			d->done_tick = UINT64_MAX;
			i++;
		}
	}
	while (m->gen.next_send <= now) {
		uint64_t at = m->gen.next_send;

		tx_send(m, at, demo_traffic_take(&m->gen));
	}
	next = m->gen.next_send;
	for (unsigned i = 0; i < m->ninflight; i++)
		if (m->inflight[i]->done_tick < next)
			next = m->inflight[i]->done_tick;
	if (!m->stopping) {
		CNT(traffic_arms);
		oneshot_set(&m->traffic,
		    -(LONGLONG)(next - now) * (LONGLONG)KeQueryTimeIncrement(),
		    &m->traffic_dpc);
	}
	KeReleaseSpinLockFromDpcLevel(&m->lock);
}

/* Loading and unloading a driver. */

static struct miniport *
miniport_load(int id)
{
	struct miniport *m = calloc(1, sizeof(*m));
	char name[32];
	ULONG cur;

	if (m == NULL)
		return NULL;
	m->id = id;
	snprintf(name, sizeof(name), "demo%d", id);
	m->handle = NdisEmuCreateMiniport(name, TRUE);
	if (m->handle == NULL) {
		free(m);
		return NULL;
	}
	KeInitializeSpinLock(&m->lock);
	for (int i = RING - 1; i >= 0; i--) {
		m->ring[i].m = m;
		m->ring[i].next_free = m->free_desc;
		m->free_desc = &m->ring[i];
	}
	demo_traffic_init(&m->gen, opt.seed, (unsigned)id, opt.rate, DEMO_HZ,
	    LAT_MAX_MS, opt.loss_ppm);

	NdisMInitializeTimer(&m->watchdog, m->handle, watchdog_fn, m);
	NdisMInitializeTimer(&m->link, m->handle, link_fn, m);
	NdisInitializeTimer(&m->reset, link_fn, m);
	KeInitializeTimer(&m->scan);
	KeInitializeTimer(&m->dwell);
	KeInitializeTimer(&m->traffic);
	KeInitializeTimerEx(&m->worker_timer, SynchronizationTimer);
	ADD(timers_initialised, 7);
	KeInitializeDpc(&m->scan_dpc, scan_dpc, m);
	cur = KeGetCurrentProcessorNumber();
	KeSetTargetProcessorDpc(&m->scan_dpc, (CCHAR)((cur + 1) % ncpu));
	KeInitializeDpc(&m->traffic_dpc, traffic_dpc, m);
	KeInitializeDpc(&m->worker_dpc, worker_dpc, m);
	KeInitializeEvent(&m->worker_stop, NotificationEvent, FALSE);

	CNT(arms);
	armed_add(1);
	NdisMSetPeriodicTimer(&m->watchdog, WATCHDOG_MS);
	m->watchdog_due = m->watchdog.Timer.DueTime.QuadPart;
	CNT(link_arms);
	oneshot_set(&m->link.Timer, MS_100NS(LINK_MS), &m->link.Dpc);
	ADD(scan_arms, 2);
	ADD(arms, 2);
	armed_add(2);
	KeSetTimerEx(&m->scan, (LARGE_INTEGER){ .QuadPart = MS_100NS(SCAN_MS) },
	    SCAN_MS, &m->scan_dpc);
	KeSetTimerEx(&m->dwell,
	    (LARGE_INTEGER){ .QuadPart = MS_100NS(DWELL_MS) }, DWELL_MS,
	    &m->scan_dpc);
	CNT(traffic_arms);
	oneshot_set(&m->traffic,
	    -(LONGLONG)m->gen.next_send * (LONGLONG)KeQueryTimeIncrement(),
	    &m->traffic_dpc);
	CNT(worker_arms);
	CNT(arms);
	armed_add(1);
	KeSetTimerEx(&m->worker_timer,
	    (LARGE_INTEGER){ .QuadPart = MS_100NS(WORKER_MS) }, WORKER_MS,
	    &m->worker_dpc);
	m->worker_due = m->worker_timer.DueTime.QuadPart;

	NDIS_TIMER_CHARACTERISTICS ch = {
		.Header = { NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
		    NDIS_TIMER_CHARACTERISTICS_REVISION_1,
		    NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1 },
		.TimerFunction = stats_fn,
		.FunctionContext = m,
	};
	if (NdisAllocateTimerObject(m->handle, &ch, &m->stats) ==
	    NDIS_STATUS_SUCCESS) {
		CNT(ndis6_allocs);
		CNT(stats_sets);
		CNT(arms);
		armed_add(1);
		NdisSetTimerObject(m->stats,
		    (LARGE_INTEGER){ .QuadPart = MS_100NS(STATS_MS) }, STATS_MS,
		    NULL);
	}
	if (pthread_create(&m->worker, NULL, worker_main, m) != 0) {
		fprintf(stderr, "ndis_demo: cannot start a worker thread\n");
		exit(1);
	}
	return m;
}

/* Stop every timer; callbacks may still be running on other processors. */
static void
miniport_stop(struct miniport *m)
{
	KIRQL old;
	BOOLEAN was;
	struct obj_slot *claim[2 * NSLOTS];
	int nclaim = 0;

	KeAcquireSpinLock(&m->lock, &old);
	m->stopping = 1;
	KeReleaseSpinLock(&m->lock, old);

	KeSetEvent(&m->worker_stop, 0, FALSE);
	pthread_join(m->worker, NULL);
	if (timer_cancel(&m->worker_timer))
		CNT(worker_cancels);

	NdisMCancelTimer(&m->watchdog, &was);
	if (was) {
		CNT(cancels_ok);
		armed_add(-1);
	}
	NdisMCancelTimer(&m->link, &was);
	if (was) {
		CNT(cancels_ok);
		CNT(link_cancels);
		armed_add(-1);
	}
	if (timer_cancel(&m->traffic))
		CNT(traffic_cancels);
	if (timer_cancel(&m->scan))
		CNT(scan_cancels);
	if (timer_cancel(&m->dwell))
		CNT(scan_cancels);
	if (m->stats != NULL) {
		/* At PASSIVE_LEVEL this waits out a running callback. */
		if (NdisCancelTimerObject(m->stats)) {
			CNT(cancels_ok);
			CNT(stats_cancels);
			armed_add(-1);
		}
		atomic_store(&m->stats_cancelled, 1);
		NdisFreeTimerObject(m->stats);
		CNT(ndis6_frees);
		m->stats = NULL;
	}

	KeAcquireSpinLock(&m->lock, &old);
	for (unsigned i = 0; i < m->ninflight;) {
		struct tx_desc *d = m->inflight[i];

		if (timer_cancel(&d->timer)) {
			CNT(tx_stop_cancels);
			inflight_remove(m, d);
		} else {
			i++; /* its timeout DPC is on its way */
		}
	}
	for (int i = 0; i < NSLOTS; i++) {
		claim[nclaim++] = &m->shorts[i];
		claim[nclaim++] = &m->longs[i];
	}
	for (int i = 0; i < nclaim; i++)
		slot_retire(claim[i]);
	KeReleaseSpinLock(&m->lock, old);
}

static void
miniport_unload(struct miniport *m)
{
	NdisEmuDestroyMiniport(m->handle);
	/* The timers are simply forgotten, as drivers do. */
	free(m);
}

/* Report. */

static double
lat_percentile_us(double p)
{
	uint64_t n = GET(lat_n), want, seen = 0;

	if (n == 0)
		return 0;
	want = (uint64_t)(p * (double)n);
	if (want >= n)
		want = n - 1;
	for (int b = 0; b < LAT_NBUCKETS; b++) {
		seen += GET(lat[b]);
		if (seen > want)
			return (double)b * LAT_BUCKET_100NS / 10.0;
	}
	return 0;
}

struct report {
	struct callout_counters cc;
	struct callout_pool_counters pool_end, pool_after_destroy;
	size_t peak_slabs;
	uint64_t ticks;
	double wall;
	int inv_cancel, inv_dpc, inv_pool, inv_armed, inv_early, inv_worker;
	int inv_oneshots, ok;
	uint64_t expiries_lo, expiries_hi, dpc_accounted;
};

static int
oneshot_ok(uint64_t arms, uint64_t cancels, uint64_t runs)
{
	return arms == cancels + runs;
}

static void
check_invariants(struct report *r)
{
	uint64_t runs = GET(dpc_runs), co = r->cc.dpcs_coalesced;

	r->dpc_accounted = runs + co;
	/*
	 * On a virtual clock every handler call of the clock is an expiry and
	 * nothing races, so the clock's count must match exactly.  On a
	 * threaded clock a handler call can lose to a cancel, and the clock's
	 * count of periodic re-arms is not exact (see the report to the lead),
	 * so expiries are counted from the driver's side: a one-shot armed and
	 * not cancelled expired; a periodic timer's expiries are its DPC runs,
	 * and the scan pair's are its runs plus the coalesced ones.
	 */
	if (opt.virt) {
		r->expiries_lo = r->expiries_hi = r->cc.fired;
	} else {
		r->expiries_lo = GET(link_arms) - GET(link_cancels) +
		    GET(traffic_arms) - GET(traffic_cancels) + GET(tx_sent) -
		    GET(tx_completed) - GET(tx_stop_cancels) + GET(short_sets) -
		    GET(short_cancels) + GET(long_sets) - GET(long_cancels) +
		    GET(watchdog_runs) + GET(worker_expiries) +
		    GET(stats_runs) + GET(scan_runs) + co;
		r->expiries_hi = r->expiries_lo;
	}
	r->inv_dpc = r->dpc_accounted >= r->expiries_lo &&
	    r->dpc_accounted <= r->expiries_hi;
	r->inv_oneshots =
	    oneshot_ok(GET(link_arms), GET(link_cancels), GET(link_runs)) &&
	    oneshot_ok(
		GET(traffic_arms), GET(traffic_cancels), GET(traffic_runs)) &&
	    oneshot_ok(GET(tx_sent), GET(tx_completed) + GET(tx_stop_cancels),
		GET(tx_timeouts)) &&
	    oneshot_ok(GET(short_sets), GET(short_cancels), GET(short_fires)) &&
	    oneshot_ok(GET(long_sets), GET(long_cancels), GET(long_fires));
	r->inv_cancel = GET(fired_after_cancel) == 0;
	r->inv_pool = r->pool_end.in_use == 0;
	r->inv_armed = atomic_load(&st.armed) == 0;
	r->inv_early = GET(early) == 0;
	r->inv_worker = GET(worker_wakeups) <= GET(worker_expiries) &&
	    (GET(worker_expiries) == 0 || GET(worker_wakeups) >= 1);
	r->ok = r->inv_cancel && r->inv_dpc && r->inv_pool && r->inv_armed &&
	    r->inv_early && r->inv_worker && r->inv_oneshots;
}

static const char *
yes(int v)
{
	return v ? "true" : "false";
}

static void
write_json(FILE *f, const struct report *r)
{
	uint64_t inits = GET(timers_initialised);

	fprintf(f, "{\n");
	fprintf(f, "  \"mode\": \"%s\",\n", opt.virt ? "virtual" : "threaded");
	fprintf(f,
	    "  \"params\": {\"hz\": %d, \"processors\": %u, "
	    "\"miniports\": %d, \"duration_ticks\": %" PRIu64 ", "
	    "\"seed\": %" PRIu64 ", \"rate\": %u, \"loss_ppm\": %u, "
	    "\"lat_max_ms\": %d, \"ring\": %d, \"tx_timeout_ms\": %d, "
	    "\"watchdog_ms\": %d, \"link_ms\": %d, \"scan_ms\": %d, "
	    "\"dwell_ms\": %d, \"worker_ms\": %d, \"stats_ms\": %d, "
	    "\"short_ms\": %d, \"long_ms\": %d},\n",
	    DEMO_HZ, ncpu, opt.miniports, r->ticks, opt.seed, opt.rate,
	    opt.loss_ppm, LAT_MAX_MS, RING, TX_TIMEOUT_MS, WATCHDOG_MS, LINK_MS,
	    SCAN_MS, DWELL_MS, WORKER_MS, STATS_MS, SHORT_MS, LONG_MS);
	fprintf(f, "  \"wall_seconds\": %.3f,\n", r->wall);
#define J(name) fprintf(f, "    \"" #name "\": %" PRIu64 ",\n", GET(name))
	fprintf(f, "  \"counts\": {\n");
	J(timers_initialised);
	J(arms);
	J(cancels_ok);
	J(dpc_runs);
	J(watchdog_runs);
	J(link_arms);
	J(link_cancels);
	J(link_runs);
	J(traffic_arms);
	J(traffic_cancels);
	J(traffic_runs);
	J(scan_arms);
	J(scan_cancels);
	J(scan_runs);
	J(tx_sent);
	J(tx_completed);
	J(tx_timeouts);
	J(tx_stop_cancels);
	J(tx_drops);
	J(tx_late_completions);
	J(worker_arms);
	J(worker_cancels);
	J(worker_expiries);
	J(worker_wakeups);
	J(ndis6_allocs);
	J(ndis6_frees);
	J(short_sets);
	J(short_cancels);
	J(short_fires);
	J(long_sets);
	J(long_cancels);
	J(long_fires);
	J(stats_sets);
	J(stats_cancels);
	J(stats_runs);
#undef J
	fprintf(
	    f, "    \"timers_never_destroyed\": %" PRIu64 "\n  },\n", inits);
	fprintf(f,
	    "  \"clock\": {\"armed\": %" PRIu64 ", \"fired\": %" PRIu64
	    ", \"stopped\": %" PRIu64 ", \"dpcs_coalesced\": %" PRIu64
	    ", \"late\": %" PRIu64 ", \"max_late_ticks\": %" PRIu64 "},\n",
	    r->cc.armed, r->cc.fired, r->cc.stopped, r->cc.dpcs_coalesced,
	    r->cc.late, r->cc.max_late_ticks);
	fprintf(f,
	    "  \"pool\": {\"borrowed_now\": %zu, \"borrowed_peak\": %zu, "
	    "\"lends\": %" PRIu64 ", \"failures\": %" PRIu64
	    ", \"slabs_peak\": %zu, \"slabs_after_stop\": %zu, "
	    "\"slabs_after_destroy\": %zu},\n",
	    r->pool_end.in_use, r->pool_end.high_water, r->pool_end.lends,
	    r->pool_end.failures, r->peak_slabs, r->pool_end.slabs,
	    r->pool_after_destroy.slabs);
	fprintf(f,
	    "  \"lateness_us\": {\"samples\": %" PRIu64 ", \"p50\": %.1f, "
	    "\"p99\": %.1f, \"max\": %.1f},\n",
	    GET(lat_n), lat_percentile_us(0.50), lat_percentile_us(0.99),
	    (double)atomic_load(&st.lat_max) / 10.0);
	fprintf(f,
	    "  \"memory\": {\"pool_peak_bytes\": %zu, \"pool_now_bytes\": %zu, "
	    "\"per_timer_callout_bytes\": %" PRIu64
	    ", \"per_timer_leaked_bytes\": %" PRIu64 "},\n",
	    r->pool_end.high_water * POOL_ENTRY_BYTES,
	    r->pool_end.in_use * POOL_ENTRY_BYTES,
	    inits * (uint64_t)sizeof(callout_t),
	    inits * (uint64_t)sizeof(callout_t));
	fprintf(f,
	    "  \"invariants\": {\"fired_after_cancel\": %" PRIu64
	    ", \"early_fires\": %" PRIu64 ", \"expiries_min\": %" PRIu64
	    ", \"expiries_max\": %" PRIu64
	    ", \"dpc_runs_plus_coalesced\": %" PRIu64
	    ", \"dpc_accounting\": %s, \"oneshot_accounting\": %s, "
	    "\"armed_after_stop\": %" PRId64
	    ", \"pool_in_use_after_stop\": %zu, "
	    "\"worker_wakeups_in_range\": %s, \"ok\": %s}\n",
	    GET(fired_after_cancel), GET(early), r->expiries_lo, r->expiries_hi,
	    r->dpc_accounted, yes(r->inv_dpc), yes(r->inv_oneshots),
	    atomic_load(&st.armed), r->pool_end.in_use, yes(r->inv_worker),
	    yes(r->ok));
	fprintf(f, "}\n");
}

static const char *
human_bytes(double b, char *buf, size_t len)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (b >= 1024 && i < 4) {
		b /= 1024;
		i++;
	}
	snprintf(buf, len, i == 0 ? "%.0f %s" : "%.1f %s", b, u[i]);
	return buf;
}

static const char *
mark(int ok)
{
	return ok ? "ok  " : "FAIL";
}

static void
write_text(FILE *f, const struct report *r)
{
	uint64_t inits = GET(timers_initialised);
	char b1[32], b2[32];

	fprintf(f,
	    "\nndis_demo: %d miniports, %s clock, %.0f s %s "
	    "(%u processors, %d Hz)\n",
	    opt.miniports, opt.virt ? "virtual" : "threaded",
	    (double)r->ticks / DEMO_HZ, opt.virt ? "simulated" : "real", ncpu,
	    DEMO_HZ);
	if (opt.virt)
		fprintf(f, "  simulated in %.2f s of real time\n", r->wall);
	fprintf(f, "\nTimers\n");
	fprintf(f, "  initialised, never destroyed  %12" PRIu64 "\n", inits);
	fprintf(f, "  callouts borrowed now / peak  %12zu / %zu\n",
	    r->pool_end.in_use, r->pool_end.high_water);
	fprintf(f,
	    "  arms / fires / cancels        %12" PRIu64 " / %" PRIu64
	    " / %" PRIu64 "\n",
	    GET(arms), r->dpc_accounted, GET(cancels_ok));
	fprintf(f,
	    "  DPCs run / coalesced          %12" PRIu64 " / %" PRIu64 "\n",
	    GET(dpc_runs), r->cc.dpcs_coalesced);
	fprintf(f, "\nDriver work\n");
	fprintf(
	    f, "  packets sent                  %12" PRIu64 "\n", GET(tx_sent));
	fprintf(f,
	    "    completed (timeout cancelled) %10" PRIu64 "\n"
	    "    timed out                     %10" PRIu64 "\n"
	    "    cancelled at unload           %10" PRIu64 "\n",
	    GET(tx_completed), GET(tx_timeouts), GET(tx_stop_cancels));
	fprintf(f,
	    "  watchdog / link poll runs     %12" PRIu64 " / %" PRIu64 "\n",
	    GET(watchdog_runs), GET(link_runs));
	fprintf(f, "  scan DPC runs                 %12" PRIu64 "\n",
	    GET(scan_runs));
	fprintf(f,
	    "  worker timer expiries / wakeups %10" PRIu64 " / %" PRIu64 "\n",
	    GET(worker_expiries), GET(worker_wakeups));
	fprintf(f,
	    "  NDIS 6 objects alloc / free   %12" PRIu64 " / %" PRIu64 "\n",
	    GET(ndis6_allocs), GET(ndis6_frees));
	fprintf(
	    f, "\nLateness against due time (%" PRIu64 " DPCs)\n", GET(lat_n));
	fprintf(f, "  p50 %.0f us   p99 %.0f us   max %.0f us\n",
	    lat_percentile_us(0.50), lat_percentile_us(0.99),
	    (double)atomic_load(&st.lat_max) / 10.0);
	fprintf(f, "\nMemory\n");
	fprintf(f, "  libcallout pool at peak       %12s  (%zu callouts)\n",
	    human_bytes((double)r->pool_end.high_water * POOL_ENTRY_BYTES, b1,
		sizeof(b1)),
	    r->pool_end.high_water);
	fprintf(f, "  libcallout pool now           %12s\n",
	    human_bytes(
		(double)r->pool_end.in_use * POOL_ENTRY_BYTES, b1, sizeof(b1)));
	fprintf(f,
	    "  one callout per timer init    %12s  (all of it leaked: the\n"
	    "                                              drivers never "
	    "say when\n"
	    "                                              a timer is done)\n",
	    human_bytes((double)inits * sizeof(callout_t), b2, sizeof(b2)));
	fprintf(f, "\nInvariants\n");
	fprintf(f,
	    "  [%s] nothing fired after a successful cancel (%" PRIu64 ")\n",
	    mark(r->inv_cancel), GET(fired_after_cancel));
	fprintf(f,
	    "  [%s] every expiry ran its DPC or was coalesced: %" PRIu64
	    " + %" PRIu64 " = %" PRIu64 " expiries%s\n",
	    mark(r->inv_dpc), GET(dpc_runs), r->cc.dpcs_coalesced,
	    r->dpc_accounted, opt.virt ? " (the clock's count)" : "");
	fprintf(f, "  [%s] every one-shot armed was cancelled or fired once\n",
	    mark(r->inv_oneshots));
	fprintf(
	    f, "  [%s] nothing ran before its due time\n", mark(r->inv_early));
	fprintf(f, "  [%s] worker woke 1..%" PRIu64 " times (%" PRIu64 ")\n",
	    mark(r->inv_worker), GET(worker_expiries), GET(worker_wakeups));
	fprintf(f,
	    "  [%s] pool in use back to 0 after the drivers stopped (%zu)\n",
	    mark(r->inv_pool && r->inv_armed), r->pool_end.in_use);
	fprintf(f, "\n%s\n",
	    r->ok ? "All invariants hold." : "INVARIANTS VIOLATED.");
}

static int
write_plot(const char *png)
{
	char dat[] = "/tmp/ndis_demo_XXXXXX";
	char cmd[4096];
	int fd, rc;
	FILE *f;
	int last = 0;

	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		fprintf(
		    stderr, "ndis_demo: gnuplot not found, no plot written\n");
		return 0;
	}
	if ((fd = mkstemp(dat)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		perror("ndis_demo: plot data");
		return -1;
	}
	for (int b = 0; b < LAT_NBUCKETS; b++)
		if (GET(lat[b]) != 0)
			last = b;
	for (int b = 0; b <= last; b++)
		fprintf(f, "%.1f %" PRIu64 "\n",
		    (double)b * LAT_BUCKET_100NS / 10.0, GET(lat[b]));
	fclose(f);
	snprintf(cmd, sizeof(cmd),
	    "gnuplot -e \"set terminal png size 900,500; "
	    "set output '%s'; set title 'ndis\\_demo: DPC lateness against "
	    "due time (%s clock)'; set xlabel 'lateness (us, 10 us bins)'; "
	    "set ylabel 'DPCs'; set logscale y; set style fill solid; "
	    "plot '%s' using 1:2 with boxes notitle\"",
	    png, opt.virt ? "virtual" : "threaded", dat);
	rc = system(cmd);
	unlink(dat);
	if (rc != 0) {
		fprintf(stderr, "ndis_demo: gnuplot failed\n");
		return -1;
	}
	return 1;
}

/* The run. */

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct status {
	int on;
	double last_wall;
	uint64_t last_dpcs;
	size_t peak_slabs;
};

static void
status_update(struct status *s, uint64_t tick, uint64_t total, int force)
{
	struct callout_pool_counters pc;
	double now = wall_now(), rate;
	uint64_t dpcs;

	callout_pool_counters(&pc);
	if (pc.slabs > s->peak_slabs)
		s->peak_slabs = pc.slabs;
	if (!s->on || (!force && now - s->last_wall < 0.2))
		return;
	dpcs = GET(dpc_runs);
	rate = (double)(dpcs - s->last_dpcs) / (now - s->last_wall);
	s->last_wall = now;
	s->last_dpcs = dpcs;
	/* One line that fits an 80-column terminal, rewritten in place. */
	printf("\r%3.0f%% %7.1f/%.0fs | armed %6" PRId64
	       " | borrowed %5zu (peak %5zu) | %7.0f DPC/s",
	    100.0 * (double)tick / (double)total, (double)tick / DEMO_HZ,
	    (double)total / DEMO_HZ, atomic_load(&st.armed), pc.in_use,
	    pc.high_water, rate);
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ndis_demo [--virtual] [--duration SECONDS] "
	    "[--miniports N]\n"
	    "                 [--rate PACKETS_PER_SECOND] [--loss-ppm N] "
	    "[--seed N]\n"
	    "                 [--json FILE|-] [--plot FILE.png] [--quiet]\n"
	    "Threaded clock for 10 s by default; --virtual: a simulated "
	    "day.\n");
	exit(2);
}

static void
parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "virtual", no_argument, NULL, 'v' },
		{ "duration", required_argument, NULL, 'd' },
		{ "miniports", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "loss-ppm", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", required_argument, NULL, 'j' },
		{ "plot", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rate = -1;

	opt.duration = -1;
	opt.miniports = 4;
	opt.loss_ppm = 500;
	opt.seed = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'v':
			opt.virt = 1;
			break;
		case 'd':
			opt.duration = atof(optarg);
			break;
		case 'm':
			opt.miniports = atoi(optarg);
			break;
		case 'r':
			rate = atoi(optarg);
			break;
		case 'l':
			opt.loss_ppm = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			opt.seed = strtoull(optarg, NULL, 10);
			break;
		case 'j':
			opt.json = optarg;
			break;
		case 'p':
			opt.plot = optarg;
			break;
		case 'q':
			opt.quiet = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || opt.miniports < 1 || opt.miniports > 256 ||
	    rate == 0 || rate > 2 * DEMO_HZ || opt.loss_ppm > 1000000)
		usage();
	if (opt.duration < 0)
		opt.duration = opt.virt ? 86400 : 10;
	/* A lightly loaded link over a simulated day; a busy one live. */
	opt.rate = rate > 0 ? (unsigned)rate : opt.virt ? 20 : 1000;
}

int
main(int argc, char **argv)
{
	struct callout_clock_params p;
	struct miniport **mp;
	struct report r;
	struct status s;
	uint64_t total;
	double t0;
	FILE *jf = NULL;

	parse(argc, argv);
	memset(&r, 0, sizeof(r));
	memset(&s, 0, sizeof(s));
	s.on = !opt.quiet && isatty(STDOUT_FILENO) &&
	    !(opt.json != NULL && strcmp(opt.json, "-") == 0);

	callout_clock_params_init(&p);
	p.hz = DEMO_HZ;
	if (opt.virt) {
		p.mode = CALLOUT_CLOCK_VIRTUAL;
		p.ndispatchers = 2;
	} else {
		p.mode = CALLOUT_CLOCK_THREADED;
	}
	clk = callout_clock_create(&p);
	if (clk == NULL || callout_clock_set_default(clk) != 0) {
		fprintf(stderr, "ndis_demo: cannot create the clock\n");
		return 1;
	}
	/* This thread sets the timers: its processor processes them. */
	callout_clock_set_home(clk, 0);
	ncpu = KeQueryActiveProcessorCount(NULL);
	total = (uint64_t)(opt.duration * DEMO_HZ);

	mp = calloc((size_t)opt.miniports, sizeof(*mp));
	for (int i = 0; i < opt.miniports; i++)
		if (mp == NULL || (mp[i] = miniport_load(i)) == NULL) {
			fprintf(stderr, "ndis_demo: out of memory\n");
			return 1;
		}
	t0 = wall_now();
	s.last_wall = t0;
	if (opt.virt) {
		uint64_t done = 0;

		while (done < total) {
			uint64_t step =
			    total - done < 1000 ? total - done : 1000;

			callout_clock_advance(clk, step);
			done += step;
			status_update(&s, done, total, 0);
		}
	} else {
		uint64_t t;

		while ((t = ticks_now()) < total) {
			uint64_t left = total - t;
			struct timespec ts = { 0,
				(long)(left < 200 ? left : 200) * 1000000L };

			nanosleep(&ts, NULL);
			status_update(&s, t, total, 0);
		}
	}
	status_update(&s, total, total, 1);
	r.ticks = ticks_now();
	if (s.on)
		printf("\n");

	for (int i = 0; i < opt.miniports; i++)
		miniport_stop(mp[i]);
	/* Every expiry already signalled has run its DPC after this. */
	KeFlushQueuedDpcs();
	if (opt.virt)
		callout_clock_advance(clk, 0);
	for (int i = 0; i < opt.miniports; i++)
		atomic_store(&mp[i]->dead, 1);
	r.wall = wall_now() - t0;
	/* A handler gives its callout back just after its DPC returns. */
	for (int i = 0; i < 100; i++) {
		callout_pool_counters(&r.pool_end);
		if (r.pool_end.in_use == 0)
			break;
		nanosleep(&(struct timespec){ 0, 10000000L }, NULL);
	}
	callout_clock_counters(clk, &r.cc);
	status_update(&s, total, total, 0);
	r.peak_slabs = s.peak_slabs;
	for (int i = 0; i < opt.miniports; i++)
		miniport_unload(mp[i]);
	free(mp);
	callout_clock_destroy(clk);
	callout_pool_counters(&r.pool_after_destroy);
	check_invariants(&r);

	if (opt.json == NULL || strcmp(opt.json, "-") != 0)
		write_text(stdout, &r);
	if (opt.json != NULL) {
		jf = strcmp(opt.json, "-") == 0 ? stdout : fopen(opt.json, "w");
		if (jf == NULL) {
			fprintf(stderr, "ndis_demo: %s: %s\n", opt.json,
			    strerror(errno));
			return 1;
		}
		write_json(jf, &r);
		if (jf != stdout)
			fclose(jf);
	}
	if (opt.plot != NULL && write_plot(opt.plot) > 0)
		printf("lateness histogram: %s\n", opt.plot);
	return r.ok ? 0 : 1;
}
