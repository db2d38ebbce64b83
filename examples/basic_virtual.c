/*
 * callout(9) basics on a virtual clock: arm, re-arm from a handler, stop,
 * and watch what fires at which tick.  Time moves only when the program
 * says so, so the output is the same on every machine.
 */
#include <stdio.h>

#include <callout.h>

static struct callout_clock *clk;

struct heartbeat {
	callout_t co;
	const char *name;
	int period;
	int beats;
};

static void
heartbeat_fn(void *arg)
{
	struct heartbeat *h = arg;

	printf("tick %4llu: %s beat %d\n",
	    (unsigned long long)callout_clock_ticks(clk), h->name, ++h->beats);
	if (h->beats < 3)
		callout_schedule(
		    &h->co, h->period); /* re-arm from the handler */
}

static void
once_fn(void *arg)
{
	printf("tick %4llu: %s\n", (unsigned long long)callout_clock_ticks(clk),
	    (const char *)arg);
}

int
main(void)
{
	struct callout_clock_params p;
	struct heartbeat fast = { .name = "fast", .period = 10 };
	struct heartbeat slow = { .name = "slow", .period = 250 };
	callout_t once, never;

	callout_clock_params_init(&p); /* virtual, hz 1000 */
	clk = callout_clock_create(&p);

	callout_init_clock(&fast.co, clk, CALLOUT_MPSAFE);
	callout_init_clock(&slow.co, clk, CALLOUT_MPSAFE);
	callout_init_clock(&once, clk, CALLOUT_MPSAFE);
	callout_init_clock(&never, clk, CALLOUT_MPSAFE);

	callout_reset(&fast.co, fast.period, heartbeat_fn, &fast);
	callout_reset(&slow.co, slow.period, heartbeat_fn, &slow);
	callout_reset(&once, 100, once_fn, "one-shot after 100 ticks");
	callout_reset(&never, 50, once_fn, "this never prints");
	printf("stop of a pending callout returns %d (it had not fired)\n",
	    callout_stop(&never));

	callout_clock_advance(clk, 1000); /* one simulated second */
	bool expired = callout_expired(&once);
	printf("after one second: once expired %d, stop returns %d\n", expired,
	    callout_stop(&once));

	struct callout_counters k;
	callout_clock_counters(clk, &k);
	printf("armed %llu = fired %llu + stopped %llu\n",
	    (unsigned long long)k.armed, (unsigned long long)k.fired,
	    (unsigned long long)k.stopped);

	callout_destroy(&fast.co);
	callout_destroy(&slow.co);
	callout_destroy(&once);
	callout_destroy(&never);
	callout_clock_destroy(clk);
	return k.armed == k.fired + k.stopped ? 0 : 1;
}
