/*
 * The threaded clock.  Each dispatcher is its own clock thread: it sleeps
 * on its queue until the start of the queue's next expiry, with absolute
 * CLOCK_MONOTONIC deadlines (so no drift), and is woken early only when an
 * arm files an earlier expiry there (co_queue_kick).  Tickless: an idle
 * clock costs nothing, and a busy one wakes once per distinct due tick,
 * or less when FreeBSD precision windows overlap.
 *
 * After a stall (the process stopped, a handler that blocked its
 * dispatcher) the queue catches up in one pass: every callout due by now
 * moves to the expired list once, in due-tick order, runs once, and the
 * late counters record how late.
 *
 * The wake-up and catch-up helpers are shared with the external clock.
 */
#include <errno.h>
#include <stdlib.h>

#include "callout_impl.h"

void
co_queue_collect(struct co_queue *q, uint64_t now)
{
	struct wheel *w = &q->wheel;
	uint64_t t;

	/* Tick by tick, as the virtual clock does: same order of handlers. */
	while ((t = wheel_next(w)) <= now)
		wheel_advance(w, t, &q->expired);
	if (now > w->now)
		wheel_advance(w, now, &q->expired);
}

/*
 * Levels whose slots the wake-up computation looks into: 0 and 1, which
 * hold what is due in the next 2^12 ticks (4 s at 1 kHz).  Beyond that a
 * wake-up for the cascade comes first anyway.
 */
#define WAKE_SCAN_LEVELS 2

/* Start of the first occupied slot at level `from` or above. */
static uint64_t
slots_next(const struct wheel *w, unsigned from)
{
	uint64_t levels = w->levels & (~0ull << from);
	unsigned l, shift, above;

	if (levels == 0)
		return WHEEL_NEVER;
	l = (unsigned)__builtin_ctzll(levels);
	shift = l * WHEEL_LEVEL_BITS;
	above = shift + WHEEL_LEVEL_BITS;
	return (above >= 64 ? 0 : (w->now >> above) << above) |
	    ((uint64_t)__builtin_ctzll(w->occupied[l]) << shift);
}

/*
 * Without precision windows the wake tick is the wheel's next expiry, a
 * lower bound at coarse levels (the wake-up then cascades and looks
 * again), unless `exact` asks for the true first expiry within the
 * scanned levels.  With windows, it is the earliest window end among the
 * callouts whose window has opened by then.  Slots are visited in time order (level 0's
 * in slot order, then level 1's: every timer of a level expires before
 * every timer of the next), while a slot starts no later than the best
 * end found so far; a slot's start bounds the due ticks in it, so no
 * callout whose window opens by the wake tick is missed.  Coarser levels
 * bound the result by their first slot's start.  Only callouts that this
 * wake-up will run, or that share its slots, are looked at.
 */
uint64_t
co_queue_wake_tick(struct co_queue *q, bool exact)
{
	const struct wheel *w = &q->wheel;
	uint64_t next = wheel_next(w), wake;

	if ((!q->has_slack && !exact) || next == WHEEL_NEVER) {
		if (next == WHEEL_NEVER && q->expired.first == NULL)
			q->has_slack = false;
		return next;
	}
	wake = slots_next(w, WAKE_SCAN_LEVELS);
	for (unsigned l = 0; l < WAKE_SCAN_LEVELS; l++) {
		unsigned shift = l * WHEEL_LEVEL_BITS;
		uint64_t base = (w->now >> (shift + WHEEL_LEVEL_BITS))
		    << (shift + WHEEL_LEVEL_BITS);

		for (uint64_t occ = w->occupied[l]; occ != 0; occ &= occ - 1) {
			unsigned s = (unsigned)__builtin_ctzll(occ);

			if ((base | ((uint64_t)s << shift)) > wake)
				return wake;
			for (const struct wheel_node *n = w->slot[l][s];
			     n != NULL; n = n->next) {
				uint64_t end = co_tick_add(n->expire,
				    co_from_node((struct wheel_node *)n)
					->slack);

				if (end < wake)
					wake = end;
			}
		}
	}
	return wake;
}

static void *
dispatcher_main(void *arg)
{
	struct co_queue *q = arg;
	struct callout_clock *clk = q->clk;

	co_home_set_self(clk, q->index);
	pthread_mutex_lock(&q->lock);
	while (!atomic_load(&clk->stopping)) {
		co_queue_collect(q, co_clock_now(clk));
		if (q->expired.first != NULL || q->hooks_due) {
			co_tick_hook_fn *hook;
			void *ctx;

			q->counters.wakeups++;
			q->hooks_due = false;
			co_queue_dispatch(q);
			hook = clk->tick_hook;
			ctx = clk->tick_hook_ctx;
			if (hook != NULL) {
				pthread_mutex_unlock(&q->lock);
				hook(clk, q->index, ctx);
				pthread_mutex_lock(&q->lock);
			}
			continue; /* handlers took time: look at the clock */
		}
		q->sleep_until = co_queue_wake_tick(q, false);
		if (q->sleep_until == WHEEL_NEVER) {
			pthread_cond_wait(&q->wake, &q->lock);
		} else {
			struct timespec ts = co_tick_start(clk, q->sleep_until);

			pthread_cond_timedwait(&q->wake, &q->lock, &ts);
		}
		q->sleep_until = 0; /* awake: arms need not signal */
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

void
co_queue_kick(struct co_queue *q, uint64_t expire)
{
	struct callout_clock *clk = q->clk;

	if (clk->mode == CALLOUT_CLOCK_EXTERNAL) {
		if (expire < q->sleep_until)
			co_external_rearm(clk);
		return;
	}
	/* A thread that is awake looks at the wheel before it sleeps. */
	if (expire < q->sleep_until)
		pthread_cond_signal(&q->wake);
}

void
co_clock_kick_hooks(struct callout_clock *clk, int cpu)
{
	struct co_queue *q;

	if (clk->mode == CALLOUT_CLOCK_VIRTUAL)
		return; /* the next advance runs them */
	q = co_queue_of_cpu(clk, cpu);
	co_queue_lock(q);
	if (!q->hooks_due) {
		q->hooks_due = true;
		if (clk->mode == CALLOUT_CLOCK_EXTERNAL)
			co_external_rearm(clk);
		else
			pthread_cond_signal(&q->wake);
	}
	co_queue_unlock(q);
}

bool
co_threaded_on_dispatcher(const struct callout_clock *clk)
{
	for (int i = 0; i < clk->nqueues; i++)
		if (clk->queues[i].thread_started &&
		    pthread_equal(clk->queues[i].thread, pthread_self()))
			return true;
	return false;
}

int
co_threaded_start(struct callout_clock *clk)
{
	for (int i = 0; i < clk->nqueues; i++) {
		struct co_queue *q = &clk->queues[i];
		int error;

		/* Set before the thread runs: it reads it unlocked. */
		q->thread_started = true;
		error = pthread_create(&q->thread, NULL, dispatcher_main, q);
		if (error != 0) {
			q->thread_started = false;
			co_threaded_stop(clk);
			return error;
		}
	}
	return 0;
}

void
co_threaded_stop(struct callout_clock *clk)
{
	atomic_store(&clk->stopping, true);
	for (int i = 0; i < clk->nqueues; i++) {
		struct co_queue *q = &clk->queues[i];

		if (!q->thread_started)
			continue;
		pthread_mutex_lock(&q->lock);
		pthread_cond_signal(&q->wake);
		pthread_mutex_unlock(&q->lock);
		pthread_join(q->thread, NULL);
		q->thread_started = false;
	}
}
