/*
 * A threaded program: callouts on the default clock (threaded, one
 * dispatcher per CPU), a handler that re-arms itself, and callout_halt
 * with an interlock the handler also takes, the idiom for shutting a
 * periodic timer down safely.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include <callout.h>

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static int ticks_seen;
static callout_t poll_co;

static void
poll_fn(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&stats_lock);
	ticks_seen++;
	pthread_mutex_unlock(&stats_lock);
	callout_schedule(&poll_co, callout_hz() / 20); /* every 50 ms */
}

int
main(void)
{
	struct timespec pause = { 0, 500 * 1000 * 1000 };

	callout_init(&poll_co, CALLOUT_MPSAFE);
	callout_reset(&poll_co, 1, poll_fn, NULL);
	nanosleep(&pause, NULL);

	/* Halt with the lock held: it is dropped while the handler finishes. */
	pthread_mutex_lock(&stats_lock);
	callout_halt(&poll_co, &stats_lock);
	int seen = ticks_seen;
	pthread_mutex_unlock(&stats_lock);
	callout_destroy(&poll_co);

	printf(
	    "polled %d times in 0.5 s (about 10 on an idle machine)\n", seen);
	return seen >= 1 ? 0 : 1;
}
