/*
 * The Windows NT kernel timer interface on libcallout: KTIMER, KDPC, KEVENT,
 * waits, emulated IRQL and spin locks, with the Windows x64 layouts, so that
 * driver code (or a PE loader's thunks) can use the objects as declared in
 * the DDK.  Behaviour: nt.md and ntoskrnl_timers(3).
 */
#ifndef CALLOUT_NTOSKRNL_H
#define CALLOUT_NTOSKRNL_H

#include <stddef.h>
#include <stdint.h>

#include <callout/clock.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Calling convention of every entry point and callback type.  Empty by
 * default; a library built with -DCALLOUT_NT_MSABI=ON defines
 * CALLOUT_NT_MSABI for itself and its users, so that PE code can call the
 * emulation and be called by it directly.
 */
#ifndef NTAPI
#ifdef CALLOUT_NT_MSABI
#define NTAPI __attribute__((ms_abi))
#else
#define NTAPI
#endif
#endif

/* Integer types with their Windows (LLP64) widths. */
#ifndef VOID
#define VOID void
#endif
typedef void *PVOID;
typedef char CCHAR;
typedef unsigned char UCHAR, *PUCHAR;
typedef unsigned char BOOLEAN, *PBOOLEAN;
typedef int16_t SHORT;
typedef uint16_t USHORT;
typedef int32_t LONG, *PLONG;
typedef uint32_t ULONG, *PULONG;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef uintptr_t ULONG_PTR, *PULONG_PTR;
typedef intptr_t LONG_PTR;
typedef ULONG_PTR KAFFINITY;
typedef int32_t NTSTATUS;
typedef UCHAR KIRQL, *PKIRQL;
typedef LONG KPRIORITY;
typedef CCHAR KPROCESSOR_MODE;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

typedef union _LARGE_INTEGER {
	struct {
		ULONG LowPart;
		LONG HighPart;
	};
	struct {
		ULONG LowPart;
		LONG HighPart;
	} u;
	LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
	struct {
		ULONG LowPart;
		ULONG HighPart;
	};
	struct {
		ULONG LowPart;
		ULONG HighPart;
	} u;
	ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

typedef struct _LIST_ENTRY {
	struct _LIST_ENTRY *Flink;
	struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

/* Status codes. */
#define STATUS_SUCCESS ((NTSTATUS)0x00000000)
#define STATUS_WAIT_0 ((NTSTATUS)0x00000000)
#define STATUS_TIMEOUT ((NTSTATUS)0x00000102)

/* Interrupt request levels (x64 values). */
#define PASSIVE_LEVEL 0
#define LOW_LEVEL 0
#define APC_LEVEL 1
#define DISPATCH_LEVEL 2
#define CLOCK_LEVEL 13
#define HIGH_LEVEL 15

/* Processor modes. */
#define KernelMode ((KPROCESSOR_MODE)0)
#define UserMode ((KPROCESSOR_MODE)1)

/* Waits: at most this many objects, and this many without a block array. */
#define MAXIMUM_WAIT_OBJECTS 64
#define THREAD_WAIT_OBJECTS 3

typedef enum _TIMER_TYPE {
	NotificationTimer = 0,
	SynchronizationTimer = 1
} TIMER_TYPE;

typedef enum _EVENT_TYPE {
	NotificationEvent = 0,
	SynchronizationEvent = 1
} EVENT_TYPE;

typedef enum _WAIT_TYPE { WaitAll = 0, WaitAny = 1 } WAIT_TYPE;

typedef enum _KDPC_IMPORTANCE {
	LowImportance = 0,
	MediumImportance = 1,
	HighImportance = 2
} KDPC_IMPORTANCE;

/* Accepted and ignored by the waits; the DDK's names. */
typedef enum _KWAIT_REASON {
	Executive = 0,
	FreePage,
	PageIn,
	PoolAllocation,
	DelayExecution,
	Suspended,
	UserRequest,
	WrExecutive
} KWAIT_REASON;

/* KOBJECTS values used in DISPATCHER_HEADER.Type and KDPC.Type. */
#define EventNotificationObject 0
#define EventSynchronizationObject 1
#define TimerNotificationObject 8
#define TimerSynchronizationObject 9
#define DpcObject 19

typedef struct _DISPATCHER_HEADER {
	UCHAR Type; /* 0/1 events, 8 + TIMER_TYPE timers */
	UCHAR Absolute;
	UCHAR Size;
	UCHAR Inserted; /* a timer: queued */
	LONG SignalState;
	LIST_ENTRY WaitListHead;
} DISPATCHER_HEADER, *PDISPATCHER_HEADER;

struct _KDPC;

typedef VOID NTAPI KDEFERRED_ROUTINE(struct _KDPC *Dpc, PVOID DeferredContext,
    PVOID SystemArgument1, PVOID SystemArgument2);
typedef KDEFERRED_ROUTINE *PKDEFERRED_ROUTINE;

/*
 * While a DPC is queued, DpcListEntry links it into its processor's queue
 * and DpcData names that processor; NULL means not queued.  The four bytes
 * after Number are padding on Windows; the emulation keeps private flags
 * there (set by KeInitializeDpc).
 */
typedef struct _KDPC {
	UCHAR Type;
	UCHAR Importance;
	volatile USHORT Number; /* 0: current processor, else 64 + n */
	ULONG EmulationFlags;
	LIST_ENTRY DpcListEntry;
	PKDEFERRED_ROUTINE DeferredRoutine;
	PVOID DeferredContext;
	PVOID SystemArgument1;
	PVOID SystemArgument2;
	volatile PVOID DpcData;
} KDPC, *PKDPC, *PRKDPC;

/*
 * TimerListEntry does not link the timer anywhere: while the timer holds a
 * pooled callout it names it (index, generation, check word), and the name
 * is trusted only after the pool confirms it, so garbage is harmless.
 */
typedef struct _KTIMER {
	DISPATCHER_HEADER Header;
	ULARGE_INTEGER DueTime; /* interrupt time of the expiry */
	LIST_ENTRY TimerListEntry;
	struct _KDPC *Dpc;
	ULONG Processor;
	LONG Period; /* milliseconds */
} KTIMER, *PKTIMER, *PRKTIMER;

typedef struct _KEVENT {
	DISPATCHER_HEADER Header;
} KEVENT, *PKEVENT, *PRKEVENT;

/* Space for the waits' bookkeeping; the emulation does not use it. */
typedef struct _KWAIT_BLOCK {
	LIST_ENTRY WaitListEntry;
	UCHAR WaitType;
	UCHAR BlockState;
	USHORT WaitKey;
	LONG SpareLong;
	PVOID Thread;
	PVOID Object;
	PVOID SparePtr;
} KWAIT_BLOCK, *PKWAIT_BLOCK;

typedef ULONG_PTR KSPIN_LOCK, *PKSPIN_LOCK;

_Static_assert(sizeof(LARGE_INTEGER) == 8, "LARGE_INTEGER is 8 bytes");
_Static_assert(sizeof(LIST_ENTRY) == 16, "LIST_ENTRY is 16 bytes");
_Static_assert(sizeof(DISPATCHER_HEADER) == 24, "DISPATCHER_HEADER x64");
_Static_assert(offsetof(DISPATCHER_HEADER, Type) == 0, "Header.Type");
_Static_assert(offsetof(DISPATCHER_HEADER, Inserted) == 3, "Inserted");
_Static_assert(offsetof(DISPATCHER_HEADER, SignalState) == 4, "SignalState");
_Static_assert(offsetof(DISPATCHER_HEADER, WaitListHead) == 8, "WaitList");
_Static_assert(sizeof(KTIMER) == 64, "KTIMER x64");
_Static_assert(offsetof(KTIMER, Header) == 0, "KTIMER.Header");
_Static_assert(offsetof(KTIMER, DueTime) == 24, "KTIMER.DueTime");
_Static_assert(offsetof(KTIMER, TimerListEntry) == 32, "TimerListEntry");
_Static_assert(offsetof(KTIMER, Dpc) == 48, "KTIMER.Dpc");
_Static_assert(offsetof(KTIMER, Processor) == 56, "KTIMER.Processor");
_Static_assert(offsetof(KTIMER, Period) == 60, "KTIMER.Period");
_Static_assert(sizeof(KDPC) == 64, "KDPC x64");
_Static_assert(offsetof(KDPC, Type) == 0, "KDPC.Type");
_Static_assert(offsetof(KDPC, Importance) == 1, "KDPC.Importance");
_Static_assert(offsetof(KDPC, Number) == 2, "KDPC.Number");
_Static_assert(offsetof(KDPC, DeferredRoutine) == 24, "DeferredRoutine");
_Static_assert(offsetof(KDPC, DeferredContext) == 32, "DeferredContext");
_Static_assert(offsetof(KDPC, SystemArgument1) == 40, "SystemArgument1");
_Static_assert(offsetof(KDPC, SystemArgument2) == 48, "SystemArgument2");
_Static_assert(offsetof(KDPC, DpcData) == 56, "KDPC.DpcData");
_Static_assert(sizeof(KEVENT) == 24, "KEVENT x64");
_Static_assert(offsetof(KEVENT, Header) == 0, "KEVENT.Header");
_Static_assert(sizeof(KWAIT_BLOCK) == 48, "KWAIT_BLOCK x64");
_Static_assert(sizeof(KSPIN_LOCK) == 8, "KSPIN_LOCK x64");

/* Time. */
VOID NTAPI KeQuerySystemTime(PLARGE_INTEGER CurrentTime);
ULONGLONG NTAPI KeQueryInterruptTime(VOID);
VOID NTAPI KeQueryTickCount(PLARGE_INTEGER TickCount);
ULONG NTAPI KeQueryTimeIncrement(VOID);

/* Timers. */
VOID NTAPI KeInitializeTimer(PKTIMER Timer);
VOID NTAPI KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type);
BOOLEAN NTAPI KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc);
BOOLEAN NTAPI KeSetTimerEx(
    PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc);
BOOLEAN NTAPI KeCancelTimer(PKTIMER Timer);
BOOLEAN NTAPI KeReadStateTimer(PKTIMER Timer);

/* DPCs. */
VOID NTAPI KeInitializeDpc(
    PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext);
BOOLEAN NTAPI KeInsertQueueDpc(
    PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2);
BOOLEAN NTAPI KeRemoveQueueDpc(PRKDPC Dpc);
VOID NTAPI KeFlushQueuedDpcs(VOID);
VOID NTAPI KeSetImportanceDpc(PRKDPC Dpc, KDPC_IMPORTANCE Importance);
VOID NTAPI KeSetTargetProcessorDpc(PRKDPC Dpc, CCHAR Number);
ULONG NTAPI KeGetCurrentProcessorNumber(VOID);
ULONG NTAPI KeQueryActiveProcessorCount(KAFFINITY *ActiveProcessors);

/* IRQL and spin locks. */
KIRQL NTAPI KeGetCurrentIrql(VOID);
VOID NTAPI KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql);
KIRQL NTAPI KeRaiseIrqlToDpcLevel(VOID);
VOID NTAPI KeLowerIrql(KIRQL NewIrql);
VOID NTAPI KeInitializeSpinLock(PKSPIN_LOCK SpinLock);
VOID NTAPI KeAcquireSpinLock(PKSPIN_LOCK SpinLock, PKIRQL OldIrql);
VOID NTAPI KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql);
KIRQL NTAPI KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock);
VOID NTAPI KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);
VOID NTAPI KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock);

/* Events. */
VOID NTAPI KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State);
LONG NTAPI KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait);
LONG NTAPI KeResetEvent(PRKEVENT Event);
VOID NTAPI KeClearEvent(PRKEVENT Event);
LONG NTAPI KeReadStateEvent(PRKEVENT Event);

/* Waits. */
NTSTATUS NTAPI KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason,
    KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout);
NTSTATUS NTAPI KeWaitForMultipleObjects(ULONG Count, PVOID Object[],
    WAIT_TYPE WaitType, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
    BOOLEAN Alertable, PLARGE_INTEGER Timeout, PKWAIT_BLOCK WaitBlockArray);
NTSTATUS NTAPI KeDelayExecutionThread(
    KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval);

#ifdef __cplusplus
}
#endif

#endif /* !CALLOUT_NTOSKRNL_H */
