/*
 * Running expired callouts: the one loop every clock mode uses to call
 * handlers.  The callout is read before its handler is called and never
 * touched after it returns, so a handler may re-arm, stop, destroy or free
 * its own callout.
 */
#include "callout_impl.h"

/* The FreeBSD init_mtx interlock: was this run cancelled while we waited? */
static bool
co_take_handler_mutex(struct co_queue *q, pthread_mutex_t *mtx)
{
	bool cancelled;

	pthread_mutex_lock(mtx);
	co_queue_lock(q);
	cancelled = q->run_cancelled;
	co_queue_unlock(q);
	if (cancelled)
		pthread_mutex_unlock(mtx);
	return !cancelled;
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
		uint64_t late = q->wheel.now - n->expire;

		wheel_list_remove(&q->expired, n);
		c->state = (uint16_t)((c->state & ~CO_PENDING) | CO_FIRED |
		    CO_INVOKING);
		if (kind & CO_K_MTX)
			mtx = ((struct co_callout_fbsd *)c)->mtx;
		q->running = c;
		q->running_thread = pthread_self();
		q->run_cancelled = false;
		co_queue_unlock(q);

		if (!(kind & CO_K_MPSAFE))
			callout_giant_lock();
		if (mtx == NULL || co_take_handler_mutex(q, mtx)) {
			fn(arg);
			if (mtx != NULL && !(kind & CO_K_RETUNLK))
				pthread_mutex_unlock(mtx);
			ran++;
		}
		if (!(kind & CO_K_MPSAFE))
			callout_giant_unlock();

		co_queue_lock(q);
		if (q->run_cancelled) {
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
		if (q->run_drain_fn != NULL) {
			void (*drain)(void *) = q->run_drain_fn;
			void *drain_arg = q->run_drain_arg;

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
