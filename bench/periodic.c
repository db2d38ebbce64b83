/*
 * The periodic workload: N periodic NT timers (KeSetTimerEx with a
 * period) on a virtual clock, cost per expiry and drift.  Compiled in only
 * when the NT emulation's header exists (BENCH_HAVE_NT).
 */
#include "bench.h"

void
workload_periodic(FILE *csv, bool quick)
{
	(void)quick;
#ifndef BENCH_HAVE_NT
	printf("\nperiodic: not available (no <callout/ntoskrnl.h>)\n");
	if (csv != NULL)
		fprintf(csv, "periodic,,callout,not available\n");
#else
	printf("\nperiodic: not implemented yet\n");
	if (csv != NULL)
		fprintf(csv, "periodic,,callout,not implemented\n");
#endif
}
