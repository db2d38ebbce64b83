/*
 * Internal view of a clock: its queues (a wheel, a lock and the callout
 * being run), its dispatchers, its notion of "now", and the hooks through
 * which upper layers (the NT emulation) run work at each tick.  Shared by
 * the callout personalities, the clock modes and the upper layers; never
 * installed.
 */
#ifndef CALLOUT_SRC_CLOCK_H
#define CALLOUT_SRC_CLOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <callout/clock.h>

#include "wheel.h"

struct co_callout;

/*
 * A queue: one wheel, the callouts expired on it and not yet run, and the
 * handler running from it.  In threaded mode every dispatcher has its own
 * queue and thread; in virtual and external mode all dispatchers share
 * queue 0, because one thread runs everything and the order of handlers
 * must not depend on how many dispatchers there are.
 */
struct co_queue {
	pthread_mutex_t lock; /* unused on a single-owner clock */
	struct wheel wheel;
	struct wheel_list expired;  /* due, not yet dispatched: still PENDING */
	struct co_callout *running; /* handler being called, or NULL */
	const void *running_thread; /* its co_thread_token */
	uint16_t running_gen;       /* its incarnation (co_callout.gen) */
	bool run_cancelled; /* FreeBSD lock-assisted cancel of running */
	bool run_started;   /* FreeBSD: the handler holds its lock */
	bool run_finished;  /* FreeBSD: returned, lock not yet dropped */
	bool hooks_due;     /* co_clock_kick_hooks: run the tick hook */
	bool has_slack;     /* a callout with a precision window was
				   armed here since the wheel was empty */
	void (*run_drain_fn)(void *); /* FreeBSD async drain, after run */
	void *run_drain_arg;
	unsigned halt_waiters;
	pthread_cond_t done; /* broadcast when `running` finishes */
	struct callout_clock *clk;
	int index;
	struct callout_counters counters; /* under `lock` */

	/* Threaded mode. */
	pthread_t thread;
	pthread_cond_t wake;  /* earlier work armed, or stop */
	uint64_t sleep_until; /* tick the thread sleeps until */
	bool thread_started;
};

/*
 * Work an upper layer does as part of the clock's expiry processing (the
 * NT layer's DPC queues).  Called with no queue lock held, on the thread
 * that processes expiries: after each tick's handlers in virtual mode, in
 * callout_clock_run in external mode, after each batch on a dispatcher.
 * It returns how many routines it ran.
 */
typedef unsigned co_tick_hook_fn(struct callout_clock *clk, int cpu, void *ctx);

struct callout_clock {
	int hz;
	int mode;
	unsigned flags;
	int ndisp;
	int nqueues;  /* ndisp in threaded mode, else 1 */
	bool locking; /* false on a single-owner clock */
	bool direct;  /* single-owner virtual: an arm is only the wheel's */
	uint64_t id;  /* unique over the process's life (home caches) */
	uint64_t start_ticks;
	int64_t system_time_at_start;
	struct timespec mono_start; /* CLOCK_MONOTONIC at start_ticks */
	const void *owner;          /* single owner: its co_thread_token */

	_Atomic uint64_t vnow; /* virtual mode: current tick */
	atomic_bool advancing; /* an advance or run is under way */
	/* The clock the advancing thread was inside before this one;
	 * only that thread reads or writes it (co_clock_advancing_here). */
	struct callout_clock *advancing_outer;
	atomic_uint next_home;           /* round-robin home assignment */
	_Atomic uint64_t caller_pending; /* caller-owned callouts pending */
	atomic_bool stopping;            /* destroy under way */
	int timerfd;                     /* external mode */

	co_tick_hook_fn *tick_hook;
	void *tick_hook_ctx;

	struct co_queue *queues; /* nqueues of them */
};

static inline struct co_queue *
co_queue_of_cpu(struct callout_clock *clk, int cpu)
{
	return &clk->queues[clk->nqueues == 1 ? 0 : cpu];
}

static inline void
co_queue_lock(struct co_queue *q)
{
	if (q->clk->locking)
		pthread_mutex_lock(&q->lock);
}

static inline void
co_queue_unlock(struct co_queue *q)
{
	if (q->clk->locking)
		pthread_mutex_unlock(&q->lock);
}

/* The current tick of a threaded or external clock, from CLOCK_MONOTONIC. */
uint64_t co_clock_now_real(const struct callout_clock *clk);

/* The current tick: the one whose interval contains the present. */
static inline uint64_t
co_clock_now(const struct callout_clock *clk)
{
	if (clk->mode == CALLOUT_CLOCK_VIRTUAL)
		return atomic_load_explicit(&clk->vnow, memory_order_relaxed);
	return co_clock_now_real(clk);
}

/*
 * Saturating tick arithmetic: time never wraps inside the library.  A due
 * tick saturates to UINT64_MAX, and a clock stops at CO_TICK_LAST, one
 * short of it, so a saturated timer stays parked and never fires early.
 */
#define CO_TICK_LAST (UINT64_MAX - 1)

static inline uint64_t
co_tick_add(uint64_t t, uint64_t n)
{
	return t + n < t ? UINT64_MAX : t + n;
}

/* The calling thread's home dispatcher on clk (callout.md section 2). */
int co_home_cpu(struct callout_clock *clk);

/*
 * A thread's identity (the single owner, the thread running a handler):
 * the address of a thread-local byte, one instruction to compute
 * (initial-exec TLS), where pthread_self() is a call into libc on every
 * arm, cancel and expiry.
 */
extern _Thread_local char co_thread_token
    __attribute__((tls_model("initial-exec")));

/* True if the calling thread may use clk (single-owner check). */
static inline bool
co_clock_owner_ok(const struct callout_clock *clk)
{
	return clk->locking || clk->owner == &co_thread_token;
}

/* An earlier expiry was filed on q: wake its thread if it sleeps longer. */
void co_queue_kick(struct co_queue *q, uint64_t expire);

/*
 * Run every expired callout of q.  Called and returns with q locked; drops
 * the lock around each handler.  Returns the number of handlers called.
 */
unsigned co_queue_dispatch(struct co_queue *q);

/*
 * Have the thread that processes cpu's expiries run the tick hook soon,
 * even with nothing due: the NT layer's DPCs queued to another processor.
 * On a virtual clock the next advance runs them anyway.
 */
void co_clock_kick_hooks(struct callout_clock *clk, int cpu);

/* Give the run of tick hooks; see co_tick_hook_fn. */
void co_clock_set_tick_hook(
    struct callout_clock *clk, co_tick_hook_fn *fn, void *ctx);

/* Monotonic time of the start of tick t, and the tick containing ts. */
struct timespec co_tick_start(const struct callout_clock *clk, uint64_t t);
uint64_t co_tick_at(const struct callout_clock *clk, const struct timespec *ts);

/* A dispatcher thread makes itself its own home. */
void co_home_set_self(struct callout_clock *clk, int cpu);

/*
 * Set by the pool: takes back a pooled callout that clock destruction
 * removed from its queue (no queue lock held).
 */
extern void (*co_pooled_orphan)(struct co_callout *c);

/*
 * Set by the NT layer: called as a clock is destroyed (after its pooled
 * timers are gone), so that a layer bound to it can refuse later use.
 */
extern void (*co_clock_gone_hook)(struct callout_clock *clk);

/* Set by the pool: called when the last clock has been destroyed. */
extern void (*co_last_clock_gone)(void);

/* Default clock, created on first use. */
struct callout_clock *co_default_clock(void);

/*
 * The one expiry-processing section of a virtual or external clock:
 * advance and run are not re-entrant (misuse is reported on entry).
 */
bool co_clock_enter(struct callout_clock *clk, const char *call);
void co_clock_leave(struct callout_clock *clk);
/* The calling thread is inside an advance or run of clk (from a handler,
 * hook or DPC it runs). */
bool co_clock_advancing_here(const struct callout_clock *clk);
unsigned co_clock_run_hooks(struct callout_clock *clk);

/*
 * Threaded and external engines (q locked): move every callout due by
 * `now` to the expired list, tick by tick, so that a catch-up after a
 * stall runs them in the order of their due ticks; and the tick to wake
 * at next, which uses the precision windows of FreeBSD callouts to serve
 * several with one wake-up (WHEEL_NEVER: nothing pending).
 */
void co_queue_collect(struct co_queue *q, uint64_t now);
uint64_t co_queue_wake_tick(struct co_queue *q, bool exact);

/* Is the calling thread one of clk's dispatcher threads? */
bool co_threaded_on_dispatcher(const struct callout_clock *clk);

/* Per-mode entry points (clock_virtual.c, clock_threaded.c, ...). */
int co_threaded_start(struct callout_clock *clk);
void co_threaded_stop(struct callout_clock *clk);
int co_external_start(struct callout_clock *clk);
void co_external_stop(struct callout_clock *clk);
void co_external_rearm(struct callout_clock *clk);

/*
 * A callout due no later than the external clock's timerfd was cancelled
 * (q locked): move the timerfd later, so that it is readable only while
 * work is due.
 */
static inline void
co_external_cancelled(struct co_queue *q, uint64_t expire)
{
	if (q->clk->mode == CALLOUT_CLOCK_EXTERNAL && expire <= q->sleep_until)
		co_external_rearm(q->clk);
}

#endif /* !CALLOUT_SRC_CLOCK_H */
