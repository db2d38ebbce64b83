/*
 * The external clock: no threads.  A timerfd is armed (absolute,
 * CLOCK_MONOTONIC) for the start of the tick the clock must next wake at,
 * so it becomes readable when work is due and stays readable, level-
 * triggered, until callout_clock_run has run that work; the program only
 * polls it.  callout_clock_run runs what is due on the caller's thread
 * and re-arms the timerfd for what is left.  All dispatchers share queue
 * 0, so handlers run in the same order as on a virtual clock.
 */
#include <errno.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "callout_impl.h"
#include "misuse.h"

int
co_external_start(struct callout_clock *clk)
{
	clk->timerfd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	return clk->timerfd < 0 ? errno : 0;
}

void
co_external_stop(struct callout_clock *clk)
{
	if (clk->timerfd >= 0)
		close(clk->timerfd);
	clk->timerfd = -1;
}

/* The tick to wake at: the wheel's, or "now" when work is already due. */
static uint64_t
external_wake_tick(struct co_queue *q)
{
	if (q->expired.first != NULL || q->hooks_due)
		return q->wheel.now;
	return co_queue_wake_tick(q, true);
}

/*
 * Arm the timerfd for tick `wake` (queue 0 locked).  A deadline already
 * past makes it readable at once.
 */
static void
external_arm_fd(struct callout_clock *clk, uint64_t wake)
{
	struct itimerspec its = { 0 };

	clk->queues[0].sleep_until = wake;
	if (wake != WHEEL_NEVER) {
		its.it_value = co_tick_start(clk, wake);
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1; /* zero would disarm it */
	}
	timerfd_settime(clk->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/*
 * The work due changed outside callout_clock_run (queue 0 locked): an
 * earlier expiry, hooks to run, or the first one cancelled.  The timerfd
 * is only set again when its tick changes, since setting it also clears
 * its readability.
 */
void
co_external_rearm(struct callout_clock *clk)
{
	uint64_t wake = external_wake_tick(&clk->queues[0]);

	if (wake != clk->queues[0].sleep_until)
		external_arm_fd(clk, wake);
}

static bool
external_check(const struct callout_clock *clk, const char *call)
{
	if (clk == NULL || clk->mode != CALLOUT_CLOCK_EXTERNAL) {
		co_misuse(call, clk, "not an external clock");
		return false;
	}
	if (!co_clock_owner_ok(clk)) {
		co_misuse(
		    call, clk, "single-owner clock used from another thread");
		return false;
	}
	return true;
}

int
callout_clock_fd(struct callout_clock *clk)
{
	if (!external_check(clk, "callout_clock_fd"))
		return -1;
	return clk->timerfd;
}

unsigned
callout_clock_run(struct callout_clock *clk)
{
	struct co_queue *q;
	unsigned ran = 0;
	uint64_t expirations;

	if (!external_check(clk, "callout_clock_run"))
		return 0;
	if (!co_clock_enter(clk, "callout_clock_run"))
		return 0;
	q = &clk->queues[0];
	co_queue_lock(q);
	q->hooks_due = false;
	co_queue_unlock(q);
	ran += co_clock_run_hooks(clk);
	co_queue_lock(q);
	/* Handlers' arms need not touch the timerfd: it is set below. */
	q->sleep_until = 0;
	/* Consume the expiry so the fd is quiet until re-armed for later. */
	while (read(clk->timerfd, &expirations, sizeof(expirations)) > 0)
		continue;
	for (;;) {
		co_queue_collect(q, co_clock_now(clk));
		if (q->expired.first == NULL)
			break;
		q->counters.wakeups++;
		ran += co_queue_dispatch(q);
		co_queue_unlock(q);
		ran += co_clock_run_hooks(clk);
		co_queue_lock(q);
	}
	external_arm_fd(clk, external_wake_tick(q));
	co_queue_unlock(q);
	co_clock_leave(clk);
	return ran;
}

int64_t
callout_clock_next_ns(const struct callout_clock *clk)
{
	struct co_queue *q;
	uint64_t wake;
	struct timespec now, at;

	if (!external_check(clk, "callout_clock_next_ns"))
		return -1;
	q = (struct co_queue *)&clk->queues[0];
	co_queue_lock(q);
	wake = external_wake_tick(q);
	co_queue_unlock(q);
	if (wake == WHEEL_NEVER)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	at = co_tick_start(clk, wake);
	if (at.tv_sec - now.tv_sec > INT64_MAX / 1000000000 - 1)
		return INT64_MAX; /* saturate: parked "forever" */
	int64_t ns = (int64_t)(at.tv_sec - now.tv_sec) * 1000000000 +
	    (at.tv_nsec - now.tv_nsec);
	return ns < 0 ? 0 : ns;
}
