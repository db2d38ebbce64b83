/*
 * The timing wheel alone: exact expiry at every level boundary, idle jumps
 * whose cost is counted in work (not time), and a next-expiry query that is
 * never later than the true minimum.
 */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "wheel.h"

/* Advance the way the virtual clock does: to each next-expiry bound. */
static size_t
run_until(struct wheel *w, uint64_t target, struct wheel_list *out)
{
	size_t steps = 0;
	uint64_t t;

	while (!wheel_empty(w) && (t = wheel_next(w)) <= target) {
		wheel_advance(w, t, out);
		steps++;
	}
	wheel_advance(w, target, out);
	return steps;
}

static void
boundaries_fire_exactly(void)
{
	static const uint64_t starts[] = { 0, 1, 63, 4095, 123456789,
		(1ull << 32) - 3, (1ull << 36) - 1, (1ull << 62) + 17 };
	uint64_t deltas[64];
	int nd = 0;

	for (unsigned bits = 6; bits <= 42; bits += 6) {
		deltas[nd++] = (1ull << bits) - 1;
		deltas[nd++] = 1ull << bits;
		deltas[nd++] = (1ull << bits) + 1;
	}
	deltas[nd++] = 1;
	deltas[nd++] = 2;
	deltas[nd++] = 1ull << 48;
	deltas[nd++] = (1ull << 60) + 5;

	for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		for (int d = 0; d < nd; d++) {
			struct wheel w;
			struct wheel_node n;
			struct wheel_list out;
			uint64_t due = starts[s] + deltas[d];

			wheel_init(&w, starts[s]);
			wheel_list_init(&out);
			wheel_insert(&w, &n, due);
			CHECK(wheel_next(&w) <= due);
			run_until(&w, due - 1, &out);
			if (out.first != NULL) {
				fprintf(stderr,
				    "early: start %llu delta %llu\n",
				    (unsigned long long)starts[s],
				    (unsigned long long)deltas[d]);
				CHECK(out.first == NULL);
				continue;
			}
			CHECK_U64(wheel_next(&w), due); /* exact by now */
			run_until(&w, due, &out);
			CHECK(out.first == &n);
			CHECK_U64(w.now, due);
			CHECK(wheel_next(&w) == WHEEL_NEVER);
		}
	}
}

static void
far_future_and_saturated_ticks_stay_parked(void)
{
	struct wheel w;
	struct wheel_node a, b;
	struct wheel_list out;

	wheel_init(&w, (1ull << 40) + 5);
	wheel_list_init(&out);
	wheel_insert(&w, &a, UINT64_MAX);
	wheel_insert(&w, &b, UINT64_MAX - 1);
	run_until(&w, UINT64_MAX - 2, &out);
	CHECK(out.first == NULL);
	run_until(&w, UINT64_MAX - 1, &out);
	CHECK(out.first == &b);
	wheel_list_init(&out);
	run_until(&w, UINT64_MAX, &out);
	CHECK(out.first == &a);
}

static void
idle_jump_of_a_day_costs_levels_not_ticks(void)
{
	const uint64_t day = 86400ull * 1000; /* one day at hz 1000 */
	struct wheel w;
	struct wheel_list out;
	static struct wheel_node far[WHEEL_LEVELS];
	uint64_t before;

	/* One timer per level, all beyond the jump. */
	wheel_init(&w, 1000);
	wheel_list_init(&out);
	for (unsigned l = 0; l < WHEEL_LEVELS; l++)
		wheel_insert(&w, &far[l], 1000 + 2 * day + (1ull << (6 * l)));
	before = w.work;
	wheel_advance(&w, 1000 + day, &out);
	CHECK(out.first == NULL);
	/* Only slots the jump entered are visited, each timer moves once. */
	CHECK(w.work - before <= 2 * WHEEL_LEVELS);

	/* The same jump one tick at a time does the same moves, but the
	 * single jump must not cost more than a single tick would. */
	struct wheel w1;
	wheel_init(&w1, 1000);
	wheel_insert(&w1, &far[0], 1000 + 3 * day);
	before = w1.work;
	wheel_advance(&w1, 1001, &out);
	uint64_t one_tick = w1.work - before;
	wheel_remove(&w1, &far[0]);
	wheel_init(&w1, 1000);
	wheel_insert(&w1, &far[0], 1000 + 3 * day);
	before = w1.work;
	wheel_advance(&w1, 1000 + day, &out);
	CHECK(w1.work - before <= one_tick + 2 * WHEEL_LEVELS);
}

static void
idle_jump_moves_only_what_it_must(void)
{
	enum { N = 5000 };
	const uint64_t day = 86400ull * 1000;
	static struct wheel_node nodes[N];
	struct wheel w;
	struct wheel_list out;
	uint64_t due_in_jump = 0;
	uint64_t seed = 42;

	wheel_init(&w, 0);
	wheel_list_init(&out);
	for (int i = 0; i < N; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t delta = 1 + (seed >> 20) % (4 * day);

		wheel_insert(&w, &nodes[i], delta);
		if (delta <= day)
			due_in_jump++;
	}
	uint64_t before = w.work;
	wheel_advance(&w, day, &out);
	size_t fired = 0;
	for (struct wheel_node *n = out.first; n != NULL; n = n->next) {
		CHECK(n->expire <= day);
		fired++;
	}
	CHECK_U64(fired, due_in_jump);
	CHECK_EQ(wheel_count(&w), N - (long)fired);
	/*
	 * Work is bounded by the timers touched (each moved at most once
	 * here) plus one visit per touched slot: never by the 86,400,000
	 * ticks crossed.
	 */
	CHECK(w.work - before <= 2 * (uint64_t)N);
}

static uint64_t
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 11;
}

static void
next_expiry_is_never_late(void)
{
	enum { N = 512 };
	static struct wheel_node nodes[N];
	bool filed[N] = { false };
	struct wheel w;
	struct wheel_list out;
	uint64_t s = 7;
	long rounds = check_scaled(200000, 20000);

	wheel_init(&w, 5);
	for (long r = 0; r < rounds; r++) {
		int i = (int)(lcg(&s) % N);
		unsigned op = (unsigned)(lcg(&s) % 10);

		if (op < 5) {
			uint64_t shift = lcg(&s) % 40;
			uint64_t due = w.now + 1 + lcg(&s) % (2ull << shift);

			if (filed[i])
				wheel_rearm(&w, &nodes[i], due);
			else
				wheel_insert(&w, &nodes[i], due);
			filed[i] = true;
		} else if (op < 8) {
			if (filed[i])
				wheel_remove(&w, &nodes[i]);
			filed[i] = false;
		} else {
			uint64_t min = WHEEL_NEVER;

			for (int k = 0; k < N; k++)
				if (filed[k] && nodes[k].expire < min)
					min = nodes[k].expire;
			uint64_t next = wheel_next(&w);
			if (next > min) {
				CHECK_U64(next, min);
				return;
			}
			/* Advance to the bound and verify what expired. */
			wheel_list_init(&out);
			wheel_advance(
			    &w, next == WHEEL_NEVER ? w.now + 1 : next, &out);
			for (struct wheel_node *n = out.first; n != NULL;
			     n = n->next) {
				int k = (int)(n - nodes);

				CHECK_U64(n->expire, w.now);
				filed[k] = false;
			}
			for (int k = 0; k < N; k++)
				if (filed[k] && nodes[k].expire <= w.now) {
					CHECK(!"filed timer past due");
					return;
				}
		}
	}
	CHECK(true);
}

static void
rearm_within_a_slot_only_stores_the_time(void)
{
	struct wheel w;
	struct wheel_node n;
	struct wheel_list out;

	wheel_init(&w, 0);
	wheel_list_init(&out);
	wheel_insert(&w, &n, 4096 + 10);
	struct wheel_node **pprev = n.pprev;
	wheel_rearm(&w, &n, 4096 + 20); /* same level-2 slot */
	CHECK(n.pprev == pprev);
	CHECK_U64(n.expire, 4096 + 20);
	run_until(&w, 4096 + 19, &out);
	CHECK(out.first == NULL);
	run_until(&w, 4096 + 20, &out);
	CHECK(out.first == &n);
}

int
main(void)
{
	RUN(boundaries_fire_exactly);
	RUN(far_future_and_saturated_ticks_stay_parked);
	RUN(idle_jump_of_a_day_costs_levels_not_ticks);
	RUN(idle_jump_moves_only_what_it_must);
	RUN(next_expiry_is_never_late);
	RUN(rearm_within_a_slot_only_stores_the_time);
	return check_finish();
}
