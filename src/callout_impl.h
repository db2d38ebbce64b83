/*
 * The callout behind callout_t: its layout, its state bits, and the
 * internal calls the personalities (NetBSD, FreeBSD), the pool, timeout()
 * and the NT emulation build on.  Every state change happens under the
 * lock of the queue the callout is on (none on a single-owner clock).
 */
#ifndef CALLOUT_SRC_CALLOUT_IMPL_H
#define CALLOUT_SRC_CALLOUT_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "wheel.h"

#define CO_MAGIC 0x436c6f75u /* "Clou": set by init, cleared by destroy */

/* State bits (co_callout.state), changed under the queue lock. */
#define CO_PENDING 0x0001u  /* on the wheel or the expired list */
#define CO_FIRED 0x0002u    /* expired since last armed */
#define CO_INVOKING 0x0004u /* handler started, not acknowledged */
#define CO_BOUND 0x0008u    /* callout_bind: never migrates */
#define CO_ACTIVE 0x0010u   /* FreeBSD: reset..stop/deactivate */
#define CO_DRAINING 0x0020u /* FreeBSD: a drain waits on it */

/* Constant flags (co_callout.kind), set at init and only read after. */
#define CO_K_MPSAFE 0x0001u  /* no giant lock around the handler */
#define CO_K_MTX 0x0002u     /* FreeBSD init_mtx: handler under a mutex */
#define CO_K_RETUNLK 0x0004u /* FreeBSD CALLOUT_RETURNUNLOCKED */
#define CO_K_POOLED 0x0008u  /* lent by the pool */
#define CO_K_FREEBSD 0x0010u /* a FreeBSD struct callout (80 bytes) */

struct co_callout {
	struct wheel_node node;       /* 24 */
	void (*fn)(void *);           /* 32 */
	void *arg;                    /* 40 */
	_Atomic(struct co_queue *) q; /* 48: queue it is on */
	uint32_t magic;               /* 52 */
	uint16_t state;               /* 54 */
	uint16_t cpu;                 /* 56: dispatcher (NT processor) */
	uint16_t kind;                /* 58 */
	uint16_t gen;                 /* 60: incarnation, set by init */
	uint32_t slack;               /* 64: ticks it may run late (FreeBSD
					   precision); 0 for exact callouts */
};

/* The FreeBSD struct callout: the core plus its interlock. */
struct co_callout_fbsd {
	struct co_callout co;
	pthread_mutex_t *mtx; /* callout_init_mtx */
	void (*drain_fn)(void *);
};

_Static_assert(sizeof(struct co_callout) <= 64, "callout_t is 64 bytes");

static inline struct co_callout *
co_from_node(struct wheel_node *n)
{
	return (struct co_callout *)(void *)n;
}

static inline struct co_queue *
co_queue_get(const struct co_callout *c)
{
	return atomic_load_explicit(
	    &((struct co_callout *)c)->q, memory_order_acquire);
}

struct co_queue *co_lock_slow(struct co_callout *c, struct co_queue *q);

/*
 * Lock the queue c is on, following migrations; returns it locked.  On a
 * single-owner clock there is nothing to lock.
 */
static inline struct co_queue *
co_lock(struct co_callout *c)
{
	struct co_queue *q = co_queue_get(c);

	if (!q->clk->locking)
		return q;
	return co_lock_slow(c, q);
}

/* Set up c on clk with the given kind bits; c->fn stays NULL. */
void co_init(struct co_callout *c, struct callout_clock *clk, unsigned kind);

/*
 * Arm c (locked on q) to expire at now + max(ticks, 1) on the queue of
 * `cpu` (-1: keep the queue unless c is idle, unbound and not MPSAFE-pinned,
 * then the home dispatcher).  Returns the queue c is on afterwards, still
 * locked, and sets *was_pending.
 */
struct co_queue *co_arm_locked(struct co_callout *c, struct co_queue *q,
    uint64_t ticks, int cpu, bool *was_pending);

/* Same at an absolute tick (saturated, at least now + 1). */
struct co_queue *co_arm_at_locked(struct co_callout *c, struct co_queue *q,
    uint64_t expire, int cpu, bool *was_pending);

/* Remove c (locked on q) if pending; returns whether it was. */
bool co_cancel_locked(struct co_callout *c, struct co_queue *q);

/*
 * Is c's handler running (q locked)?  The incarnation tells c from an
 * earlier callout at the same address whose handler freed it and is
 * still finishing: that one is not c.
 */
static inline bool
co_is_running(const struct co_callout *c, const struct co_queue *q)
{
	return q->running == c && q->running_gen == c->gen;
}

/* Is c's handler running on a thread other than the caller? */
static inline bool
co_running_elsewhere(const struct co_callout *c, const struct co_queue *q)
{
	return co_is_running(c, q) && q->running_thread != &co_thread_token;
}

static inline bool
co_running_here(const struct co_callout *c, const struct co_queue *q)
{
	return co_is_running(c, q) && q->running_thread == &co_thread_token;
}

/*
 * Wait (q locked) until c's handler is not running on another thread;
 * drops `interlock` and every level of giant the caller holds meanwhile,
 * and takes them back (giant, interlock, then the queue: the lock order).
 * Returns the queue c is on, locked (it may have moved meanwhile), and
 * sets *waited.
 */
struct co_queue *co_wait_not_running(struct co_callout *c, struct co_queue *q,
    pthread_mutex_t *interlock, bool *waited);

bool co_check_slow(const char *call, const struct co_callout *c);

/*
 * Check c is a live callout usable by this thread; else report misuse.
 * Every call on a callout passes here, so the good case is inline.
 */
static inline bool
co_check(const char *call, const struct co_callout *c)
{
	if (__builtin_expect(c != NULL && c->magic == CO_MAGIC, 1) &&
	    __builtin_expect(co_clock_owner_ok(co_queue_get(c)->clk), 1))
		return true;
	return co_check_slow(call, c);
}

/* Release all giant levels held by this thread; returns how many. */
unsigned co_giant_release_all(void);
void co_giant_reacquire(unsigned depth);

/* Does the calling thread hold the giant lock? */
bool co_giant_held(void);

#endif /* !CALLOUT_SRC_CALLOUT_IMPL_H */
