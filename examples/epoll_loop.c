/*
 * Embedding libcallout in an event loop: an external clock, its timerfd
 * in a plain epoll set beside the program's other descriptors, and
 * callout_clock_run whenever it is readable.  A heartbeat re-arms itself
 * every 100 ms; a one-shot ends the loop after half a second.
 *
 *	cc epoll_loop.c -lcallout -lpthread && ./a.out
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>

#include <callout.h>

static bool done;
static int beats;
static callout_t heartbeat, deadline;

static void
beat(void *arg)
{
	struct callout_clock *clk = arg;

	printf("beat %d at tick %llu\n", ++beats,
	    (unsigned long long)callout_clock_ticks(clk));
	callout_schedule(&heartbeat, callout_clock_hz(clk) / 10);
}

static void
stop_loop(void *arg)
{
	(void)arg;
	callout_stop(&heartbeat);
	done = true;
}

int
main(void)
{
	struct callout_clock_params p;
	struct callout_clock *clk;
	struct epoll_event ev = { .events = EPOLLIN };
	int ep;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_EXTERNAL;
	p.flags = CALLOUT_CLOCK_SINGLE_OWNER; /* this thread does everything */
	if ((clk = callout_clock_create(&p)) == NULL) {
		perror("callout_clock_create");
		return 1;
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("epoll_create1");
		return 1;
	}
	/* Level-triggered: readable while work is due, never read by us. */
	ev.data.ptr = clk;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, callout_clock_fd(clk), &ev) < 0) {
		perror("epoll_ctl");
		return 1;
	}

	callout_init_clock(&heartbeat, clk, CALLOUT_MPSAFE);
	callout_init_clock(&deadline, clk, CALLOUT_MPSAFE);
	callout_reset(&heartbeat, callout_clock_hz(clk) / 10, beat, clk);
	callout_reset(&deadline, callout_clock_hz(clk) / 2, stop_loop, NULL);

	while (!done) {
		struct epoll_event got;
		int n = epoll_wait(ep, &got, 1, -1);

		if (n < 0) {
			perror("epoll_wait");
			return 1;
		}
		/* Other descriptors of the program would be served here. */
		if (n == 1 && got.data.ptr == clk)
			callout_clock_run(clk);
	}
	printf("%d beats, next work in %lld ns (-1: none)\n", beats,
	    (long long)callout_clock_next_ns(clk));
	callout_destroy(&heartbeat);
	callout_destroy(&deadline);
	callout_clock_destroy(clk);
	return beats >= 4 ? 0 : 1;
}
