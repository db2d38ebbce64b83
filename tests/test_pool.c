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

#include "check.h"
#include "pool.h"

#define SLAB 64 /* entries per slab, as in pool.c */

static char owner_a, owner_b;

/* Does (index, gen) pin?  Unpins at once, so a failing check cannot hang. */
static bool
pins(uint32_t index, uint32_t gen)
{
	struct co_pool_entry *p = co_pool_pin(index, gen);

	if (p != NULL)
		co_pool_unpin(p);
	return p != NULL;
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
	CHECK_EQ(counters().high_water, 10);
	CHECK_EQ(counters().in_use, 7);
	for (i = 0; i < 7; i++)
		co_pool_return(e[i]);
	CHECK_EQ(counters().in_use, 0);
	CHECK_EQ(counters().lends, 17);
}

static void
lend_gives_zeroed_entry_with_owner(void)
{
	struct co_pool_entry *e, *f;
	size_t i;

	e = co_pool_lend(&owner_a, true);
	CHECK(e != NULL);
	CHECK(e->owner == &owner_a);
	CHECK_EQ(e->gen & 1, 1);
	for (i = 0; i < sizeof(e->co); i++)
		CHECK_EQ(((unsigned char *)&e->co)[i], 0);
	CHECK(e->data[0] == NULL && e->data[1] == NULL && e->data[2] == NULL);
	e->co.arg = &owner_b; /* dirty it: the next lend must zero it */
	e->data[2] = &owner_b;
	co_pool_return(e);
	f = co_pool_lend(&owner_b, false);
	CHECK(f == e);
	CHECK(f->co.arg == NULL);
	CHECK(f->data[2] == NULL);
	CHECK(f->owner == &owner_b);
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
	CHECK(p == e);
	if (p != NULL)
		co_pool_unpin(p);
	CHECK(!pins(index, gen + 2));
	CHECK(!pins(index, gen + 1));
	CHECK(!pins(index, 0));
	co_pool_return(e);
	CHECK(!pins(index, gen));
	e = co_pool_lend(&owner_a, false);
	CHECK_EQ(e->index, index);
	CHECK(!pins(index, gen));
	p = co_pool_pin(e->index, e->gen);
	CHECK(p == e);
	if (p != NULL)
		co_pool_return_pinned(p);
	else
		co_pool_return(e);
	CHECK(!pins(index, gen + 2));
	CHECK_EQ(counters().in_use, 0);
}

/* Any 64 bits name nothing unless they name a lent entry exactly. */
static void
garbage_names_never_pin(void)
{
	struct co_pool_entry *e[3 * SLAB], *p;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t index, gen;
	long i, n, hits = 0, expect = 0;
	int j;

	for (j = 0; j < 3 * SLAB; j++)
		e[j] = co_pool_lend(&owner_a, false);
	n = (long)(200000 * check_scale());
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
		p = co_pool_pin(index, gen);
		if (p != NULL) {
			hits++;
			CHECK(p->index == index && p->gen == gen);
			co_pool_unpin(p);
		}
	}
	CHECK_EQ(hits, expect);
	for (j = 0; j < 3 * SLAB; j++) {
		CHECK(pins(e[j]->index, e[j]->gen));
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
				CHECK(!pins(index[i], gen[i]));
		}
		for (i = 0; i < N; i++) {
			index[i] = e[i]->index;
			gen[i] = e[i]->gen;
		}
		for (i = 0; i < N; i++)
			co_pool_return(e[i]);
		co_pool_trim();
		CHECK_EQ(counters().slabs, 0);
	}
	/* Reuse of each old slot and entry with the same number of lends. */
	for (i = 0; i < N; i++)
		e[i] = co_pool_lend(&owner_a, false);
	for (i = 0; i < N; i++) {
		CHECK(!pins(index[i], gen[i]));
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
	CHECK_EQ(counters().slabs, 0);
	e[0] = co_pool_lend(&owner_a, false);
	CHECK_EQ(counters().slabs, 1);
	for (i = 1; i < SLAB; i++)
		e[i] = co_pool_lend(&owner_a, false);
	CHECK_EQ(counters().slabs, 1);
	e[SLAB] = co_pool_lend(&owner_a, false);
	CHECK_EQ(counters().slabs, 2);
	for (i = SLAB + 1; i < N; i++)
		e[i] = co_pool_lend(&owner_a, false);
	CHECK_EQ(counters().slabs, 5);
	for (i = 0; i < N; i++)
		co_pool_return(e[i]);
	CHECK_EQ(counters().slabs, 1);
	CHECK_EQ(counters().in_use, 0);
	/* Arm-fire in a loop at a slab boundary does not allocate. */
	for (i = 0; i < SLAB; i++)
		e[i] = co_pool_lend(&owner_a, false);
	for (i = 0; i < 1000; i++) {
		e[SLAB] = co_pool_lend(&owner_a, false);
		co_pool_return(e[SLAB]);
		CHECK_EQ(counters().slabs, 2);
	}
	for (i = 0; i < SLAB; i++)
		co_pool_return(e[i]);
	CHECK_EQ(counters().slabs, 1);
	co_pool_trim();
	CHECK_EQ(counters().slabs, 0);
}

static void
trim_keeps_slabs_while_anything_is_lent(void)
{
	struct co_pool_entry *e = co_pool_lend(&owner_a, false);

	co_pool_trim();
	CHECK_EQ(counters().slabs, 1);
	CHECK(pins(e->index, e->gen));
	co_pool_return(e);
	co_pool_trim();
	CHECK_EQ(counters().slabs, 0);
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
		CHECK(e[i] != NULL);
	}
	before = counters();
	errno = 0;
	f = co_pool_lend(&owner_a, true);
	CHECK(f == NULL);
	CHECK_EQ(errno, ENOMEM);
	after = counters();
	CHECK_EQ(after.failures, before.failures + 1);
	CHECK_EQ(after.in_use, before.in_use);
	CHECK_EQ(after.lends, before.lends);
	CHECK_EQ(after.slabs, before.slabs);
	g = co_pool_lend(&owner_b, false);
	CHECK(g != NULL);
	co_pool_return(e[0]);
	f = co_pool_lend(&owner_a, true);
	CHECK(f == NULL);
	co_pool_return(g);
	f = co_pool_lend(&owner_a, true);
	CHECK(f != NULL);
	co_pool_return(f);
	callout_pool_set_cap(0);
	for (i = 1; i < 3; i++)
		co_pool_return(e[i]);
	CHECK_EQ(counters().in_use, 0);
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
			if (p != held[k] || p->data[0] != (void *)w) {
				w->fails++;
				if (p != NULL)
					co_pool_unpin(p);
				continue;
			}
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
		w[i].n = (long)(200000 * check_scale());
		w[i].fails = 0;
		pthread_create(&w[i].t, NULL, worker_run, &w[i]);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(w[i].t, NULL);
		CHECK_EQ(w[i].fails, 0);
	}
	CHECK_EQ(counters().in_use, 0);
	CHECK(counters().high_water <= 6 * 32 + 5 * SLAB);
	co_pool_trim();
	CHECK_EQ(counters().slabs, 0);
}

int
main(void)
{
	RUN(high_water_is_most_lent_at_once);
	RUN(lend_gives_zeroed_entry_with_owner);
	RUN(pin_finds_only_the_current_generation);
	RUN(garbage_names_never_pin);
	RUN(names_from_freed_slabs_stay_dead);
	RUN(slabs_grow_and_shrink_keeping_one);
	RUN(trim_keeps_slabs_while_anything_is_lent);
	RUN(cap_refuses_capped_lends_only);
	RUN(threads_lend_and_return_concurrently);
	return check_finish();
}
