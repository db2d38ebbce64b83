/*
 * Randomised model test: millions of random callout operations on a
 * virtual clock (reset, schedule, stop, halt, advance by small steps and
 * long jumps, handlers that re-arm themselves) checked against a plain
 * reference model for the exact tick at which each handler runs.
 *
 * Fixed seeds by default; CALLOUT_SEED=n replays one seed, CALLOUT_OPS=n
 * sets the number of operations.  A failure prints its seed.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>

#include <callout.h>

#include "check.h"

enum { NCALLOUTS = 1000 };

struct model_callout {
	callout_t c;
	int id;
	/* The reference model. */
	bool has_fn;
	bool pending;
	bool fired; /* NetBSD FIRED: expired since last armed */
	uint64_t due;
	int rearm_ticks;  /* handler re-arms with this when > 0 ... */
	int rearm_budget; /* ... this many more times */
};

struct fire_record {
	int id;
	uint64_t tick;
};

static struct callout_clock *clk;
static struct model_callout mc[NCALLOUTS];
static struct fire_record *got, *want;
static size_t ngot, nwant, capgot, capwant;
static uint64_t rng;
static uint64_t seed_now;
static bool failed;

static uint64_t
next_rand(void)
{
	/* xorshift64*: small, fast, reproducible. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static void
record(struct fire_record **log, size_t *n, size_t *cap, int id, uint64_t tick)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 4096;
		*log = realloc(*log, *cap * sizeof(**log));
		if (*log == NULL)
			abort();
	}
	(*log)[(*n)++] = (struct fire_record){ id, tick };
}

static void
handler(void *arg)
{
	struct model_callout *m = arg;

	record(&got, &ngot, &capgot, m->id, callout_clock_ticks(clk));
	if (!callout_expired(&m->c) || callout_pending(&m->c))
		failed = true;
	/* The re-arm rule is part of the callout's state: the model copies it. */
	if (m->rearm_budget > 0) {
		m->rearm_budget--;
		callout_schedule(&m->c, m->rearm_ticks);
	}
}

/* The reference: fire everything due by `target`, tick by tick. */
static int budget_shadow[NCALLOUTS];

static void
model_advance(uint64_t now, uint64_t target)
{
	for (;;) {
		uint64_t t = UINT64_MAX;

		for (int i = 0; i < NCALLOUTS; i++)
			if (mc[i].pending && mc[i].due < t)
				t = mc[i].due;
		if (t > target || t == UINT64_MAX)
			break;
		for (int i = 0; i < NCALLOUTS; i++) {
			struct model_callout *m = &mc[i];

			if (!m->pending || m->due != t)
				continue;
			m->pending = false;
			m->fired = true;
			record(&want, &nwant, &capwant, i, t);
			if (budget_shadow[i] > 0) {
				budget_shadow[i]--;
				m->pending = true;
				m->fired = false;
				m->due = t +
				    (uint64_t)(m->rearm_ticks < 1
					    ? 1
					    : m->rearm_ticks);
			}
		}
	}
	(void)now;
}

static int
cmp_record(const void *a, const void *b)
{
	const struct fire_record *x = a, *y = b;

	if (x->tick != y->tick)
		return x->tick < y->tick ? -1 : 1;
	return x->id - y->id;
}

/* Both logs must hold the same (id, tick) pairs, in tick order. */
static bool
logs_agree(void)
{
	if (ngot != nwant)
		return false;
	for (size_t i = 1; i < ngot; i++)
		if (got[i].tick < got[i - 1].tick)
			return false;
	qsort(got, ngot, sizeof(*got), cmp_record);
	qsort(want, nwant, sizeof(*want), cmp_record);
	/* Field by field: memcmp would also compare the padding after id. */
	for (size_t i = 0; i < ngot; i++)
		if (got[i].id != want[i].id || got[i].tick != want[i].tick)
			return false;
	return true;
}

static int
random_ticks(void)
{
	switch (next_rand() % 8) {
	case 0:
		return -(int)(next_rand() % 100); /* <= 0: next tick */
	case 1:
		return 1 + (int)(next_rand() % 64);
	case 2:
		return 1 + (int)(next_rand() % 5000);
	case 3:
		return 1 + (int)(next_rand() % 300000);
	case 4:
		return 1 + (int)(next_rand() % 100000000);
	case 5:
		return next_rand() % 64 == 0 ? INT_MAX
					     : 1 + (int)(next_rand() % 2);
	default:
		return 1 + (int)(next_rand() % 200);
	}
}

static uint64_t
random_jump(void)
{
	switch (next_rand() % 10) {
	case 0:
		return 0;
	case 1:
		return 86400000; /* a day at 1 kHz */
	case 2:
		return next_rand() % 10000000;
	case 3:
		return next_rand() % 100000;
	default:
		return next_rand() % 100;
	}
}

static bool
run_seed(uint64_t seed, long ops)
{
	struct callout_clock_params p;
	uint64_t now;

	seed_now = seed;
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	callout_clock_params_init(&p);
	p.start_ticks =
	    next_rand() % 4 == 0 ? (1ull << 32) - 1000 : next_rand() % 1000000;
	p.flags = seed % 2 ? CALLOUT_CLOCK_SINGLE_OWNER : 0;
	clk = callout_clock_create(&p);
	now = p.start_ticks;
	ngot = nwant = 0;
	failed = false;
	for (int i = 0; i < NCALLOUTS; i++) {
		memset(&mc[i], 0, sizeof(mc[i]));
		mc[i].id = i;
		callout_init_clock(&mc[i].c, clk, CALLOUT_MPSAFE);
		budget_shadow[i] = 0;
	}
	for (long op = 0; op < ops && !failed; op++) {
		struct model_callout *m = &mc[next_rand() % NCALLOUTS];
		int i = m->id;
		unsigned kind = (unsigned)(next_rand() % 100);

		if (kind < 35) { /* callout_reset */
			int t = random_ticks();

			m->rearm_ticks = next_rand() % 4 == 0
			    ? (int)(next_rand() % 70) - 5
			    : 0;
			m->rearm_budget =
			    m->rearm_ticks ? 1 + (int)(next_rand() % 3) : 0;
			budget_shadow[i] = m->rearm_budget;
			callout_reset(&m->c, t, handler, m);
			m->has_fn = true;
			m->pending = true;
			m->fired = false;
			m->due = now + (uint64_t)(t < 1 ? 1 : t);
		} else if (kind < 50) { /* callout_schedule, if it has a fn */
			if (!m->has_fn)
				continue; /* schedule needs a handler */
			int t = random_ticks();

			callout_schedule(&m->c, t);
			m->pending = true;
			m->fired = false;
			m->due = now + (uint64_t)(t < 1 ? 1 : t);
		} else if (kind < 70) { /* callout_stop */
			bool r = callout_stop(&m->c);

			if (r != m->fired) {
				fprintf(stderr,
				    "stop(%d) returned %d, model %d\n", i, r,
				    m->fired);
				failed = true;
			}
			m->pending = false;
			m->fired = false;
		} else if (kind < 75) { /* callout_halt: never waits here */
			if (callout_halt(&m->c, NULL))
				failed = true;
			m->pending = false;
			m->fired = false;
		} else if (kind < 80) { /* queries */
			if (callout_pending(&m->c) != m->pending ||
			    callout_expired(&m->c) != m->fired) {
				fprintf(stderr, "flags of %d disagree\n", i);
				failed = true;
			}
		} else { /* advance */
			uint64_t n = random_jump();

			model_advance(now, now + n);
			callout_clock_advance(clk, n);
			now += n;
			if (callout_clock_ticks(clk) != now)
				failed = true;
		}
	}
	model_advance(now, now + 200000000);
	callout_clock_advance(clk, 200000000);
	bool ok = !failed && logs_agree();
	fprintf(stderr, "seed %" PRIu64 ": %ld operations, %zu handler runs\n",
	    seed, ops, ngot);
	/* Whatever is still pending (INT_MAX delays) is stopped. */
	for (int i = 0; i < NCALLOUTS; i++) {
		callout_stop(&mc[i].c);
		callout_destroy(&mc[i].c);
	}
	struct callout_counters k;
	callout_clock_counters(clk, &k);
	if (k.armed != k.fired + k.stopped) {
		fprintf(stderr,
		    "counters: armed %" PRIu64 " != fired %" PRIu64
		    " + stopped %" PRIu64 "\n",
		    k.armed, k.fired, k.stopped);
		ok = false;
	}
	callout_clock_destroy(clk);
	if (!ok)
		fprintf(stderr,
		    "model test FAILED: replay with CALLOUT_SEED=%" PRIu64
		    " CALLOUT_OPS=%ld (%zu fired, %zu expected)\n",
		    seed, ops, ngot, nwant);
	return ok;
}

int
main(void)
{
	const char *s = getenv("CALLOUT_SEED");
	const char *o = getenv("CALLOUT_OPS");
	long ops = o != NULL ? atol(o) : check_scaled(1000000, 100000);

	if (s != NULL) {
		CHECK(run_seed(strtoull(s, NULL, 0), ops));
		return check_finish();
	}
	/* 4 seeds, a quarter of the operations each: 10^6 in all. */
	static const uint64_t seeds[] = { 1, 2, 20261204, 0xdeadbeef };
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		CHECK(run_seed(seeds[i], ops / 4));
	return check_finish();
}
