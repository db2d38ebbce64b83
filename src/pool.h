/*
 * The callout pool: callouts lent to timers whose storage the caller does
 * not own (timeout(), NT KTIMERs) while they are armed, and taken back when
 * they fire or are cancelled.  One internal service for both users.
 *
 * Entries live in slabs; an entry is named by a stable 32-bit index and a
 * generation that changes on every return, so a stale name (an old
 * callout_handle, a garbage KTIMER link) is recognised and never touches
 * the entry's new borrower.
 *
 * Lock order: a borrower's own lock (NT timer stripe) -> pool shard lock
 * (co_pool_pin) -> queue lock (co_lock).  The dispatcher returns entries
 * with no queue lock held.
 */
#ifndef CALLOUT_SRC_POOL_H
#define CALLOUT_SRC_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callout_impl.h"

struct co_pool_entry {
	struct co_callout co; /* poisoned (with data) while free */
	void *data[3];        /* the borrower's: fn and arg, KTIMER, ... */
	void *owner;          /* who borrowed it; checked by pin users */
	uint32_t gen;         /* changes at every return; read under pin */
	uint32_t index;       /* stable for the entry's life */
	struct co_pool_entry *next_free;
};

/*
 * Lend an entry to `owner`.  `capped`: subject to callout_pool_set_cap
 * (timeout() is, NT timers are not).  Returns NULL with errno ENOMEM when
 * the cap is reached or memory runs out; nothing else changes then.  The
 * entry's co is zeroed; its index and generation are readable.
 */
struct co_pool_entry *co_pool_lend(void *owner, bool capped);

/*
 * Give e back: its generation changes, it is poisoned, and its slab may be
 * freed.  The caller guarantees nobody will run or touch e->co again.
 */
void co_pool_return(struct co_pool_entry *e);

/*
 * Find the lent entry named (index, gen) and pin it: the entry cannot be
 * returned by anyone else, nor its slab freed, until co_pool_unpin or
 * co_pool_return_pinned.  Returns NULL (nothing pinned) when the index
 * names no slab, the entry is free, or the generation differs; any 64 bits
 * of garbage are safe to pass.
 */
struct co_pool_entry *co_pool_pin(uint32_t index, uint32_t gen);
void co_pool_unpin(struct co_pool_entry *e);
void co_pool_return_pinned(struct co_pool_entry *e);

/* Free the last slab if nothing is lent (last clock destroyed, exit). */
void co_pool_trim(void);

#endif /* !CALLOUT_SRC_POOL_H */
