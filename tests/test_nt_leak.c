/*
 * Leak proof for NT timers: a million KTIMERs (times CALLOUT_TEST_SCALE)
 * in one malloc'ed array, never destroyed, armed, fired, cancelled and
 * re-initialised while armed, several rounds.  The pool's in-use count
 * returns to 0 after every round and its high-water mark stays at the
 * number armed at once; LeakSanitizer checks the rest at exit.
 */
#include <callout/ntoskrnl.h>
#include <callout/timeout.h>

#include "check.h"

static atomic_long fired;

static VOID NTAPI
count_dpc(PKDPC d, PVOID ctx, PVOID a1, PVOID a2)
{
	(void)d;
	(void)ctx;
	(void)a1;
	(void)a2;
	atomic_fetch_add_explicit(&fired, 1, memory_order_relaxed);
}

static void
million_timers_leave_nothing_behind(void)
{
	struct callout_clock *clk = callout_clock_default();
	long n = check_scaled(1000000, 1000);
	KTIMER *t = malloc((size_t)n * sizeof(*t));
	KDPC d;
	struct callout_pool_counters pc;
	long expect = 0;

	CHECK(t != NULL);
	if (t == NULL)
		return;
	memset(t, 0x5A, (size_t)n * sizeof(*t)); /* garbage, as a driver's */
	KeInitializeDpc(&d, count_dpc, NULL);
	for (long i = 0; i < n; i++)
		KeInitializeTimer(&t[i]);
	for (int round = 0; round < 4; round++) {
		for (long i = 0; i < n; i++) {
			LARGE_INTEGER due = {
				.QuadPart = -(LONGLONG)(1 + i % 50) * 10000
			};

			KeSetTimer(&t[i], due, &d);
		}
		callout_pool_counters(&pc);
		CHECK_EQ(pc.in_use, n);
		for (long i = 0; i < n; i++) {
			switch ((i + round) % 4) {
			case 0: /* cancelled */
				CHECK_EQ(KeCancelTimer(&t[i]), TRUE);
				break;
			case 1: /* re-initialised while armed: fires once */
				KeInitializeTimerEx(
				    &t[i], (TIMER_TYPE)(round & 1));
				expect++;
				break;
			case 2: /* re-set: still one expiry */
				KeSetTimer(&t[i],
				    (LARGE_INTEGER){ .QuadPart = -20000 }, &d);
				expect++;
				break;
			default: /* fires */
				expect++;
				break;
			}
		}
		callout_clock_advance(clk, 60);
		CHECK_EQ(atomic_load(&fired), expect);
		callout_pool_counters(&pc);
		CHECK_EQ(pc.in_use, 0);
		CHECK_EQ(pc.high_water, n);
	}
	free(t);
}

int
main(void)
{
	struct callout_clock_params p;
	struct callout_clock *clk;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	clk = callout_clock_create(&p);
	if (clk == NULL || callout_clock_set_default(clk) != 0)
		return 1;
	RUN(million_timers_leave_nothing_behind);
	callout_clock_destroy(clk);
	return check_finish();
}
