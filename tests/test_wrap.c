/*
 * callout_ticks() wraps like a 32-bit kernel's `ticks`: a clock that starts
 * just below the wrap (given as argv[1]) keeps working, and delays computed
 * from differences of callout_ticks() values fire exactly across it.
 */
#include <stdlib.h>

#define CALLOUT_KERNEL_NAMES
#include <callout.h>

#include "check.h"

static int fired_at[4];
static int nfired;

static void
note_fn(void *arg)
{
	(void)arg;
	fired_at[nfired++] = ticks;
}

/* Kernel idiom: "deadline - ticks" in int arithmetic, done wrap-safely. */
static int
ticks_until(int deadline)
{
	return (int)((unsigned)deadline - (unsigned)ticks);
}

static int
ticks_plus(int t, int n)
{
	return (int)((unsigned)t + (unsigned)n);
}

static void
delays_from_tick_differences_cross_the_wrap(void)
{
	callout_t c;
	int start = ticks;
	int deadline = ticks_plus(start, 100); /* beyond the wrap */

	callout_init(&c, CALLOUT_MPSAFE);
	callout_reset(&c, ticks_until(deadline), note_fn, NULL);
	callout_clock_advance(callout_clock_default(), 40);
	/* Re-arm from the remaining distance, as a kernel driver would. */
	callout_reset(&c, ticks_until(deadline), note_fn, NULL);
	callout_clock_advance(callout_clock_default(), 59);
	CHECK_EQ(nfired, 0);
	callout_clock_advance(callout_clock_default(), 1);
	CHECK_EQ(nfired, 1);
	CHECK_EQ(fired_at[0], deadline);
	CHECK_EQ(ticks_until(deadline), 0);
	CHECK((unsigned)ticks - (unsigned)start == 100);
	callout_destroy(&c);
}

static void
hz_and_ticks_macros_compile_unchanged(void)
{
	callout_t c;
	int last = ticks;

	callout_init(&c, CALLOUT_MPSAFE);
	callout_reset(&c, hz / 10, note_fn, NULL);
	callout_clock_advance(callout_clock_default(), (uint64_t)hz / 10);
	CHECK_EQ(nfired, 2);
	CHECK((unsigned)ticks - (unsigned)last == (unsigned)hz / 10);
	callout_destroy(&c);
}

int
main(int argc, char **argv)
{
	struct callout_clock_params p;
	uint64_t start = argc > 1 ? strtoull(argv[1], NULL, 0) : 0;

	callout_clock_params_init(&p);
	p.start_ticks = start - 50;
	struct callout_clock *clk = callout_clock_create(&p);
	CHECK(callout_clock_set_default(clk) == 0);
	CHECK_U64(callout_clock_ticks(clk), start - 50);
	RUN(delays_from_tick_differences_cross_the_wrap);
	RUN(hz_and_ticks_macros_compile_unchanged);
	callout_clock_destroy(clk);
	return check_finish();
}
