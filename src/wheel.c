/*
 * The hierarchical timing wheel.
 *
 * Geometry.  Time is a 64-bit absolute tick count that never wraps.  The
 * wheel has 11 levels of 64 slots; level l looks at the 6-bit digit
 * l of a tick (bits 6l .. 6l+5).  A timer is filed at the level of the
 * highest digit in which its expiry differs from the wheel's current time
 * `now`, in the slot named by that digit of its expiry:
 *
 *	level  digit bits  slot width (ticks)  reach (ticks)  reach at 1 kHz
 *	  0      0..5      1                   2^6            64 ms
 *	  1      6..11     2^6                 2^12           4.1 s
 *	  2     12..17     2^12                2^18           4.4 min
 *	  3     18..23     2^18                2^24           4.7 h
 *	  4     24..29     2^24                2^30           12.4 days
 *	  5     30..35     2^30                2^36           2.2 years
 *	  6     36..41     2^36                2^42           139 years
 *	 7-10   42..63     ...                 2^64           (all of it)
 *
 * Because 11 x 6 >= 64, every tick has a level: nothing is ever out of
 * range, so there is no overflow list and no timer is filed early.  Levels
 * 6 to 10 are only ever used by timers set years ahead, and cost one
 * bitmap word each.
 *
 * Invariant.  A timer at level l has the same digits as `now` above l, and
 * a larger digit l.  Hence (a) its slot is strictly ahead of now's digit, so
 * a level never wraps around; (b) every timer of level l expires before
 * every timer of level l + 1; (c) the slot of a filed timer can be
 * recomputed from its expiry and `now` at any later time before the clock
 * reaches that slot, which is why nodes do not store it.
 *
 * Advancing to `to` visits, at each non-empty level, the slots whose range
 * the clock enters or passes: digits in (now, to] when the higher digits of
 * now and to agree, every occupied slot when they differ.  Their timers are
 * either due (expire <= to: appended to the expired list) or re-filed at a
 * strictly lower level.  Levels are visited from 0 upwards, so a re-filed
 * timer lands in a level already visited and is not looked at twice.  The
 * cost is O(levels + timers moved), whatever the number of ticks jumped:
 * one day at 1 kHz is as cheap as one tick.  A timer moves at most once per
 * level over its life, which bounds cascading.
 *
 * The next expiry is the start of the first occupied slot of the lowest
 * non-empty level (by (b)): exact at level 0, a lower bound above it, never
 * later than the truth, found with two count-trailing-zeros.
 */
#include "wheel.h"

#include <string.h>

void
wheel_init(struct wheel *w, uint64_t now)
{
	memset(w, 0, sizeof(*w));
	w->now = now;
}

/* The tick at which level `level`, digit `digit`, begins, seen from now. */
static uint64_t
slot_start(uint64_t now, unsigned level, unsigned digit)
{
	unsigned shift = level * WHEEL_LEVEL_BITS;
	unsigned above = shift + WHEEL_LEVEL_BITS;
	uint64_t high = above >= 64 ? 0 : (now >> above) << above;

	return high | ((uint64_t)digit << shift);
}

uint64_t
wheel_next(const struct wheel *w)
{
	if (w->levels == 0)
		return WHEEL_NEVER;
	unsigned level = (unsigned)__builtin_ctzll(w->levels);
	unsigned digit = (unsigned)__builtin_ctzll(w->occupied[level]);

	return slot_start(w->now, level, digit);
}

/*
 * The slots of `level` that a move from `now` to `to` enters or passes,
 * as a bitmap.
 */
static uint64_t
passed_slots(uint64_t now, uint64_t to, unsigned level)
{
	unsigned shift = level * WHEEL_LEVEL_BITS;
	unsigned above = shift + WHEEL_LEVEL_BITS;
	unsigned from = (unsigned)(now >> shift) & WHEEL_SLOT_MASK;
	unsigned upto = (unsigned)(to >> shift) & WHEEL_SLOT_MASK;
	/* Bits strictly above `from`: slots ahead of the clock. */
	uint64_t ahead = from == 63 ? 0 : ~0ull << (from + 1);

	if (above < 64 && (now >> above) != (to >> above))
		return ahead; /* left this level's range: all of it */
	/* Bits up to and including `upto`. */
	uint64_t upto_mask = upto == 63 ? ~0ull : (2ull << upto) - 1;

	return ahead & upto_mask;
}

void
wheel_advance(struct wheel *w, uint64_t to, struct wheel_list *expired)
{
	uint64_t visit[WHEEL_LEVELS];
	uint64_t levels = w->levels;

	if (to <= w->now)
		return;
	/* Decide what to visit against the old time, then move the clock. */
	for (uint64_t m = levels; m != 0; m &= m - 1) {
		unsigned l = (unsigned)__builtin_ctzll(m);

		visit[l] = passed_slots(w->now, to, l) & w->occupied[l];
	}
	w->now = to;
	for (uint64_t m = levels; m != 0; m &= m - 1) {
		unsigned l = (unsigned)__builtin_ctzll(m);

		for (uint64_t s = visit[l]; s != 0; s &= s - 1) {
			unsigned slot = (unsigned)__builtin_ctzll(s);
			struct wheel_node *n = w->slot[l][slot];

			w->slot[l][slot] = NULL;
			w->occupied[l] &= ~(1ull << slot);
			w->work++;
			while (n != NULL) {
				struct wheel_node *next = n->next;

				w->work++;
				if (n->expire <= to)
					wheel_list_append(expired, n);
				else
					wheel_insert(w, n, n->expire);
				n = next;
			}
		}
		if (w->occupied[l] == 0)
			w->levels &= ~(1ull << l);
	}
}

size_t
wheel_count(const struct wheel *w)
{
	size_t count = 0;

	for (unsigned l = 0; l < WHEEL_LEVELS; l++)
		for (unsigned s = 0; s < WHEEL_SLOTS; s++)
			for (const struct wheel_node *n = w->slot[l][s];
			     n != NULL; n = n->next)
				count++;
	return count;
}
