/*
 * The callout pool (timeout.md section 3): callouts lent while a timer is
 * armed and taken back when it has fired or been cancelled, so memory
 * follows the largest number of timers armed at once.
 *
 * Layout.  The pool is split into POOL_NSHARDS shards, each with its own
 * mutex, slabs and slab directory; a thread lends from the shard it was
 * given (round robin, at its first lend) and an entry goes back to the
 * shard owning its slab, so lend and return take only a shard lock and
 * touch a few process-wide atomics (the counters and the cap), never a
 * process-wide lock.
 *
 * Names.  An entry's 32-bit index is [shard:3][slot:23][entry:6]: the slot
 * is the slab's place in its shard's directory.  co_pool_pin decodes an
 * index by bounds checks and a directory lookup only, so any bits are safe
 * to pass.  The generation is odd while the entry is lent and even while it
 * is free (it is bumped at lend and at return), so a free entry and the
 * null handle (generation 0) never pin.  A new slab's entries start at the
 * shard's generation floor, which is raised past every generation of each
 * slab freed, so a name from a freed slab cannot match an entry of a later
 * slab in the same slot.  Names repeat only after 2^31 lends of one entry.
 *
 * Slabs.  Each slab keeps its own free list; a shard lists the slabs with
 * some entries free ("partial") and those with all free ("empty"), and
 * lends from a partial slab first so that lightly used slabs drain.  A slab
 * whose last entry comes back is freed unless it would be the shard's only
 * empty slab (one is kept, so a timer armed and fired in a loop does not
 * allocate each time).  co_pool_trim frees the kept ones when nothing is
 * lent; it runs when the last clock is destroyed and at exit.
 *
 * Free entries' co and data are poisoned for AddressSanitizer and marked
 * freed for valgrind; the header (owner, gen, index, next_free) stays
 * readable because co_pool_pin reads it to decide.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <callout/timeout.h>

#include "pool.h"
#include "misuse.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif

#ifdef POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POOL_POISON(p, n) ((void)(p), (void)(n))
#define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#if defined(__has_include) && !defined(CALLOUT_NO_VALGRIND)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define POOL_VALGRIND 1
#endif
#endif

#ifdef POOL_VALGRIND
#define POOL_VG_LEND(p, n) VALGRIND_MALLOCLIKE_BLOCK((p), (n), 0, 1)
#define POOL_VG_RETURN(p) VALGRIND_FREELIKE_BLOCK((p), 0)
#define POOL_VG_NOACCESS(p, n) VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define POOL_VG_UNDEFINED(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#else
#define POOL_VG_LEND(p, n) ((void)(p), (void)(n))
#define POOL_VG_RETURN(p) ((void)(p))
#define POOL_VG_NOACCESS(p, n) ((void)(p), (void)(n))
#define POOL_VG_UNDEFINED(p, n) ((void)(p), (void)(n))
#endif

#define POOL_SHARD_BITS 3
#define POOL_NSHARDS (1u << POOL_SHARD_BITS)
#define POOL_ENTRY_BITS 6
#define POOL_SLAB_ENTRIES (1u << POOL_ENTRY_BITS)
#define POOL_ENTRY_MASK (POOL_SLAB_ENTRIES - 1)
#define POOL_SLOT_BITS (32 - POOL_SHARD_BITS - POOL_ENTRY_BITS)
#define POOL_MAX_SLOTS (1u << POOL_SLOT_BITS)
#define POOL_SLOT_MASK (POOL_MAX_SLOTS - 1)
#define POOL_SHARD_SHIFT (POOL_SLOT_BITS + POOL_ENTRY_BITS)

/* The part of an entry that is poisoned while it is free. */
#define POOL_BODY offsetof(struct co_pool_entry, owner)

_Static_assert(POOL_BODY % 8 == 0, "ASan poisons whole 8-byte granules");
_Static_assert(offsetof(struct co_pool_entry, co) == 0,
    "a pooled co_callout is its entry");

struct pool_slab {
	LIST_ENTRY(pool_slab) link; /* partial or empty list; none if full */
	struct co_pool_entry *free;
	unsigned nfree;
	uint32_t slot;
	struct co_pool_entry e[POOL_SLAB_ENTRIES];
};

LIST_HEAD(pool_slab_list, pool_slab);

struct pool_shard {
	_Alignas(64) pthread_mutex_t lock;
	struct pool_slab_list partial; /* some entries free */
	struct pool_slab_list empty;   /* all entries free (at most one kept) */
	unsigned nempty;
	unsigned nslabs;
	struct pool_slab **dir; /* by slot; NULL where no slab */
	uint32_t ndir;
	uint32_t free_hint; /* no NULL slot below this */
	uint32_t gen_floor; /* a new slab's entries start here */
};

static struct pool_shard pool_shards[POOL_NSHARDS];
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static atomic_bool pool_ready;
static atomic_uint pool_next_shard;
static _Thread_local int pool_thread_shard = -1;

static atomic_size_t pool_in_use;
static atomic_size_t pool_high_water;
static atomic_size_t pool_nslabs;
static atomic_size_t pool_cap;
static _Atomic uint64_t pool_lends;
static _Atomic uint64_t pool_failures;

static void
pool_atexit(void)
{
	co_pool_trim();
}

/* Clock destruction took a pending pooled callout off its queue. */
static void
pool_orphan(struct co_callout *c)
{
	co_pool_return((struct co_pool_entry *)(void *)c);
}

static void
pool_init(void)
{
	unsigned i;

	for (i = 0; i < POOL_NSHARDS; i++) {
		pthread_mutex_init(&pool_shards[i].lock, NULL);
		LIST_INIT(&pool_shards[i].partial);
		LIST_INIT(&pool_shards[i].empty);
	}
	/*
	 * Set before the first lend, so a clock destroy that finds a pooled
	 * callout (armed after this, under its queue lock) sees it.
	 */
	co_pooled_orphan = pool_orphan;
	co_last_clock_gone = co_pool_trim;
	atexit(pool_atexit);
	atomic_store(&pool_ready, true);
}

static struct pool_shard *
pool_my_shard(void)
{
	if (pool_thread_shard < 0)
		pool_thread_shard =
		    (int)(atomic_fetch_add_explicit(
			      &pool_next_shard, 1, memory_order_relaxed) %
			POOL_NSHARDS);
	return &pool_shards[pool_thread_shard];
}

static struct pool_shard *
pool_shard_of(uint32_t index)
{
	return &pool_shards[index >> POOL_SHARD_SHIFT];
}

/* Count a lend against the cap, if it applies; false: refused. */
static bool
pool_count_lend(bool capped)
{
	size_t cur, cap, hw;

	cur = atomic_load_explicit(&pool_in_use, memory_order_relaxed);
	cap =
	    capped ? atomic_load_explicit(&pool_cap, memory_order_relaxed) : 0;
	do {
		if (cap != 0 && cur >= cap)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&pool_in_use, &cur,
	    cur + 1, memory_order_relaxed, memory_order_relaxed));
	cur++;
	hw = atomic_load_explicit(&pool_high_water, memory_order_relaxed);
	while (cur > hw &&
	    !atomic_compare_exchange_weak_explicit(&pool_high_water, &hw, cur,
		memory_order_relaxed, memory_order_relaxed))
		continue;
	return true;
}

static void
pool_uncount(void)
{
	atomic_fetch_sub_explicit(&pool_in_use, 1, memory_order_relaxed);
}

/* A free slot in sh's directory, growing it if needed; -1 if none. */
static int64_t
pool_slot_get(struct pool_shard *sh)
{
	struct pool_slab **dir;
	uint32_t i, n;

	for (i = sh->free_hint; i < sh->ndir; i++)
		if (sh->dir[i] == NULL)
			return i;
	if (sh->ndir == POOL_MAX_SLOTS)
		return -1;
	n = sh->ndir == 0 ? 16 : sh->ndir * 2;
	if (n > POOL_MAX_SLOTS)
		n = POOL_MAX_SLOTS;
	dir = realloc(sh->dir, n * sizeof(*dir));
	if (dir == NULL)
		return -1;
	memset(dir + sh->ndir, 0, (n - sh->ndir) * sizeof(*dir));
	i = sh->ndir;
	sh->dir = dir;
	sh->ndir = n;
	return i;
}

static struct pool_slab *
pool_slab_new(struct pool_shard *sh)
{
	struct pool_slab *slab;
	struct co_pool_entry *e;
	int64_t slot;
	uint32_t base;
	unsigned i;

	slot = pool_slot_get(sh);
	if (slot < 0)
		return NULL;
	slab = malloc(sizeof(*slab));
	if (slab == NULL)
		return NULL;
	base = (uint32_t)((sh - pool_shards) << POOL_SHARD_SHIFT) |
	    (uint32_t)slot << POOL_ENTRY_BITS;
	slab->slot = (uint32_t)slot;
	slab->free = NULL;
	slab->nfree = POOL_SLAB_ENTRIES;
	for (i = POOL_SLAB_ENTRIES; i-- > 0;) {
		e = &slab->e[i];
		e->owner = NULL;
		e->gen = sh->gen_floor;
		e->index = base | i;
		e->next_free = slab->free;
		slab->free = e;
		POOL_POISON(e, POOL_BODY);
		POOL_VG_NOACCESS(e, POOL_BODY);
	}
	sh->dir[slot] = slab;
	sh->free_hint = (uint32_t)slot + 1;
	sh->nslabs++;
	LIST_INSERT_HEAD(&sh->empty, slab, link);
	sh->nempty++;
	atomic_fetch_add_explicit(&pool_nslabs, 1, memory_order_relaxed);
	return slab;
}

/* Free an empty slab (already off its list). */
static void
pool_slab_free(struct pool_shard *sh, struct pool_slab *slab)
{
	uint32_t d, most = 0;
	unsigned i;

	/*
	 * Raise the floor past every generation this slab handed out.  The
	 * distance is taken modulo 2^32 from the floor, so generations of
	 * slabs created under an older, lower floor count as behind it.
	 */
	for (i = 0; i < POOL_SLAB_ENTRIES; i++) {
		d = slab->e[i].gen - sh->gen_floor;
		if (d < 0x80000000u && d > most)
			most = d;
	}
	sh->gen_floor += most + 2;
	sh->dir[slab->slot] = NULL;
	if (slab->slot < sh->free_hint)
		sh->free_hint = slab->slot;
	sh->nslabs--;
	atomic_fetch_sub_explicit(&pool_nslabs, 1, memory_order_relaxed);
	POOL_UNPOISON(slab, sizeof(*slab));
	POOL_VG_UNDEFINED(slab, sizeof(*slab));
	free(slab);
}

struct co_pool_entry *
co_pool_lend(void *owner, bool capped)
{
	struct pool_shard *sh;
	struct pool_slab *slab;
	struct co_pool_entry *e;

	pthread_once(&pool_once, pool_init);
	if (!pool_count_lend(capped))
		goto fail;
	sh = pool_my_shard();
	pthread_mutex_lock(&sh->lock);
	slab = LIST_FIRST(&sh->partial);
	if (slab == NULL) {
		slab = LIST_FIRST(&sh->empty);
		if (slab == NULL)
			slab = pool_slab_new(sh);
		if (slab == NULL) {
			pthread_mutex_unlock(&sh->lock);
			pool_uncount();
			goto fail;
		}
		LIST_REMOVE(slab, link);
		sh->nempty--;
		LIST_INSERT_HEAD(&sh->partial, slab, link);
	}
	e = slab->free;
	slab->free = e->next_free;
	if (--slab->nfree == 0)
		LIST_REMOVE(slab, link);
	e->next_free = NULL;
	e->owner = owner;
	e->gen++;
	POOL_UNPOISON(e, POOL_BODY);
	POOL_VG_LEND(e, POOL_BODY);
	memset(e, 0, POOL_BODY);
	pthread_mutex_unlock(&sh->lock);
	atomic_fetch_add_explicit(&pool_lends, 1, memory_order_relaxed);
	return e;
fail:
	atomic_fetch_add_explicit(&pool_failures, 1, memory_order_relaxed);
	errno = ENOMEM;
	return NULL;
}

/* Give e back; its shard is locked. */
static void
pool_return_locked(struct pool_shard *sh, struct co_pool_entry *e)
{
	struct pool_slab *slab;

	slab = sh->dir[(e->index >> POOL_ENTRY_BITS) & POOL_SLOT_MASK];
	e->gen++;
	e->owner = NULL;
	POOL_POISON(e, POOL_BODY);
	POOL_VG_RETURN(e);
	e->next_free = slab->free;
	slab->free = e;
	if (slab->nfree++ == 0)
		LIST_INSERT_HEAD(&sh->partial, slab, link);
	if (slab->nfree == POOL_SLAB_ENTRIES) {
		LIST_REMOVE(slab, link);
		if (sh->nempty > 0) {
			pool_slab_free(sh, slab);
		} else {
			LIST_INSERT_HEAD(&sh->empty, slab, link);
			sh->nempty++;
		}
	}
	pool_uncount();
}

void
co_pool_return(struct co_pool_entry *e)
{
	struct pool_shard *sh = pool_shard_of(e->index);

	pthread_mutex_lock(&sh->lock);
	pool_return_locked(sh, e);
	pthread_mutex_unlock(&sh->lock);
}

struct co_pool_entry *
co_pool_pin(uint32_t index, uint32_t gen)
{
	struct pool_shard *sh;
	struct pool_slab *slab;
	struct co_pool_entry *e;
	uint32_t slot;

	if ((gen & 1) == 0) /* free entries and null handles */
		return NULL;
	pthread_once(&pool_once, pool_init);
	sh = pool_shard_of(index);
	slot = (index >> POOL_ENTRY_BITS) & POOL_SLOT_MASK;
	pthread_mutex_lock(&sh->lock);
	if (slot < sh->ndir && (slab = sh->dir[slot]) != NULL) {
		e = &slab->e[index & POOL_ENTRY_MASK];
		if (e->gen == gen)
			return e;
	}
	pthread_mutex_unlock(&sh->lock);
	return NULL;
}

void
co_pool_unpin(struct co_pool_entry *e)
{
	pthread_mutex_unlock(&pool_shard_of(e->index)->lock);
}

void
co_pool_return_pinned(struct co_pool_entry *e)
{
	struct pool_shard *sh = pool_shard_of(e->index);

	pool_return_locked(sh, e);
	pthread_mutex_unlock(&sh->lock);
}

void
co_pool_trim(void)
{
	struct pool_shard *sh;
	struct pool_slab *slab;
	unsigned i;

	if (!atomic_load(&pool_ready))
		return;
	for (i = 0; i < POOL_NSHARDS; i++) {
		if (atomic_load(&pool_in_use) != 0)
			return;
		sh = &pool_shards[i];
		pthread_mutex_lock(&sh->lock);
		while ((slab = LIST_FIRST(&sh->empty)) != NULL) {
			LIST_REMOVE(slab, link);
			sh->nempty--;
			pool_slab_free(sh, slab);
		}
		if (sh->nslabs == 0) {
			free(sh->dir);
			sh->dir = NULL;
			sh->ndir = 0;
			sh->free_hint = 0;
		}
		pthread_mutex_unlock(&sh->lock);
	}
}

void
callout_pool_set_cap(size_t max_lent)
{
	atomic_store(&pool_cap, max_lent);
}

void
callout_pool_counters(struct callout_pool_counters *out)
{
	if (out == NULL) {
		co_misuse("callout_pool_counters", out, "NULL out");
		return;
	}
	out->in_use = atomic_load(&pool_in_use);
	out->high_water = atomic_load(&pool_high_water);
	out->slabs = atomic_load(&pool_nslabs);
	out->lends = atomic_load(&pool_lends);
	out->failures = atomic_load(&pool_failures);
}
