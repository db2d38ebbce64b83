/*
 * callout(9), NetBSD semantics, on a virtual clock: every call's return
 * value on every path, handlers that re-arm, halt, destroy and free their
 * own callout, the edges of ticks, and the counters' identity.
 */
#include <limits.h>
#include <stdlib.h>

#include <callout.h>

#include "check.h"

static struct callout_clock *clk;

/* What a handler saw, for the checks. */
struct probe {
	callout_t c;
	int runs;
	uint64_t ran_at[8];
	bool saw_expired, saw_invoking, saw_pending;
	int rearm_left; /* re-arm with `rearm_ticks` this many more times */
	int rearm_ticks;
	bool halt_self, destroy_self, stop_self;
	bool halt_result, stop_result;
};

static void
probe_fn(void *arg)
{
	struct probe *p = arg;

	if (p->runs < 8)
		p->ran_at[p->runs] = callout_clock_ticks(clk);
	p->runs++;
	p->saw_expired = callout_expired(&p->c);
	p->saw_invoking = callout_invoking(&p->c);
	p->saw_pending = callout_pending(&p->c);
	if (p->rearm_left > 0) {
		p->rearm_left--;
		callout_schedule(&p->c, p->rearm_ticks);
	}
	if (p->stop_self)
		p->stop_result = callout_stop(&p->c);
	if (p->halt_self)
		p->halt_result = callout_halt(&p->c, NULL);
	if (p->destroy_self)
		callout_destroy(&p->c);
}

static struct callout_clock *
virtual_clock(uint64_t start)
{
	struct callout_clock_params p;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	p.start_ticks = start;
	return callout_clock_create(&p);
}

static void
probe_init(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	callout_init_clock(&p->c, clk, CALLOUT_MPSAFE);
	callout_setfunc(&p->c, probe_fn, p);
}

static void
never_armed_reports_nothing(void)
{
	struct probe p;

	probe_init(&p);
	CHECK(!callout_pending(&p.c));
	CHECK(!callout_expired(&p.c));
	CHECK(!callout_active(&p.c));
	CHECK(!callout_invoking(&p.c));
	CHECK(!callout_stop(&p.c));
	CHECK(!callout_halt(&p.c, NULL));
	callout_destroy(&p.c);
}

static void
pending_stop_returns_false_and_cancels(void)
{
	struct probe p;

	probe_init(&p);
	callout_schedule(&p.c, 10);
	CHECK(callout_pending(&p.c));
	CHECK(callout_active(&p.c));
	CHECK(!callout_expired(&p.c));
	CHECK(!callout_stop(&p.c)); /* had not fired */
	CHECK(!callout_pending(&p.c));
	CHECK(!callout_active(&p.c));
	callout_clock_advance(clk, 20);
	CHECK_EQ(p.runs, 0);
	callout_destroy(&p.c);
}

static void
fired_sets_expired_and_stop_returns_true(void)
{
	struct probe p;
	uint64_t t0 = callout_clock_ticks(clk);

	probe_init(&p);
	callout_schedule(&p.c, 5);
	callout_clock_advance(clk, 4);
	CHECK_EQ(p.runs, 0);
	callout_clock_advance(clk, 1);
	CHECK_EQ(p.runs, 1);
	CHECK_U64(p.ran_at[0], t0 + 5);
	CHECK(p.saw_expired);
	CHECK(p.saw_invoking);
	CHECK(!p.saw_pending);
	CHECK(callout_expired(&p.c));
	CHECK(callout_invoking(&p.c));
	CHECK(callout_active(&p.c));
	callout_ack(&p.c);
	CHECK(!callout_invoking(&p.c));
	CHECK(callout_stop(&p.c)); /* FIRED was set */
	CHECK(!callout_expired(&p.c));
	CHECK(!callout_stop(&p.c));
	callout_destroy(&p.c);
}

static void
halt_of_fired_callout_does_not_wait(void)
{
	struct probe p;

	probe_init(&p);
	callout_schedule(&p.c, 1);
	callout_clock_advance(clk, 1);
	CHECK_EQ(p.runs, 1);
	CHECK(!callout_halt(&p.c, NULL)); /* nothing running: no wait */
	CHECK(!callout_expired(&p.c));
	callout_destroy(&p.c);
}

static void
rearm_from_handler_runs_again_in_same_advance(void)
{
	struct probe p;
	uint64_t t0 = callout_clock_ticks(clk);

	probe_init(&p);
	p.rearm_left = 3;
	p.rearm_ticks = 7;
	callout_schedule(&p.c, 2);
	callout_clock_advance(clk, 100);
	CHECK_EQ(p.runs, 4);
	CHECK_U64(p.ran_at[0], t0 + 2);
	CHECK_U64(p.ran_at[1], t0 + 9);
	CHECK_U64(p.ran_at[2], t0 + 16);
	CHECK_U64(p.ran_at[3], t0 + 23);
	CHECK(!callout_pending(&p.c));
	CHECK(callout_expired(&p.c));
	callout_destroy(&p.c);
}

static void
rearm_from_handler_with_zero_means_next_tick(void)
{
	struct probe p;
	uint64_t t0 = callout_clock_ticks(clk);

	probe_init(&p);
	p.rearm_left = 2;
	p.rearm_ticks = 0;
	callout_schedule(&p.c, 1);
	callout_clock_advance(clk, 1);
	CHECK_EQ(p.runs, 1); /* never an inline call */
	CHECK(callout_pending(&p.c));
	callout_clock_advance(clk, 2);
	CHECK_EQ(p.runs, 3);
	CHECK_U64(p.ran_at[1], t0 + 2);
	CHECK_U64(p.ran_at[2], t0 + 3);
	callout_destroy(&p.c);
}

static void
stop_from_own_handler_after_rearm_cancels_it(void)
{
	struct probe p;

	probe_init(&p);
	p.rearm_left = 1;
	p.rearm_ticks = 3;
	p.stop_self = true;
	callout_schedule(&p.c, 1);
	callout_clock_advance(clk, 10);
	CHECK_EQ(p.runs, 1);
	CHECK(!p.stop_result); /* re-arm cleared FIRED */
	CHECK(!callout_pending(&p.c));
	callout_destroy(&p.c);
}

static void
halt_from_own_handler_returns_false_at_once(void)
{
	struct probe p;

	probe_init(&p);
	p.halt_self = true;
	p.rearm_left = 1;
	p.rearm_ticks = 1;
	callout_schedule(&p.c, 1);
	callout_clock_advance(clk, 5);
	CHECK_EQ(p.runs, 1);
	CHECK(!p.halt_result);
	CHECK(!callout_pending(&p.c)); /* the halt stopped the re-arm */
	callout_destroy(&p.c);
}

static void
destroy_from_own_handler_is_allowed(void)
{
	struct probe p;

	probe_init(&p);
	p.destroy_self = true;
	callout_schedule(&p.c, 1);
	callout_clock_advance(clk, 1);
	CHECK_EQ(p.runs, 1);
	/* Destroyed: using it again is misuse, reported, without effect. */
	atomic_store(&check_misuse_count, 0);
	callout_set_misuse_handler(check_misuse);
	callout_schedule(&p.c, 1);
	CHECK_MISUSE("callout_schedule");
	callout_set_misuse_handler(NULL);
}

struct freeing {
	callout_t c;
	int *runs;
};

static void
free_self_fn(void *arg)
{
	struct freeing *f = arg;

	(*f->runs)++;
	callout_destroy(&f->c);
	free(f);
}

static void
handler_that_frees_its_callout(void)
{
	int runs = 0;

	for (int i = 0; i < 100; i++) {
		struct freeing *f = malloc(sizeof(*f));

		f->runs = &runs;
		callout_init_clock(&f->c, clk, CALLOUT_MPSAFE);
		callout_reset(&f->c, 1 + i % 7, free_self_fn, f);
	}
	callout_clock_advance(clk, 10);
	CHECK_EQ(runs, 100);
}

static void
ticks_zero_negative_and_int_max(void)
{
	struct probe a, b, m;
	uint64_t t0 = callout_clock_ticks(clk);

	probe_init(&a);
	probe_init(&b);
	probe_init(&m);
	callout_schedule(&a.c, 0);
	callout_schedule(&b.c, -5);
	callout_schedule(&m.c, INT_MAX);
	CHECK_EQ(a.runs, 0); /* never inline */
	callout_clock_advance(clk, 1);
	CHECK_EQ(a.runs, 1);
	CHECK_EQ(b.runs, 1);
	CHECK_U64(a.ran_at[0], t0 + 1);
	CHECK_U64(b.ran_at[0], t0 + 1);
	callout_clock_advance(clk, (uint64_t)INT_MAX - 2);
	CHECK_EQ(m.runs, 0);
	callout_clock_advance(clk, 1);
	CHECK_EQ(m.runs, 1);
	CHECK_U64(m.ran_at[0], t0 + INT_MAX);
	callout_destroy(&a.c);
	callout_destroy(&b.c);
	callout_destroy(&m.c);
}

static void
reset_while_pending_moves_it(void)
{
	struct probe p;
	uint64_t t0 = callout_clock_ticks(clk);

	probe_init(&p);
	callout_schedule(&p.c, 100);
	callout_schedule(&p.c, 3);
	callout_clock_advance(clk, 3);
	CHECK_EQ(p.runs, 1);
	CHECK_U64(p.ran_at[0], t0 + 3);
	callout_schedule(&p.c, 3);
	callout_schedule(&p.c, 5000);
	callout_clock_advance(clk, 4999);
	CHECK_EQ(p.runs, 1);
	callout_clock_advance(clk, 1);
	CHECK_EQ(p.runs, 2);
	callout_destroy(&p.c);
}

static void
same_tick_order_is_deterministic(void)
{
	enum { N = 50 };
	static struct probe p[N];
	static int order[2][N];
	static int n;

	for (int round = 0; round < 2; round++) {
		struct callout_clock *saved = clk;

		clk = virtual_clock(1000);
		for (int i = 0; i < N; i++) {
			probe_init(&p[i]);
			callout_schedule(&p[i].c, 1 + (i * 7) % 3 * 64);
		}
		n = 0;
		for (int step = 0; step < 200; step++) {
			callout_clock_advance(clk, 1);
			for (int i = 0; i < N; i++)
				if (p[i].runs == 1 && p[i].rearm_left == 0) {
					order[round][n++] = i;
					p[i].rearm_left = -1;
				}
		}
		CHECK_EQ(n, N);
		for (int i = 0; i < N; i++)
			callout_destroy(&p[i].c);
		callout_clock_destroy(clk);
		clk = saved;
	}
	CHECK(memcmp(order[0], order[1], sizeof(order[0])) == 0);
}

static void
counters_balance(void)
{
	struct callout_counters k;
	struct probe a, b, c;

	probe_init(&a);
	probe_init(&b);
	probe_init(&c);
	callout_schedule(&a.c, 1);
	callout_schedule(&b.c, 2);
	callout_schedule(&b.c, 3); /* re-arm while pending counts nothing */
	callout_schedule(&c.c, 50);
	callout_clock_advance(clk, 5);
	callout_stop(&c.c);
	callout_clock_counters(clk, &k);
	CHECK_U64(k.armed, k.fired + k.stopped);
	callout_schedule(&c.c, 5);
	callout_clock_counters(clk, &k);
	CHECK_U64(k.armed, k.fired + k.stopped + 1);
	CHECK_U64(k.late, 0); /* virtual: every handler on its tick */
	callout_stop(&c.c);
	callout_destroy(&a.c);
	callout_destroy(&b.c);
	callout_destroy(&c.c);
}

static void
dump_lists_pending_callouts(void)
{
	struct probe p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char want[64];

	probe_init(&p);
	callout_schedule(&p.c, 42);
	callout_clock_dump(clk, f);
	fclose(f);
	snprintf(want, sizeof(want), "%p", (void *)&p);
	CHECK(strstr(buf, want) != NULL);
	snprintf(want, sizeof(want), "%llu",
	    (unsigned long long)callout_clock_ticks(clk) + 42);
	CHECK(strstr(buf, want) != NULL);
	free(buf);
	callout_stop(&p.c);
	callout_destroy(&p.c);
}

static void
saturated_due_ticks_stay_parked_at_the_end_of_time(void)
{
	struct callout_clock *saved = clk;
	struct probe near, far;

	clk = virtual_clock(UINT64_MAX - 20);
	probe_init(&near);
	probe_init(&far);
	callout_schedule(&near.c, 5);
	callout_schedule(&far.c, INT_MAX); /* saturates to the last tick */
	callout_clock_advance(clk, UINT64_MAX);
	CHECK_EQ(near.runs, 1);
	CHECK_U64(near.ran_at[0], UINT64_MAX - 15);
	CHECK_EQ(far.runs, 0); /* never early: parked for good */
	CHECK(callout_pending(&far.c));
	CHECK_U64(callout_clock_ticks(clk), UINT64_MAX - 1);
	callout_schedule(&near.c, 1); /* cannot be filed before the end */
	callout_clock_advance(clk, 1);
	CHECK_EQ(near.runs, 1);
	CHECK(!callout_stop(&near.c));
	CHECK(!callout_stop(&far.c));
	callout_destroy(&near.c);
	callout_destroy(&far.c);
	callout_clock_destroy(clk);
	clk = saved;
}

static void
callout_t_is_64_bytes(void)
{
	CHECK_EQ(sizeof(callout_t), 64);
}

int
main(void)
{
	clk = virtual_clock(0);
	RUN(callout_t_is_64_bytes);
	RUN(never_armed_reports_nothing);
	RUN(pending_stop_returns_false_and_cancels);
	RUN(fired_sets_expired_and_stop_returns_true);
	RUN(halt_of_fired_callout_does_not_wait);
	RUN(rearm_from_handler_runs_again_in_same_advance);
	RUN(rearm_from_handler_with_zero_means_next_tick);
	RUN(stop_from_own_handler_after_rearm_cancels_it);
	RUN(halt_from_own_handler_returns_false_at_once);
	RUN(destroy_from_own_handler_is_allowed);
	RUN(handler_that_frees_its_callout);
	RUN(ticks_zero_negative_and_int_max);
	RUN(reset_while_pending_moves_it);
	RUN(same_tick_order_is_deterministic);
	RUN(counters_balance);
	RUN(saturated_due_ticks_stay_parked_at_the_end_of_time);
	RUN(dump_lists_pending_callouts);
	callout_clock_destroy(clk);
	return check_finish();
}
