/*
 * Clocks, counters, the giant lock and the misuse handler: the part of the
 * libcallout API that belongs to no personality.  Included by <callout.h>
 * and by <callout/freebsd.h>; not meant to be included on its own.
 */
#ifndef CALLOUT_CLOCK_H
#define CALLOUT_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clock modes (struct callout_clock_params.mode). */
#define CALLOUT_CLOCK_VIRTUAL 0  /* time moves with callout_clock_advance */
#define CALLOUT_CLOCK_THREADED 1 /* CLOCK_MONOTONIC, dispatcher threads */
#define CALLOUT_CLOCK_EXTERNAL 2 /* CLOCK_MONOTONIC, driven by a program */

/* Clock flags (struct callout_clock_params.flags). */
#define CALLOUT_CLOCK_SINGLE_OWNER 0x0001u /* one thread, no locks */

struct callout_clock;

struct callout_clock_params {
	int hz;               /* ticks per second, default 1000 */
	int ndispatchers;     /* default: online CPUs (1 virtual/external) */
	int mode;             /* CALLOUT_CLOCK_VIRTUAL, _THREADED, _EXTERNAL */
	unsigned flags;       /* CALLOUT_CLOCK_SINGLE_OWNER */
	uint64_t start_ticks; /* tick count at creation, default 0 */
	int64_t system_time_at_start; /* NT time at start_ticks (100 ns since
					 1601); default: real time now */
};

struct callout_counters {
	uint64_t armed;          /* not pending -> pending */
	uint64_t fired;          /* handler calls */
	uint64_t stopped;        /* pending callouts removed */
	uint64_t late;           /* handlers run after their due tick */
	uint64_t max_late_ticks; /* worst lateness seen */
	uint64_t halt_waits;     /* halts and drains that had to wait */
	uint64_t wakeups;        /* threaded/external clock woke for work */
	uint64_t dpcs_coalesced; /* timer expiries sharing a queued DPC */
};

void callout_clock_params_init(struct callout_clock_params *p);
struct callout_clock *callout_clock_create(
    const struct callout_clock_params *p);
void callout_clock_destroy(struct callout_clock *clk);
uint64_t callout_clock_ticks(const struct callout_clock *clk);
int callout_clock_hz(const struct callout_clock *clk);
void callout_clock_advance(struct callout_clock *clk, uint64_t nticks);
int callout_clock_fd(struct callout_clock *clk);
unsigned callout_clock_run(struct callout_clock *clk);
int64_t callout_clock_next_ns(const struct callout_clock *clk);
int callout_clock_set_home(struct callout_clock *clk, int dispatcher);
int callout_clock_ndispatchers(const struct callout_clock *clk);
struct callout_clock *callout_clock_default(void);
int callout_clock_set_default(struct callout_clock *clk);
void callout_clock_counters(
    const struct callout_clock *clk, struct callout_counters *out);
void callout_clock_dump(const struct callout_clock *clk, FILE *f);

void callout_giant_lock(void);
void callout_giant_unlock(void);

typedef void callout_misuse_fn(
    const char *call, const void *obj, const char *what);
callout_misuse_fn *callout_set_misuse_handler(callout_misuse_fn *fn);

#ifdef __cplusplus
}
#endif

#endif /* !CALLOUT_CLOCK_H */
