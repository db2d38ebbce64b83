/*
 * The threaded clock: one thread per dispatcher, each sleeping on its own
 * queue until the start of the queue's next expiry (absolute
 * CLOCK_MONOTONIC deadlines, so no drift), woken early only when an
 * earlier callout is armed there.  Tickless: an idle clock costs nothing.
 * After a stall the wheel catches up in one advance, every due callout
 * runs exactly once, and the late counter records by how much.
 */
#include <errno.h>
#include <stdlib.h>

#include "callout_impl.h"

static void *
dispatcher_main(void *arg)
{
	struct co_queue *q = arg;
	struct callout_clock *clk = q->clk;

	co_home_set_self(clk, q->index);
	pthread_mutex_lock(&q->lock);
	while (!atomic_load(&clk->stopping)) {
		uint64_t now = co_clock_now(clk);

		if (now > q->wheel.now)
			wheel_advance(&q->wheel, now, &q->expired);
		if (q->expired.first != NULL) {
			q->counters.wakeups++;
			co_queue_dispatch(q);
			if (clk->tick_hook != NULL) {
				pthread_mutex_unlock(&q->lock);
				clk->tick_hook(clk, q->index, clk->tick_hook_ctx);
				pthread_mutex_lock(&q->lock);
			}
			continue; /* handlers took time: look at the clock */
		}
		q->sleep_until = wheel_next(&q->wheel);
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

int
co_threaded_start(struct callout_clock *clk)
{
	for (int i = 0; i < clk->nqueues; i++) {
		struct co_queue *q = &clk->queues[i];
		int error = pthread_create(&q->thread, NULL, dispatcher_main, q);

		if (error != 0) {
			co_threaded_stop(clk);
			return error;
		}
		q->thread_started = true;
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
