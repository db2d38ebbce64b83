/*
 * Unit tests of the callout pool alone (src/pool.c): lend and return, pin
 * by name, garbage and stale names, the cap, the counters, slab growth and
 * freeing, and concurrent lends from several threads.  Uses no clock.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <callout/timeout.h>

#include "pool.h"

#define SLAB 64 /* entries per slab, as in pool.c */

static int failures;

#define CHECK_EQ(what, expected, got) \
	do { \
		unsigned long long e_ = (unsigned long long)(expected); \
		unsigned long long g_ = (unsigned long long)(got); \
		if (e_ != g_) { \
			fprintf(stderr, \
			    "%s:%d: %s: expected %llu, got %llu\n", __func__, \
			    __LINE__, (what), e_, g_); \
			failures++; \
		} \
	} while (0)

#define CHECK(what, cond) CHECK_EQ((what), 1, !!(cond))

static char owner_a, owner_b;

static double
test_scale(void)
{
	const char *s = getenv("CALLOUT_TEST_SCALE");
	double v = s != NULL ? strtod(s, NULL) : 1.0;

	return v > 0 ? v : 1.0;
}

static struct callout_pool_counters
counters(void)
{
	struct callout_pool_counters c;

	callout_pool_counters(&c);
	return c;
}

/* Must run first: the high-water mark is process-wide and never falls. */
static void
high_water_is_most_lent_at_once(void)
{
	struct co_pool_entry *e[10];
	int i;

	for (i = 0; i < 10; i++)
		e[i] = co_pool_lend(&owner_a, false);
	for (i = 0; i < 10; i++)
		co_pool_return(e[i]);
	for (i = 0; i < 7; i++)
		e[i] = co_pool_lend(&owner_a, false);
	CHECK_EQ("high water after 10 then 7", 10, counters().high_water);
	CHECK_EQ("in use", 7, counters().in_use);
	for (i = 0; i < 7; i++)
		co_pool_return(e[i]);
	CHECK_EQ("in use at the end", 0, counters().in_use);
	CHECK_EQ("lends", 17, counters().lends);
}

static void
lend_gives_zeroed_entry_with_owner(void)
{
	struct co_pool_entry *e, *f;
	size_t i;

	e = co_pool_lend(&owner_a, true);
	CHECK("lend succeeds", e != NULL);
	CHECK("owner recorded", e->owner == &owner_a);
	CHECK_EQ("generation is odd while lent", 1, e->gen & 1);
	for (i = 0; i < sizeof(e->co); i++)
		CHECK_EQ("co zeroed", 0, ((unsigned char *)&e->co)[i]);
	CHECK("data zeroed",
	    e->data[0] == NULL && e->data[1] == NULL && e->data[2] == NULL);
	e->co.arg = &owner_b; /* dirty it: the next lend must zero it */
	e->data[2] = &owner_b;
	co_pool_return(e);
	f = co_pool_lend(&owner_b, false);
	CHECK("last returned is lent first", f == e);
	CHECK("co.arg zeroed on re-lend", f->co.arg == NULL);
	CHECK("data zeroed on re-lend", f->data[2] == NULL);
	CHECK("new owner", f->owner == &owner_b);
	co_pool_return(f);
}

static void
pin_finds_only_the_current_generation(void)
{
	struct co_pool_entry *e, *p;
	uint32_t index, gen;

	e = co_pool_lend(&owner_a, false);
	index = e->index;
	gen = e->gen;
	p = co_pool_pin(index, gen);
	CHECK("pin of a lent entry", p == e);
	co_pool_unpin(p);
	CHECK(
	    "pin with a later generation", co_pool_pin(index, gen + 2) == NULL);
	CHECK("pin with the free generation",
	    co_pool_pin(index, gen + 1) == NULL);
	CHECK("pin with generation 0", co_pool_pin(index, 0) == NULL);
	co_pool_return(e);
	CHECK("pin after return", co_pool_pin(index, gen) == NULL);
	e = co_pool_lend(&owner_a, false);
	CHECK_EQ("same entry reused", index, e->index);
	CHECK(
	    "stale generation no longer pins", co_pool_pin(index, gen) == NULL);
	p = co_pool_pin(e->index, e->gen);
	CHECK("new generation pins", p == e);
	co_pool_return_pinned(p);
	CHECK("return_pinned returned it", co_pool_pin(index, gen + 2) == NULL);
	CHECK_EQ("in use", 0, counters().in_use);
}

/* Any 64 bits name nothing unless they name a lent entry exactly. */
static void
garbage_names_never_pin(void)
{
	struct co_pool_entry *e[3 * SLAB];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t index, gen;
	long i, n, hits = 0, expect = 0;
	int j;

	for (j = 0; j < 3 * SLAB; j++)
		e[j] = co_pool_lend(&owner_a, false);
	n = (long)(200000 * test_scale());
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		index = (uint32_t)x;
		gen = (uint32_t)(x >> 32);
		if (i % 4 == 0) /* near real names: low slot and entry */
			index &= 0xe00001ffu;
		if (i % 8 == 0)
			gen &= 7;
		for (j = 0; j < 3 * SLAB; j++)
			if (e[j]->index == index && e[j]->gen == gen)
				expect++;
		struct co_pool_entry *p = co_pool_pin(index, gen);
		if (p != NULL) {
			hits++;
			CHECK("pinned entry matches its name",
			    p->index == index && p->gen == gen);
			co_pool_unpin(p);
		}
	}
	CHECK_EQ("pins of garbage names", expect, hits);
	for (j = 0; j < 3 * SLAB; j++) {
		CHECK("real name still pins",
		    co_pool_pin(e[j]->index, e[j]->gen) == e[j]);
		co_pool_unpin(e[j]);
		co_pool_return(e[j]);
	}
}

/* A name from a freed slab never matches an entry of a later slab. */
static void
names_from_freed_slabs_stay_dead(void)
{
	enum { N = 4 * SLAB };
	struct co_pool_entry *e[N];
	uint32_t index[N], gen[N];
	int i, round;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < N; i++) {
			e[i] = co_pool_lend(&owner_a, false);
			if (round > 0)
				CHECK("old name does not pin",
				    co_pool_pin(index[i], gen[i]) == NULL);
		}
		for (i = 0; i < N; i++) {
			index[i] = e[i]->index;
			gen[i] = e[i]->gen;
		}
		for (i = 0; i < N; i++)
			co_pool_return(e[i]);
		co_pool_trim();
		CHECK_EQ("all slabs freed by trim", 0, counters().slabs);
	}
	/* Reuse of each old slot and entry with the same number of lends. */
	for (i = 0; i < N; i++)
		e[i] = co_pool_lend(&owner_a, false);
	for (i = 0; i < N; i++) {
		CHECK("old name does not pin after slab reuse",
		    co_pool_pin(index[i], gen[i]) == NULL);
		co_pool_return(e[i]);
	}
}

static void
slabs_grow_and_shrink_keeping_one(void)
{
	enum { N = 5 * SLAB };
	struct co_pool_entry *e[N];
	int i;

	co_pool_trim();
	CHECK_EQ("no slabs after trim", 0, counters().slabs);
	e[0] = co_pool_lend(&owner_a, false);
	CHECK_EQ("one slab for one lend", 1, counters().slabs);
	for (i = 1; i < SLAB; i++)
		e[i] = co_pool_lend(&owner_a, false);
	CHECK_EQ("one slab holds a slab's worth", 1, counters().slabs);
	e[SLAB] = co_pool_lend(&owner_a, false);
	CHECK_EQ("the next lend adds a slab", 2, counters().slabs);
	for (i = SLAB + 1; i < N; i++)
		e[i] = co_pool_lend(&owner_a, false);
	CHECK_EQ("five slabs", 5, counters().slabs);
	for (i = 0; i < N; i++)
		co_pool_return(e[i]);
	CHECK_EQ("all free: one slab kept", 1, counters().slabs);
	CHECK_EQ("in use", 0, counters().in_use);
	/* Arm-fire in a loop at a slab boundary does not allocate. */
	for (i = 0; i < SLAB; i++)
		e[i] = co_pool_lend(&owner_a, false);
	for (i = 0; i < 1000; i++) {
		e[SLAB] = co_pool_lend(&owner_a, false);
		co_pool_return(e[SLAB]);
		CHECK_EQ("slabs at a boundary", 2, counters().slabs);
	}
	for (i = 0; i < SLAB; i++)
		co_pool_return(e[i]);
	CHECK_EQ("one slab kept", 1, counters().slabs);
	co_pool_trim();
	CHECK_EQ("trim frees the last", 0, counters().slabs);
}

static void
trim_keeps_slabs_while_anything_is_lent(void)
{
	struct co_pool_entry *e = co_pool_lend(&owner_a, false);

	co_pool_trim();
	CHECK_EQ("slab of a lent entry survives trim", 1, counters().slabs);
	CHECK("entry still pins", co_pool_pin(e->index, e->gen) == e);
	co_pool_unpin(e);
	co_pool_return(e);
	co_pool_trim();
	CHECK_EQ("then freed", 0, counters().slabs);
}

static void
cap_refuses_capped_lends_only(void)
{
	struct callout_pool_counters before, after;
	struct co_pool_entry *e[4], *f, *g;
	int i;

	callout_pool_set_cap(3);
	for (i = 0; i < 3; i++) {
		e[i] = co_pool_lend(&owner_a, true);
		CHECK("capped lend under the cap", e[i] != NULL);
	}
	before = counters();
	errno = 0;
	f = co_pool_lend(&owner_a, true);
	CHECK("capped lend at the cap is refused", f == NULL);
	CHECK_EQ("errno", ENOMEM, errno);
	after = counters();
	CHECK_EQ("failures counted", before.failures + 1, after.failures);
	CHECK_EQ("in use unchanged", before.in_use, after.in_use);
	CHECK_EQ("lends unchanged", before.lends, after.lends);
	CHECK_EQ("slabs unchanged", before.slabs, after.slabs);
	g = co_pool_lend(&owner_b, false);
	CHECK("uncapped lend passes the cap", g != NULL);
	co_pool_return(e[0]);
	f = co_pool_lend(&owner_a, true);
	CHECK("still refused: the uncapped lend counts", f == NULL);
	co_pool_return(g);
	f = co_pool_lend(&owner_a, true);
	CHECK("room again after a return", f != NULL);
	co_pool_return(f);
	callout_pool_set_cap(0);
	for (i = 1; i < 3; i++)
		co_pool_return(e[i]);
	CHECK_EQ("in use", 0, counters().in_use);
}

struct worker {
	pthread_t t;
	long n;
	int fails;
};

static void *
worker_run(void *p)
{
	struct worker *w = p;
	struct co_pool_entry *held[32];
	uint32_t idx[32], gen[32];
	unsigned x = (unsigned)(uintptr_t)w | 1;
	long i;
	int k, nheld = 0;

	for (i = 0; i < w->n; i++) {
		x = x * 1103515245u + 12345u;
		k = (int)((x >> 16) % 32);
		if (k < nheld) {
			struct co_pool_entry *p = co_pool_pin(idx[k], gen[k]);
			if (p != held[k] || p->data[0] != (void *)w)
				w->fails++;
			if (p == NULL)
				continue;
			if (x & 1) {
				co_pool_unpin(p);
				co_pool_return(held[k]);
			} else {
				co_pool_return_pinned(p);
			}
			held[k] = held[--nheld];
			idx[k] = idx[nheld];
			gen[k] = gen[nheld];
		} else if (nheld < 32) {
			held[nheld] = co_pool_lend(w, false);
			held[nheld]->data[0] = w;
			idx[nheld] = held[nheld]->index;
			gen[nheld] = held[nheld]->gen;
			nheld++;
		}
	}
	while (nheld > 0)
		co_pool_return(held[--nheld]);
	return NULL;
}

static void
threads_lend_and_return_concurrently(void)
{
	struct worker w[6];
	int i;

	for (i = 0; i < 6; i++) {
		w[i].n = (long)(200000 * test_scale());
		w[i].fails = 0;
		pthread_create(&w[i].t, NULL, worker_run, &w[i]);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(w[i].t, NULL);
		CHECK_EQ("pins that found another's entry", 0, w[i].fails);
	}
	CHECK_EQ("in use", 0, counters().in_use);
	CHECK("high water bounded by 6 * 32 + earlier",
	    counters().high_water <= 6 * 32 + 5 * SLAB);
	co_pool_trim();
	CHECK_EQ("trim frees every shard", 0, counters().slabs);
}

int
main(void)
{
	high_water_is_most_lent_at_once();
	lend_gives_zeroed_entry_with_owner();
	pin_finds_only_the_current_generation();
	garbage_names_never_pin();
	names_from_freed_slabs_stay_dead();
	slabs_grow_and_shrink_keeping_one();
	trim_keeps_slabs_while_anything_is_lent();
	cap_refuses_capped_lends_only();
	threads_lend_and_return_concurrently();
	if (failures != 0) {
		fprintf(stderr, "test_pool: %d checks failed\n", failures);
		return 1;
	}
	return 0;
}
