/*
 * The external clock: no threads.  A timerfd, level-triggered from the
 * program's point of view, is armed for the start of the next due tick;
 * callout_clock_run runs what is due on the caller's thread and re-arms it.
 */
#include <errno.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "callout_impl.h"
#include "misuse.h"

int
co_external_start(struct callout_clock *clk)
{
	clk->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC);
	return clk->timerfd < 0 ? errno : 0;
}

void
co_external_stop(struct callout_clock *clk)
{
	if (clk->timerfd >= 0)
		close(clk->timerfd);
	clk->timerfd = -1;
}

/* Earliest tick with possible work, over all queues (locks each briefly). */
static uint64_t
external_next_tick(struct callout_clock *clk)
{
	uint64_t next = WHEEL_NEVER;

	for (int i = 0; i < clk->nqueues; i++) {
		struct co_queue *q = &clk->queues[i];
		uint64_t t;

		if (q->expired.first != NULL)
			t = q->wheel.now;
		else
			t = wheel_next(&q->wheel);
		if (t < next)
			next = t;
	}
	return next;
}

/*
 * Arm the timerfd for `next` (called with the queue lock held by arms, or
 * from run).  A deadline in the past makes it readable at once.
 */
static void
external_arm_fd(struct callout_clock *clk, uint64_t next)
{
	struct itimerspec its = { 0 };

	clk->queues[0].sleep_until = next;
	if (next != WHEEL_NEVER) {
		its.it_value = co_tick_start(clk, next);
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(clk->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

void
co_external_rearm(struct callout_clock *clk)
{
	/* Called under the one queue's lock: read its wheel directly. */
	external_arm_fd(clk, external_next_tick(clk));
}

int
callout_clock_fd(struct callout_clock *clk)
{
	if (clk == NULL || clk->mode != CALLOUT_CLOCK_EXTERNAL) {
		co_misuse("callout_clock_fd", clk, "not an external clock");
		return -1;
	}
	return clk->timerfd;
}

unsigned
callout_clock_run(struct callout_clock *clk)
{
	struct co_queue *q;
	unsigned ran = 0;
	uint64_t expirations;

	if (clk == NULL || clk->mode != CALLOUT_CLOCK_EXTERNAL) {
		co_misuse("callout_clock_run", clk, "not an external clock");
		return 0;
	}
	if (!co_clock_owner_ok(clk)) {
		co_misuse("callout_clock_run", clk,
		    "single-owner clock used from another thread");
		return 0;
	}
	if (!co_clock_enter(clk, "callout_clock_run"))
		return 0;
	q = &clk->queues[0];
	ran += co_clock_run_hooks(clk);
	co_queue_lock(q);
	/* Drain the fd's count; it is re-armed below for what is left. */
	while (read(clk->timerfd, &expirations, sizeof(expirations)) > 0)
		continue;
	for (;;) {
		uint64_t now = co_clock_now(clk);

		if (now > q->wheel.now)
			wheel_advance(&q->wheel, now, &q->expired);
		if (q->expired.first == NULL)
			break;
		q->counters.wakeups++;
		ran += co_queue_dispatch(q);
		co_queue_unlock(q);
		ran += co_clock_run_hooks(clk);
		co_queue_lock(q);
	}
	external_arm_fd(clk, external_next_tick(clk));
	co_queue_unlock(q);
	co_clock_leave(clk);
	return ran;
}

int64_t
callout_clock_next_ns(const struct callout_clock *clk)
{
	struct co_queue *q;
	uint64_t next;
	struct timespec now, at;

	if (clk == NULL || clk->mode != CALLOUT_CLOCK_EXTERNAL) {
		co_misuse("callout_clock_next_ns", clk, "not an external clock");
		return -1;
	}
	q = &clk->queues[0];
	co_queue_lock(q);
	next = external_next_tick((struct callout_clock *)clk);
	co_queue_unlock(q);
	if (next == WHEEL_NEVER)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	at = co_tick_start(clk, next);
	int64_t ns = (int64_t)(at.tv_sec - now.tv_sec) * 1000000000 +
	    (at.tv_nsec - now.tv_nsec);
	return ns < 0 ? 0 : ns;
}
