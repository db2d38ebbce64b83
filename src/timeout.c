/*
 * timeout(9) and untimeout(9) on pooled callouts (timeout.md section 2).
 *
 * A timeout borrows a pool entry: its co is the callout, data[0] and
 * data[1] hold the caller's function and argument, and the callout's own
 * handler is to_fire, which calls them and then gives the entry back.  So
 * an entry is lent from timeout() until its handler has returned, or until
 * untimeout cancels it while it is still pending.
 *
 * A handle is the entry's (index, generation) at lend time.  untimeout and
 * callout_handle_pending pin the entry by that name; a handle that fired,
 * was cancelled or whose entry now serves another timeout no longer pins
 * (the generation moved on), so it cannot touch the new timeout even when
 * that one has the same function and argument.  The pin holds the pool
 * shard lock, which keeps to_fire from returning the entry under us; the
 * lock order is shard lock, then queue lock.
 *
 * A handler may arm a timeout on its own clock while that clock is being
 * destroyed: destruction joins the dispatchers before it takes the pooled
 * callouts back, so the new timeout is cancelled and returned with the
 * rest.
 *
 * untimeout never waits for a running handler: the handler's callout is no
 * longer pending, so there is nothing to cancel, and to_fire returns the
 * entry when the handler is done.  Handlers run without the giant lock
 * (CO_K_MPSAFE).
 */
#include <errno.h>
#include <string.h>

#include <callout/timeout.h>

#include "callout_impl.h"
#include "clock.h"
#include "misuse.h"
#include "pool.h"

/* The pool owner tag of timeout() entries (NT timers use their own). */
static char to_owner;

static const struct callout_handle to_null = CALLOUT_HANDLE_INITIALIZER(h);

_Static_assert(sizeof(timeout_t *) <= sizeof(void *),
    "a timeout_t pointer fits a pool data slot");

static void
to_set(struct co_pool_entry *e, timeout_t *fn, void *arg)
{
	memcpy(&e->data[0], &fn, sizeof(fn));
	e->data[1] = arg;
}

static timeout_t *
to_fn(const struct co_pool_entry *e)
{
	timeout_t *fn;

	memcpy(&fn, &e->data[0], sizeof(fn));
	return fn;
}

/* The handler of every timeout() callout. */
static void
to_fire(void *p)
{
	struct co_pool_entry *e = p;

	to_fn(e)(e->data[1]);
	co_pool_return(e);
}

void
callout_handle_init(struct callout_handle *h)
{
	*h = to_null;
}

bool
callout_handle_is_null(struct callout_handle h)
{
	return h._h_gen == 0;
}

struct callout_handle
timeout_on(struct callout_clock *clk, timeout_t *fn, void *arg, int ticks)
{
	struct callout_handle h;
	struct co_pool_entry *e;
	struct co_queue *q;
	bool was_pending;

	if (clk == NULL) {
		co_misuse("timeout", NULL, "no clock");
		return to_null;
	}
	if (fn == NULL) {
		co_misuse("timeout", clk, "NULL handler");
		return to_null;
	}
	if (!co_clock_owner_ok(clk)) {
		co_misuse("timeout", clk,
		    "single-owner clock used from another thread");
		return to_null;
	}
	e = co_pool_lend(&to_owner, true);
	if (e == NULL)
		return to_null; /* errno = ENOMEM */
	to_set(e, fn, arg);
	co_init(&e->co, clk, CO_K_POOLED | CO_K_MPSAFE);
	e->co.fn = to_fire;
	e->co.arg = e;
	/* Name it now: once armed it may fire and go back at any moment. */
	h._h_index = e->index;
	h._h_gen = e->gen;
	q = co_lock(&e->co);
	q = co_arm_locked(
	    &e->co, q, ticks <= 0 ? 1 : (uint64_t)ticks, -1, &was_pending);
	co_queue_unlock(q);
	return h;
}

struct callout_handle
timeout(timeout_t *fn, void *arg, int ticks)
{
	struct callout_clock *clk;

	if (fn == NULL) {
		co_misuse("timeout", NULL, "NULL handler");
		return to_null;
	}
	clk = co_default_clock();
	if (clk == NULL) {
		errno = ENOMEM;
		return to_null;
	}
	return timeout_on(clk, fn, arg, ticks);
}

/* Pin the timeout() entry h names; NULL if it names no live timeout. */
static struct co_pool_entry *
to_pin(struct callout_handle h)
{
	struct co_pool_entry *e;

	e = co_pool_pin(h._h_index, h._h_gen);
	if (e != NULL && e->owner != &to_owner) {
		co_pool_unpin(e);
		return NULL;
	}
	return e;
}

/* The single-owner check; reports misuse with no lock held. */
static bool
to_owner_ok(const char *call, struct co_pool_entry *e)
{
	struct callout_clock *clk = atomic_load(&e->co.q)->clk;

	if (co_clock_owner_ok(clk))
		return true;
	co_pool_unpin(e);
	co_misuse(call, clk, "single-owner clock used from another thread");
	return false;
}

void
untimeout(timeout_t *fn, void *arg, struct callout_handle h)
{
	struct co_pool_entry *e;
	struct co_queue *q;
	bool cancelled;

	e = to_pin(h);
	if (e == NULL)
		return;
	if (to_fn(e) != fn || e->data[1] != arg) {
		co_pool_unpin(e);
		return;
	}
	if (!to_owner_ok("untimeout", e))
		return;
	q = co_lock(&e->co);
	cancelled = co_cancel_locked(&e->co, q);
	co_queue_unlock(q);
	if (cancelled)
		co_pool_return_pinned(e);
	else
		co_pool_unpin(e);
}

bool
callout_handle_pending(struct callout_handle h)
{
	struct co_pool_entry *e;
	struct co_queue *q;
	bool pending;

	e = to_pin(h);
	if (e == NULL)
		return false;
	if (!to_owner_ok("callout_handle_pending", e))
		return false;
	q = co_lock(&e->co);
	pending = (e->co.state & CO_PENDING) != 0;
	co_queue_unlock(q);
	co_pool_unpin(e);
	return pending;
}
