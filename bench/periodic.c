/*
 * The periodic workload: N periodic NT timers (KeSetTimerEx with a period
 * of 100..1000 ms, each with a DPC) on a virtual clock made the default
 * clock, advanced tick by tick through 10 s: ns per expiry, and drift, the
 * largest distance between an expiry's system time (passed to its DPC)
 * and first due time + k periods.  Compiled in only when the NT
 * emulation's header exists (BENCH_HAVE_NT).
 */
#include "bench.h"

#ifdef BENCH_HAVE_NT
#include <callout.h>
#include <callout/ntoskrnl.h>

struct pe_rec {
	uint64_t count;
	int64_t first;  /* system time of the first expiry, 100 ns */
	int64_t period; /* 100 ns */
	int64_t drift;  /* worst |actual - expected|, 100 ns */
};

static VOID NTAPI
pe_dpc(PKDPC dpc, PVOID ctx, PVOID sa1, PVOID sa2)
{
	struct pe_rec *r = ctx;
	int64_t st = (int64_t)((uint64_t)(uintptr_t)sa1 & 0xffffffffu) |
	    (int64_t)((uint64_t)(uintptr_t)sa2 << 32);
	int64_t d = st - (r->first + (int64_t)r->count * r->period);

	(void)dpc;
	if (d < 0)
		d = -d;
	if (d > r->drift)
		r->drift = d;
	r->count++;
}

static struct callout_clock *pe_clk;

static void
pe_run(FILE *csv, uint64_t n, int reps)
{
	PKTIMER t = bench_alloc(n, sizeof(*t));
	PKDPC d = bench_alloc(n, sizeof(*d));
	struct pe_rec *r = bench_alloc(n, sizeof(*r));
	double ns[16];
	uint64_t expiries = 0;
	int64_t drift = 0;
	uint64_t seed = 12345;

	for (int rep = 0; rep < reps && rep < 16; rep++) {
		LARGE_INTEGER now;

		KeQuerySystemTime(&now);
		for (uint64_t i = 0; i < n; i++) {
			LARGE_INTEGER due;
			LONG period;

			seed = seed * 6364136223846793005ull +
			    1442695040888963407ull;
			period = 100 + (LONG)((seed >> 33) % 901);
			due.QuadPart = -(LONGLONG)period * 10000;
			r[i].count = 0;
			r[i].drift = 0;
			r[i].period = (int64_t)period * 10000;
			r[i].first = now.QuadPart + r[i].period;
			KeInitializeTimerEx(&t[i], NotificationTimer);
			KeInitializeDpc(&d[i], pe_dpc, &r[i]);
			KeSetTimerEx(&t[i], due, period, &d[i]);
		}
		uint64_t t0 = bench_real_ns();

		for (int k = 0; k < 10000; k++)
			callout_clock_advance(pe_clk, 1);
		uint64_t t1 = bench_real_ns();

		expiries = 0;
		for (uint64_t i = 0; i < n; i++) {
			KeCancelTimer(&t[i]);
			expiries += r[i].count;
			if (r[i].drift > drift)
				drift = r[i].drift;
		}
		callout_clock_advance(pe_clk, 0);
		ns[rep] = (double)(t1 - t0) / (double)(expiries ? expiries : 1);
	}
	/* median */
	for (int i = 1; i < reps && i < 16; i++)
		for (int j = i; j > 0 && ns[j] < ns[j - 1]; j--) {
			double x = ns[j];

			ns[j] = ns[j - 1];
			ns[j - 1] = x;
		}
	double med = ns[(reps < 16 ? reps : 16) / 2];

	printf("%10llu %12.1f %12llu %12.3f\n", (unsigned long long)n, med,
	    (unsigned long long)expiries, (double)drift / 10000.0);
	if (csv != NULL)
		fprintf(csv,
		    "periodic,%llu,ns_per_expiry=%.1f,expiries=%llu,"
		    "max_drift_ms=%.3f\n",
		    (unsigned long long)n, med, (unsigned long long)expiries,
		    (double)drift / 10000.0);
	free(t);
	free(d);
	free(r);
}
#endif

void
workload_periodic(FILE *csv, const uint64_t *sizes, int nsizes, int reps)
{
#ifndef BENCH_HAVE_NT
	(void)sizes;
	(void)nsizes;
	(void)reps;
	printf("\nperiodic: not available (no <callout/ntoskrnl.h>)\n");
	if (csv != NULL)
		fprintf(csv, "periodic,,not available\n");
#else
	struct callout_clock_params p;

	bench_vtime_on = false;
	if (pe_clk == NULL) {
		callout_clock_params_init(&p);
		p.mode = CALLOUT_CLOCK_VIRTUAL;
		p.ndispatchers = 1;
		p.flags = CALLOUT_CLOCK_SINGLE_OWNER;
		pe_clk = callout_clock_create(&p);
		if (pe_clk == NULL || callout_clock_set_default(pe_clk) != 0) {
			printf("\nperiodic: not available (cannot make a "
			       "virtual default clock)\n");
			return;
		}
	}
	printf("\nperiodic: NT periodic timers (KeSetTimerEx), virtual clock, "
	       "10 s tick by tick\n%10s %12s %12s %12s\n",
	    "N", "ns/expiry", "expiries", "drift ms");
	/* Expiries grow as 25 N: fewer repetitions keep bench/run short. */
	for (int i = 0; i < nsizes; i++)
		if (sizes[i] <= 1000000)
			pe_run(csv, sizes[i],
			    sizes[i] >= 1000000 ? 1 : (reps < 3 ? reps : 3));
#endif
}
