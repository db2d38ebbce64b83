/*
 * The virtual clock: time moves only in callout_clock_advance, tick by
 * tick as far as handlers are concerned, but jumping over idle time in
 * O(levels): the loop visits only the ticks the wheel says may hold work.
 */
#include <callout/clock.h>

#include "callout_impl.h"
#include "misuse.h"

/*
 * The clocks whose advance or run this thread is inside, innermost first,
 * chained through advancing_outer.  Per thread, so that asking "is it me?"
 * reads nothing another thread writes (a shared advancing_thread field
 * raced with the next advance's store, and a stale value could name the
 * asking thread).
 */
static _Thread_local struct callout_clock *co_advancing_here;

/* Enter the clock's single expiry-processing section, or report misuse. */
bool
co_clock_enter(struct callout_clock *clk, const char *call)
{
	bool busy;

	if (clk->locking)
		busy = atomic_exchange(&clk->advancing, true);
	else if ((busy = atomic_load_explicit(
		      &clk->advancing, memory_order_relaxed)) == false)
		atomic_store_explicit(
		    &clk->advancing, true, memory_order_relaxed);
	if (busy) {
		co_misuse(call, clk,
		    "called from a handler, or while another thread runs "
		    "the clock");
		return false;
	}
	clk->advancing_outer = co_advancing_here;
	co_advancing_here = clk;
	return true;
}

void
co_clock_leave(struct callout_clock *clk)
{
	co_advancing_here = clk->advancing_outer;
	atomic_store_explicit(&clk->advancing, false, memory_order_release);
}

bool
co_clock_advancing_here(const struct callout_clock *clk)
{
	for (const struct callout_clock *c = co_advancing_here; c != NULL;
	     c = c->advancing_outer)
		if (c == clk)
			return true;
	return false;
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
	target = co_tick_add(
	    atomic_load_explicit(&clk->vnow, memory_order_relaxed), nticks);
	if (target > CO_TICK_LAST)
		target = CO_TICK_LAST;
	co_queue_dispatch(q);
	while (
	    !wheel_empty(&q->wheel) && (t = wheel_next(&q->wheel)) <= target) {
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
