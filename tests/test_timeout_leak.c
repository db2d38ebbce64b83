/*
 * Leak proof of timeout() (quality.md): 10^7 timeouts (times
 * CALLOUT_TEST_SCALE) on a virtual clock, mixing timeouts that fire, ones
 * cancelled while pending, stale untimeouts of handles that fired or were
 * cancelled (with the same fn and arg as a newer timeout that reuses the
 * callout), and handlers that arm a new timeout.  A model checks every
 * fire tick; at the end the pool's high-water mark must equal the most
 * timeouts the model saw pending or running at once, nothing may be in use,
 * and after teardown nothing is left allocated (LeakSanitizer in ASan
 * builds, the slab count everywhere).
 *
 * CALLOUT_TEST_SEED replays a seed; a failure prints the seed.
 */
#include <callout.h>
#include <callout/timeout.h>

#include "check.h"
#include "pool.h"

#define MAXP 1000 /* most pending at once, so the model stays cheap */
#define NOLD 256  /* handles of timeouts that are over */

struct slot {
	struct callout_handle h;
	uint64_t due;
	int pos; /* in pend[] while pending, else -1 */
};

struct old {
	struct callout_handle h;
	int slot;
};

static struct callout_clock *clk;
static struct slot slots[MAXP];
static int idle[MAXP], nidle;
static int pend[MAXP], npend;
static struct old old[NOLD];
static unsigned nold;
static uint64_t rng;
static uint64_t armed, fired, cancelled, bad_fires, target;
static size_t lent, most_lent; /* the model of the pool */

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fire(void *arg);

static void
arm(int ticks)
{
	struct slot *s;
	int i;

	if (nidle == 0 || armed >= target)
		return;
	i = idle[--nidle];
	s = &slots[i];
	s->due = callout_clock_ticks(clk) + (uint64_t)(ticks < 1 ? 1 : ticks);
	s->h = timeout_on(clk, fire, s, ticks);
	if (callout_handle_is_null(s->h)) {
		bad_fires++;
		idle[nidle++] = i;
		return;
	}
	s->pos = npend;
	pend[npend++] = i;
	armed++;
	if (++lent > most_lent)
		most_lent = lent;
}

/* s's timeout is over (fired or cancelled): its handle becomes stale. */
static void
retire(struct slot *s)
{
	int i = (int)(s - slots);

	pend[s->pos] = pend[--npend];
	slots[pend[s->pos]].pos = s->pos;
	s->pos = -1;
	idle[nidle++] = i;
	old[nold++ % NOLD] = (struct old){ s->h, i };
}

static void
fire(void *arg)
{
	struct slot *s = arg;

	if (s->pos < 0 || callout_clock_ticks(clk) != s->due) {
		if (bad_fires++ < 10)
			fprintf(stderr,
			    "slot %d fired at %" PRIu64 ", due %" PRIu64
			    ", pending %d\n",
			    (int)(s - slots), callout_clock_ticks(clk), s->due,
			    s->pos >= 0);
		return;
	}
	retire(s);
	fired++;
	if (rnd() % 8 == 0) /* a handler that arms: two lent for a moment */
		arm((int)(rnd() % 16));
	lent--; /* the pool takes it back as the handler returns */
}

static void
cancel_pending(void)
{
	struct slot *s;

	if (npend == 0)
		return;
	s = &slots[pend[rnd() % (uint64_t)npend]];
	untimeout(fire, s, s->h);
	if (callout_handle_pending(s->h))
		bad_fires++;
	retire(s);
	cancelled++;
	lent--;
}

/* A handle whose timeout is over must not touch its slot's new one. */
static void
untimeout_stale(void)
{
	struct old *o;
	struct slot *s;

	if (nold == 0)
		return;
	o = &old[rnd() % (nold < NOLD ? nold : NOLD)];
	s = &slots[o->slot];
	untimeout(fire, s, o->h);
	if (callout_handle_pending(o->h))
		bad_fires++;
	if (s->pos >= 0 && !callout_handle_pending(s->h)) {
		if (bad_fires++ < 10)
			fprintf(stderr, "stale handle cancelled slot %d\n",
			    o->slot);
	}
}

static void
cycles_leave_nothing_behind(void)
{
	struct callout_clock_params p;
	struct callout_pool_counters pc;
	struct callout_counters cc;
	uint64_t ops = 0, seed0;
	const char *seed = getenv("CALLOUT_TEST_SEED");
	int i;

	rng = seed != NULL ? strtoull(seed, NULL, 0) : 0x5eed1234abcdull;
	if (rng == 0)
		rng = 1;
	seed0 = rng;
	target = (uint64_t)check_scaled(10000000, 20000);
	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	clk = callout_clock_create(&p);
	CHECK(clk != NULL);
	for (i = 0; i < MAXP; i++) {
		slots[i].pos = -1;
		idle[nidle++] = MAXP - 1 - i;
	}
	while (armed < target) {
		uint64_t r = rnd() % 100;
		/*
		 * Alternate filling (time nearly stands still, pending climbs
		 * towards MAXP) and draining, so slabs are added and freed.
		 */
		uint64_t adv = (ops / 20000) % 2 == 0 ? 98 : 70;

		if (r < 50)
			arm((int)(rnd() % 66) - 1);
		else if (r < 60)
			cancel_pending();
		else if (r < adv)
			untimeout_stale();
		else
			callout_clock_advance(clk, rnd() % 6);
		if (++ops % 4096 == 0) {
			callout_pool_counters(&pc);
			CHECK_EQ(pc.in_use, lent);
		}
	}
	callout_clock_advance(clk, 100);
	CHECK_EQ(npend, 0);
	CHECK_U64(bad_fires, 0);
	CHECK_U64(fired + cancelled, armed);
	callout_pool_counters(&pc);
	CHECK_EQ(pc.in_use, 0);
	CHECK_EQ(pc.high_water, most_lent);
	CHECK_U64(pc.lends, armed);
	CHECK_U64(pc.failures, 0);
	CHECK(most_lent > MAXP / 2); /* the fill phases did fill */
	callout_clock_counters(clk, &cc);
	CHECK_U64(cc.armed, armed);
	CHECK_U64(cc.fired, fired);
	CHECK_U64(cc.stopped, cancelled);
	fprintf(stderr,
	    "%" PRIu64 " timeouts: %" PRIu64 " fired, %" PRIu64
	    " cancelled; high water %zu; %" PRIu64 " ops\n",
	    armed, fired, cancelled, pc.high_water, ops);
	callout_clock_destroy(clk);
	co_pool_trim();
	callout_pool_counters(&pc);
	CHECK_EQ(pc.slabs, 0);
	if (check_failures != 0)
		fprintf(stderr, "failed with CALLOUT_TEST_SEED=0x%" PRIx64 "\n",
		    seed0);
}

int
main(void)
{
	RUN(cycles_leave_nothing_behind);
	return check_finish();
}
