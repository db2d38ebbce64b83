/*
 * libFuzzer target: bytes become a sequence of calls to callout(9),
 * timeout(9) and the NT timers on virtual clocks, and every result is
 * checked against a reference model: exact fire ticks, return values,
 * flags, signal states, and quality.md's invariants (every arming fires
 * once or is cancelled, nothing fires after a successful cancel, armed =
 * fired + stopped + pending, the pool's in_use back to 0).
 *
 * Each input makes its own virtual clock (at a start tick the input picks,
 * so the 32-bit wrap and far 64-bit counts are covered) for the callouts
 * and timeouts, and destroys it at the end.  The NT emulation binds to the
 * default clock once per process; LLVMFuzzerInitialize makes that a
 * virtual clock, which every input advances in step with its own.
 *
 * A failed check prints what was expected and what was got, then aborts,
 * which libFuzzer reports with the input that did it.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <callout.h>
#include <callout/ntoskrnl.h>
#include <callout/timeout.h>

#define NCALLOUT 6
#define NTIMEOUT 6
#define NKTIMER 4
#define MAXLOG 4096 /* fire records per advance; longer runs are cut */
#define MAXSTEP 300 /* largest advance while anything periodic runs */

/* Stop at the first wrong result: libFuzzer keeps the input. */
#define FZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "fuzz_calls: %s:%d: %s: ", __FILE__, \
			    __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fprintf(stderr, \
			    "\n(NT clock at tick %llu when the " \
			    "input began: replay with " \
			    "CALLOUT_FUZZ_NT_START=%llu)\n", \
			    (unsigned long long)w.ntstart, \
			    (unsigned long long)w.ntstart); \
			abort(); \
		} \
	} while (0)

/* Where an input's bytes are read from; zeros once they run out. */
struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned
in_byte(struct input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static uint32_t
in_u32(struct input *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | in_byte(in);
	return v;
}

enum kind { K_CALLOUT, K_TIMEOUT, K_KTIMER };

struct fire {
	enum kind kind;
	int id;
	uint64_t tick;
};

/* The reference model of one callout_t. */
struct m_callout {
	bool has_fn;
	bool pending;
	bool fired;    /* FIRED: expired since last armed */
	bool invoking; /* INVOKING: ran, not acknowledged since */
	uint64_t due;
	int rearm;   /* ticks its handler re-arms it with ... */
	int budget;  /* ... this many more times, in the model */
	int hbudget; /* the same count, as the handler spends it */
};

struct m_timeout {
	bool pending;
	uint64_t due;
	struct callout_handle h;
};

struct m_ktimer {
	bool inserted;
	bool signalled;
	bool sync;
	bool dpc;
	uint64_t due;
	uint64_t period; /* ticks, 0: one-shot */
};

static struct callout_clock *ntclk; /* the default clock, for the NT calls */

/* One input's world. */
static struct {
	struct callout_clock *clk;
	callout_t co[NCALLOUT];
	struct m_callout mco[NCALLOUT];
	struct m_timeout mto[NTIMEOUT];
	KTIMER kt[NKTIMER];
	KDPC kd[NKTIMER];
	struct m_ktimer mkt[NKTIMER];
	uint64_t now;     /* the input's clock, as the model sees it */
	uint64_t ntnow;   /* the NT clock, as the model sees it */
	uint64_t ntstart; /* ... when this input began */
	struct fire got[MAXLOG], want[MAXLOG];
	size_t ngot, nwant;
	bool overflow;
} w;

static void
log_fire(struct fire *log, size_t *n, enum kind k, int id, uint64_t tick)
{
	if (*n == MAXLOG) {
		w.overflow = true;
		return;
	}
	log[(*n)++] = (struct fire){ k, id, tick };
}

static uint64_t
nt_ticks(void)
{
	LARGE_INTEGER t;

	KeQueryTickCount(&t);
	return (uint64_t)t.QuadPart;
}

static void
callout_fn(void *arg)
{
	int i = (int)(intptr_t)arg;
	struct m_callout *m = &w.mco[i];

	log_fire(w.got, &w.ngot, K_CALLOUT, i, callout_clock_ticks(w.clk));
	FZ_CHECK(
	    !callout_pending(&w.co[i]), "callout %d pending in handler", i);
	FZ_CHECK(callout_expired(&w.co[i]), "callout %d not expired", i);
	/* model_advance spends m->budget in step, before the run. */
	if (m->hbudget > 0) {
		m->hbudget--;
		callout_schedule(&w.co[i], m->rearm);
	}
}

static void
timeout_fn(void *arg)
{
	int j = (int)(intptr_t)arg;

	log_fire(w.got, &w.ngot, K_TIMEOUT, j, callout_clock_ticks(w.clk));
}

static VOID NTAPI
ktimer_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	int k = (int)(intptr_t)ctx;

	(void)a1;
	(void)a2;
	FZ_CHECK(dpc == &w.kd[k], "DPC %d ran with another KDPC", k);
	FZ_CHECK(KeGetCurrentIrql() == DISPATCH_LEVEL, "DPC at IRQL %d",
	    KeGetCurrentIrql());
	log_fire(w.got, &w.ngot, K_KTIMER, k, nt_ticks());
}

static uint64_t
tick_after(uint64_t now, int ticks)
{
	return now + (uint64_t)(ticks < 1 ? 1 : ticks);
}

/*
 * Everything due up to `to` on both clocks, in the model, into w.want.
 * Callouts re-arm as their handlers do; timers re-insert per period.
 */
static void
model_advance(uint64_t to, uint64_t ntto)
{
	for (int i = 0; i < NCALLOUT; i++) {
		struct m_callout *m = &w.mco[i];

		while (m->pending && m->due <= to) {
			log_fire(w.want, &w.nwant, K_CALLOUT, i, m->due);
			m->pending = false;
			m->fired = m->invoking = true;
			if (m->budget > 0) {
				m->budget--;
				m->pending = true;
				m->fired = m->invoking = false;
				m->due = tick_after(m->due, m->rearm);
			}
		}
	}
	for (int j = 0; j < NTIMEOUT; j++) {
		struct m_timeout *m = &w.mto[j];

		if (m->pending && m->due <= to) {
			log_fire(w.want, &w.nwant, K_TIMEOUT, j, m->due);
			m->pending = false;
		}
	}
	for (int k = 0; k < NKTIMER; k++) {
		struct m_ktimer *m = &w.mkt[k];

		while (m->inserted && m->due <= ntto) {
			if (m->dpc)
				log_fire(w.want, &w.nwant, K_KTIMER, k, m->due);
			m->signalled = true;
			if (m->period == 0)
				m->inserted = false;
			else
				m->due += m->period;
		}
	}
}

static int
cmp_fire(const void *a, const void *b)
{
	const struct fire *x = a, *y = b;

	if (x->tick != y->tick)
		return x->tick < y->tick ? -1 : 1;
	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	return x->id - y->id;
}

static const char *const kind_name[] = { "callout", "timeout", "KTIMER" };

/* The library's runs must be the model's: same (what, tick) pairs. */
static void
compare_logs(void)
{
	if (w.overflow)
		return; /* cut short: counts no longer comparable */
	for (size_t i = 1; i < w.ngot; i++)
		FZ_CHECK(w.got[i].kind != w.got[i - 1].kind ||
			w.got[i].tick >= w.got[i - 1].tick,
		    "%s %d ran at tick %llu after tick %llu",
		    kind_name[w.got[i].kind], w.got[i].id,
		    (unsigned long long)w.got[i].tick,
		    (unsigned long long)w.got[i - 1].tick);
	qsort(w.got, w.ngot, sizeof(w.got[0]), cmp_fire);
	qsort(w.want, w.nwant, sizeof(w.want[0]), cmp_fire);
	for (size_t i = 0; i < w.ngot && i < w.nwant; i++)
		FZ_CHECK(cmp_fire(&w.got[i], &w.want[i]) == 0,
		    "expected %s %d at tick %llu, got %s %d at tick %llu",
		    kind_name[w.want[i].kind], w.want[i].id,
		    (unsigned long long)w.want[i].tick,
		    kind_name[w.got[i].kind], w.got[i].id,
		    (unsigned long long)w.got[i].tick);
	if (w.ngot > w.nwant)
		FZ_CHECK(false, "unexpected run of %s %d at tick %llu",
		    kind_name[w.got[w.nwant].kind], w.got[w.nwant].id,
		    (unsigned long long)w.got[w.nwant].tick);
	if (w.ngot < w.nwant)
		FZ_CHECK(false, "%s %d did not run at tick %llu",
		    kind_name[w.want[w.ngot].kind], w.want[w.ngot].id,
		    (unsigned long long)w.want[w.ngot].tick);
}

static size_t
pool_in_use(void)
{
	struct callout_pool_counters pc;

	callout_pool_counters(&pc);
	return pc.in_use;
}

/* armed = fired + stopped + pending, on the input's clock. */
static void
check_counters(void)
{
	struct callout_counters c;
	uint64_t pending = 0;

	for (int i = 0; i < NCALLOUT; i++)
		pending += w.mco[i].pending;
	for (int j = 0; j < NTIMEOUT; j++)
		pending += w.mto[j].pending;
	callout_clock_counters(w.clk, &c);
	FZ_CHECK(c.armed == c.fired + c.stopped + pending,
	    "armed %llu, fired %llu + stopped %llu + pending %llu",
	    (unsigned long long)c.armed, (unsigned long long)c.fired,
	    (unsigned long long)c.stopped, (unsigned long long)pending);
}

static bool
periodic_running(void)
{
	for (int k = 0; k < NKTIMER; k++)
		if (w.mkt[k].inserted && w.mkt[k].period != 0)
			return true;
	return false;
}

/* Tick counts near the wheel's level boundaries (64^n) and int limits. */
static int
in_ticks(struct input *in)
{
	static const int special[] = { 63, 64, 65, 127, 128, 4095, 4096, 4097,
		262143, 262144, 262145, 16777215, 16777216, 16777217,
		1073741823, 1073741824, INT_MAX - 1, INT_MAX, INT_MIN, -1 };
	unsigned b = in_byte(in);

	if (b < 200)
		return (int)b - 8;
	if (b < 240)
		return special[(b - 200) % (sizeof(special) / sizeof(int))];
	return (int)in_u32(in);
}

static uint64_t
in_advance(struct input *in)
{
	static const uint64_t big[] = { 64, 4096, 262144, 16777216,
		(uint64_t)INT_MAX, (uint64_t)INT_MAX + 2, 1ull << 32 };
	unsigned b = in_byte(in);
	uint64_t n;

	if (b < 192)
		n = b % 80;
	else if (b < 224)
		n = big[(b - 192) % (sizeof(big) / sizeof(big[0]))];
	else
		n = in_u32(in);
	if (n > MAXSTEP && periodic_running())
		n = MAXSTEP;
	return n;
}

static void
advance(uint64_t n)
{
	w.ngot = w.nwant = 0;
	w.overflow = false;
	model_advance(w.now + n, w.ntnow + n);
	callout_clock_advance(w.clk, n);
	callout_clock_advance(ntclk, n);
	w.now += n;
	w.ntnow += n;
	FZ_CHECK(callout_clock_ticks(w.clk) == w.now, "clock at %llu, not %llu",
	    (unsigned long long)callout_clock_ticks(w.clk),
	    (unsigned long long)w.now);
	FZ_CHECK(nt_ticks() == w.ntnow, "NT clock at %llu, not %llu",
	    (unsigned long long)nt_ticks(), (unsigned long long)w.ntnow);
	compare_logs();
}

static void
op_callout(struct input *in, unsigned op)
{
	int i = (int)(in_byte(in) % NCALLOUT);
	struct m_callout *m = &w.mco[i];
	callout_t *c = &w.co[i];
	int t;
	bool r;

	switch (op) {
	case 0: /* reset, with a handler that may re-arm itself */
		t = in_ticks(in);
		m->rearm = in_ticks(in);
		m->budget = m->hbudget = (int)(in_byte(in) % 4);
		callout_reset(c, t, callout_fn, (void *)(intptr_t)i);
		m->has_fn = true;
		m->pending = true;
		m->fired = m->invoking = false;
		m->due = tick_after(w.now, t);
		break;
	case 1:
		if (!m->has_fn)
			break;
		t = in_ticks(in);
		callout_schedule(c, t);
		m->pending = true;
		m->fired = m->invoking = false;
		m->due = tick_after(w.now, t);
		break;
	case 2:
		r = callout_stop(c);
		FZ_CHECK(r == m->fired, "callout_stop %d: expected %d, got %d",
		    i, m->fired, r);
		m->pending = m->fired = false;
		break;
	case 3:
		/* Nothing runs on another thread: it never has to wait. */
		r = callout_halt(c, NULL);
		FZ_CHECK(!r, "callout_halt %d waited", i);
		m->pending = m->fired = false;
		break;
	case 4:
		callout_ack(c);
		m->invoking = false;
		break;
	default:
		FZ_CHECK(callout_pending(c) == m->pending,
		    "callout_pending %d: expected %d", i, m->pending);
		FZ_CHECK(callout_expired(c) == m->fired,
		    "callout_expired %d: expected %d", i, m->fired);
		FZ_CHECK(callout_active(c) == (m->pending || m->fired),
		    "callout_active %d", i);
		FZ_CHECK(callout_invoking(c) == m->invoking,
		    "callout_invoking %d: expected %d", i, m->invoking);
		break;
	}
}

static void
op_timeout(struct input *in, unsigned op)
{
	int j = (int)(in_byte(in) % NTIMEOUT);
	struct m_timeout *m = &w.mto[j];
	int t;

	FZ_CHECK(callout_handle_pending(m->h) == m->pending,
	    "callout_handle_pending %d: expected %d", j, m->pending);
	if (op == 0 && !m->pending) {
		t = in_ticks(in);
		m->h = timeout_on(w.clk, timeout_fn, (void *)(intptr_t)j, t);
		FZ_CHECK(!callout_handle_is_null(m->h), "timeout %d: null", j);
		m->pending = true;
		m->due = tick_after(w.now, t);
	} else {
		untimeout(timeout_fn, (void *)(intptr_t)j, m->h);
		m->pending = false;
	}
	FZ_CHECK(callout_handle_pending(m->h) == m->pending,
	    "callout_handle_pending %d after: expected %d", j, m->pending);
}

/* A due time in 100 ns units and the tick it is due at in the model. */
static LONGLONG
in_due(struct input *in, uint64_t *due_tick, bool *past)
{
	unsigned b = in_byte(in);
	uint64_t units = (uint64_t)(in_byte(in) | in_byte(in) << 8) * 1000u +
	    (b & 1 ? in_byte(in) : 0);
	LARGE_INTEGER now;

	*past = false;
	switch (b >> 1 & 3) {
	case 0: /* absolute, in the past (0 included) */
		*past = true;
		*due_tick = w.ntnow;
		KeQuerySystemTime(&now);
		return b & 8 ? 0 : now.QuadPart - (LONGLONG)units;
	case 1: /* absolute, ahead (while system time has not saturated) */
		if (units == 0)
			units = 1;
		*due_tick = w.ntnow + (units + 9999) / 10000;
		KeQuerySystemTime(&now);
		if (now.QuadPart < INT64_MAX - (1ll << 40))
			return now.QuadPart + (LONGLONG)units;
		return -(LONGLONG)units;
	default: /* relative: never early, rounded up to a tick */
		if (units == 0)
			units = 1;
		*due_tick = w.ntnow + (units + 9999) / 10000;
		return -(LONGLONG)units;
	}
}

static void
op_ktimer(struct input *in, unsigned op)
{
	int k = (int)(in_byte(in) % NKTIMER);
	struct m_ktimer *m = &w.mkt[k];
	PKTIMER t = &w.kt[k];
	LARGE_INTEGER due, zero = { .QuadPart = 0 };
	uint64_t due_tick;
	LONG period;
	bool past;
	BOOLEAN r;
	NTSTATUS st;

	switch (op) {
	case 0: /* KeSetTimerEx */
		due.QuadPart = in_due(in, &due_tick, &past);
		period = (LONG)(in_byte(in) % 24);
		if (period > 16)
			period = 0;
		m->dpc = in_byte(in) & 1;
		w.ngot = w.nwant = 0;
		w.overflow = false;
		r = KeSetTimerEx(t, due, period, m->dpc ? &w.kd[k] : NULL);
		FZ_CHECK(r == m->inserted,
		    "KeSetTimerEx %d: expected %d, got %d", k, m->inserted, r);
		m->period = (uint64_t)period;
		m->signalled = false;
		m->inserted = true;
		m->due = due_tick;
		if (past) {
			/* Expires inside the call, DPC included. */
			model_advance(w.now, w.ntnow);
			compare_logs();
		}
		break;
	case 1:
		r = KeCancelTimer(t);
		FZ_CHECK(r == m->inserted,
		    "KeCancelTimer %d: expected %d, got %d", k, m->inserted, r);
		m->inserted = false;
		break;
	case 2:
		r = KeReadStateTimer(t);
		FZ_CHECK(r == m->signalled,
		    "KeReadStateTimer %d: expected %d, got %d", k, m->signalled,
		    r);
		break;
	case 3: /* a polling wait; a synchronization timer consumes it */
		st = KeWaitForSingleObject(
		    t, Executive, KernelMode, FALSE, &zero);
		FZ_CHECK(st == (m->signalled ? STATUS_SUCCESS : STATUS_TIMEOUT),
		    "KeWaitForSingleObject %d: signalled %d, got %#x", k,
		    m->signalled, (unsigned)st);
		if (m->sync)
			m->signalled = false;
		break;
	default: /* re-initialise one that is not queued */
		if (m->inserted)
			break;
		m->sync = in_byte(in) & 1;
		KeInitializeTimerEx(
		    t, m->sync ? SynchronizationTimer : NotificationTimer);
		m->signalled = false;
		break;
	}
}

static const uint64_t starts[] = { 0, 0x80000000u - 300, 0x100000000u - 300,
	0x100000000u * 64 - 5, 0x7ffffffff0000000ull };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct callout_clock_params p;

	(void)argc;
	(void)argv;
	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	p.ndispatchers = 1;
	ntclk = callout_clock_create(&p);
	if (ntclk == NULL || callout_clock_set_default(ntclk) != 0) {
		fprintf(stderr, "fuzz_calls: cannot make the default clock\n");
		abort();
	}
	(void)nt_ticks(); /* binds the NT emulation to it */
	/* The NT clock carries on from input to input; replaying a failure
	 * alone needs the time it had reached. */
	if (getenv("CALLOUT_FUZZ_NT_START") != NULL)
		callout_clock_advance(
		    ntclk, strtoull(getenv("CALLOUT_FUZZ_NT_START"), NULL, 0));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct callout_clock_params p;
	unsigned b = in_byte(&in);

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	p.ndispatchers = 1;
	p.start_ticks = starts[b % (sizeof(starts) / sizeof(starts[0]))];
	if (b >= 160) /* anywhere, wheel-aligned or not */
		p.start_ticks = (uint64_t)in_u32(&in) << (b & 31);
	if (b & 0x80)
		p.flags = CALLOUT_CLOCK_SINGLE_OWNER;
	w.clk = callout_clock_create(&p);
	FZ_CHECK(
	    w.clk != NULL, "clock at %llu", (unsigned long long)p.start_ticks);
	w.now = callout_clock_ticks(w.clk);
	FZ_CHECK(w.now == p.start_ticks, "start tick");
	w.ntnow = w.ntstart = nt_ticks();
	for (int i = 0; i < NCALLOUT; i++) {
		callout_init_clock(&w.co[i], w.clk, CALLOUT_MPSAFE);
		w.mco[i] = (struct m_callout){ 0 };
	}
	for (int j = 0; j < NTIMEOUT; j++) {
		w.mto[j] = (struct m_timeout){ 0 };
		callout_handle_init(&w.mto[j].h);
	}
	for (int k = 0; k < NKTIMER; k++) {
		KeInitializeTimer(&w.kt[k]);
		KeInitializeDpc(&w.kd[k], ktimer_dpc, (PVOID)(intptr_t)k);
		w.mkt[k] = (struct m_ktimer){ 0 };
	}

	for (int ops = 0; in.n > 0 && ops < 2000; ops++) {
		unsigned op = in_byte(&in);

		switch (op % 5) {
		case 0:
			op_callout(&in, op / 5 % 7);
			break;
		case 1:
			op_timeout(&in, op / 5 % 2);
			break;
		case 2:
			op_ktimer(&in, op / 5 % 6);
			break;
		default:
			advance(in_advance(&in));
			break;
		}
		check_counters();
	}

	/* Teardown: cancel everything, and nothing may be left behind. */
	for (int i = 0; i < NCALLOUT; i++) {
		callout_halt(&w.co[i], NULL);
		callout_destroy(&w.co[i]);
	}
	for (int j = 0; j < NTIMEOUT; j++)
		untimeout(timeout_fn, (void *)(intptr_t)j, w.mto[j].h);
	for (int k = 0; k < NKTIMER; k++) {
		BOOLEAN r = KeCancelTimer(&w.kt[k]);

		FZ_CHECK(r == w.mkt[k].inserted,
		    "KeCancelTimer %d at the end: expected %d, got %d", k,
		    w.mkt[k].inserted, r);
	}
	w.ngot = 0;
	callout_clock_advance(w.clk, 1u << 20);
	callout_clock_advance(ntclk, 1);
	FZ_CHECK(
	    w.ngot == 0, "%zu runs after everything was cancelled", w.ngot);
	callout_clock_destroy(w.clk);
	FZ_CHECK(
	    pool_in_use() == 0, "pool in_use %zu at the end", pool_in_use());
	return 0;
}
