/*
 * NDIS timer calls on the NT emulation: the NDIS 5 NDIS_TIMER and
 * NDIS_MINIPORT_TIMER with the Windows x64 layouts, the NDIS 6 timer
 * objects, and the minimal miniport handle they need.  Behaviour: nt.md
 * section 6 and ndis_timers(3).
 */
#ifndef CALLOUT_NDIS_H
#define CALLOUT_NDIS_H

#include <callout/clock.h>
#include <callout/ntoskrnl.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned int UINT;
typedef PVOID NDIS_HANDLE, *PNDIS_HANDLE;
typedef int32_t NDIS_STATUS, *PNDIS_STATUS;

#define NDIS_STATUS_SUCCESS ((NDIS_STATUS)0x00000000)
#define NDIS_STATUS_RESOURCES ((NDIS_STATUS)0xC000009A)
#define NDIS_STATUS_BAD_CHARACTERISTICS ((NDIS_STATUS)0xC0010005)

/* Timer functions have the DPC signature and run at DISPATCH_LEVEL. */
typedef VOID NTAPI NDIS_TIMER_FUNCTION(PVOID SystemSpecific1,
    PVOID FunctionContext, PVOID SystemSpecific2, PVOID SystemSpecific3);
typedef NDIS_TIMER_FUNCTION *PNDIS_TIMER_FUNCTION;

typedef struct _NDIS_TIMER {
	KTIMER Timer;
	KDPC Dpc;
} NDIS_TIMER, *PNDIS_TIMER;

/* The miniport behind an NDIS_HANDLE of NdisEmuCreateMiniport. */
typedef struct _NDIS_MINIPORT_BLOCK NDIS_MINIPORT_BLOCK, *PNDIS_MINIPORT_BLOCK;

typedef struct _NDIS_MINIPORT_TIMER {
	KTIMER Timer;
	KDPC Dpc;
	PNDIS_TIMER_FUNCTION MiniportTimerFunction;
	PVOID MiniportTimerContext;
	PNDIS_MINIPORT_BLOCK Miniport;
	struct _NDIS_MINIPORT_TIMER *NextDeferredTimer;
} NDIS_MINIPORT_TIMER, *PNDIS_MINIPORT_TIMER;

_Static_assert(sizeof(NDIS_TIMER) == 128, "NDIS_TIMER x64");
_Static_assert(offsetof(NDIS_TIMER, Timer) == 0, "NDIS_TIMER.Timer");
_Static_assert(offsetof(NDIS_TIMER, Dpc) == 64, "NDIS_TIMER.Dpc");
_Static_assert(sizeof(NDIS_MINIPORT_TIMER) == 160, "NDIS_MINIPORT_TIMER x64");
_Static_assert(offsetof(NDIS_MINIPORT_TIMER, Timer) == 0, "Timer");
_Static_assert(offsetof(NDIS_MINIPORT_TIMER, Dpc) == 64, "Dpc");
_Static_assert(offsetof(NDIS_MINIPORT_TIMER, MiniportTimerFunction) == 128,
    "MiniportTimerFunction");
_Static_assert(offsetof(NDIS_MINIPORT_TIMER, MiniportTimerContext) == 136,
    "MiniportTimerContext");
_Static_assert(offsetof(NDIS_MINIPORT_TIMER, Miniport) == 144, "Miniport");
_Static_assert(offsetof(NDIS_MINIPORT_TIMER, NextDeferredTimer) == 152,
    "NextDeferredTimer");

/* NDIS 6 timer objects. */
typedef struct _NDIS_OBJECT_HEADER {
	UCHAR Type;
	UCHAR Revision;
	USHORT Size;
} NDIS_OBJECT_HEADER, *PNDIS_OBJECT_HEADER;

#define NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS 0x97
#define NDIS_TIMER_CHARACTERISTICS_REVISION_1 1

typedef struct _NDIS_TIMER_CHARACTERISTICS {
	NDIS_OBJECT_HEADER Header;
	ULONG AllocationTag;
	PNDIS_TIMER_FUNCTION TimerFunction;
	PVOID FunctionContext;
} NDIS_TIMER_CHARACTERISTICS, *PNDIS_TIMER_CHARACTERISTICS;

#define NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1 \
	(offsetof(NDIS_TIMER_CHARACTERISTICS, FunctionContext) + sizeof(PVOID))

_Static_assert(sizeof(NDIS_OBJECT_HEADER) == 4, "NDIS_OBJECT_HEADER");
_Static_assert(
    sizeof(NDIS_TIMER_CHARACTERISTICS) == 24, "NDIS_TIMER_CHARACTERISTICS x64");
_Static_assert(
    offsetof(NDIS_TIMER_CHARACTERISTICS, TimerFunction) == 8, "TimerFunction");

/*
 * Emulation only (not NDIS): a miniport handle for the "M" calls and the
 * timer objects.  A serialised miniport runs its timer functions under one
 * spin lock, so they never overlap.
 */
NDIS_HANDLE NdisEmuCreateMiniport(const char *name, BOOLEAN serialized);
void NdisEmuDestroyMiniport(NDIS_HANDLE miniport);

/* NDIS 5. */
VOID NTAPI NdisInitializeTimer(PNDIS_TIMER Timer,
    PNDIS_TIMER_FUNCTION TimerFunction, PVOID FunctionContext);
VOID NTAPI NdisSetTimer(PNDIS_TIMER Timer, UINT MillisecondsToDelay);
VOID NTAPI NdisSetTimerEx(
    PNDIS_TIMER Timer, UINT MillisecondsToDelay, PVOID FunctionContext);
VOID NTAPI NdisCancelTimer(PNDIS_TIMER Timer, PBOOLEAN TimerCancelled);
VOID NTAPI NdisMInitializeTimer(PNDIS_MINIPORT_TIMER Timer,
    NDIS_HANDLE MiniportAdapterHandle, PNDIS_TIMER_FUNCTION TimerFunction,
    PVOID FunctionContext);
VOID NTAPI NdisMSetTimer(PNDIS_MINIPORT_TIMER Timer, UINT MillisecondsToDelay);
VOID NTAPI NdisMSetPeriodicTimer(
    PNDIS_MINIPORT_TIMER Timer, UINT MillisecondPeriod);
VOID NTAPI NdisMCancelTimer(
    PNDIS_MINIPORT_TIMER Timer, PBOOLEAN TimerCancelled);

/* NDIS 6. */
NDIS_STATUS NTAPI NdisAllocateTimerObject(NDIS_HANDLE NdisHandle,
    PNDIS_TIMER_CHARACTERISTICS TimerCharacteristics,
    PNDIS_HANDLE pTimerObject);
BOOLEAN NTAPI NdisSetTimerObject(NDIS_HANDLE TimerObject, LARGE_INTEGER DueTime,
    LONG MillisecondsPeriod, PVOID FunctionContext);
BOOLEAN NTAPI NdisCancelTimerObject(NDIS_HANDLE TimerObject);
VOID NTAPI NdisFreeTimerObject(NDIS_HANDLE TimerObject);

#ifdef __cplusplus
}
#endif

#endif /* !CALLOUT_NDIS_H */
