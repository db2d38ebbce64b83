/*
 * The hierarchical timing wheel: a pure data structure with no locks and no
 * allocation.  Its geometry and the argument for its exactness are at the
 * top of wheel.c; the fast paths (insert, remove, re-arm) are here, inline.
 */
#ifndef CALLOUT_WHEEL_H
#define CALLOUT_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WHEEL_LEVEL_BITS 6
#define WHEEL_SLOTS (1u << WHEEL_LEVEL_BITS)
#define WHEEL_SLOT_MASK (WHEEL_SLOTS - 1)
#define WHEEL_LEVELS 11 /* 11 * 6 = 66 >= 64 bits: nothing is out of range */
#define WHEEL_NEVER UINT64_MAX

/*
 * An intrusive node.  pprev points at whatever points at us (a slot head or
 * the previous node's next), so unlinking needs neither the list head nor a
 * branch on "first in list".
 */
struct wheel_node {
	struct wheel_node *next;
	struct wheel_node **pprev;
	uint64_t expire; /* absolute tick */
};

/* A list of nodes: the expired list handed back by wheel_advance. */
struct wheel_list {
	struct wheel_node *first;
	struct wheel_node **lastp; /* appends keep expiry order */
};

struct wheel {
	uint64_t now;    /* last tick processed */
	uint64_t levels; /* bit l: level l has an occupied slot */
	uint64_t occupied[WHEEL_LEVELS]; /* bit s: slot s is non-empty */
	uint64_t work;                   /* nodes moved + slots visited */
	struct wheel_node *slot[WHEEL_LEVELS][WHEEL_SLOTS];
};

void wheel_init(struct wheel *w, uint64_t now);
uint64_t wheel_next(const struct wheel *w);
void wheel_advance(struct wheel *w, uint64_t to, struct wheel_list *expired);
size_t wheel_count(const struct wheel *w);

/* Nothing filed?  (wheel_next's WHEEL_NEVER is also a valid tick.) */
static inline bool
wheel_empty(const struct wheel *w)
{
	return w->levels == 0;
}

static inline void
wheel_list_init(struct wheel_list *l)
{
	l->first = NULL;
	l->lastp = &l->first;
}

static inline void
wheel_list_append(struct wheel_list *l, struct wheel_node *n)
{
	n->next = NULL;
	n->pprev = l->lastp;
	*l->lastp = n;
	l->lastp = &n->next;
}

/* Unlink n from an expired list (it is no longer in a slot). */
static inline void
wheel_list_remove(struct wheel_list *l, struct wheel_node *n)
{
	if (n->next != NULL)
		n->next->pprev = n->pprev;
	else
		l->lastp = n->pprev;
	*n->pprev = n->next;
}

/*
 * The level of a tick is the level of the highest bit in which it differs
 * from the wheel's current time: that bit's 6-bit digit is the first one
 * the clock has yet to reach.  Bits 0..5 are level 0, 6..11 level 1, ...
 * x is never 0 here (expire > now).
 */
static inline unsigned
wheel_level(uint64_t now, uint64_t expire)
{
	unsigned bit = 63u - (unsigned)__builtin_clzll(now ^ expire);

	return bit / WHEEL_LEVEL_BITS;
}

static inline unsigned
wheel_slot(uint64_t expire, unsigned level)
{
	return (unsigned)(expire >> (level * WHEEL_LEVEL_BITS)) &
	    WHEEL_SLOT_MASK;
}

/* Link n into slot (level, slot); n->expire is already set. */
static inline void
wheel_link_at(
    struct wheel *w, struct wheel_node *n, unsigned level, unsigned slot)
{
	struct wheel_node **head = &w->slot[level][slot];

	n->next = *head;
	if (n->next != NULL)
		n->next->pprev = &n->next;
	n->pprev = head;
	*head = n;
	w->occupied[level] |= 1ull << slot;
	w->levels |= 1ull << level;
}

/* Unlink n from slot (level, slot), clearing the bits if it empties. */
static inline void
wheel_unlink_at(
    struct wheel *w, struct wheel_node *n, unsigned level, unsigned slot)
{
	struct wheel_node *next = n->next;

	*n->pprev = next;
	if (next != NULL) {
		next->pprev = n->pprev;
		return;
	}
	/* Maybe the slot is empty now: only then touch the bitmaps. */
	if (w->slot[level][slot] == NULL) {
		w->occupied[level] &= ~(1ull << slot);
		if (w->occupied[level] == 0)
			w->levels &= ~(1ull << level);
	}
}

/* File n, whose expire must be later than w->now. */
static inline void
wheel_insert(struct wheel *w, struct wheel_node *n, uint64_t expire)
{
	unsigned level = wheel_level(w->now, expire);

	n->expire = expire;
	wheel_link_at(w, n, level, wheel_slot(expire, level));
}

/*
 * Unfile n.  Where it sits is recomputed from its expiry and the current
 * time: between filing and now the clock never crossed the node's slot
 * (wheel_advance would have moved it), so the highest differing bit is
 * still in the same level.  That saves storing the slot in every node.
 */
static inline void
wheel_remove(struct wheel *w, struct wheel_node *n)
{
	unsigned level;

	if (n->next != NULL) { /* not last in its slot: no bitmap to fix */
		n->next->pprev = n->pprev;
		*n->pprev = n->next;
		return;
	}
	level = wheel_level(w->now, n->expire);
	wheel_unlink_at(w, n, level, wheel_slot(n->expire, level));
}

/*
 * Move a filed node to a new expiry.  When the new tick falls in the same
 * slot nothing moves: only the time is stored.
 */
static inline void
wheel_rearm(struct wheel *w, struct wheel_node *n, uint64_t expire)
{
	unsigned lo = wheel_level(w->now, n->expire);
	unsigned so = wheel_slot(n->expire, lo);
	unsigned ln = wheel_level(w->now, expire);
	unsigned sn = wheel_slot(expire, ln);

	n->expire = expire;
	if (lo == ln && so == sn)
		return;
	wheel_unlink_at(w, n, lo, so);
	wheel_link_at(w, n, ln, sn);
}

#endif /* !CALLOUT_WHEEL_H */
