/*
 * The callout state machine shared by every personality (co_*), and the
 * NetBSD callout(9) calls on top of it.
 *
 * Locking.  A callout's state, its place on a wheel and its queue pointer
 * change only under the lock of the queue it is on; co_lock() follows the
 * pointer until it holds the right lock.  A callout moves to another queue
 * only when armed while idle (neither pending nor running), so a running
 * callout stays where its handler runs and its next run waits there: one
 * callout never runs concurrently with itself, and a dispatcher never
 * touches a callout after its handler returns.  On a single-owner clock no
 * lock is taken at all.
 */
#include <stdlib.h>
#include <string.h>

#include <callout.h>

#include "callout_impl.h"
#include "misuse.h"

_Static_assert(sizeof(callout_t) == 64, "callout_t is 64 bytes");
_Static_assert(sizeof(struct co_callout) <= sizeof(callout_t),
    "struct co_callout fits in callout_t");

static inline struct co_callout *
co_of(callout_t *c)
{
	return (struct co_callout *)(void *)c;
}

struct co_queue *
co_lock_slow(struct co_callout *c, struct co_queue *q)
{
	for (;;) {
		pthread_mutex_lock(&q->lock);
		struct co_queue *now = co_queue_get(c);
		if (now == q)
			return q;
		pthread_mutex_unlock(&q->lock);
		q = now;
	}
}

bool
co_check_slow(const char *call, const struct co_callout *c)
{
	if (c == NULL) {
		co_misuse(call, c, "NULL callout");
		return false;
	}
	if (c->magic != CO_MAGIC) {
		co_misuse(call, c, "callout not initialised or destroyed");
		return false;
	}
	if (!co_clock_owner_ok(co_queue_get(c)->clk)) {
		co_misuse(
		    call, c, "single-owner clock used from another thread");
		return false;
	}
	return true;
}

/*
 * A new incarnation number: a per-thread sequence from a per-thread start,
 * so a callout allocated again where one was freed gets another number
 * (but for a 1 in 65536 coincidence between two threads).  The old memory
 * is not read: it may be uninitialised.
 */
static uint16_t
co_next_gen(void)
{
	static _Thread_local uint32_t next;

	if (next == 0)
		next = (uint32_t)((uintptr_t)&next >> 4) * 2654435761u;
	return (uint16_t)(next += 40503u);
}

void
co_init(struct co_callout *c, struct callout_clock *clk, unsigned kind)
{
	int cpu = (kind & CO_K_MPSAFE) ? co_home_cpu(clk) : 0;
	uint16_t gen = co_next_gen();

	memset(c, 0, sizeof(*c));
	c->gen = gen;
	c->magic = CO_MAGIC;
	c->kind = (uint16_t)kind;
	c->cpu = (uint16_t)cpu;
	atomic_init(&c->q, co_queue_of_cpu(clk, cpu));
}

/* Take c off whichever list of q holds it: the wheel or the expired list. */
static inline void
co_unfile(struct co_queue *q, struct co_callout *c)
{
	if (c->node.expire <= q->wheel.now)
		wheel_list_remove(&q->expired, &c->node);
	else
		wheel_remove(&q->wheel, &c->node);
}

static inline __attribute__((always_inline)) bool
co_cancel(struct co_callout *c, struct co_queue *q)
{
	if (!(c->state & CO_PENDING))
		return false;
	co_unfile(q, c);
	c->state &= ~CO_PENDING;
	q->counters.stopped++;
	co_external_cancelled(q, c->node.expire);
	return true;
}

bool
co_cancel_locked(struct co_callout *c, struct co_queue *q)
{
	return co_cancel(c, q);
}

/*
 * Lock `to` as well as `from` (held).  Locks of one clock are taken in
 * address order, so when the trylock fails both are dropped and retaken.
 * Returns false if c moved meanwhile (the caller starts over, holding
 * nothing).
 */
static bool
co_lock_second(struct co_callout *c, struct co_queue *from, struct co_queue *to)
{
	if (pthread_mutex_trylock(&to->lock) == 0)
		return true;
	pthread_mutex_unlock(&from->lock);
	if (to < from) {
		pthread_mutex_lock(&to->lock);
		pthread_mutex_lock(&from->lock);
	} else {
		pthread_mutex_lock(&from->lock);
		pthread_mutex_lock(&to->lock);
	}
	if (co_queue_get(c) == from)
		return true;
	pthread_mutex_unlock(&to->lock);
	pthread_mutex_unlock(&from->lock);
	return false;
}

/*
 * Which queue an arm puts c on.  Explicit cpu: that one.  Otherwise an idle,
 * unbound MPSAFE callout follows the arming thread's home; anything else
 * stays (a running or pending callout never moves implicitly).
 */
static inline int
co_arm_target(struct co_callout *c, struct co_queue *q, int cpu)
{
	struct callout_clock *clk = q->clk;

	if (clk->ndisp == 1)
		return 0;
	if (cpu >= 0)
		return cpu;
	if ((c->state & (CO_PENDING | CO_BOUND)) || co_is_running(c, q) ||
	    !(c->kind & CO_K_MPSAFE))
		return c->cpu;
	return co_home_cpu(clk);
}

/*
 * Move c (locked on q, not running) to the queue of `cpu`; a pending c is
 * unfiled from q and *unfiled set, for the caller to file it again.
 * Returns the queue c is on, locked, or NULL if c moved meanwhile and the
 * caller must start over (holding nothing).
 */
static struct co_queue *
co_move_locked(struct co_callout *c, struct co_queue *q, int cpu, bool *unfiled)
{
	struct co_queue *tq = co_queue_of_cpu(q->clk, cpu);

	*unfiled = false;
	if (tq == q) {
		c->cpu = (uint16_t)cpu;
		return q;
	}
	if (!co_lock_second(c, q, tq))
		return NULL;
	if (c->state & CO_PENDING) {
		co_unfile(q, c);
		*unfiled = true;
	}
	c->cpu = (uint16_t)cpu;
	atomic_store_explicit(&c->q, tq, memory_order_release);
	pthread_mutex_unlock(&q->lock);
	return tq;
}

/*
 * Put c on the queue of the dispatcher an arm chooses, if that is not the
 * queue it is on: only clocks with several dispatchers get here.  Returns
 * the queue c is on, locked.
 */
static struct co_queue *
co_arm_place(struct co_callout *c, struct co_queue *q, int cpu, bool *unfiled)
{
	for (;;) {
		int target = co_arm_target(c, q, cpu);
		struct co_queue *tq;

		*unfiled = false;
		/* A running callout never moves: its next run waits. */
		if (target == c->cpu || co_is_running(c, q))
			return q;
		tq = co_move_locked(c, q, target, unfiled);
		if (tq != NULL)
			return tq;
		q = co_lock(c); /* it moved meanwhile: look again */
	}
}

/*
 * The wheel and state part of every arm: c is on q (locked), not moving.
 * `unfiled`: c is PENDING but was taken off another queue's wheel.
 * Returns whether c was pending.
 */
static inline __attribute__((always_inline)) bool
co_file(struct co_callout *c, struct co_queue *q, uint64_t expire, bool unfiled)
{
	bool was_pending = (c->state & CO_PENDING) != 0;

	if (__builtin_expect(expire <= q->wheel.now, 0))
		expire = co_tick_add(q->wheel.now, 1);
	if (!was_pending) {
		wheel_insert(&q->wheel, &c->node, expire);
		q->counters.armed++;
	} else if (__builtin_expect(unfiled, 0)) {
		wheel_insert(&q->wheel, &c->node, expire);
	} else if (__builtin_expect(c->node.expire > q->wheel.now, 1)) {
		wheel_rearm(&q->wheel, &c->node, expire);
	} else {
		wheel_list_remove(&q->expired, &c->node);
		wheel_insert(&q->wheel, &c->node, expire);
	}
	c->state =
	    (uint16_t)((c->state & ~(CO_FIRED | CO_INVOKING)) | CO_PENDING);
	return was_pending;
}

/*
 * File c at `expire`, already known to be later than the clock's present
 * (the callers read the clock once: on a threaded clock that is a system
 * call's worth of time).  Inline: this is the arm path.
 */
static inline __attribute__((always_inline)) struct co_queue *
co_arm_file(struct co_callout *c, struct co_queue *q, uint64_t expire, int cpu,
    bool *was_pending)
{
	struct callout_clock *clk = q->clk;
	bool unfiled = false;

	if (__builtin_expect(clk->ndisp > 1, 0))
		q = co_arm_place(c, q, cpu, &unfiled);
	*was_pending = co_file(c, q, expire, unfiled);
	if (clk->mode != CALLOUT_CLOCK_VIRTUAL) {
		/* A precision window only needs a wake-up before it closes. */
		if (c->slack != 0) {
			q->has_slack = true;
			expire = co_tick_add(expire, c->slack);
		}
		co_queue_kick(q, expire);
	}
	return q;
}

struct co_queue *
co_arm_at_locked(struct co_callout *c, struct co_queue *q, uint64_t expire,
    int cpu, bool *was_pending)
{
	uint64_t now = co_clock_now(q->clk);

	if (expire <= now)
		expire = co_tick_add(now, 1);
	return co_arm_file(c, q, expire, cpu, was_pending);
}

static inline __attribute__((always_inline)) struct co_queue *
co_arm_ticks(struct co_callout *c, struct co_queue *q, uint64_t ticks, int cpu,
    bool *was_pending)
{
	uint64_t now = co_clock_now(q->clk);

	return co_arm_file(
	    c, q, co_tick_add(now, ticks < 1 ? 1 : ticks), cpu, was_pending);
}

struct co_queue *
co_arm_locked(struct co_callout *c, struct co_queue *q, uint64_t ticks, int cpu,
    bool *was_pending)
{
	return co_arm_ticks(c, q, ticks, cpu, was_pending);
}

struct co_queue *
co_wait_not_running(struct co_callout *c, struct co_queue *q,
    pthread_mutex_t *interlock, bool *waited)
{
	*waited = false;
	while (co_running_elsewhere(c, q)) {
		unsigned depth;

		if (!*waited)
			q->counters.halt_waits++;
		*waited = true;
		if (interlock != NULL)
			pthread_mutex_unlock(interlock);
		depth = co_giant_release_all();
		q->halt_waiters++;
		while (co_is_running(c, q))
			pthread_cond_wait(&q->done, &q->lock);
		q->halt_waiters--;
		pthread_mutex_unlock(&q->lock);
		co_giant_reacquire(depth);
		if (interlock != NULL)
			pthread_mutex_lock(interlock);
		q = co_lock(c);
	}
	return q;
}

/* The NetBSD personality. */

void
callout_init_clock(callout_t *ct, struct callout_clock *clk, unsigned flags)
{
	if (ct == NULL || clk == NULL) {
		co_misuse("callout_init", ct, "NULL callout or clock");
		return;
	}
	if (flags & ~CALLOUT_MPSAFE) {
		co_misuse("callout_init", ct, "unknown flags");
		return;
	}
	if (!co_clock_owner_ok(clk)) {
		co_misuse("callout_init", ct,
		    "single-owner clock used from another thread");
		return;
	}
	co_init(co_of(ct), clk, (flags & CALLOUT_MPSAFE) ? CO_K_MPSAFE : 0);
}

void
callout_init(callout_t *c, unsigned flags)
{
	callout_init_clock(c, co_default_clock(), flags);
}

void
callout_destroy(callout_t *ct)
{
	struct co_callout *c = co_of(ct);
	struct co_queue *q;

	if (!co_check("callout_destroy", c))
		return;
	q = co_lock(c);
	if (c->state & CO_PENDING) {
		co_queue_unlock(q);
		co_misuse("callout_destroy", c, "callout is pending");
		return;
	}
	if (co_running_elsewhere(c, q)) {
		co_queue_unlock(q);
		co_misuse("callout_destroy", c,
		    "handler is running on another thread");
		return;
	}
	c->magic = 0;
	co_queue_unlock(q);
}

void
callout_setfunc(callout_t *ct, void (*fn)(void *), void *arg)
{
	struct co_callout *c = co_of(ct);
	struct co_queue *q;

	if (!co_check("callout_setfunc", c))
		return;
	if (fn == NULL) {
		co_misuse("callout_setfunc", c, "NULL handler");
		return;
	}
	q = co_lock(c);
	c->fn = fn;
	c->arg = arg;
	co_queue_unlock(q);
}

/*
 * The queue of c if this call may take the direct path: c looks alive and
 * sits on a single-owner virtual clock owned by the caller, where an arm
 * or cancel is the wheel's work and nothing else (no lock, no dispatcher
 * to place or wake).  NULL sends the call down the general path, which
 * also reports every misuse.
 */
static inline struct co_queue *
co_direct_queue(struct co_callout *c)
{
	struct co_queue *q;

	if (__builtin_expect(c == NULL || c->magic != CO_MAGIC, 0))
		return NULL;
	q = atomic_load_explicit(&c->q, memory_order_relaxed);
	if (__builtin_expect(
		!q->clk->direct || q->clk->owner != &co_thread_token, 0))
		return NULL;
	return q;
}

static void
callout_reset_general(callout_t *ct, int ticks, void (*fn)(void *), void *arg)
{
	struct co_callout *c = co_of(ct);
	struct co_queue *q;
	bool was_pending;

	if (!co_check("callout_reset", c))
		return;
	if (fn == NULL) {
		co_misuse("callout_reset", c, "NULL handler");
		return;
	}
	q = co_lock(c);
	c->fn = fn;
	c->arg = arg;
	q = co_arm_ticks(
	    c, q, ticks < 1 ? 1 : (uint64_t)ticks, -1, &was_pending);
	co_queue_unlock(q);
}

void
callout_reset(callout_t *ct, int ticks, void (*fn)(void *), void *arg)
{
	struct co_callout *c = co_of(ct);
	struct co_queue *q = co_direct_queue(c);

	if (__builtin_expect(q != NULL && fn != NULL, 1)) {
		uint64_t now =
		    atomic_load_explicit(&q->clk->vnow, memory_order_relaxed);

		c->fn = fn;
		c->arg = arg;
		co_file(c, q, co_tick_add(now, ticks < 1 ? 1 : (uint64_t)ticks),
		    false);
		return;
	}
	callout_reset_general(ct, ticks, fn, arg);
}

void
callout_schedule(callout_t *ct, int ticks)
{
	struct co_callout *c = co_of(ct);
	struct co_queue *q;
	bool was_pending;

	if (!co_check("callout_schedule", c))
		return;
	q = co_lock(c);
	if (c->fn == NULL) {
		co_queue_unlock(q);
		co_misuse("callout_schedule", c, "no handler set");
		return;
	}
	q = co_arm_ticks(
	    c, q, ticks < 1 ? 1 : (uint64_t)ticks, -1, &was_pending);
	co_queue_unlock(q);
}

bool
callout_stop(callout_t *ct)
{
	struct co_callout *c = co_of(ct);
	struct co_queue *q = co_direct_queue(c);
	bool expired;

	if (__builtin_expect(q == NULL, 0)) {
		if (!co_check("callout_stop", c))
			return false;
		q = co_lock(c);
	}
	expired = (c->state & CO_FIRED) != 0;
	co_cancel(c, q);
	c->state &= ~CO_FIRED;
	co_queue_unlock(q);
	return expired;
}

bool
callout_halt(callout_t *ct, pthread_mutex_t *interlock)
{
	struct co_callout *c = co_of(ct);
	struct co_queue *q;
	bool waited;

	if (!co_check("callout_halt", c))
		return false;
	q = co_lock(c);
	co_cancel_locked(c, q);
	c->state &= ~CO_FIRED;
	if (!co_running_elsewhere(c, q)) {
		co_queue_unlock(q);
		return false;
	}
	do {
		q = co_wait_not_running(c, q, interlock, &waited);
		/* The handler may have re-armed itself: stop it again. */
		co_cancel_locked(c, q);
		c->state &= ~CO_FIRED;
	} while (co_running_elsewhere(c, q));
	co_queue_unlock(q);
	return true;
}

static uint16_t
co_state(callout_t *ct, const char *call)
{
	struct co_callout *c = co_of(ct);
	struct co_queue *q;
	uint16_t state;

	if (!co_check(call, c))
		return 0;
	q = co_lock(c);
	state = c->state;
	co_queue_unlock(q);
	return state;
}

bool
callout_pending(callout_t *c)
{
	return (co_state(c, "callout_pending") & CO_PENDING) != 0;
}

bool
callout_expired(callout_t *c)
{
	return (co_state(c, "callout_expired") & CO_FIRED) != 0;
}

bool
callout_active(callout_t *c)
{
	return (co_state(c, "callout_active") & (CO_PENDING | CO_FIRED)) != 0;
}

bool
callout_invoking(callout_t *c)
{
	return (co_state(c, "callout_invoking") & CO_INVOKING) != 0;
}

void
callout_ack(callout_t *ct)
{
	struct co_callout *c = co_of(ct);
	struct co_queue *q;

	if (!co_check("callout_ack", c))
		return;
	q = co_lock(c);
	c->state &= ~CO_INVOKING;
	co_queue_unlock(q);
}

void
callout_bind(callout_t *ct, unsigned int cpu)
{
	struct co_callout *c = co_of(ct);
	struct co_queue *q;

	if (!co_check("callout_bind", c))
		return;
	q = co_lock(c);
	if (cpu >= (unsigned)q->clk->ndisp) {
		co_queue_unlock(q);
		co_misuse("callout_bind", c, "no such dispatcher");
		return;
	}
	if (!(c->kind & CO_K_MPSAFE)) {
		/* Giant callouts run on dispatcher 0, always. */
		co_queue_unlock(q);
		co_misuse("callout_bind", c, "callout is not MPSAFE");
		return;
	}
	if ((c->state & CO_PENDING) || co_is_running(c, q)) {
		co_queue_unlock(q);
		co_misuse("callout_bind", c, "callout is pending or running");
		return;
	}
	for (;;) {
		bool unfiled;
		struct co_queue *tq = co_move_locked(c, q, (int)cpu, &unfiled);

		if (tq != NULL) {
			q = tq;
			break;
		}
		q = co_lock(c); /* moved meanwhile: check again */
		if ((c->state & CO_PENDING) || co_is_running(c, q)) {
			co_queue_unlock(q);
			co_misuse(
			    "callout_bind", c, "callout is pending or running");
			return;
		}
	}
	c->cpu = (uint16_t)cpu;
	c->state |= CO_BOUND;
	co_queue_unlock(q);
}
