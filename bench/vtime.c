/*
 * Virtual time for libevent and libuv.  Both read CLOCK_MONOTONIC through
 * clock_gettime; this executable defines clock_gettime, so their shared
 * libraries bind to it.  While bench_vtime_on is set, the monotonic clocks
 * read bench_vnow (1 tick = 1 ms); every other clock, and every clock while
 * it is off (the threaded workload), goes to the C library's own
 * clock_gettime, found with dlsym(RTLD_NEXT), or to the system call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

volatile uint64_t bench_vnow;
volatile bool bench_vtime_on;
struct bench_fire bench_fire;
int bench_dump;

typedef int clock_gettime_fn(clockid_t, struct timespec *);
static clock_gettime_fn *libc_clock_gettime;

static int
real_clock_gettime(clockid_t id, struct timespec *ts)
{
	if (libc_clock_gettime == NULL) {
		clock_gettime_fn *fn;

		*(void **)&fn = dlsym(RTLD_NEXT, "clock_gettime");
		if (fn == NULL || fn == clock_gettime)
			return (int)syscall(SYS_clock_gettime, id, ts);
		libc_clock_gettime = fn;
	}
	return libc_clock_gettime(id, ts);
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	if (bench_vtime_on &&
	    (id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_COARSE ||
		id == CLOCK_MONOTONIC_RAW || id == CLOCK_BOOTTIME)) {
		uint64_t ms = bench_vnow;

		ts->tv_sec = (time_t)(ms / 1000);
		ts->tv_nsec = (long)(ms % 1000) * 1000000L;
		return 0;
	}
	return real_clock_gettime(id, ts);
}

uint64_t
bench_real_ns(void)
{
	struct timespec ts;

	real_clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
