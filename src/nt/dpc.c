/*
 * DPCs: the per-processor queues (High importance at the head, Medium and
 * Low at the tail), insertion and removal, KeFlushQueuedDpcs, the tick
 * hook that runs a processor's queue when its dispatch lock is free (a
 * threaded or external clock's dispatcher is kicked to run it soon),
 * and the timer DPC runs captured at expiry (nt.md section 3, step 5).
 */
#include <stdlib.h>

#include "nt_impl.h"

/*
 * KeInitializeDpc looks at the DpcData of a KDPC that may never have been
 * initialised, to catch the re-initialisation of a queued DPC; the value
 * only counts when it points into the processor table.  Memcheck must be
 * told that this read is deliberate.
 */
#if defined(__has_include) && !defined(CALLOUT_NO_VALGRIND)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define NT_DEFINED(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#endif
#endif
#ifndef NT_DEFINED
#define NT_DEFINED(p, n) ((void)(p), (void)(n))
#endif

_Static_assert(sizeof(struct nt_run) <= sizeof(struct co_callout),
    "a deferred run fits in a lent pool entry's callout");

static char nt_run_owner;

static struct nt_cpu *
nt_cpu_of_data(PVOID data)
{
	uintptr_t a = (uintptr_t)data, base = (uintptr_t)nt_g.cpus;

	if (a < base ||
	    a >= base + (uintptr_t)nt_g.ncpu * sizeof(struct nt_cpu))
		return NULL;
	if ((a - base) % sizeof(struct nt_cpu) != 0)
		return NULL;
	return (struct nt_cpu *)data;
}

_Thread_local unsigned nt_dpc_depth;

void
nt_run_call(const struct nt_run *r)
{
	if (r->routine == NULL) {
		co_misuse("DPC", r->dpc, "queued DPC has a NULL routine");
		return;
	}
	nt_dpc_depth++;
	if (r->flags & NT_DPC_NDIS_FN)
		((PNDIS_TIMER_FUNCTION)r->routine)(
		    r->dpc, r->ctx, r->a1, r->a2);
	else
		r->routine(r->dpc, r->ctx, r->a1, r->a2);
	nt_dpc_depth--;
}

void
nt_run_capture(struct nt_run *r, PKDPC dpc, uint64_t systime)
{
	r->routine = dpc->DeferredRoutine;
	r->ctx = dpc->DeferredContext;
	r->dpc = dpc;
	r->a1 = (PVOID)(uintptr_t)(uint32_t)systime;
	r->a2 = (PVOID)(uintptr_t)(uint32_t)(systime >> 32);
	r->flags = dpc->EmulationFlags;
	r->next = NULL;
	nt_ndis_run_captured(dpc);
}

bool
nt_run_announce(struct nt_cpu *p, struct nt_ctx *c)
{
	bool mine;

	pthread_mutex_lock(&p->lock);
	mine = nt_cpu_claim_locked(p, c);
	if (!mine)
		p->inflight++;
	pthread_mutex_unlock(&p->lock);
	return mine;
}

void
nt_run_on(struct nt_cpu *p, struct nt_ctx *c, const struct nt_run *r)
{
	KIRQL irql = c->irql;
	int cpu = c->cpu;

	c->irql = DISPATCH_LEVEL;
	c->cpu = p->index;
	if (r != NULL)
		nt_run_call(r);
	nt_cpu_release(p, c);
	c->irql = irql;
	c->cpu = cpu;
}

static void
nt_inflight_done_locked(struct nt_cpu *p)
{
	if (--p->inflight == 0)
		pthread_cond_broadcast(&p->cv);
}

/*
 * An announced run: wait for p (a caller below DISPATCH_LEVEL, whose DPC
 * must run before it returns), or give the run to whoever holds p.
 */
void
nt_run_finish(
    struct nt_cpu *p, struct nt_ctx *c, const struct nt_run *r, bool may_block)
{
	struct co_pool_entry *e;
	struct nt_run *d;

	if (may_block) {
		unsigned depth = co_giant_release_all();

		pthread_mutex_lock(&p->lock);
		while (p->owner != NULL)
			pthread_cond_wait(&p->cv, &p->lock);
		p->owner = c;
		nt_inflight_done_locked(p);
		pthread_mutex_unlock(&p->lock);
		co_giant_reacquire(depth);
		nt_run_on(p, c, r);
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (nt_cpu_claim_locked(p, c)) {
		nt_inflight_done_locked(p);
		pthread_mutex_unlock(&p->lock);
		nt_run_on(p, c, r);
		return;
	}
	pthread_mutex_unlock(&p->lock);
	e = co_pool_lend(&nt_run_owner, false);
	if (e == NULL)
		co_fatal("DPC", r->dpc, "out of memory for a timer DPC run");
	d = (struct nt_run *)(void *)&e->co;
	*d = *r;
	d->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (nt_cpu_claim_locked(p, c)) {
		/* The holder left meanwhile: run it here. */
		nt_inflight_done_locked(p);
		pthread_mutex_unlock(&p->lock);
		co_pool_return(e);
		nt_run_on(p, c, r);
		return;
	}
	*p->def_lastp = d;
	p->def_lastp = &d->next;
	nt_inflight_done_locked(p);
	pthread_mutex_unlock(&p->lock);
}

/*
 * Run p's queue on this thread if p's dispatch lock is free (the holder
 * runs it when it lowers otherwise).  Returns how many routines ran,
 * roughly: the count of items present when it started.
 */
static unsigned
nt_cpu_run_queue(struct nt_cpu *p)
{
	struct nt_ctx c;
	unsigned n = 0;
	bool mine = false;

	nt_ctx_push(&c, p->index, PASSIVE_LEVEL);
	pthread_mutex_lock(&p->lock);
	if (!nt_list_empty(&p->queue) || p->def_first != NULL) {
		for (LIST_ENTRY *le = p->queue.Flink; le != &p->queue;
		     le = le->Flink)
			n++;
		for (struct nt_run *d = p->def_first; d != NULL; d = d->next)
			n++;
		mine = nt_cpu_claim_locked(p, &c);
	}
	pthread_mutex_unlock(&p->lock);
	if (mine)
		nt_run_on(p, &c, NULL);
	nt_ctx_pop(&c);
	return mine ? n : 0;
}

unsigned
nt_tick_hook(struct callout_clock *clk, int cpu, void *ctx)
{
	(void)clk;
	(void)ctx;
	if (cpu < 0 || cpu >= nt_g.ncpu)
		return 0;
	return nt_cpu_run_queue(&nt_g.cpus[cpu]);
}

/*
 * Make p's dispatcher look at its queue soon.  A virtual clock needs no
 * kick: its queues run at the next advance or flush.
 */
static void
nt_kick(struct nt_cpu *p)
{
	co_clock_kick_hooks(nt_g.clk, p->index);
}

static void
nt_count_coalesced(void)
{
	struct co_queue *q = &nt_g.clk->queues[0];

	co_queue_lock(q);
	q->counters.dpcs_coalesced++;
	co_queue_unlock(q);
}

BOOLEAN
nt_dpc_insert(PRKDPC dpc, PVOID a1, PVOID a2, bool from_timer)
{
	struct nt_ctx *c = nt_ctx();
	int cur = nt_ctx_cpu(c);
	int target = dpc->Number >= 64 ? dpc->Number - 64 : cur;
	struct nt_cpu *p;

	if (target >= nt_g.ncpu) {
		co_misuse(
		    "KeInsertQueueDpc", dpc, "target processor out of range");
		return FALSE;
	}
	p = &nt_g.cpus[target];
	pthread_mutex_lock(&p->lock);
	if (dpc->DpcData != NULL) {
		pthread_mutex_unlock(&p->lock);
		if (from_timer)
			nt_count_coalesced();
		return FALSE;
	}
	dpc->SystemArgument1 = a1;
	dpc->SystemArgument2 = a2;
	if (dpc->Importance == HighImportance)
		nt_list_insert_head(&p->queue, &dpc->DpcListEntry);
	else
		nt_list_insert_tail(&p->queue, &dpc->DpcListEntry);
	dpc->DpcData = p;
	pthread_mutex_unlock(&p->lock);

	if (target == cur && c->irql < DISPATCH_LEVEL && !c->pushed) {
		/* Below DISPATCH_LEVEL on its own processor: run it now. */
		nt_cpu_acquire(p, c);
		nt_run_on(p, c, NULL);
	} else if (target != cur) {
		nt_kick(p);
	}
	return TRUE;
}

VOID NTAPI
KeInitializeDpc(
    PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
	struct nt_cpu *p;
	PVOID old_data = Dpc->DpcData;

	nt_clock();
	NT_DEFINED(&old_data, sizeof(old_data));
	if ((p = nt_cpu_of_data(old_data)) != NULL) {
		bool queued = false;

		pthread_mutex_lock(&p->lock);
		for (LIST_ENTRY *le = p->queue.Flink; le != &p->queue;
		     le = le->Flink)
			if (le == &Dpc->DpcListEntry)
				queued = true;
		pthread_mutex_unlock(&p->lock);
		if (queued) {
			co_misuse("KeInitializeDpc", Dpc, "DPC is queued");
			return;
		}
	}
	Dpc->Type = DpcObject;
	Dpc->Importance = MediumImportance;
	Dpc->Number = 0;
	Dpc->EmulationFlags = 0;
	Dpc->DpcListEntry.Flink = Dpc->DpcListEntry.Blink = NULL;
	Dpc->DeferredRoutine = DeferredRoutine;
	Dpc->DeferredContext = DeferredContext;
	Dpc->DpcData = NULL;
}

BOOLEAN NTAPI
KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
	nt_clock();
	return nt_dpc_insert(Dpc, SystemArgument1, SystemArgument2, false);
}

BOOLEAN NTAPI
KeRemoveQueueDpc(PRKDPC Dpc)
{
	struct nt_cpu *p;
	BOOLEAN removed = FALSE;

	nt_clock();
	if ((p = nt_cpu_of_data(Dpc->DpcData)) == NULL)
		return FALSE;
	pthread_mutex_lock(&p->lock);
	if (Dpc->DpcData == p) {
		nt_list_remove(&Dpc->DpcListEntry);
		Dpc->DpcData = NULL;
		removed = TRUE;
	}
	pthread_mutex_unlock(&p->lock);
	return removed;
}

VOID NTAPI
KeFlushQueuedDpcs(VOID)
{
	struct nt_ctx *c = nt_ctx();
	unsigned depth;

	nt_clock();
	if (c->irql > PASSIVE_LEVEL || c->pushed) {
		co_misuse(
		    "KeFlushQueuedDpcs", NULL, "called above PASSIVE_LEVEL");
		return;
	}
	depth = co_giant_release_all();
	for (int i = 0; i < nt_g.ncpu; i++) {
		struct nt_cpu *p = &nt_g.cpus[i];
		struct nt_ctx pc;

		nt_ctx_push(&pc, i, PASSIVE_LEVEL);
		pthread_mutex_lock(&p->lock);
		while (p->owner != NULL || p->inflight > 0)
			pthread_cond_wait(&p->cv, &p->lock);
		p->owner = &pc;
		pthread_mutex_unlock(&p->lock);
		nt_run_on(p, &pc, NULL);
		nt_ctx_pop(&pc);
	}
	co_giant_reacquire(depth);
}

VOID NTAPI
KeSetImportanceDpc(PRKDPC Dpc, KDPC_IMPORTANCE Importance)
{
	if ((unsigned)Importance > HighImportance) {
		co_misuse("KeSetImportanceDpc", Dpc, "unknown importance");
		return;
	}
	Dpc->Importance = (UCHAR)Importance;
}

VOID NTAPI
KeSetTargetProcessorDpc(PRKDPC Dpc, CCHAR Number)
{
	nt_clock();
	if (Number < 0 || Number >= nt_g.ncpu) {
		co_misuse("KeSetTargetProcessorDpc", Dpc,
		    "processor number out of range");
		return;
	}
	Dpc->Number = (USHORT)(Number + 64);
}

ULONG NTAPI
KeGetCurrentProcessorNumber(VOID)
{
	nt_clock();
	return (ULONG)nt_ctx_cpu(nt_ctx());
}

ULONG NTAPI
KeQueryActiveProcessorCount(KAFFINITY *ActiveProcessors)
{
	nt_clock();
	if (ActiveProcessors != NULL)
		*ActiveProcessors = nt_g.ncpu >= 64
		    ? ~(KAFFINITY)0
		    : ((KAFFINITY)1 << nt_g.ncpu) - 1;
	return (ULONG)nt_g.ncpu;
}
