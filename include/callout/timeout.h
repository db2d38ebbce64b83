/*
 * timeout(9) for programs: timers whose callout the caller does not own.
 * Each timeout borrows a callout from a pool while it is pending or
 * running and gives it back afterwards, so nothing leaks and nothing
 * panics; a handle names one timeout only, never a later one that reuses
 * its callout.  See timeout(3).
 */
#ifndef CALLOUT_TIMEOUT_H
#define CALLOUT_TIMEOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <callout/clock.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void timeout_t(void *);

/*
 * Small and copied by value.  A handle names the pool entry and its
 * generation at the time of timeout(); generation 0 is the null handle.
 */
struct callout_handle {
	uint32_t _h_index;
	uint32_t _h_gen;
};

#define CALLOUT_HANDLE_INITIALIZER(h) \
	{ \
		0, 0 \
	}

void callout_handle_init(struct callout_handle *h);
struct callout_handle timeout(timeout_t *fn, void *arg, int ticks);
struct callout_handle timeout_on(
    struct callout_clock *clk, timeout_t *fn, void *arg, int ticks);
void untimeout(timeout_t *fn, void *arg, struct callout_handle h);
bool callout_handle_pending(struct callout_handle h);
bool callout_handle_is_null(struct callout_handle h);

/* The pool behind timeout() and the NT timers. */
void callout_pool_set_cap(size_t max_lent); /* 0: no cap (default) */

struct callout_pool_counters {
	size_t in_use;     /* lent now: pending or running */
	size_t high_water; /* most ever lent at once */
	size_t slabs;      /* slabs allocated now */
	uint64_t lends;    /* callouts lent, ever */
	uint64_t failures; /* lends refused: cap reached or no memory */
};

void callout_pool_counters(struct callout_pool_counters *out);

#ifdef __cplusplus
}
#endif

#endif /* !CALLOUT_TIMEOUT_H */
