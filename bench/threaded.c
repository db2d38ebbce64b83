/*
 * The threaded workload: lateness of expiry on a threaded clock.
 */
#include "bench.h"

void
workload_threaded(FILE *csv, bool quick)
{
	(void)quick;
	printf("\nthreaded: not implemented yet\n");
	if (csv != NULL)
		fprintf(csv, "threaded,,callout,not implemented\n");
}
