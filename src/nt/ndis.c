/*
 * NDIS timers on the NT emulation (nt.md section 6): the NDIS 5 calls are
 * thin layers over KTIMER and KDPC; NDIS 6 timer objects are allocated
 * here and freed only once no callback of theirs is running or waiting to
 * run.  Each object counts its captured runs (nt_ndis_run_captured, under
 * the timer's stripe) and the callbacks that finished; the FREEING bit
 * lets exactly one of NdisFreeTimerObject and the last callback free it.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "nt_impl.h"

#define NDIS_MINIPORT_MAGIC 0x4e4d5042u /* "NMPB" */
#define NDIS_TOBJ_MAGIC 0x4e544f42u     /* "NTOB" */
#define NDIS_FREEING 0x80000000u

struct _NDIS_MINIPORT_BLOCK {
	uint32_t magic;
	BOOLEAN serialized;
	KSPIN_LOCK lock; /* a serialised miniport's timer functions */
	char name[48];
};

struct nt_ndis_tobj {
	uint32_t magic;
	NDIS_HANDLE handle;
	PNDIS_TIMER_FUNCTION fn;
	PVOID default_ctx;
	_Atomic uint32_t inflight; /* captured runs not finished | FREEING */
	KTIMER timer;
	KDPC dpc;
	struct nt_ndis_tobj *next; /* live-object registry bucket */
};

/* Live timer objects, so that a stale handle is reported, not followed. */
#define NDIS_BUCKETS 64
static pthread_mutex_t ndis_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nt_ndis_tobj *ndis_reg[NDIS_BUCKETS];

static unsigned
ndis_bucket(const void *h)
{
	return (unsigned)(((uintptr_t)h >> 4) * 0x9E3779B1u >> 26) &
	    (NDIS_BUCKETS - 1);
}

static struct nt_ndis_tobj *
ndis_lookup(NDIS_HANDLE h, bool unregister)
{
	struct nt_ndis_tobj **pp, *o = NULL;

	pthread_mutex_lock(&ndis_reg_lock);
	for (pp = &ndis_reg[ndis_bucket(h)]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == h) {
			o = *pp;
			if (unregister)
				*pp = o->next;
			break;
		}
	pthread_mutex_unlock(&ndis_reg_lock);
	return o;
}

NDIS_HANDLE
NdisEmuCreateMiniport(const char *name, BOOLEAN serialized)
{
	struct _NDIS_MINIPORT_BLOCK *mp = calloc(1, sizeof(*mp));

	if (mp == NULL)
		return NULL;
	mp->magic = NDIS_MINIPORT_MAGIC;
	mp->serialized = serialized ? TRUE : FALSE;
	KeInitializeSpinLock(&mp->lock);
	if (name != NULL)
		snprintf(mp->name, sizeof(mp->name), "%s", name);
	return mp;
}

void
NdisEmuDestroyMiniport(NDIS_HANDLE miniport)
{
	struct _NDIS_MINIPORT_BLOCK *mp = miniport;

	if (mp == NULL || mp->magic != NDIS_MINIPORT_MAGIC) {
		co_misuse("NdisEmuDestroyMiniport", miniport,
		    "not a miniport handle");
		return;
	}
	mp->magic = 0;
	free(mp);
}

/* NDIS 5. */

VOID NTAPI
NdisInitializeTimer(PNDIS_TIMER Timer, PNDIS_TIMER_FUNCTION TimerFunction,
    PVOID FunctionContext)
{
	KeInitializeTimer(&Timer->Timer);
	KeInitializeDpc(
	    &Timer->Dpc, (PKDEFERRED_ROUTINE)TimerFunction, FunctionContext);
	Timer->Dpc.EmulationFlags |= NT_DPC_NDIS_FN;
}

static LARGE_INTEGER
ndis_relative_ms(UINT ms)
{
	LARGE_INTEGER d;

	d.QuadPart = -(LONGLONG)ms * 10000;
	return d;
}

VOID NTAPI
NdisSetTimer(PNDIS_TIMER Timer, UINT MillisecondsToDelay)
{
	(void)KeSetTimer(
	    &Timer->Timer, ndis_relative_ms(MillisecondsToDelay), &Timer->Dpc);
}

VOID NTAPI
NdisSetTimerEx(
    PNDIS_TIMER Timer, UINT MillisecondsToDelay, PVOID FunctionContext)
{
	Timer->Dpc.DeferredContext = FunctionContext;
	NdisSetTimer(Timer, MillisecondsToDelay);
}

VOID NTAPI
NdisCancelTimer(PNDIS_TIMER Timer, PBOOLEAN TimerCancelled)
{
	*TimerCancelled = KeCancelTimer(&Timer->Timer);
}

/* The DPC of every NDIS_MINIPORT_TIMER. */
static VOID NTAPI
ndis_miniport_dpc(PKDPC Dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	PNDIS_MINIPORT_TIMER t = ctx;
	struct _NDIS_MINIPORT_BLOCK *mp = t->Miniport;
	bool serial = mp != NULL && mp->serialized;

	if (serial)
		KeAcquireSpinLockAtDpcLevel(&mp->lock);
	t->MiniportTimerFunction(Dpc, t->MiniportTimerContext, a1, a2);
	if (serial)
		KeReleaseSpinLockFromDpcLevel(&mp->lock);
}

VOID NTAPI
NdisMInitializeTimer(PNDIS_MINIPORT_TIMER Timer,
    NDIS_HANDLE MiniportAdapterHandle, PNDIS_TIMER_FUNCTION TimerFunction,
    PVOID FunctionContext)
{
	struct _NDIS_MINIPORT_BLOCK *mp = MiniportAdapterHandle;

	if (mp == NULL || mp->magic != NDIS_MINIPORT_MAGIC) {
		co_misuse("NdisMInitializeTimer", MiniportAdapterHandle,
		    "not a miniport handle");
		return;
	}
	if (TimerFunction == NULL) {
		co_misuse("NdisMInitializeTimer", Timer, "NULL timer function");
		return;
	}
	KeInitializeTimer(&Timer->Timer);
	KeInitializeDpc(&Timer->Dpc, ndis_miniport_dpc, Timer);
	Timer->MiniportTimerFunction = TimerFunction;
	Timer->MiniportTimerContext = FunctionContext;
	Timer->Miniport = mp;
	Timer->NextDeferredTimer = NULL;
}

VOID NTAPI
NdisMSetTimer(PNDIS_MINIPORT_TIMER Timer, UINT MillisecondsToDelay)
{
	(void)KeSetTimer(
	    &Timer->Timer, ndis_relative_ms(MillisecondsToDelay), &Timer->Dpc);
}

VOID NTAPI
NdisMSetPeriodicTimer(PNDIS_MINIPORT_TIMER Timer, UINT MillisecondPeriod)
{
	LONG period =
	    MillisecondPeriod > INT32_MAX ? INT32_MAX : (LONG)MillisecondPeriod;

	(void)KeSetTimerEx(&Timer->Timer, ndis_relative_ms(MillisecondPeriod),
	    period, &Timer->Dpc);
}

VOID NTAPI
NdisMCancelTimer(PNDIS_MINIPORT_TIMER Timer, PBOOLEAN TimerCancelled)
{
	*TimerCancelled = KeCancelTimer(&Timer->Timer);
}

/* NDIS 6 timer objects. */

static VOID NTAPI
ndis_object_dpc(PKDPC Dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct nt_ndis_tobj *o = NT_CONTAINER(Dpc, struct nt_ndis_tobj, dpc);

	o->fn(Dpc, ctx, a1, a2);
	if (atomic_fetch_sub(&o->inflight, 1) == (NDIS_FREEING | 1)) {
		o->magic = 0;
		free(o);
	}
}

void
nt_ndis_run_captured(PKDPC dpc)
{
	if (dpc->DeferredRoutine == ndis_object_dpc) {
		struct nt_ndis_tobj *o =
		    NT_CONTAINER(dpc, struct nt_ndis_tobj, dpc);

		atomic_fetch_add(&o->inflight, 1);
	}
}

NDIS_STATUS NTAPI
NdisAllocateTimerObject(NDIS_HANDLE NdisHandle,
    PNDIS_TIMER_CHARACTERISTICS TimerCharacteristics, PNDIS_HANDLE pTimerObject)
{
	PNDIS_TIMER_CHARACTERISTICS ch = TimerCharacteristics;
	struct nt_ndis_tobj *o;
	unsigned b;

	if (ch == NULL || pTimerObject == NULL ||
	    ch->Header.Type != NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS ||
	    ch->Header.Revision < NDIS_TIMER_CHARACTERISTICS_REVISION_1 ||
	    ch->Header.Size < NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1 ||
	    ch->TimerFunction == NULL)
		return NDIS_STATUS_BAD_CHARACTERISTICS;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return NDIS_STATUS_RESOURCES;
	o->magic = NDIS_TOBJ_MAGIC;
	o->handle = NdisHandle;
	o->fn = ch->TimerFunction;
	o->default_ctx = ch->FunctionContext;
	atomic_init(&o->inflight, 0);
	KeInitializeTimerEx(&o->timer, NotificationTimer);
	KeInitializeDpc(&o->dpc, ndis_object_dpc, o->default_ctx);
	b = ndis_bucket(o);
	pthread_mutex_lock(&ndis_reg_lock);
	o->next = ndis_reg[b];
	ndis_reg[b] = o;
	pthread_mutex_unlock(&ndis_reg_lock);
	*pTimerObject = o;
	return NDIS_STATUS_SUCCESS;
}

BOOLEAN NTAPI
NdisSetTimerObject(NDIS_HANDLE TimerObject, LARGE_INTEGER DueTime,
    LONG MillisecondsPeriod, PVOID FunctionContext)
{
	struct nt_ndis_tobj *o = ndis_lookup(TimerObject, false);
	pthread_mutex_t *s;

	if (o == NULL) {
		co_misuse("NdisSetTimerObject", TimerObject,
		    "not a live timer object");
		return FALSE;
	}
	/* The context of this arming; captured with the DPC at expiry. */
	s = nt_stripe(&o->timer);
	pthread_mutex_lock(s);
	o->dpc.DeferredContext =
	    FunctionContext != NULL ? FunctionContext : o->default_ctx;
	pthread_mutex_unlock(s);
	return KeSetTimerEx(&o->timer, DueTime, MillisecondsPeriod, &o->dpc);
}

BOOLEAN NTAPI
NdisCancelTimerObject(NDIS_HANDLE TimerObject)
{
	struct nt_ndis_tobj *o = ndis_lookup(TimerObject, false);
	pthread_mutex_t *s;
	BOOLEAN was;
	bool periodic;

	if (o == NULL) {
		co_misuse("NdisCancelTimerObject", TimerObject,
		    "not a live timer object");
		return FALSE;
	}
	s = nt_stripe(&o->timer);
	pthread_mutex_lock(s);
	periodic = o->timer.Period != 0;
	pthread_mutex_unlock(s);
	if (periodic &&
	    (KeGetCurrentIrql() > PASSIVE_LEVEL || nt_ctx()->pushed)) {
		co_misuse("NdisCancelTimerObject", TimerObject,
		    "periodic timer cancelled above PASSIVE_LEVEL");
		return FALSE;
	}
	was = KeCancelTimer(&o->timer);
	if (periodic) {
		/* No expiry can follow the cancel; wait out the earlier ones. */
		KeFlushQueuedDpcs();
		while ((atomic_load(&o->inflight) & ~NDIS_FREEING) != 0)
			sched_yield();
	}
	return was;
}

VOID NTAPI
NdisFreeTimerObject(NDIS_HANDLE TimerObject)
{
	struct nt_ndis_tobj *o = ndis_lookup(TimerObject, true);

	if (o == NULL) {
		co_misuse("NdisFreeTimerObject", TimerObject,
		    "not a live timer object");
		return;
	}
	(void)KeCancelTimer(&o->timer);
	if ((atomic_fetch_or(&o->inflight, NDIS_FREEING) & ~NDIS_FREEING) ==
	    0) {
		o->magic = 0;
		free(o);
	}
}
