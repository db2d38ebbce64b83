/*
 * timeout(9) API tests on the virtual clock: when a timeout fires, what
 * untimeout cancels and what it leaves alone (stale handles, other fn or
 * arg, a running handler), the pool cap, null handles, clock destruction,
 * the default clock, misuse, and that handlers run without giant.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include <callout.h>
#include <callout/timeout.h>

#include "check.h"

static struct callout_clock *vclk; /* also the default clock */

struct rec {
	int fired;
	uint64_t tick; /* of the last fire */
};

static void
record(void *arg)
{
	struct rec *r = arg;

	r->fired++;
	r->tick = callout_clock_ticks(vclk);
}

static void
other(void *arg)
{
	(void)arg;
}

static size_t
in_use(void)
{
	struct callout_pool_counters c;

	callout_pool_counters(&c);
	return c.in_use;
}

static void
timeout_fires_once_at_its_tick(void)
{
	struct rec r = { 0, 0 };
	uint64_t t0 = callout_clock_ticks(vclk);
	struct callout_handle h = timeout_on(vclk, record, &r, 5);

	CHECK(!callout_handle_is_null(h));
	CHECK(callout_handle_pending(h));
	CHECK_EQ(in_use(), 1);
	callout_clock_advance(vclk, 4);
	CHECK_EQ(r.fired, 0);
	CHECK(callout_handle_pending(h));
	callout_clock_advance(vclk, 1);
	CHECK_EQ(r.fired, 1);
	CHECK_U64(r.tick, t0 + 5);
	CHECK(!callout_handle_pending(h));
	CHECK_EQ(in_use(), 0);
	callout_clock_advance(vclk, 100);
	CHECK_EQ(r.fired, 1);
}

static void
nonpositive_ticks_mean_the_next_tick(void)
{
	struct rec a = { 0, 0 }, b = { 0, 0 };
	uint64_t t0 = callout_clock_ticks(vclk);

	timeout_on(vclk, record, &a, 0);
	timeout_on(vclk, record, &b, INT_MIN);
	callout_clock_advance(vclk, 1);
	CHECK_EQ(a.fired, 1);
	CHECK_EQ(b.fired, 1);
	CHECK_U64(a.tick, t0 + 1);
	CHECK_U64(b.tick, t0 + 1);
	CHECK_EQ(in_use(), 0);
}

static void
int_max_ticks_stays_pending_until_then(void)
{
	struct rec r = { 0, 0 };
	struct callout_handle h = timeout_on(vclk, record, &r, INT_MAX);

	callout_clock_advance(vclk, (uint64_t)INT_MAX - 1);
	CHECK_EQ(r.fired, 0);
	CHECK(callout_handle_pending(h));
	callout_clock_advance(vclk, 1);
	CHECK_EQ(r.fired, 1);
	CHECK_EQ(in_use(), 0);
}

static void
untimeout_while_pending_cancels_and_returns_the_callout(void)
{
	struct rec r = { 0, 0 };
	struct callout_counters before, after;
	struct callout_handle h;

	callout_clock_counters(vclk, &before);
	h = timeout_on(vclk, record, &r, 3);
	untimeout(record, &r, h);
	CHECK(!callout_handle_pending(h));
	CHECK_EQ(in_use(), 0);
	callout_clock_advance(vclk, 10);
	CHECK_EQ(r.fired, 0);
	callout_clock_counters(vclk, &after);
	CHECK_U64(after.armed - before.armed, 1);
	CHECK_U64(after.stopped - before.stopped, 1);
	CHECK_U64(after.fired - before.fired, 0);
	untimeout(record, &r, h); /* twice: nothing */
	CHECK_EQ(in_use(), 0);
}

static void
untimeout_after_fire_does_nothing(void)
{
	struct rec r = { 0, 0 };
	struct callout_handle h = timeout_on(vclk, record, &r, 1);

	callout_clock_advance(vclk, 1);
	CHECK_EQ(r.fired, 1);
	untimeout(record, &r, h);
	CHECK_EQ(in_use(), 0);
	CHECK(!callout_handle_pending(h));
}

static void
untimeout_with_other_fn_or_arg_cancels_nothing(void)
{
	struct rec r = { 0, 0 }, s = { 0, 0 };
	struct callout_handle h = timeout_on(vclk, record, &r, 2);

	untimeout(other, &r, h);
	CHECK(callout_handle_pending(h));
	untimeout(record, &s, h);
	CHECK(callout_handle_pending(h));
	untimeout(record, NULL, h);
	CHECK(callout_handle_pending(h));
	callout_clock_advance(vclk, 2);
	CHECK_EQ(r.fired, 1);
	CHECK_EQ(s.fired, 0);
}

/*
 * The FreeBSD hole: with the pool capped at one callout, the second
 * timeout must reuse the first one's callout, and it has the same fn and
 * arg, so only the generation tells the handles apart.
 */
static void
stale_handle_leaves_reused_callout_pending(void)
{
	struct rec r = { 0, 0 };
	struct callout_handle a, b;

	callout_pool_set_cap(1);
	a = timeout_on(vclk, record, &r, 1);
	CHECK(!callout_handle_is_null(a));
	callout_clock_advance(vclk, 1);
	CHECK_EQ(r.fired, 1);
	b = timeout_on(vclk, record, &r, 3);
	CHECK(!callout_handle_is_null(b));
	CHECK_EQ(b._h_index, a._h_index); /* the same callout, reused */
	CHECK_EQ(in_use(), 1);
	untimeout(record, &r, a);
	CHECK(callout_handle_pending(b));
	CHECK(!callout_handle_pending(a));
	callout_clock_advance(vclk, 3);
	CHECK_EQ(r.fired, 2);
	callout_clock_advance(vclk, 10);
	CHECK_EQ(r.fired, 2);
	callout_pool_set_cap(0);
	CHECK_EQ(in_use(), 0);
}

static void
cap_reached_gives_null_handle_and_enomem(void)
{
	struct rec r[4] = { { 0, 0 } };
	struct callout_pool_counters before, after;
	struct callout_counters cb, ca;
	struct callout_handle h[4];
	int i;

	callout_pool_set_cap(3);
	for (i = 0; i < 3; i++) {
		h[i] = timeout_on(vclk, record, &r[i], 2 + i);
		CHECK(!callout_handle_is_null(h[i]));
	}
	callout_pool_counters(&before);
	callout_clock_counters(vclk, &cb);
	errno = 0;
	h[3] = timeout_on(vclk, record, &r[3], 1);
	CHECK_EQ(errno, ENOMEM);
	CHECK(callout_handle_is_null(h[3]));
	CHECK(!callout_handle_pending(h[3]));
	untimeout(record, &r[3], h[3]);
	callout_pool_counters(&after);
	callout_clock_counters(vclk, &ca);
	CHECK_U64(after.failures, before.failures + 1);
	CHECK_U64(after.lends, before.lends);
	CHECK_EQ(after.in_use, 3);
	CHECK_U64(ca.armed, cb.armed);
	for (i = 0; i < 3; i++)
		CHECK(callout_handle_pending(h[i]));
	callout_clock_advance(vclk, 10);
	for (i = 0; i < 3; i++)
		CHECK_EQ(r[i].fired, 1);
	CHECK_EQ(r[3].fired, 0);
	callout_pool_set_cap(0);
	CHECK_EQ(in_use(), 0);
}

static void
null_handles_name_nothing(void)
{
	struct callout_handle a = CALLOUT_HANDLE_INITIALIZER(&a);
	struct callout_handle b;
	struct rec r = { 0, 0 };
	struct callout_handle h = timeout_on(vclk, record, &r, 1);

	callout_handle_init(&b);
	CHECK(callout_handle_is_null(a));
	CHECK(callout_handle_is_null(b));
	CHECK(!callout_handle_pending(a));
	untimeout(record, &r, a);
	untimeout(record, &r, b);
	CHECK(callout_handle_pending(h));
	callout_clock_advance(vclk, 1);
	CHECK_EQ(r.fired, 1);
}

struct self {
	struct callout_handle h;
	bool pending_inside;
	size_t in_use_inside;
	struct callout_handle child;
	struct rec child_rec;
	int fired;
};

static void
self_cancel(void *arg)
{
	struct self *s = arg;

	s->fired++;
	s->pending_inside = callout_handle_pending(s->h);
	untimeout(self_cancel, s, s->h);
	s->in_use_inside = in_use();
	s->child = timeout_on(vclk, record, &s->child_rec, 1);
}

static void
running_handler_is_not_pending_and_holds_its_callout(void)
{
	struct self s = { .fired = 0 };

	s.h = timeout_on(vclk, self_cancel, &s, 1);
	callout_clock_advance(vclk, 1);
	CHECK_EQ(s.fired, 1);
	CHECK(!s.pending_inside);
	CHECK_EQ(s.in_use_inside, 1);
	/* The child armed by the handler: both lent for a moment. */
	CHECK(callout_handle_pending(s.child));
	CHECK_EQ(in_use(), 1);
	callout_clock_advance(vclk, 1);
	CHECK_EQ(s.child_rec.fired, 1);
	CHECK_EQ(in_use(), 0);
}

static void
destroying_a_clock_returns_its_pending_timeouts(void)
{
	struct callout_clock_params p;
	struct callout_clock *clk;
	struct callout_handle h[100];
	struct rec r = { 0, 0 };
	int i;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	clk = callout_clock_create(&p);
	CHECK(clk != NULL);
	for (i = 0; i < 100; i++)
		h[i] = timeout_on(clk, record, &r, 1 + i);
	CHECK_EQ(in_use(), 100);
	callout_clock_destroy(clk);
	CHECK_EQ(in_use(), 0);
	for (i = 0; i < 100; i++) {
		CHECK(!callout_handle_pending(h[i]));
		untimeout(record, &r, h[i]);
	}
	CHECK_EQ(r.fired, 0);
	CHECK_EQ(in_use(), 0);
}

static void
timeout_uses_the_default_clock(void)
{
	struct rec r = { 0, 0 };
	uint64_t t0 = callout_clock_ticks(vclk);
	struct callout_handle h = timeout(record, &r, 2);

	CHECK(callout_handle_pending(h));
	callout_clock_advance(vclk, 2);
	CHECK_EQ(r.fired, 1);
	CHECK_U64(r.tick, t0 + 2);
}

static void
null_handler_or_clock_is_misuse(void)
{
	struct rec r = { 0, 0 };
	struct callout_handle h;

	h = timeout(NULL, &r, 1);
	CHECK_MISUSE("timeout");
	CHECK(callout_handle_is_null(h));
	h = timeout_on(vclk, NULL, &r, 1);
	CHECK_MISUSE("timeout");
	CHECK(callout_handle_is_null(h));
	h = timeout_on(NULL, record, &r, 1);
	CHECK_MISUSE("timeout");
	CHECK(callout_handle_is_null(h));
	CHECK_EQ(in_use(), 0);
}

struct owner_arg {
	struct callout_clock *clk;
	struct callout_handle h;
	struct rec r;
};

static void *
foreign_thread(void *p)
{
	struct owner_arg *a = p;

	a->h = timeout_on(a->clk, record, &a->r, 1);
	return NULL;
}

static void *
foreign_untimeout(void *p)
{
	struct owner_arg *a = p;

	untimeout(record, &a->r, a->h);
	return NULL;
}

static void
single_owner_clock_from_another_thread_is_misuse(void)
{
	struct callout_clock_params p;
	struct owner_arg a = { .r = { 0, 0 } };
	pthread_t t;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	p.flags = CALLOUT_CLOCK_SINGLE_OWNER;
	a.clk = callout_clock_create(&p);
	CHECK(a.clk != NULL);
	pthread_create(&t, NULL, foreign_thread, &a);
	pthread_join(t, NULL);
	CHECK_MISUSE("timeout");
	CHECK(callout_handle_is_null(a.h));
	a.h = timeout_on(a.clk, record, &a.r, 1);
	pthread_create(&t, NULL, foreign_untimeout, &a);
	pthread_join(t, NULL);
	CHECK_MISUSE("untimeout");
	CHECK(callout_handle_pending(a.h));
	callout_clock_advance(a.clk, 1);
	CHECK_EQ(a.r.fired, 1);
	callout_clock_destroy(a.clk);
	CHECK_EQ(in_use(), 0);
}

static atomic_int giant_fired;

static void
mark_giant(void *arg)
{
	(void)arg;
	atomic_store(&giant_fired, 1);
}

/* If handlers took giant, this one could not run while we hold it. */
static void
handlers_run_without_giant(void)
{
	struct callout_clock_params p;
	struct callout_clock *clk;
	struct timespec ms = { 0, 1000000 };
	int i;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_THREADED;
	p.ndispatchers = 1;
	clk = callout_clock_create(&p);
	CHECK(clk != NULL);
	callout_giant_lock();
	timeout_on(clk, mark_giant, NULL, 1);
	for (i = 0; i < 10000 && !atomic_load(&giant_fired); i++)
		nanosleep(&ms, NULL);
	callout_giant_unlock();
	CHECK_EQ(atomic_load(&giant_fired), 1);
	callout_clock_destroy(clk);
	CHECK_EQ(in_use(), 0);
}

static struct callout_clock *rearm_clk;
static atomic_int rearm_count;

static void
rearm(void *arg)
{
	atomic_fetch_add(&rearm_count, 1);
	timeout_on(rearm_clk, rearm, arg, 1);
}

/* A timeout that re-arms itself does not stop a clock's destruction. */
static void
self_rearming_timeouts_end_with_their_clock(void)
{
	struct callout_clock_params p;
	struct timespec ms = { 0, 1000000 };
	int i;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_THREADED;
	p.ndispatchers = 2;
	rearm_clk = callout_clock_create(&p);
	CHECK(rearm_clk != NULL);
	for (i = 0; i < 8; i++)
		timeout_on(rearm_clk, rearm, NULL, 1);
	for (i = 0; i < 10000 && atomic_load(&rearm_count) < 100; i++)
		nanosleep(&ms, NULL);
	CHECK(atomic_load(&rearm_count) >= 100);
	callout_clock_destroy(rearm_clk);
	CHECK_EQ(in_use(), 0);
	CHECK_EQ(atomic_load(&check_misuse_count), 0);
}

int
main(void)
{
	struct callout_clock_params p;

	callout_set_misuse_handler(check_misuse);
	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	vclk = callout_clock_create(&p);
	if (vclk == NULL || callout_clock_set_default(vclk) != 0) {
		fprintf(stderr, "cannot set up the virtual default clock\n");
		return 1;
	}
	RUN(timeout_fires_once_at_its_tick);
	RUN(nonpositive_ticks_mean_the_next_tick);
	RUN(int_max_ticks_stays_pending_until_then);
	RUN(untimeout_while_pending_cancels_and_returns_the_callout);
	RUN(untimeout_after_fire_does_nothing);
	RUN(untimeout_with_other_fn_or_arg_cancels_nothing);
	RUN(stale_handle_leaves_reused_callout_pending);
	RUN(cap_reached_gives_null_handle_and_enomem);
	RUN(null_handles_name_nothing);
	RUN(running_handler_is_not_pending_and_holds_its_callout);
	RUN(destroying_a_clock_returns_its_pending_timeouts);
	RUN(timeout_uses_the_default_clock);
	RUN(null_handler_or_clock_is_misuse);
	RUN(single_owner_clock_from_another_thread_is_misuse);
	RUN(handlers_run_without_giant);
	RUN(self_rearming_timeouts_end_with_their_clock);
	callout_clock_destroy(vclk);
	CHECK_EQ(in_use(), 0);
	return check_finish();
}
