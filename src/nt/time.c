/*
 * NT time on a libcallout clock (nt.md section 2).  Interrupt time is the
 * time since the clock's tick start_ticks in 100 ns units; system time is
 * system_time_at_start plus that.  On a virtual clock both are exact
 * multiples of the tick and move only with advance.  Due times become
 * ticks by rounding up from the exact present, so nothing fires early;
 * all arithmetic is done in 128 bits and saturates to 64.
 */
#include <time.h>

#include "nt_impl.h"

#define NT_UNITS_PER_SEC 10000000u /* 100 ns units */

typedef unsigned __int128 nt_u128;

static uint64_t
nt_sat64(nt_u128 v)
{
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static nt_u128
nt_ceil_div(nt_u128 a, nt_u128 b)
{
	return (a + b - 1) / b;
}

/*
 * Ticks since start_ticks, and the exact time into them in ns.  128 bits:
 * 64 bits of ns last only 584 years, far less than a virtual clock's tick
 * range, and a saturated present made future due times look past.
 */
static nt_u128
nt_elapsed_ns(struct callout_clock *clk, uint64_t *rel_tick)
{
	uint64_t now = co_clock_now(clk);

	*rel_tick = now - clk->start_ticks;
	if (clk->mode == CALLOUT_CLOCK_VIRTUAL)
		return (nt_u128)*rel_tick * 1000000000u / (unsigned)clk->hz;

	struct timespec ts;
	int64_t sec, nsec;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sec = ts.tv_sec - clk->mono_start.tv_sec;
	nsec = ts.tv_nsec - clk->mono_start.tv_nsec;
	if (sec < 0 || (sec == 0 && nsec < 0))
		return 0;
	return (uint64_t)sec * 1000000000u + (uint64_t)(nsec);
}

uint64_t
nt_interrupt_time(struct callout_clock *clk)
{
	uint64_t rel;

	return nt_sat64(nt_elapsed_ns(clk, &rel) / 100);
}

int64_t
nt_system_time(struct callout_clock *clk)
{
	uint64_t it = nt_interrupt_time(clk);
	int64_t st = clk->system_time_at_start;

	return it > (uint64_t)(INT64_MAX - st) ? INT64_MAX : st + (int64_t)it;
}

uint64_t
nt_tick_interrupt_time(struct callout_clock *clk, uint64_t tick)
{
	uint64_t rel = tick > clk->start_ticks ? tick - clk->start_ticks : 0;

	return nt_sat64((nt_u128)rel * NT_UNITS_PER_SEC / (unsigned)clk->hz);
}

static uint64_t
nt_abs_tick(struct callout_clock *clk, nt_u128 rel)
{
	uint64_t r = nt_sat64(rel);

	return co_tick_add(clk->start_ticks, r);
}

uint64_t
nt_due_tick(struct callout_clock *clk, LONGLONG due, bool *past)
{
	unsigned hz = (unsigned)clk->hz;
	uint64_t rel_now;
	nt_u128 ns = nt_elapsed_ns(clk, &rel_now);

	*past = false;
	if (due >= 0) {
		/* Absolute: the time since the clock's start it names. */
		int64_t st = clk->system_time_at_start;
		nt_u128 t;

		if (due <= st) {
			*past = true;
			return co_tick_add(clk->start_ticks, rel_now);
		}
		t = (nt_u128)(uint64_t)(due - st); /* 100 ns since start */
		if (t * 100 <= ns) {
			*past = true;
			return co_tick_add(clk->start_ticks, rel_now);
		}
		return nt_abs_tick(clk, nt_ceil_div(t * hz, NT_UNITS_PER_SEC));
	}
	/* Relative: |due| from the exact present. */
	nt_u128 d = (nt_u128)(-(due + 1)) + 1;

	if (clk->mode == CALLOUT_CLOCK_VIRTUAL)
		return nt_abs_tick(clk,
		    (nt_u128)rel_now + nt_ceil_div(d * hz, NT_UNITS_PER_SEC));
	return nt_abs_tick(
	    clk, nt_ceil_div(((nt_u128)ns + d * 100) * hz, 1000000000u));
}

uint64_t
nt_period_ticks(struct callout_clock *clk, LONG ms)
{
	if (ms <= 0)
		return 0;
	return nt_sat64(
	    nt_ceil_div((nt_u128)(uint32_t)ms * 10000u * (unsigned)clk->hz,
		NT_UNITS_PER_SEC));
}

VOID NTAPI
KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
	CurrentTime->QuadPart = nt_system_time(nt_clock());
}

ULONGLONG NTAPI
KeQueryInterruptTime(VOID)
{
	return nt_interrupt_time(nt_clock());
}

VOID NTAPI
KeQueryTickCount(PLARGE_INTEGER TickCount)
{
	struct callout_clock *clk = nt_clock();

	TickCount->QuadPart = (LONGLONG)(co_clock_now(clk) - clk->start_ticks);
}

ULONG NTAPI
KeQueryTimeIncrement(VOID)
{
	struct callout_clock *clk = nt_clock();

	return (ULONG)((NT_UNITS_PER_SEC + (unsigned)clk->hz / 2) /
	    (unsigned)clk->hz);
}
