/*
 * Internal view of the NT emulation: the clock it is bound to, the
 * emulated processors (one per dispatcher) with their dispatch locks and
 * DPC queues, the per-thread IRQL context, the striped object locks, and
 * the time conversions.  Shared by the files of src/nt only.  The design is in the
 * comment at the top of timer.c.
 */
#ifndef CALLOUT_SRC_NT_IMPL_H
#define CALLOUT_SRC_NT_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <callout/ndis.h>
#include <callout/ntoskrnl.h>

#include "../callout_impl.h"
#include "../clock.h"
#include "../misuse.h"
#include "../pool.h"

/* KDPC.EmulationFlags. */
#define NT_DPC_NDIS_FN 0x1u /* DeferredRoutine is a PNDIS_TIMER_FUNCTION */

/*
 * A DPC call captured at a timer expiry and not queued (nt.md section 3,
 * step 5): on the stack when it runs at once, in a lent pool entry when it
 * waits for the thread holding its processor.
 */
struct nt_run {
	PKDEFERRED_ROUTINE routine;
	PVOID ctx;
	PKDPC dpc;
	PVOID a1, a2;   /* SystemArgument1/2 */
	uint32_t flags; /* KDPC.EmulationFlags at capture */
	struct nt_run *next;
};

/* An emulated processor. */
struct nt_cpu {
	pthread_mutex_t lock;     /* leaf: guards everything below */
	pthread_cond_t cv;        /* dispatch lock released, inflight fell */
	const void *owner;        /* context holding the dispatch lock */
	LIST_ENTRY queue;         /* queued KDPCs */
	struct nt_run *def_first; /* captured runs for the owner */
	struct nt_run **def_lastp;
	unsigned inflight; /* captured runs not yet claimed/deferred */
	int index;
};

struct nt_state {
	struct callout_clock *clk;
	int ncpu;
	struct nt_cpu *cpus;
};

extern struct nt_state nt_g;

/* Bind to the default clock at the first NT call; returns it. */
struct callout_clock *nt_clock(void);

/*
 * Per-thread execution context.  A thread has a base context; expiry
 * processing and DPC runs on behalf of a processor push a temporary one,
 * so that a thread already at DISPATCH_LEVEL (say, the one calling
 * advance) is not confused with the processor work done inside.
 */
struct nt_ctx {
	KIRQL irql;
	int cpu; /* valid while raised or pushed */
	bool pushed;
	struct nt_ctx *prev;
};

struct nt_ctx *nt_ctx(void);
int nt_ctx_cpu(struct nt_ctx *c); /* the current processor */
void nt_ctx_push(struct nt_ctx *c, int cpu, KIRQL irql);
void nt_ctx_pop(struct nt_ctx *c);

/* Dispatch locks (irql.c). */
void nt_cpu_acquire(struct nt_cpu *p, struct nt_ctx *c);
void nt_cpu_release(struct nt_cpu *p, struct nt_ctx *c);
bool nt_cpu_claim_locked(struct nt_cpu *p, struct nt_ctx *c);

/* DPC machinery (dpc.c). */
void nt_run_call(const struct nt_run *r);
/* DPC routines this thread is inside (nt_run_call), for KeLowerIrql. */
extern _Thread_local unsigned nt_dpc_depth;
void nt_run_capture(struct nt_run *r, PKDPC dpc, uint64_t systime);
/*
 * Hand a captured run to processor p: the caller holds its object stripe;
 * returns true if `c` now owns p's dispatch lock and must run r itself
 * (then nt_cpu_release), false if the run was announced (p->inflight) and
 * nt_run_finish must be called after the stripe is dropped.
 */
bool nt_run_announce(struct nt_cpu *p, struct nt_ctx *c);
void nt_run_finish(
    struct nt_cpu *p, struct nt_ctx *c, const struct nt_run *r, bool may_block);
/* Run r on p, which c owns, then release p (c is restored after). */
void nt_run_on(struct nt_cpu *p, struct nt_ctx *c, const struct nt_run *r);
BOOLEAN nt_dpc_insert(PRKDPC dpc, PVOID a1, PVOID a2, bool from_timer);
unsigned nt_tick_hook(struct callout_clock *clk, int cpu, void *ctx);

/* Striped locks for dispatcher objects (timers, events), by address. */
#define NT_NSTRIPES 256
extern pthread_mutex_t nt_stripes[NT_NSTRIPES];

static inline unsigned
nt_stripe_index(const void *obj)
{
	uintptr_t a = (uintptr_t)obj >> 3;

	a ^= a >> 9;
	a *= 0x9E3779B97F4A7C15ull;
	return (unsigned)(a >> 56) & (NT_NSTRIPES - 1);
}

static inline pthread_mutex_t *
nt_stripe(const void *obj)
{
	return &nt_stripes[nt_stripe_index(obj)];
}

/* Time (time.c).  Interrupt times in 100 ns since the clock's start. */
uint64_t nt_interrupt_time(struct callout_clock *clk);
int64_t nt_system_time(struct callout_clock *clk);
/*
 * The tick a due time expires at (absolute, saturated); *past is set when
 * an absolute due time is not in the future.
 */
uint64_t nt_due_tick(struct callout_clock *clk, LONGLONG due, bool *past);
uint64_t nt_period_ticks(struct callout_clock *clk, LONG ms);
uint64_t nt_tick_interrupt_time(struct callout_clock *clk, uint64_t tick);

/* Waits (wait.c): release the waiters the object's new signal allows. */
void nt_signal_locked(DISPATCHER_HEADER *h);

static inline bool
nt_header_sync(const DISPATCHER_HEADER *h)
{
	return (h->Type & 7) == 1; /* 1 sync event, 9 sync timer */
}

static inline void
nt_list_init(LIST_ENTRY *head)
{
	head->Flink = head->Blink = head;
}

static inline bool
nt_list_empty(const LIST_ENTRY *head)
{
	return head->Flink == head;
}

static inline void
nt_list_insert_tail(LIST_ENTRY *head, LIST_ENTRY *e)
{
	e->Flink = head;
	e->Blink = head->Blink;
	head->Blink->Flink = e;
	head->Blink = e;
}

static inline void
nt_list_insert_head(LIST_ENTRY *head, LIST_ENTRY *e)
{
	e->Blink = head;
	e->Flink = head->Flink;
	head->Flink->Blink = e;
	head->Flink = e;
}

static inline void
nt_list_remove(LIST_ENTRY *e)
{
	e->Blink->Flink = e->Flink;
	e->Flink->Blink = e->Blink;
	e->Flink = e->Blink = NULL;
}

/* NDIS timer objects count their captured runs (ndis.c). */
void nt_ndis_run_captured(PKDPC dpc);

#define NT_CONTAINER(p, type, field) \
	((type *)(void *)((char *)(p)-offsetof(type, field)))

#endif /* !CALLOUT_SRC_NT_IMPL_H */
