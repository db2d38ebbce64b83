/*
 * Emulated IRQL and spin locks.  Each emulated processor has one dispatch
 * lock: a thread at DISPATCH_LEVEL or above holds its processor's, so at
 * most one thread per processor is there at a time.  Lowering below
 * DISPATCH_LEVEL first runs, on the lowering thread, the DPCs and captured
 * timer DPC runs queued to the processor meanwhile.
 */
#include <sched.h>

#include "nt_impl.h"

bool
nt_cpu_claim_locked(struct nt_cpu *p, struct nt_ctx *c)
{
	if (p->owner != NULL)
		return false;
	p->owner = c;
	return true;
}

void
nt_cpu_acquire(struct nt_cpu *p, struct nt_ctx *c)
{
	unsigned depth = 0;
	bool released = false;

	pthread_mutex_lock(&p->lock);
	while (p->owner != NULL) {
		/* Never sleep on a processor while holding giant. */
		if (!released) {
			pthread_mutex_unlock(&p->lock);
			depth = co_giant_release_all();
			released = true;
			pthread_mutex_lock(&p->lock);
			continue;
		}
		pthread_cond_wait(&p->cv, &p->lock);
	}
	p->owner = c;
	pthread_mutex_unlock(&p->lock);
	if (released)
		co_giant_reacquire(depth);
}

/*
 * Run what waits for p, then give p up.  The caller owns p and is at
 * DISPATCH_LEVEL on it.  Checking for work and releasing happen under one
 * hold of p->lock, so nothing queued meanwhile is stranded.
 */
void
nt_cpu_release(struct nt_cpu *p, struct nt_ctx *c)
{
	(void)c;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct nt_run r;

		if (p->def_first != NULL) {
			struct nt_run *d = p->def_first;

			p->def_first = d->next;
			if (p->def_first == NULL)
				p->def_lastp = &p->def_first;
			pthread_mutex_unlock(&p->lock);
			r = *d;
			co_pool_return((struct co_pool_entry *)(void *)d);
			nt_run_call(&r);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		if (!nt_list_empty(&p->queue)) {
			LIST_ENTRY *le = p->queue.Flink;
			PKDPC d = NT_CONTAINER(le, KDPC, DpcListEntry);

			nt_list_remove(le);
			d->DpcData = NULL;
			r.routine = d->DeferredRoutine;
			r.ctx = d->DeferredContext;
			r.dpc = d;
			r.a1 = d->SystemArgument1;
			r.a2 = d->SystemArgument2;
			r.flags = d->EmulationFlags;
			pthread_mutex_unlock(&p->lock);
			nt_run_call(&r);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		break;
	}
	p->owner = NULL;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->lock);
}

KIRQL NTAPI
KeGetCurrentIrql(VOID)
{
	return nt_ctx()->irql;
}

VOID NTAPI
KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql)
{
	struct nt_ctx *c = nt_ctx();

	nt_clock();
	if (NewIrql < c->irql) {
		co_misuse("KeRaiseIrql", OldIrql, "new IRQL below the current");
		return;
	}
	if (OldIrql != NULL)
		*OldIrql = c->irql;
	if (c->irql < DISPATCH_LEVEL && NewIrql >= DISPATCH_LEVEL) {
		int cpu = nt_ctx_cpu(c);

		nt_cpu_acquire(&nt_g.cpus[cpu], c);
		c->cpu = cpu;
	}
	c->irql = NewIrql;
}

KIRQL NTAPI
KeRaiseIrqlToDpcLevel(VOID)
{
	KIRQL old = nt_ctx()->irql;

	if (old < DISPATCH_LEVEL)
		KeRaiseIrql(DISPATCH_LEVEL, &old);
	return old;
}

VOID NTAPI
KeLowerIrql(KIRQL NewIrql)
{
	struct nt_ctx *c = nt_ctx();

	if (NewIrql > c->irql) {
		co_misuse("KeLowerIrql", NULL, "new IRQL above the current");
		return;
	}
	if (c->irql >= DISPATCH_LEVEL && NewIrql < DISPATCH_LEVEL) {
		/* Pushed: a DPC run for another thread's processor; depth:
		 * a DPC run inline, on the caller's own context. */
		if (c->pushed || nt_dpc_depth > 0) {
			co_misuse("KeLowerIrql", NULL,
			    "lowering below DISPATCH_LEVEL inside a DPC");
			return;
		}
		c->irql = DISPATCH_LEVEL;
		nt_cpu_release(&nt_g.cpus[c->cpu], c);
	}
	c->irql = NewIrql;
}

VOID NTAPI
KeInitializeSpinLock(PKSPIN_LOCK SpinLock)
{
	__atomic_store_n(SpinLock, 0, __ATOMIC_RELEASE);
}

VOID NTAPI
KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
	if (nt_ctx()->irql < DISPATCH_LEVEL) {
		co_misuse("KeAcquireSpinLockAtDpcLevel", SpinLock,
		    "called below DISPATCH_LEVEL");
		return;
	}
	while (__atomic_exchange_n(SpinLock, 1, __ATOMIC_ACQUIRE) != 0)
		while (__atomic_load_n(SpinLock, __ATOMIC_RELAXED) != 0)
			sched_yield();
}

VOID NTAPI
KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
	if (__atomic_load_n(SpinLock, __ATOMIC_RELAXED) == 0) {
		co_misuse("KeReleaseSpinLockFromDpcLevel", SpinLock,
		    "spin lock not held");
		return;
	}
	__atomic_store_n(SpinLock, 0, __ATOMIC_RELEASE);
}

VOID NTAPI
KeAcquireSpinLock(PKSPIN_LOCK SpinLock, PKIRQL OldIrql)
{
	KIRQL old;

	KeRaiseIrql(DISPATCH_LEVEL, &old);
	KeAcquireSpinLockAtDpcLevel(SpinLock);
	*OldIrql = old;
}

KIRQL NTAPI
KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
	KIRQL old;

	KeAcquireSpinLock(SpinLock, &old);
	return old;
}

VOID NTAPI
KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
	KeReleaseSpinLockFromDpcLevel(SpinLock);
	KeLowerIrql(NewIrql);
}
