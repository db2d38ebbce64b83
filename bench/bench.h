/*
 * Shared by the benchmark's files: the encoded operation stream every
 * contender replays, the virtual time libevent and libuv are made to see,
 * the record of fired timers used to cross-check the contenders, and the
 * contender interface.  Each contender expands BENCH_LOOP with its own
 * inline arm/cancel/advance/next, so no indirect call sits on a measured
 * path.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

/* One operation: kind in the top 4 bits, timer id below, and an argument. */
#define OP_KIND_SHIFT 28
#define OP_ID_MASK ((1u << OP_KIND_SHIFT) - 1)
#define OP_ARM 1u     /* arm or re-arm id, arg ticks from now (>= 1) */
#define OP_CANCEL 2u  /* cancel id if pending */
#define OP_ADVANCE 3u /* advance the clock arg ticks, fire what is due */
#define OP_NEXT 4u    /* ask when the next expiry is */

struct op {
	uint32_t w;
	uint32_t arg;
};

static inline struct op
op_make(uint32_t kind, uint32_t id, uint32_t arg)
{
	struct op o = { (kind << OP_KIND_SHIFT) | id, arg };

	return o;
}

/*
 * Timer storage for every contender: zeroed and aligned to a cache line,
 * so that no contender's timers straddle lines because of where malloc
 * happened to put the array.
 */
static inline void *
bench_alloc(size_t n, size_t size)
{
	size_t bytes = (n * size + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, bytes);

	if (p == NULL) {
		perror("bench: aligned_alloc");
		exit(2);
	}
	return memset(p, 0, bytes);
}

/* The virtual time (1 tick = 1 ms) that clock_gettime reports, vtime.c. */
extern volatile uint64_t bench_vnow;
extern volatile bool bench_vtime_on;

/* Real monotonic nanoseconds, bypassing the virtual clock. */
uint64_t bench_real_ns(void);

/*
 * What fired: the count, and an order-independent hash of (timer, index of
 * the advance that fired it), so that two contenders agree only if each
 * timer fired in the same advance.
 */
struct bench_fire {
	uint64_t count;
	uint64_t hash;
	uint64_t adv; /* index of the advance under way */
};
extern struct bench_fire bench_fire;

static inline uint64_t
bench_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

extern int bench_dump; /* debugging: print every firing */

static inline void
bench_fired(uint32_t id)
{
	if (__builtin_expect(bench_dump, 0))
		fprintf(stderr, "fired %llu %u\n",
		    (unsigned long long)bench_fire.adv, id);
	bench_fire.count++;
	bench_fire.hash += bench_mix(((uint64_t)bench_fire.adv << 32) | id);
}

/* Per-run statistics filled in by BENCH_LOOP. */
struct run_stats {
	uint64_t max_adv_cycles; /* worst single advance, TSC cycles */
	uint64_t next_min;       /* smallest and largest next-expiry answer */
	uint64_t next_max;
};

/*
 * Replay ops[0..n) on one contender.  ARM(ctx, id, ticks), CANCEL(ctx, id),
 * ADVANCE(ctx, ticks) (bench_vnow already moved) and NEXT(ctx) (absolute
 * tick of the next expiry) are the contender's inline operations.
 */
#define BENCH_LOOP(ctx, ops, n, st, ARM, CANCEL, ADVANCE, NEXT) \
	do { \
		for (size_t i_ = 0; i_ < (n); i_++) { \
			uint32_t w_ = (ops)[i_].w; \
			uint32_t id_ = w_ & OP_ID_MASK; \
			uint32_t a_ = (ops)[i_].arg; \
			switch (w_ >> OP_KIND_SHIFT) { \
			case OP_ARM: \
				ARM(ctx, id_, a_); \
				break; \
			case OP_CANCEL: \
				CANCEL(ctx, id_); \
				break; \
			case OP_ADVANCE: { \
				uint64_t t0_ = __rdtsc(); \
				bench_fire.adv++; \
				bench_vnow += a_; \
				ADVANCE(ctx, a_); \
				uint64_t d_ = __rdtsc() - t0_; \
				if (d_ > (st)->max_adv_cycles) \
					(st)->max_adv_cycles = d_; \
				break; \
			} \
			case OP_NEXT: { \
				uint64_t nx_ = NEXT(ctx); \
				if (nx_ < (st)->next_min) \
					(st)->next_min = nx_; \
				if (nx_ > (st)->next_max) \
					(st)->next_max = nx_; \
				break; \
			} \
			} \
		} \
	} while (0)

/* A contender: one timer implementation behind one API layer. */
struct contender {
	const char *name;
	const char *layer; /* "raw wheel", "API single-owner", ... */
	bool has_next;     /* can answer "when is the next expiry" */
	bool exact_next;   /* ... exactly (else a lower bound) */
	size_t timer_size; /* bytes of one timer object */
	/* Timers 0..ntimers-1, none pending; NULL if unavailable. */
	void *(*create)(uint32_t ntimers);
	void (*run)(
	    void *ctx, const struct op *ops, size_t n, struct run_stats *st);
	void (*destroy)(void *ctx); /* cancels whatever is pending */
};

extern const struct contender contender_heap;
extern const struct contender contender_rbtree;
extern const struct contender contender_wheel;
extern const struct contender contender_callout_so;
extern const struct contender contender_callout_mt;
extern const struct contender contender_libevent;
extern const struct contender contender_libuv;

/* Floor probes (floor.c): ns per step at N nodes of 64 bytes. */
double floor_chase_ns(uint32_t n, uint64_t steps, uint64_t seed);
double floor_relink_ns(uint32_t n, uint64_t steps, uint64_t seed);

/* The threaded and periodic workloads; each prints its own lines. */
void workload_threaded(FILE *csv, bool quick);
void workload_periodic(FILE *csv, const uint64_t *sizes, int nsizes, int reps);

#endif /* !BENCH_H */
