/*
 * Running expired callouts: the one loop every clock mode uses to call
 * handlers.  The callout is read before its handler is called and never
 * touched after it returns, so a handler may re-arm, stop, destroy or free
 * its own callout.  The one exception is a FreeBSD async drain, whose
 * contract keeps the callout alive until its drain function has run.
 */
#include "callout_impl.h"

/*
 * A FreeBSD callout whose handler runs under a lock (its init_mtx mutex,
 * or giant for mpsafe 0) can be cancelled by a thread that holds that lock
 * while the dispatcher waits for it: "lock-assisted cancel".
 */
static inline bool
co_lock_assisted(unsigned kind)
{
	return (kind & CO_K_FREEBSD) &&
	    ((kind & CO_K_MTX) || !(kind & CO_K_MPSAFE));
}

/*
 * Take the locks the handler runs under.  Returns false, holding none of
 * them, if a lock-assisted cancel skipped this run meanwhile.
 */
static bool
co_run_enter(struct co_queue *q, unsigned kind, pthread_mutex_t *mtx)
{
	bool cancelled = false;

	if (!(kind & CO_K_MPSAFE))
		callout_giant_lock();
	if (mtx != NULL)
		pthread_mutex_lock(mtx);
	if (co_lock_assisted(kind)) {
		co_queue_lock(q);
		cancelled = q->run_cancelled;
		q->run_started = !cancelled;
		co_queue_unlock(q);
	}
	if (cancelled) {
		if (mtx != NULL)
			pthread_mutex_unlock(mtx);
		if (!(kind & CO_K_MPSAFE))
			callout_giant_unlock();
	}
	return !cancelled;
}

static void
co_run_leave(unsigned kind, pthread_mutex_t *mtx)
{
	if (mtx != NULL && !(kind & CO_K_RETUNLK))
		pthread_mutex_unlock(mtx);
	if (!(kind & CO_K_MPSAFE))
		callout_giant_unlock();
}

unsigned
co_queue_dispatch(struct co_queue *q)
{
	unsigned ran = 0;
	struct wheel_node *n;

	while ((n = q->expired.first) != NULL) {
		struct co_callout *c = co_from_node(n);
		void (*fn)(void *) = c->fn;
		void *arg = c->arg;
		unsigned kind = c->kind;
		pthread_mutex_t *mtx = NULL;
		/* Running inside a precision window is not late. */
		uint64_t due = co_tick_add(n->expire, c->slack);
		uint64_t late = q->wheel.now > due ? q->wheel.now - due : 0;

		wheel_list_remove(&q->expired, n);
		c->state = (uint16_t)((c->state & ~CO_PENDING) | CO_FIRED |
		    CO_INVOKING);
		if (kind & CO_K_MTX)
			mtx = ((struct co_callout_fbsd *)c)->mtx;
		q->running = c;
		q->running_gen = c->gen;
		q->running_thread = &co_thread_token;
		q->run_cancelled = false;
		q->run_started = false;
		q->run_finished = false;
		co_queue_unlock(q);

		bool run = co_run_enter(q, kind, mtx);

		if (run) {
			fn(arg);
			if (co_lock_assisted(kind)) {
				/* Before the lock goes: whoever takes it next
				 * must see a finished run, not a running one. */
				co_queue_lock(q);
				q->run_finished = true;
				co_queue_unlock(q);
			}
			co_run_leave(kind, mtx);
			ran++;
		}

		co_queue_lock(q);
		if (!run) {
			q->counters.stopped++;
		} else {
			q->counters.fired++;
			if (late > 0) {
				q->counters.late++;
				if (late > q->counters.max_late_ticks)
					q->counters.max_late_ticks = late;
			}
		}
		q->running = NULL;
		q->run_started = false;
		if (q->run_drain_fn != NULL) {
			void (*drain)(void *) = q->run_drain_fn;
			void *drain_arg = q->run_drain_arg;

			/* Still ours until drain() is called: see above. */
			c->state &= ~CO_DRAINING;
			q->run_drain_fn = NULL;
			co_queue_unlock(q);
			drain(drain_arg);
			co_queue_lock(q);
		}
		if (q->halt_waiters > 0)
			pthread_cond_broadcast(&q->done);
	}
	return ran;
}
