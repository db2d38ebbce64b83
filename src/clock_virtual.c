/*
 * The virtual clock: time moves only in callout_clock_advance, tick by
 * tick as far as handlers are concerned, but jumping over idle time in
 * O(levels): the loop visits only the ticks the wheel says may hold work.
 */
#include <callout/clock.h>

#include "callout_impl.h"
#include "misuse.h"

/* Enter the clock's single expiry-processing section, or report misuse. */
bool
co_clock_enter(struct callout_clock *clk, const char *call)
{
	bool busy;

	if (clk->locking)
		busy = atomic_exchange(&clk->advancing, true);
	else if ((busy = atomic_load_explicit(&clk->advancing,
		      memory_order_relaxed)) == false)
		atomic_store_explicit(&clk->advancing, true,
		    memory_order_relaxed);
	if (busy) {
		co_misuse(call, clk,
		    "called from a handler, or while another thread runs "
		    "the clock");
		return false;
	}
	clk->advancing_thread = pthread_self();
	return true;
}

void
co_clock_leave(struct callout_clock *clk)
{
	atomic_store_explicit(&clk->advancing, false, memory_order_release);
}

/* Upper-layer work (DPCs) after a tick's handlers, with no lock held. */
unsigned
co_clock_run_hooks(struct callout_clock *clk)
{
	unsigned ran = 0;

	if (clk->tick_hook == NULL)
		return 0;
	for (int cpu = 0; cpu < clk->ndisp; cpu++)
		ran += clk->tick_hook(clk, cpu, clk->tick_hook_ctx);
	return ran;
}

void
callout_clock_advance(struct callout_clock *clk, uint64_t nticks)
{
	struct co_queue *q;
	uint64_t target, t;

	if (clk == NULL || clk->mode != CALLOUT_CLOCK_VIRTUAL) {
		co_misuse("callout_clock_advance", clk, "not a virtual clock");
		return;
	}
	if (!co_clock_owner_ok(clk)) {
		co_misuse("callout_clock_advance", clk,
		    "single-owner clock used from another thread");
		return;
	}
	if (!co_clock_enter(clk, "callout_clock_advance"))
		return;
	q = &clk->queues[0];
	co_clock_run_hooks(clk); /* work already due (advance(0)) */
	co_queue_lock(q);
	target = co_tick_add(atomic_load_explicit(&clk->vnow,
				 memory_order_relaxed),
	    nticks);
	if (target > CO_TICK_LAST)
		target = CO_TICK_LAST;
	co_queue_dispatch(q);
	while (!wheel_empty(&q->wheel) &&
	    (t = wheel_next(&q->wheel)) <= target) {
		atomic_store_explicit(&clk->vnow, t, memory_order_relaxed);
		wheel_advance(&q->wheel, t, &q->expired);
		if (q->expired.first == NULL)
			continue; /* a coarse slot cascaded: look again */
		co_queue_dispatch(q);
		if (clk->tick_hook != NULL) {
			co_queue_unlock(q);
			co_clock_run_hooks(clk);
			co_queue_lock(q);
		}
	}
	atomic_store_explicit(&clk->vnow, target, memory_order_relaxed);
	wheel_advance(&q->wheel, target, &q->expired);
	co_queue_unlock(q);
	co_clock_leave(clk);
}
