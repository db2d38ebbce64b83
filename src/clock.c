/*
 * Clocks: creation and destruction, the tick/real-time mapping, home
 * dispatchers, the default clock, counters and the debugger dump.  The
 * per-mode engines live in clock_virtual.c, clock_threaded.c and
 * clock_external.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "callout_impl.h"
#include "misuse.h"

#define CO_MAX_DISPATCHERS 1024 /* fits callout.cpu with room to spare */
#define CO_MAX_HZ 1000000       /* a tick must be at least 1 us */
#define NT_EPOCH_OFFSET 116444736000000000LL /* 1601 -> 1970, 100 ns */

void (*co_pooled_orphan)(struct co_callout *c);
void (*co_last_clock_gone)(void);
void (*co_clock_gone_hook)(struct callout_clock *clk);

static atomic_int live_clocks;

static atomic_uint_fast64_t clock_ids = 1;

void
callout_clock_params_init(struct callout_clock_params *p)
{
	memset(p, 0, sizeof(*p));
	p->hz = 1000;
	p->ndispatchers = 0; /* chosen by mode at creation */
	p->mode = CALLOUT_CLOCK_VIRTUAL;
	p->flags = 0;
	p->start_ticks = 0;
	p->system_time_at_start = INT64_MIN; /* "the real time at creation" */
}

static int
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > CO_MAX_DISPATCHERS ? CO_MAX_DISPATCHERS : (int)n;
}

static int64_t
real_nt_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return NT_EPOCH_OFFSET + (int64_t)ts.tv_sec * 10000000 +
	    ts.tv_nsec / 100;
}

static void
queue_init(struct co_queue *q, struct callout_clock *clk, int index)
{
	pthread_condattr_t ca;

	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->done, &ca);
	pthread_cond_init(&q->wake, &ca);
	pthread_condattr_destroy(&ca);
	wheel_init(&q->wheel, clk->start_ticks);
	wheel_list_init(&q->expired);
	q->clk = clk;
	q->index = index;
	q->sleep_until = WHEEL_NEVER;
}

static void
queue_fini(struct co_queue *q)
{
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->done);
	pthread_cond_destroy(&q->wake);
}

struct callout_clock *
callout_clock_create(const struct callout_clock_params *p)
{
	struct callout_clock_params def;
	struct callout_clock *clk;
	int ndisp;

	if (p == NULL) {
		callout_clock_params_init(&def);
		p = &def;
	}
	if (p->hz < 1 || p->hz > CO_MAX_HZ || p->ndispatchers < 0 ||
	    p->start_ticks > CO_TICK_LAST ||
	    p->ndispatchers > CO_MAX_DISPATCHERS ||
	    (p->flags & ~CALLOUT_CLOCK_SINGLE_OWNER) != 0 ||
	    (p->mode != CALLOUT_CLOCK_VIRTUAL &&
		p->mode != CALLOUT_CLOCK_THREADED &&
		p->mode != CALLOUT_CLOCK_EXTERNAL)) {
		errno = EINVAL;
		return NULL;
	}
	ndisp = p->ndispatchers;
	if (ndisp == 0)
		ndisp = p->mode == CALLOUT_CLOCK_THREADED ? online_cpus() : 1;
	if ((p->flags & CALLOUT_CLOCK_SINGLE_OWNER) &&
	    (p->mode == CALLOUT_CLOCK_THREADED || ndisp != 1)) {
		errno = EINVAL;
		return NULL;
	}
	clk = calloc(1, sizeof(*clk));
	if (clk == NULL)
		return NULL;
	clk->hz = p->hz;
	clk->mode = p->mode;
	clk->flags = p->flags;
	clk->ndisp = ndisp;
	clk->nqueues = p->mode == CALLOUT_CLOCK_THREADED ? ndisp : 1;
	clk->locking = !(p->flags & CALLOUT_CLOCK_SINGLE_OWNER);
	clk->direct = !clk->locking && clk->mode == CALLOUT_CLOCK_VIRTUAL &&
	    clk->ndisp == 1;
	clk->id = atomic_fetch_add(&clock_ids, 1);
	clk->start_ticks = p->start_ticks;
	clk->system_time_at_start = p->system_time_at_start == INT64_MIN
	    ? real_nt_time()
	    : p->system_time_at_start;
	clock_gettime(CLOCK_MONOTONIC, &clk->mono_start);
	clk->owner = &co_thread_token;
	atomic_init(&clk->vnow, p->start_ticks);
	clk->timerfd = -1;
	clk->queues = calloc((size_t)clk->nqueues, sizeof(*clk->queues));
	if (clk->queues == NULL) {
		free(clk);
		return NULL;
	}
	for (int i = 0; i < clk->nqueues; i++)
		queue_init(&clk->queues[i], clk, i);

	int error = 0;
	if (clk->mode == CALLOUT_CLOCK_THREADED)
		error = co_threaded_start(clk);
	else if (clk->mode == CALLOUT_CLOCK_EXTERNAL)
		error = co_external_start(clk);
	if (error != 0) {
		for (int i = 0; i < clk->nqueues; i++)
			queue_fini(&clk->queues[i]);
		free(clk->queues);
		free(clk);
		errno = error;
		return NULL;
	}
	atomic_fetch_add(&live_clocks, 1);
	return clk;
}

/* Is any caller-owned callout pending on q?  (Pooled ones are ours.) */
static const struct co_callout *
queue_caller_pending(struct co_queue *q)
{
	for (struct wheel_node *n = q->expired.first; n != NULL; n = n->next)
		if (!(co_from_node(n)->kind & CO_K_POOLED))
			return co_from_node(n);
	for (unsigned l = 0; l < WHEEL_LEVELS; l++)
		for (unsigned s = 0; s < WHEEL_SLOTS; s++)
			for (struct wheel_node *n = q->wheel.slot[l][s];
			     n != NULL; n = n->next)
				if (!(co_from_node(n)->kind & CO_K_POOLED))
					return co_from_node(n);
	return NULL;
}

/*
 * Take every pooled callout off q (locked) onto `out`; their owners get
 * them back once the lock is dropped (lock order: pool before queue).
 */
static void
queue_take_pooled(struct co_queue *q, struct wheel_list *out)
{
	wheel_advance(&q->wheel, WHEEL_NEVER, out);
	while (q->expired.first != NULL) {
		struct wheel_node *n = q->expired.first;

		wheel_list_remove(&q->expired, n);
		wheel_list_append(out, n);
	}
	for (struct wheel_node *n = out->first; n != NULL; n = n->next) {
		co_from_node(n)->state &= ~CO_PENDING;
		q->counters.stopped++;
	}
}

static void
orphan_pooled(struct wheel_list *l)
{
	while (l->first != NULL) {
		struct co_callout *c = co_from_node(l->first);

		wheel_list_remove(l, l->first);
		if (co_pooled_orphan != NULL)
			co_pooled_orphan(c);
	}
}

static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct callout_clock *) default_clock;
static atomic_bool default_used;
static bool default_implicit;

void
callout_clock_destroy(struct callout_clock *clk)
{
	if (clk == NULL)
		return;
	if (!co_clock_owner_ok(clk)) {
		co_misuse("callout_clock_destroy", clk,
		    "called from a thread other than the single owner");
		return;
	}
	if (co_clock_advancing_here(clk)) {
		co_misuse("callout_clock_destroy", clk,
		    "called from a handler of this clock");
		return;
	}
	if (clk->mode == CALLOUT_CLOCK_THREADED &&
	    co_threaded_on_dispatcher(clk)) {
		co_misuse("callout_clock_destroy", clk,
		    "called from a handler of this clock");
		return;
	}
	for (int i = 0; i < clk->nqueues; i++) {
		struct co_queue *q = &clk->queues[i];
		const struct co_callout *c;

		co_queue_lock(q);
		c = queue_caller_pending(q);
		co_queue_unlock(q);
		if (c != NULL) {
			co_misuse("callout_clock_destroy", clk,
			    "a caller-owned callout is still pending");
			return;
		}
	}
	atomic_store(&clk->stopping, true);
	if (clk->mode == CALLOUT_CLOCK_THREADED)
		co_threaded_stop(clk);
	else if (clk->mode == CALLOUT_CLOCK_EXTERNAL)
		co_external_stop(clk);
	for (int i = 0; i < clk->nqueues; i++) {
		struct co_queue *q = &clk->queues[i];

		struct wheel_list pooled;

		wheel_list_init(&pooled);
		co_queue_lock(q);
		queue_take_pooled(q, &pooled);
		co_queue_unlock(q);
		orphan_pooled(&pooled);
		queue_fini(q);
	}
	if (co_clock_gone_hook != NULL)
		co_clock_gone_hook(clk);
	pthread_mutex_lock(&default_lock);
	if (atomic_load(&default_clock) == clk) {
		atomic_store(&default_clock, NULL);
		atomic_store(&default_used, false);
		default_implicit = false;
	}
	pthread_mutex_unlock(&default_lock);
	free(clk->queues);
	free(clk);
	/* The pool keeps one slab while any clock may lend: drop it now. */
	if (atomic_fetch_sub(&live_clocks, 1) == 1 && co_last_clock_gone)
		co_last_clock_gone();
}

/* Elapsed time since the clock's start as ticks, rounding down. */
uint64_t
co_tick_at(const struct callout_clock *clk, const struct timespec *ts)
{
	int64_t sec = ts->tv_sec - clk->mono_start.tv_sec;
	int64_t nsec = ts->tv_nsec - clk->mono_start.tv_nsec;

	if (nsec < 0) {
		sec--;
		nsec += 1000000000;
	}
	if (sec < 0)
		return clk->start_ticks;
	uint64_t t = (uint64_t)sec * (uint64_t)clk->hz +
	    (uint64_t)nsec * (uint64_t)clk->hz / 1000000000u;

	t = co_tick_add(clk->start_ticks, t);
	return t > CO_TICK_LAST ? CO_TICK_LAST : t;
}

/* The instant tick t starts, rounded up to the nanosecond: never early. */
struct timespec
co_tick_start(const struct callout_clock *clk, uint64_t t)
{
	struct timespec ts = clk->mono_start;
	uint64_t d = t > clk->start_ticks ? t - clk->start_ticks : 0;
	uint64_t sec = d / (uint64_t)clk->hz;
	uint64_t rem = d % (uint64_t)clk->hz;
	uint64_t nsec =
	    (rem * 1000000000u + (uint64_t)clk->hz - 1) / (uint64_t)clk->hz;

	if (sec > (uint64_t)INT64_MAX / 2) { /* saturate: "never" */
		ts.tv_sec = INT64_MAX / 2;
		ts.tv_nsec = 0;
		return ts;
	}
	ts.tv_sec += (time_t)sec;
	ts.tv_nsec += (long)nsec;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

_Thread_local char co_thread_token __attribute__((tls_model("initial-exec")));

uint64_t
co_clock_now_real(const struct callout_clock *clk)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return co_tick_at(clk, &ts);
}

uint64_t
callout_clock_ticks(const struct callout_clock *clk)
{
	if (clk == NULL) {
		co_misuse("callout_clock_ticks", clk, "NULL clock");
		return 0;
	}
	return co_clock_now(clk);
}

int
callout_clock_hz(const struct callout_clock *clk)
{
	if (clk == NULL) {
		co_misuse("callout_clock_hz", clk, "NULL clock");
		return 0;
	}
	return clk->hz;
}

int
callout_clock_ndispatchers(const struct callout_clock *clk)
{
	if (clk == NULL) {
		co_misuse("callout_clock_ndispatchers", clk, "NULL clock");
		return 0;
	}
	return clk->ndisp;
}

/*
 * Home dispatchers.  A thread keeps a small cache of (clock id, home)
 * pairs; ids are never reused, so a destroyed clock's entry is harmless.
 */
#define HOME_CACHE 8

struct home_entry {
	uint64_t clock_id;
	int cpu;
};

static _Thread_local struct home_entry home_cache[HOME_CACHE];
static _Thread_local unsigned home_next;

static struct home_entry *
home_find(const struct callout_clock *clk)
{
	for (unsigned i = 0; i < HOME_CACHE; i++)
		if (home_cache[i].clock_id == clk->id)
			return &home_cache[i];
	return NULL;
}

static void
home_store(const struct callout_clock *clk, int cpu)
{
	struct home_entry *e = home_find(clk);

	if (e == NULL) {
		e = &home_cache[home_next];
		home_next = (home_next + 1) % HOME_CACHE;
	}
	e->clock_id = clk->id;
	e->cpu = cpu;
}

int
co_home_cpu(struct callout_clock *clk)
{
	struct home_entry *e;
	int cpu;

	if (clk->ndisp == 1)
		return 0;
	e = home_find(clk);
	if (e != NULL)
		return e->cpu;
	cpu =
	    (int)(atomic_fetch_add(&clk->next_home, 1) % (unsigned)clk->ndisp);
	home_store(clk, cpu);
	return cpu;
}

int
callout_clock_set_home(struct callout_clock *clk, int dispatcher)
{
	if (clk == NULL || dispatcher < 0 || dispatcher >= clk->ndisp) {
		errno = EINVAL;
		return -1;
	}
	home_store(clk, dispatcher);
	return 0;
}

/* Dispatcher threads are their own home (clock_threaded.c). */
void
co_home_set_self(struct callout_clock *clk, int cpu)
{
	home_store(clk, cpu);
}

struct callout_clock *
co_default_clock(void)
{
	struct callout_clock *clk = atomic_load(&default_clock);

	if (clk != NULL &&
	    atomic_load_explicit(&default_used, memory_order_relaxed))
		return clk;
	pthread_mutex_lock(&default_lock);
	clk = atomic_load(&default_clock);
	if (clk == NULL) {
		struct callout_clock_params p;

		callout_clock_params_init(&p);
		p.mode = CALLOUT_CLOCK_THREADED;
		clk = callout_clock_create(&p);
		if (clk == NULL)
			co_fatal("callout_clock_default", NULL,
			    "cannot create the default clock");
		atomic_store(&default_clock, clk);
		default_implicit = true;
	}
	atomic_store(&default_used, true);
	pthread_mutex_unlock(&default_lock);
	return clk;
}

struct callout_clock *
callout_clock_default(void)
{
	return co_default_clock();
}

int
callout_clock_set_default(struct callout_clock *clk)
{
	int ret = 0;

	if (clk == NULL) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&default_lock);
	if (atomic_load(&default_used)) {
		errno = EBUSY;
		ret = -1;
	} else {
		struct callout_clock *old = atomic_load(&default_clock);

		atomic_store(&default_clock, clk);
		if (old != NULL && default_implicit && old != clk) {
			/* Never used, so nothing can be pending on it. */
			pthread_mutex_unlock(&default_lock);
			callout_clock_destroy(old);
			pthread_mutex_lock(&default_lock);
		}
		default_implicit = false;
	}
	pthread_mutex_unlock(&default_lock);
	return ret;
}

/* The implicitly created default clock dies with the process. */
__attribute__((destructor)) static void
default_clock_fini(void)
{
	struct callout_clock *clk = NULL;

	pthread_mutex_lock(&default_lock);
	if (default_implicit)
		clk = atomic_load(&default_clock);
	pthread_mutex_unlock(&default_lock);
	if (clk == NULL)
		return;
	for (int i = 0; i < clk->nqueues; i++) {
		bool busy;

		co_queue_lock(&clk->queues[i]);
		busy = queue_caller_pending(&clk->queues[i]) != NULL;
		co_queue_unlock(&clk->queues[i]);
		if (busy)
			return; /* leave it: destroying would be misuse */
	}
	callout_clock_destroy(clk);
}

int
callout_hz(void)
{
	return co_default_clock()->hz;
}

int
callout_ticks(void)
{
	/* The low 32 bits, as a kernel's int ticks: wraps, differences work. */
	return (int)(uint32_t)co_clock_now(co_default_clock());
}

void
co_clock_set_tick_hook(
    struct callout_clock *clk, co_tick_hook_fn *fn, void *ctx)
{
	/* Dispatcher threads read the hook under their queue's lock. */
	for (int i = 0; i < clk->nqueues; i++)
		co_queue_lock(&clk->queues[i]);
	clk->tick_hook_ctx = ctx;
	clk->tick_hook = fn;
	for (int i = 0; i < clk->nqueues; i++)
		co_queue_unlock(&clk->queues[i]);
}

void
callout_clock_counters(
    const struct callout_clock *clk, struct callout_counters *out)
{
	if (out == NULL) {
		co_misuse("callout_clock_counters", clk, "NULL out");
		return;
	}
	memset(out, 0, sizeof(*out));
	if (clk == NULL) {
		co_misuse("callout_clock_counters", clk, "NULL clock");
		return;
	}
	for (int i = 0; i < clk->nqueues; i++) {
		struct co_queue *q = &clk->queues[i];

		co_queue_lock(q);
		out->armed += q->counters.armed;
		out->fired += q->counters.fired;
		out->stopped += q->counters.stopped;
		out->late += q->counters.late;
		if (q->counters.max_late_ticks > out->max_late_ticks)
			out->max_late_ticks = q->counters.max_late_ticks;
		out->halt_waits += q->counters.halt_waits;
		out->wakeups += q->counters.wakeups;
		out->dpcs_coalesced += q->counters.dpcs_coalesced;
		co_queue_unlock(q);
	}
}

static void
dump_node(FILE *f, const struct wheel_node *n, int queue)
{
	const struct co_callout *c = co_from_node((struct wheel_node *)n);

	fprintf(f, "  %4d  %20llu  %p  %p%s\n", queue,
	    (unsigned long long)n->expire, (void *)(uintptr_t)c->fn, c->arg,
	    (c->kind & CO_K_POOLED) ? "  (pooled)" : "");
}

void
callout_clock_dump(const struct callout_clock *clk, FILE *f)
{
	if (clk == NULL || f == NULL) {
		co_misuse("callout_clock_dump", clk, "NULL clock or file");
		return;
	}
	fprintf(f, "clock %p: hz %d, mode %d, %d dispatcher(s), tick %llu\n",
	    (const void *)clk, clk->hz, clk->mode, clk->ndisp,
	    (unsigned long long)co_clock_now(clk));
	fprintf(f, "  %4s  %20s  %-14s  %s\n", "cpu", "due tick", "handler",
	    "argument");
	for (int i = 0; i < clk->nqueues; i++) {
		struct co_queue *q = &clk->queues[i];

		co_queue_lock(q);
		for (struct wheel_node *n = q->expired.first; n != NULL;
		     n = n->next)
			dump_node(f, n, i);
		for (unsigned l = 0; l < WHEEL_LEVELS; l++)
			for (unsigned s = 0; s < WHEEL_SLOTS; s++)
				for (struct wheel_node *n = q->wheel.slot[l][s];
				     n != NULL; n = n->next)
					dump_node(f, n, i);
		co_queue_unlock(q);
	}
}
