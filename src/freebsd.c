/*
 * The FreeBSD personality: struct callout, its return values (1, 0, -1),
 * ACTIVE and PENDING, the lock-assisted cancel, synchronous and
 * asynchronous drains, and sbintime_t deadlines with precision windows.
 * Built on the co_* state machine of callout.c; the run itself (taking the
 * mutex, skipping a cancelled run, calling the drain function) is in
 * dispatch.c.
 *
 * Lock-assisted cancel.  A handler that runs under a lock (the init_mtx
 * mutex, or giant for mpsafe 0) first takes that lock, then marks its run
 * started (q->run_started) under the queue lock.  A thread that holds the
 * lock and finds the callout running but not started knows the dispatcher
 * is blocked on the lock it holds: it sets q->run_cancelled and the
 * dispatcher, once it gets the lock, skips the handler.  That is what
 * makes "callout_stop returned 1" a promise the handler will not run.
 */
#include <sys/syscall.h>
#include <unistd.h>

#include <callout/freebsd.h>

#include "callout_impl.h"
#include "misuse.h"

_Static_assert(sizeof(struct co_callout_fbsd) <= sizeof(struct callout),
    "struct co_callout_fbsd fits in struct callout");

#define C_PREL_MASK 0x007e
#define C_KNOWN (C_DIRECT_EXEC | C_PREL_MASK | C_HARDCLOCK | C_ABSOLUTE)

static inline struct co_callout_fbsd *
fb_of(struct callout *c)
{
	return (struct co_callout_fbsd *)(void *)c;
}

/* Does the calling thread hold m?  Exact on glibc; assumed elsewhere. */
static bool
fb_mutex_owned(pthread_mutex_t *m)
{
#ifdef __GLIBC__
	static _Thread_local int tid;

	if (tid == 0)
		tid = (int)syscall(SYS_gettid);
	return __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) == tid;
#else
	(void)m;
	return true;
#endif
}

static inline bool
fb_lock_assisted(const struct co_callout *c)
{
	return (c->kind & CO_K_MTX) || !(c->kind & CO_K_MPSAFE);
}

/* Does the caller hold the lock the handler runs under? */
static bool
fb_holds_lock(struct co_callout_fbsd *f)
{
	if (f->co.kind & CO_K_MTX)
		return fb_mutex_owned(f->mtx);
	return !(f->co.kind & CO_K_MPSAFE) && co_giant_held();
}

/*
 * Is c's handler dispatched but blocked on a lock this thread holds?  Then
 * the run can still be skipped.
 */
static bool
fb_run_cancellable(struct co_callout_fbsd *f, struct co_queue *q)
{
	return co_is_running(&f->co, q) && !q->run_started &&
	    fb_lock_assisted(&f->co) && fb_holds_lock(f);
}

/* Common checks; `need_lock`: an init_mtx callout needs its mutex held. */
static bool
fb_check(const char *call, struct co_callout_fbsd *f, bool need_lock)
{
	/* f may be NULL: &f->co would be undefined, co_check reports it. */
	if (!co_check(call, f != NULL ? &f->co : NULL))
		return false;
	if (!(f->co.kind & CO_K_FREEBSD)) {
		co_misuse(call, f, "not a FreeBSD callout");
		return false;
	}
	if (need_lock && (f->co.kind & CO_K_MTX) && !fb_mutex_owned(f->mtx)) {
		co_misuse(call, f, "the callout's mutex is not held");
		return false;
	}
	return true;
}

void
callout_fbsd_init_clock(
    struct callout *c, struct callout_clock *clk, int mpsafe)
{
	struct co_callout_fbsd *f = fb_of(c);

	if (c == NULL || clk == NULL) {
		co_misuse("callout_init", c, "NULL callout or clock");
		return;
	}
	if (!co_clock_owner_ok(clk)) {
		co_misuse("callout_init", c,
		    "single-owner clock used from another thread");
		return;
	}
	co_init(&f->co, clk, CO_K_FREEBSD | (mpsafe ? CO_K_MPSAFE : 0));
	f->mtx = NULL;
	f->drain_fn = NULL;
}

void
callout_fbsd_init_mtx_clock(struct callout *c, struct callout_clock *clk,
    pthread_mutex_t *mtx, int flags)
{
	struct co_callout_fbsd *f = fb_of(c);
	unsigned kind = CO_K_FREEBSD | CO_K_MPSAFE;

	if (c == NULL || clk == NULL) {
		co_misuse("callout_init_mtx", c, "NULL callout or clock");
		return;
	}
	if (flags & ~CALLOUT_RETURNUNLOCKED) {
		co_misuse("callout_init_mtx", c, "unknown flags");
		return;
	}
	if (!co_clock_owner_ok(clk)) {
		co_misuse("callout_init_mtx", c,
		    "single-owner clock used from another thread");
		return;
	}
	if (mtx != NULL) {
		kind |= CO_K_MTX;
		if (flags & CALLOUT_RETURNUNLOCKED)
			kind |= CO_K_RETUNLK;
	}
	co_init(&f->co, clk, kind);
	f->mtx = mtx;
	f->drain_fn = NULL;
}

int
callout_fbsd_curcpu(struct callout *c)
{
	struct co_callout_fbsd *f = fb_of(c);

	if (!fb_check("callout_reset_curcpu", f, false))
		return -1;
	return co_home_cpu(atomic_load(&f->co.q)->clk);
}

/* Ticks of tick-0-based sbintime s, rounded up (never early) or down. */
static uint64_t
sbt_ticks_up(sbintime_t s, int hz)
{
	uint64_t u, frac;

	if (s <= 0)
		return 0;
	u = (uint64_t)s;
	frac = (u & 0xffffffffu) * (uint64_t)hz;
	return (u >> 32) * (uint64_t)hz + (frac >> 32) +
	    ((frac & 0xffffffffu) != 0);
}

static uint64_t
sbt_ticks_down(sbintime_t s, int hz)
{
	uint64_t u;

	if (s <= 0)
		return 0;
	u = (uint64_t)s;
	return (u >> 32) * (uint64_t)hz +
	    (((u & 0xffffffffu) * (uint64_t)hz) >> 32);
}

static sbintime_t
sbt_add(sbintime_t a, sbintime_t b)
{
	return b > 0 && a > SBT_MAX - b ? SBT_MAX : a + b;
}

/* The start of tick t as sbintime_t (t / hz), saturating. */
static sbintime_t
sbt_of_tick(uint64_t t, int hz)
{
	uint64_t sec = t / (uint64_t)hz, rem = t % (uint64_t)hz;

	if (sec >= (1ull << 31))
		return SBT_MAX;
	return (sbintime_t)((sec << 32) + (rem << 32) / (uint64_t)hz);
}

/* Time since the clock's start tick, rounded up to a whole sbt unit. */
static sbintime_t
sbt_elapsed(const struct callout_clock *clk)
{
	struct timespec now;
	int64_t sec, nsec;

	clock_gettime(CLOCK_MONOTONIC, &now);
	sec = now.tv_sec - clk->mono_start.tv_sec;
	nsec = now.tv_nsec - clk->mono_start.tv_nsec;
	if (nsec < 0) {
		sec--;
		nsec += 1000000000;
	}
	if (sec < 0)
		return 0;
	if (sec >= (1ll << 31))
		return SBT_MAX;
	return (sbintime_t)(((uint64_t)sec << 32) +
	    (((uint64_t)nsec << 32) + 999999999u) / 1000000000u);
}

sbintime_t
callout_clock_sbinuptime(const struct callout_clock *clk)
{
	if (clk == NULL) {
		co_misuse("callout_clock_sbinuptime", clk, "NULL clock");
		return 0;
	}
	if (clk->mode == CALLOUT_CLOCK_VIRTUAL)
		return sbt_of_tick(co_clock_now(clk), clk->hz);
	return sbt_add(
	    sbt_of_tick(clk->start_ticks, clk->hz), sbt_elapsed(clk));
}

/* A deadline in ticks: the due tick and the last tick of its window. */
struct fb_deadline {
	uint64_t due;
	uint64_t last;
};

static struct fb_deadline
fb_deadline(
    const struct callout_clock *clk, sbintime_t sbt, sbintime_t prec, int flags)
{
	struct fb_deadline d;
	sbintime_t now, rel, delay;
	uint64_t base;
	int n = ((flags & C_PREL_MASK) >> 1) - 1;

	/*
	 * Times are measured from a base tick: the current one in virtual
	 * mode (where "now" is a whole tick), the start tick otherwise
	 * (real time since then, rounded up).  Relative to it, the due time
	 * rounds up to a tick and the window end down.
	 */
	if (clk->mode == CALLOUT_CLOCK_VIRTUAL) {
		base = co_clock_now(clk);
		now = 0;
	} else {
		base = clk->start_ticks;
		now = sbt_elapsed(clk);
	}
	if (flags & C_ABSOLUTE) {
		sbintime_t b = sbt_of_tick(base, clk->hz);

		rel = sbt > b ? sbt - b : 0;
		delay = rel > now ? rel - now : 0;
	} else {
		delay = sbt > 0 ? sbt : 0;
		rel = sbt_add(now, delay);
	}
	if (prec < 0)
		prec = 0;
	if (n >= 0 && n < 63 && (delay >> n) > prec)
		prec = delay >> n;
	d.due = co_tick_add(base, sbt_ticks_up(rel, clk->hz));
	d.last = co_tick_add(base, sbt_ticks_down(sbt_add(rel, prec), clk->hz));
	return d;
}

/* Slack of a callout due at `due` whose window ends at tick `last`. */
static uint32_t
fb_slack(uint64_t due, uint64_t last)
{
	uint64_t s = last > due ? last - due : 0;

	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/*
 * The common arm, after fb_check: `due` and `last` in ticks; set_fn false
 * keeps the handler.  Returns 1 if a pending run was removed or a blocked
 * run cancelled.
 */
static int
fb_arm(struct co_callout_fbsd *f, const char *call, uint64_t due, uint64_t last,
    void (*fn)(void *), void *arg, int cpu, bool set_fn)
{
	struct co_callout *c = &f->co;
	struct co_queue *q;
	bool was_pending;
	int ret = 0;

	q = co_lock(c);
	if (cpu < -1 || cpu >= q->clk->ndisp) {
		co_queue_unlock(q);
		co_misuse(call, f, "no such dispatcher");
		return 0;
	}
	if (!set_fn && c->fn == NULL) {
		co_queue_unlock(q);
		co_misuse(call, f, "no handler set");
		return 0;
	}
	if (c->state & CO_DRAINING) {
		co_queue_unlock(q);
		return 0; /* a drain waits on it: FreeBSD does not re-arm */
	}
	if (fb_run_cancellable(f, q) && !q->run_cancelled) {
		q->run_cancelled = true;
		ret = 1;
	}
	if (set_fn) {
		c->fn = fn;
		c->arg = arg;
	}
	/* Giant callouts stay on dispatcher 0; -1 keeps the current one. */
	if (!(c->kind & CO_K_MPSAFE))
		cpu = 0;
	else if (cpu < 0)
		cpu = c->cpu;
	uint64_t now = co_clock_now(q->clk);
	if (due <= now)
		due = co_tick_add(now, 1);
	c->slack = fb_slack(due, last);
	q = co_arm_at_locked(c, q, due, cpu, &was_pending);
	/* The arm may have pushed the due tick later: keep the window. */
	c->slack = fb_slack(c->node.expire, last);
	c->state |= CO_ACTIVE;
	if (was_pending)
		ret = 1;
	co_queue_unlock(q);
	return ret;
}

static int
fb_arm_ticks(struct co_callout_fbsd *f, const char *call, int ticks,
    void (*fn)(void *), void *arg, int cpu, bool set_fn)
{
	struct callout_clock *clk;
	uint64_t due;

	if (!fb_check(call, f, true))
		return 0;
	clk = atomic_load(&f->co.q)->clk;
	due = co_tick_add(co_clock_now(clk), ticks < 1 ? 1 : (uint64_t)ticks);
	return fb_arm(f, call, due, due, fn, arg, cpu, set_fn);
}

int
callout_fbsd_reset_on(
    struct callout *c, int ticks, void (*fn)(void *), void *arg, int cpu)
{
	if (fn == NULL) {
		co_misuse("callout_reset", c, "NULL handler");
		return 0;
	}
	return fb_arm_ticks(
	    fb_of(c), "callout_reset", ticks, fn, arg, cpu, true);
}

int
callout_fbsd_schedule_on(struct callout *c, int ticks, int cpu)
{
	return fb_arm_ticks(
	    fb_of(c), "callout_schedule", ticks, NULL, NULL, cpu, false);
}

static int
fb_arm_sbt(struct co_callout_fbsd *f, const char *call, sbintime_t sbt,
    sbintime_t prec, void (*fn)(void *), void *arg, int cpu, int flags,
    bool set_fn)
{
	struct fb_deadline d;

	if (!fb_check(call, f, true))
		return 0;
	if (flags & ~C_KNOWN) {
		co_misuse(call, f, "unknown flags");
		return 0;
	}
	d = fb_deadline(atomic_load(&f->co.q)->clk, sbt, prec, flags);
	return fb_arm(f, call, d.due, d.last, fn, arg, cpu, set_fn);
}

int
callout_fbsd_reset_sbt_on(struct callout *c, sbintime_t sbt, sbintime_t prec,
    void (*fn)(void *), void *arg, int cpu, int flags)
{
	if (fn == NULL) {
		co_misuse("callout_reset_sbt", c, "NULL handler");
		return 0;
	}
	return fb_arm_sbt(fb_of(c), "callout_reset_sbt", sbt, prec, fn, arg,
	    cpu, flags, true);
}

int
callout_fbsd_schedule_sbt_on(
    struct callout *c, sbintime_t sbt, sbintime_t prec, int cpu, int flags)
{
	return fb_arm_sbt(fb_of(c), "callout_schedule_sbt", sbt, prec, NULL,
	    NULL, cpu, flags, false);
}

/*
 * Stop (q locked): clear ACTIVE, remove a pending run, and cancel a run
 * blocked on the lock the caller holds.  Returns FreeBSD's value.
 */
static int
fb_stop_locked(struct co_callout_fbsd *f, struct co_queue *q)
{
	struct co_callout *c = &f->co;
	bool removed;

	c->state &= ~CO_ACTIVE;
	removed = co_cancel_locked(c, q);
	if (!co_is_running(c, q) || q->run_finished)
		return removed ? 1 : -1;
	if (fb_run_cancellable(f, q)) {
		if (!q->run_cancelled) {
			q->run_cancelled = true;
			return 1;
		}
		/* Skipped already: as good as not running. */
		return removed ? 1 : -1;
	}
	return 0;
}

int
callout_fbsd_stop(struct callout *ct)
{
	struct co_callout_fbsd *f = fb_of(ct);
	struct co_queue *q;
	int ret;

	if (!fb_check("callout_stop", f, true))
		return -1;
	q = co_lock(&f->co);
	ret = fb_stop_locked(f, q);
	co_queue_unlock(q);
	return ret;
}

int
callout_fbsd_drain(struct callout *ct)
{
	struct co_callout_fbsd *f = fb_of(ct);
	struct co_callout *c;
	struct co_queue *q;
	bool removed, waited;

	if (!fb_check("callout_drain", f, false))
		return -1;
	c = &f->co;
	if ((c->kind & CO_K_MTX) && fb_mutex_owned(f->mtx)) {
		co_misuse(
		    "callout_drain", f, "called with the callout's mutex held");
		return -1;
	}
	q = co_lock(c);
	c->state &= ~CO_ACTIVE;
	removed = co_cancel_locked(c, q);
	if (co_running_elsewhere(c, q)) {
		c->state |= CO_DRAINING;
		do {
			q = co_wait_not_running(c, q, NULL, &waited);
			/* Only a race with another drain can re-arm it. */
			if (co_cancel_locked(c, q))
				removed = true;
		} while (co_running_elsewhere(c, q));
		c->state &= ~CO_DRAINING;
	}
	co_queue_unlock(q);
	return removed ? 1 : -1;
}

int
callout_fbsd_async_drain(struct callout *ct, void (*drain_fn)(void *))
{
	struct co_callout_fbsd *f = fb_of(ct);
	struct co_callout *c;
	struct co_queue *q;
	bool removed;

	if (!fb_check("callout_async_drain", f, true))
		return -1;
	c = &f->co;
	if (drain_fn == NULL) {
		co_misuse("callout_async_drain", f, "NULL drain function");
		return -1;
	}
	q = co_lock(c);
	c->state &= ~CO_ACTIVE;
	removed = co_cancel_locked(c, q);
	if (!co_is_running(c, q) || q->run_finished) {
		co_queue_unlock(q);
		return removed ? 1 : -1;
	}
	c->state |= CO_DRAINING;
	q->run_drain_fn = drain_fn;
	q->run_drain_arg = c->arg;
	co_queue_unlock(q);
	return 0;
}

static uint16_t
fb_state(struct co_callout_fbsd *f, const char *call)
{
	struct co_queue *q;
	uint16_t state;

	if (!fb_check(call, f, false))
		return 0;
	q = co_lock(&f->co);
	state = f->co.state;
	co_queue_unlock(q);
	return state;
}

int
callout_fbsd_pending(struct callout *c)
{
	return (fb_state(fb_of(c), "callout_pending") & CO_PENDING) != 0;
}

int
callout_fbsd_active(struct callout *c)
{
	return (fb_state(fb_of(c), "callout_active") & CO_ACTIVE) != 0;
}

void
callout_fbsd_deactivate(struct callout *ct)
{
	struct co_callout_fbsd *f = fb_of(ct);
	struct co_queue *q;

	if (!fb_check("callout_deactivate", f, false))
		return;
	q = co_lock(&f->co);
	f->co.state &= ~CO_ACTIVE;
	co_queue_unlock(q);
}
