/*
 * The misuse catalogue of libcallout(3), one case per row: each provokes
 * the misuse, checks that exactly one report came, naming the call and
 * saying exactly the row's text, and that the call had no effect.  Every
 * report checked is printed as "catalogue: CALL|WHAT", which
 * tests/misuse_catalogue.sh compares with the manual page's table.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <callout.h>
#include <callout/ndis.h>
#include <callout/ntoskrnl.h>
#include <callout/timeout.h>

#include "check.h"
#include "misuse_catalogue.h"

static struct callout_clock *nt; /* the default clock, for the NT calls */

/* The recorder: every report since the last check. */
static pthread_mutex_t mc_lock = PTHREAD_MUTEX_INITIALIZER;
static int mc_count;
static char mc_call[64], mc_what[160];

static void
mc_record(const char *call, const void *obj, const char *what)
{
	(void)obj;
	pthread_mutex_lock(&mc_lock);
	if (mc_count++ == 0) {
		snprintf(mc_call, sizeof(mc_call), "%s", call);
		snprintf(mc_what, sizeof(mc_what), "%s", what);
	}
	pthread_mutex_unlock(&mc_lock);
}

void
mc_expect_at(const char *file, int line, const char *call, const char *what)
{
	pthread_mutex_lock(&mc_lock);
	if (mc_count == 1 && strcmp(mc_call, call) == 0 &&
	    strcmp(mc_what, what) == 0) {
		check_passes++;
		printf("catalogue: %s|%s\n", call, what);
	} else {
		check_failures++;
		fprintf(stderr,
		    "%s:%d: %s: expected one report \"%s: %s\", got %d, "
		    "first \"%s: %s\"\n",
		    file, line, check_current, call, what, mc_count,
		    mc_count > 0 ? mc_call : "", mc_count > 0 ? mc_what : "");
	}
	mc_count = 0;
	pthread_mutex_unlock(&mc_lock);
}

void
mc_none_at(const char *file, int line)
{
	pthread_mutex_lock(&mc_lock);
	if (mc_count == 0) {
		check_passes++;
	} else {
		check_failures++;
		fprintf(stderr,
		    "%s:%d: %s: expected no report, got \"%s: %s\"\n", file,
		    line, check_current, mc_call, mc_what);
	}
	mc_count = 0;
	pthread_mutex_unlock(&mc_lock);
}

void
mc_check_at(const char *file, int line, bool ok, const char *text)
{
	if (ok) {
		check_passes++;
		return;
	}
	check_failures++;
	fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", file, line,
	    check_current, text);
}

struct mc_thread {
	void (*fn)(void *);
	void *arg;
};

static void *
mc_thread_main(void *p)
{
	struct mc_thread *t = p;

	t->fn(t->arg);
	return NULL;
}

void
mc_in_thread(void (*fn)(void *), void *arg)
{
	struct mc_thread t = { fn, arg };
	pthread_t th;

	pthread_create(&th, NULL, mc_thread_main, &t);
	pthread_join(th, NULL);
}

struct callout_clock *
mc_virtual_clock(int ndisp, unsigned flags)
{
	struct callout_clock_params p;

	callout_clock_params_init(&p);
	p.mode = CALLOUT_CLOCK_VIRTUAL;
	p.ndispatchers = ndisp;
	p.flags = flags;
	return callout_clock_create(&p);
}

static struct callout_clock *
mc_clock(int mode, unsigned flags)
{
	struct callout_clock_params p;

	callout_clock_params_init(&p);
	p.mode = mode;
	p.ndispatchers = 1;
	p.flags = flags;
	return callout_clock_create(&p);
}

void
mc_netbsd_init(void *buf, struct callout_clock *clk)
{
	callout_init_clock(buf, clk, CALLOUT_MPSAFE);
}

void
mc_netbsd_destroy(void *buf)
{
	callout_destroy(buf);
}

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static atomic_int nfired;

static void
count_fn(void *arg)
{
	(void)arg;
	atomic_fetch_add(&nfired, 1);
}

/* Every call that takes a callout_t, with that callout. */
static void
every_callout_call(callout_t *c, const char *what)
{
	callout_destroy(c);
	MC_EXPECT("callout_destroy", what);
	callout_setfunc(c, count_fn, NULL);
	MC_EXPECT("callout_setfunc", what);
	callout_reset(c, 1, count_fn, NULL);
	MC_EXPECT("callout_reset", what);
	callout_schedule(c, 1);
	MC_EXPECT("callout_schedule", what);
	MC_CHECK(!callout_stop(c));
	MC_EXPECT("callout_stop", what);
	MC_CHECK(!callout_halt(c, NULL));
	MC_EXPECT("callout_halt", what);
	MC_CHECK(!callout_pending(c));
	MC_EXPECT("callout_pending", what);
	MC_CHECK(!callout_expired(c));
	MC_EXPECT("callout_expired", what);
	MC_CHECK(!callout_active(c));
	MC_EXPECT("callout_active", what);
	MC_CHECK(!callout_invoking(c));
	MC_EXPECT("callout_invoking", what);
	callout_ack(c);
	MC_EXPECT("callout_ack", what);
	callout_bind(c, 0);
	MC_EXPECT("callout_bind", what);
}

static void
null_callout_is_reported_by_every_call(void)
{
	every_callout_call(NULL, "NULL callout");
}

static void
uninitialised_or_destroyed_callout_is_reported_by_every_call(void)
{
	struct callout_clock *clk = mc_virtual_clock(1, 0);
	callout_t c;

	memset(&c, 0xa5, sizeof(c));
	every_callout_call(&c, "callout not initialised or destroyed");
	callout_init_clock(&c, clk, CALLOUT_MPSAFE);
	callout_destroy(&c);
	MC_NONE();
	every_callout_call(&c, "callout not initialised or destroyed");
	callout_clock_destroy(clk);
}

struct so_world {
	struct callout_clock *clk, *ext;
	callout_t c, c2;
	struct callout_handle h;
};

static void
so_callout_calls(void *arg)
{
	struct so_world *s = arg;

	every_callout_call(
	    &s->c, "single-owner clock used from another thread");
	callout_init_clock(&s->c2, s->clk, CALLOUT_MPSAFE);
	MC_EXPECT(
	    "callout_init", "single-owner clock used from another thread");
}

static void
single_owner_callout_from_another_thread_is_reported(void)
{
	struct so_world s;

	s.clk = mc_virtual_clock(1, CALLOUT_CLOCK_SINGLE_OWNER);
	callout_init_clock(&s.c, s.clk, CALLOUT_MPSAFE);
	callout_reset(&s.c, 5, count_fn, NULL);
	mc_in_thread(so_callout_calls, &s);
	/* Nothing changed: still pending, fires at its tick. */
	MC_CHECK(callout_pending(&s.c));
	atomic_store(&nfired, 0);
	callout_clock_advance(s.clk, 5);
	MC_CHECK(atomic_load(&nfired) == 1);
	callout_destroy(&s.c);
	MC_NONE();
	callout_clock_destroy(s.clk);
}

static void
init_with_null_callout_or_clock_is_reported(void)
{
	struct callout_clock *clk = mc_virtual_clock(1, 0);
	callout_t c;

	callout_init_clock(NULL, clk, CALLOUT_MPSAFE);
	MC_EXPECT("callout_init", "NULL callout or clock");
	memset(&c, 0, sizeof(c));
	callout_init_clock(&c, NULL, CALLOUT_MPSAFE);
	MC_EXPECT("callout_init", "NULL callout or clock");
	MC_CHECK(!callout_pending(&c)); /* still not initialised */
	MC_EXPECT("callout_pending", "callout not initialised or destroyed");
	callout_clock_destroy(clk);
}

static void
init_with_unknown_flags_is_reported(void)
{
	struct callout_clock *clk = mc_virtual_clock(1, 0);
	callout_t c;

	memset(&c, 0, sizeof(c));
	callout_init_clock(&c, clk, 0x8000);
	MC_EXPECT("callout_init", "unknown flags");
	callout_schedule(&c, 1);
	MC_EXPECT("callout_schedule", "callout not initialised or destroyed");
	callout_clock_destroy(clk);
}

static void
destroy_while_pending_is_reported(void)
{
	struct callout_clock *clk = mc_virtual_clock(1, 0);
	callout_t c;

	callout_init_clock(&c, clk, CALLOUT_MPSAFE);
	callout_reset(&c, 3, count_fn, NULL);
	callout_destroy(&c);
	MC_EXPECT("callout_destroy", "callout is pending");
	MC_CHECK(callout_pending(&c));
	MC_NONE();
	callout_stop(&c);
	callout_destroy(&c);
	MC_NONE();
	callout_clock_destroy(clk);
}

static atomic_int slow_started, slow_release;

static void
slow_fn(void *arg)
{
	(void)arg;
	atomic_store(&slow_started, 1);
	while (!atomic_load(&slow_release))
		msleep(1);
}

static void
destroy_while_running_elsewhere_is_reported(void)
{
	struct callout_clock *clk = mc_clock(CALLOUT_CLOCK_THREADED, 0);
	callout_t c;

	atomic_store(&slow_started, 0);
	atomic_store(&slow_release, 0);
	callout_init_clock(&c, clk, CALLOUT_MPSAFE);
	callout_reset(&c, 1, slow_fn, NULL);
	for (int i = 0; i < 5000 && !atomic_load(&slow_started); i++)
		msleep(1);
	MC_CHECK(atomic_load(&slow_started));
	callout_destroy(&c);
	MC_EXPECT("callout_destroy", "handler is running on another thread");
	atomic_store(&slow_release, 1);
	callout_halt(&c, NULL);
	callout_destroy(&c); /* still initialised: this one is fine */
	MC_NONE();
	callout_clock_destroy(clk);
}

static void
null_handler_is_reported(void)
{
	struct callout_clock *clk = mc_virtual_clock(1, 0);
	callout_t c;

	callout_init_clock(&c, clk, CALLOUT_MPSAFE);
	callout_setfunc(&c, NULL, NULL);
	MC_EXPECT("callout_setfunc", "NULL handler");
	callout_reset(&c, 1, NULL, NULL);
	MC_EXPECT("callout_reset", "NULL handler");
	MC_CHECK(!callout_pending(&c));
	callout_schedule(&c, 1); /* setfunc set nothing */
	MC_EXPECT("callout_schedule", "no handler set");
	MC_CHECK(!callout_pending(&c));
	callout_destroy(&c);
	MC_NONE();
	callout_clock_destroy(clk);
}

static void
bind_misuse_is_reported(void)
{
	struct callout_clock *clk = mc_virtual_clock(2, 0);
	callout_t c, g;

	callout_init_clock(&c, clk, CALLOUT_MPSAFE);
	callout_bind(&c, 7);
	MC_EXPECT("callout_bind", "no such dispatcher");
	callout_init_clock(&g, clk, 0);
	callout_bind(&g, 1);
	MC_EXPECT("callout_bind", "callout is not MPSAFE");
	callout_reset(&c, 3, count_fn, NULL);
	callout_bind(&c, 1);
	MC_EXPECT("callout_bind", "callout is pending or running");
	MC_CHECK(callout_pending(&c));
	callout_stop(&c);
	callout_bind(&c, 1);
	MC_NONE();
	callout_destroy(&c);
	callout_destroy(&g);
	MC_NONE();
	callout_clock_destroy(clk);
}

/* Clocks. */

static void
null_clock_is_reported(void)
{
	struct callout_counters cn;

	memset(&cn, 0x5a, sizeof(cn));
	MC_CHECK(callout_clock_ticks(NULL) == 0);
	MC_EXPECT("callout_clock_ticks", "NULL clock");
	MC_CHECK(callout_clock_hz(NULL) == 0);
	MC_EXPECT("callout_clock_hz", "NULL clock");
	MC_CHECK(callout_clock_ndispatchers(NULL) == 0);
	MC_EXPECT("callout_clock_ndispatchers", "NULL clock");
	callout_clock_counters(NULL, &cn);
	MC_EXPECT("callout_clock_counters", "NULL clock");
	callout_clock_counters(nt, NULL);
	MC_EXPECT("callout_clock_counters", "NULL out");
	callout_pool_counters(NULL);
	MC_EXPECT("callout_pool_counters", "NULL out");
	callout_clock_dump(NULL, stderr);
	MC_EXPECT("callout_clock_dump", "NULL clock or file");
	callout_clock_dump(nt, NULL);
	MC_EXPECT("callout_clock_dump", "NULL clock or file");
}

static void
wrong_kind_of_clock_is_reported(void)
{
	struct callout_clock *ext = mc_clock(CALLOUT_CLOCK_EXTERNAL, 0);
	struct callout_clock *v = mc_virtual_clock(1, 0);
	uint64_t t = callout_clock_ticks(v);

	callout_clock_advance(ext, 1);
	MC_EXPECT("callout_clock_advance", "not a virtual clock");
	MC_CHECK(callout_clock_fd(v) == -1);
	MC_EXPECT("callout_clock_fd", "not an external clock");
	MC_CHECK(callout_clock_run(v) == 0);
	MC_EXPECT("callout_clock_run", "not an external clock");
	callout_clock_next_ns(v);
	MC_EXPECT("callout_clock_next_ns", "not an external clock");
	MC_CHECK(callout_clock_ticks(v) == t);
	callout_clock_destroy(ext);
	callout_clock_destroy(v);
	MC_NONE();
}

static struct callout_clock *reenter_clk;
static callout_t reenter_c;

static void
advance_fn(void *arg)
{
	(void)arg;
	callout_clock_advance(reenter_clk, 1);
}

static void
run_fn(void *arg)
{
	(void)arg;
	callout_clock_run(reenter_clk);
}

static void
destroy_fn(void *arg)
{
	(void)arg;
	callout_clock_destroy(reenter_clk);
}

static void
clock_reentered_from_a_handler_is_reported(void)
{
	uint64_t t;

	reenter_clk = mc_virtual_clock(1, 0);
	callout_init_clock(&reenter_c, reenter_clk, CALLOUT_MPSAFE);
	callout_reset(&reenter_c, 1, advance_fn, NULL);
	t = callout_clock_ticks(reenter_clk);
	callout_clock_advance(reenter_clk, 1);
	MC_EXPECT("callout_clock_advance",
	    "called from a handler, or while another thread runs the clock");
	MC_CHECK(callout_clock_ticks(reenter_clk) == t + 1);
	callout_reset(&reenter_c, 1, destroy_fn, NULL);
	callout_clock_advance(reenter_clk, 1);
	MC_EXPECT(
	    "callout_clock_destroy", "called from a handler of this clock");
	callout_destroy(&reenter_c);
	callout_clock_destroy(reenter_clk); /* still there to destroy */
	MC_NONE();

	reenter_clk = mc_clock(CALLOUT_CLOCK_EXTERNAL, 0);
	callout_init_clock(&reenter_c, reenter_clk, CALLOUT_MPSAFE);
	callout_reset(&reenter_c, 1, run_fn, NULL);
	for (int i = 0; i < 5000 && callout_pending(&reenter_c); i++) {
		msleep(1);
		callout_clock_run(reenter_clk);
	}
	MC_EXPECT("callout_clock_run",
	    "called from a handler, or while another thread runs the clock");
	callout_destroy(&reenter_c);
	callout_clock_destroy(reenter_clk);
	MC_NONE();
}

static void
so_clock_calls(void *arg)
{
	struct so_world *s = arg;
	const char *what = "single-owner clock used from another thread";

	callout_clock_advance(s->clk, 1);
	MC_EXPECT("callout_clock_advance", what);
	MC_CHECK(callout_clock_fd(s->ext) == -1);
	MC_EXPECT("callout_clock_fd", what);
	callout_clock_run(s->ext);
	MC_EXPECT("callout_clock_run", what);
	callout_clock_next_ns(s->ext);
	MC_EXPECT("callout_clock_next_ns", what);
	callout_clock_destroy(s->clk);
	MC_EXPECT("callout_clock_destroy",
	    "called from a thread other than the single owner");
}

static void
single_owner_clock_from_another_thread_is_reported(void)
{
	struct so_world s;
	uint64_t t;

	s.clk = mc_virtual_clock(1, CALLOUT_CLOCK_SINGLE_OWNER);
	s.ext = mc_clock(CALLOUT_CLOCK_EXTERNAL, CALLOUT_CLOCK_SINGLE_OWNER);
	t = callout_clock_ticks(s.clk);
	mc_in_thread(so_clock_calls, &s);
	MC_CHECK(callout_clock_ticks(s.clk) == t);
	callout_clock_destroy(s.clk);
	callout_clock_destroy(s.ext);
	MC_NONE();
}

static void
clock_destroy_with_a_pending_callout_is_reported(void)
{
	struct callout_clock *clk = mc_virtual_clock(1, 0);
	callout_t c;

	callout_init_clock(&c, clk, CALLOUT_MPSAFE);
	callout_reset(&c, 2, count_fn, NULL);
	callout_clock_destroy(clk);
	MC_EXPECT(
	    "callout_clock_destroy", "a caller-owned callout is still pending");
	atomic_store(&nfired, 0);
	callout_clock_advance(clk, 2); /* the clock is still there */
	MC_CHECK(atomic_load(&nfired) == 1);
	callout_destroy(&c);
	callout_clock_destroy(clk);
	MC_NONE();
}

static void
giant_unlock_without_the_lock_is_reported(void)
{
	callout_giant_unlock();
	MC_EXPECT("callout_giant_unlock", "giant lock not held by this thread");
	callout_giant_lock();
	callout_giant_unlock();
	MC_NONE();
}

/* Timeouts. */

static void
so_timeout_calls(void *arg)
{
	struct so_world *s = arg;
	const char *what = "single-owner clock used from another thread";

	MC_CHECK(callout_handle_is_null(timeout_on(s->clk, count_fn, s, 1)));
	MC_EXPECT("timeout", what);
	untimeout(count_fn, NULL, s->h);
	MC_EXPECT("untimeout", what);
	MC_CHECK(!callout_handle_pending(s->h));
	MC_EXPECT("callout_handle_pending", what);
}

static void
timeout_misuse_is_reported(void)
{
	struct so_world s;

	MC_CHECK(callout_handle_is_null(timeout_on(NULL, count_fn, NULL, 1)));
	MC_EXPECT("timeout", "no clock");
	MC_CHECK(callout_handle_is_null(timeout_on(nt, NULL, NULL, 1)));
	MC_EXPECT("timeout", "NULL handler");
	MC_CHECK(callout_handle_is_null(timeout(NULL, NULL, 1)));
	MC_EXPECT("timeout", "NULL handler");

	s.clk = mc_virtual_clock(1, CALLOUT_CLOCK_SINGLE_OWNER);
	s.h = timeout_on(s.clk, count_fn, NULL, 3);
	mc_in_thread(so_timeout_calls, &s);
	MC_CHECK(callout_handle_pending(s.h)); /* untimeout did nothing */
	atomic_store(&nfired, 0);
	callout_clock_advance(s.clk, 3);
	MC_CHECK(atomic_load(&nfired) == 1);
	callout_clock_destroy(s.clk);
	MC_NONE();
}

/* The NT emulation, on the default clock (two processors). */

static atomic_int ndpc;
static int dpc_action; /* 1: lower the IRQL from inside the DPC */

static VOID NTAPI
count_dpc(PKDPC d, PVOID ctx, PVOID a1, PVOID a2)
{
	(void)d;
	(void)ctx;
	(void)a1;
	(void)a2;
	if (dpc_action == 1)
		KeLowerIrql(PASSIVE_LEVEL);
	atomic_fetch_add(&ndpc, 1);
}

static void
dpc_misuse_is_reported(void)
{
	KDPC d, n;
	KIRQL old;

	atomic_store(&ndpc, 0);
	KeInitializeDpc(&d, count_dpc, NULL);
	KeRaiseIrql(DISPATCH_LEVEL, &old);
	MC_CHECK(KeInsertQueueDpc(&d, NULL, NULL));
	KeInitializeDpc(&d, count_dpc, &d);
	MC_EXPECT("KeInitializeDpc", "DPC is queued");
	KeFlushQueuedDpcs();
	MC_EXPECT("KeFlushQueuedDpcs", "called above PASSIVE_LEVEL");
	KeLowerIrql(old);
	callout_clock_advance(nt, 0);
	MC_CHECK(atomic_load(&ndpc) == 1); /* it stayed queued, and ran */
	MC_NONE();

	KeSetImportanceDpc(&d, (KDPC_IMPORTANCE)7);
	MC_EXPECT("KeSetImportanceDpc", "unknown importance");
	MC_CHECK(d.Importance == MediumImportance);
	KeSetTargetProcessorDpc(&d, 5);
	MC_EXPECT("KeSetTargetProcessorDpc", "processor number out of range");
	d.Number = 64 + 5; /* what a bad target looks like once set */
	MC_CHECK(!KeInsertQueueDpc(&d, NULL, NULL));
	MC_EXPECT("KeInsertQueueDpc", "target processor out of range");

	KeInitializeDpc(&n, NULL, NULL);
	MC_CHECK(KeInsertQueueDpc(&n, NULL, NULL));
	callout_clock_advance(nt, 0);
	MC_EXPECT("DPC", "queued DPC has a NULL routine");

	KeInitializeDpc(&d, count_dpc, NULL);
	dpc_action = 1;
	MC_CHECK(KeInsertQueueDpc(&d, NULL, NULL));
	callout_clock_advance(nt, 0);
	dpc_action = 0;
	MC_EXPECT("KeLowerIrql", "lowering below DISPATCH_LEVEL inside a DPC");
	MC_CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
}

static void
irql_misuse_is_reported(void)
{
	KIRQL old, x = 0x55;
	KSPIN_LOCK l;

	KeInitializeSpinLock(&l);
	KeRaiseIrql(DISPATCH_LEVEL, &old);
	KeRaiseIrql(PASSIVE_LEVEL, &x);
	MC_EXPECT("KeRaiseIrql", "new IRQL below the current");
	MC_CHECK(x == 0x55 && KeGetCurrentIrql() == DISPATCH_LEVEL);
	KeReleaseSpinLockFromDpcLevel(&l);
	MC_EXPECT("KeReleaseSpinLockFromDpcLevel", "spin lock not held");
	KeLowerIrql(old);
	MC_NONE();
	KeLowerIrql(DISPATCH_LEVEL);
	MC_EXPECT("KeLowerIrql", "new IRQL above the current");
	MC_CHECK(KeGetCurrentIrql() == PASSIVE_LEVEL);
	KeAcquireSpinLockAtDpcLevel(&l);
	MC_EXPECT("KeAcquireSpinLockAtDpcLevel", "called below DISPATCH_LEVEL");
	MC_CHECK(l == 0);
}

static KEVENT wait_ev;

static void
wait_fn(void *arg)
{
	LARGE_INTEGER ms = { .QuadPart = -10000 };
	PVOID objs[1] = { &wait_ev };
	const char *what = "blocking wait inside the clock's advance or run";

	(void)arg;
	MC_CHECK(KeWaitForSingleObject(&wait_ev, Executive, KernelMode, FALSE,
		     NULL) == STATUS_TIMEOUT);
	MC_EXPECT("KeWaitForSingleObject", what);
	MC_CHECK(KeWaitForMultipleObjects(1, objs, WaitAny, Executive,
		     KernelMode, FALSE, NULL, NULL) == STATUS_TIMEOUT);
	MC_EXPECT("KeWaitForMultipleObjects", what);
	KeDelayExecutionThread(KernelMode, FALSE, &ms);
	MC_EXPECT("KeDelayExecutionThread", what);
}

static void
wait_misuse_is_reported(void)
{
	LARGE_INTEGER zero = { .QuadPart = 0 }, ms = { .QuadPart = -10000 };
	const char *what =
	    "wait at DISPATCH_LEVEL or above without a zero timeout";
	PVOID objs[MAXIMUM_WAIT_OBJECTS + 1];
	KWAIT_BLOCK wb[MAXIMUM_WAIT_OBJECTS + 1];
	uint64_t junk[8] = { 0x7f7f7f7f7f7f7f7f }; /* no dispatcher type */
	callout_t c;
	KIRQL old;

	KeInitializeEvent(&wait_ev, NotificationEvent, FALSE);
	for (int i = 0; i <= MAXIMUM_WAIT_OBJECTS; i++)
		objs[i] = &wait_ev;
	KeRaiseIrql(DISPATCH_LEVEL, &old);
	MC_CHECK(KeWaitForSingleObject(&wait_ev, Executive, KernelMode, FALSE,
		     NULL) == STATUS_TIMEOUT);
	MC_EXPECT("KeWaitForSingleObject", what);
	MC_CHECK(KeWaitForMultipleObjects(1, objs, WaitAny, Executive,
		     KernelMode, FALSE, &ms, NULL) == STATUS_TIMEOUT);
	MC_EXPECT("KeWaitForMultipleObjects", what);
	KeDelayExecutionThread(KernelMode, FALSE, &ms);
	MC_EXPECT("KeDelayExecutionThread", what);
	KeLowerIrql(old);

	MC_CHECK(KeWaitForSingleObject(junk, Executive, KernelMode, FALSE,
		     &zero) == STATUS_TIMEOUT);
	MC_EXPECT("KeWaitForSingleObject", "not a timer or event");
	objs[0] = junk;
	MC_CHECK(KeWaitForMultipleObjects(1, objs, WaitAny, Executive,
		     KernelMode, FALSE, &zero, NULL) == STATUS_TIMEOUT);
	MC_EXPECT("KeWaitForMultipleObjects", "not a timer or event");
	objs[0] = &wait_ev;
	MC_CHECK(
	    KeWaitForMultipleObjects(THREAD_WAIT_OBJECTS + 1, objs, WaitAny,
		Executive, KernelMode, FALSE, &zero, NULL) == STATUS_TIMEOUT);
	MC_EXPECT("KeWaitForMultipleObjects",
	    "too many objects for the wait block array");
	MC_CHECK(
	    KeWaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS + 1, objs, WaitAny,
		Executive, KernelMode, FALSE, &zero, wb) == STATUS_TIMEOUT);
	MC_EXPECT("KeWaitForMultipleObjects",
	    "too many objects for the wait block array");
	MC_CHECK(KeWaitForMultipleObjects(1, objs, (WAIT_TYPE)7, Executive,
		     KernelMode, FALSE, &zero, NULL) == STATUS_TIMEOUT);
	MC_EXPECT("KeWaitForMultipleObjects", "unknown wait type");
	KeDelayExecutionThread(KernelMode, FALSE, NULL);
	MC_EXPECT("KeDelayExecutionThread", "NULL interval");

	/* From a handler the virtual clock runs: nothing could wake it. */
	callout_init(&c, CALLOUT_MPSAFE);
	callout_reset(&c, 1, wait_fn, NULL);
	callout_clock_advance(nt, 1);
	callout_destroy(&c);
	MC_NONE();
}

static void
timer_and_event_misuse_is_reported(void)
{
	KTIMER t;
	KEVENT e;
	LARGE_INTEGER due = { .QuadPart = -10000 };

	memset(&t, 0, sizeof(t));
	KeInitializeTimerEx(&t, (TIMER_TYPE)5);
	MC_EXPECT("KeInitializeTimerEx", "unknown timer type");
	MC_CHECK(!KeSetTimer(&t, due, NULL));
	MC_EXPECT("KeSetTimerEx", "timer not initialised");
	memset(&e, 0, sizeof(e));
	e.Header.Type = 0x7f;
	KeInitializeEvent(&e, (EVENT_TYPE)5, FALSE);
	MC_EXPECT("KeInitializeEvent", "unknown event type");
	MC_CHECK(e.Header.Type == 0x7f);
	KeInitializeTimer(&t);
	MC_CHECK(!KeSetTimerEx(&t, due, -1, NULL));
	MC_EXPECT("KeSetTimerEx", "negative period");
	MC_CHECK(!KeCancelTimer(&t)); /* it was not set */
	MC_NONE();
}

static VOID NTAPI
ndis_fn(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
	(void)s1;
	(void)ctx;
	(void)s2;
	(void)s3;
}

static NDIS_HANDLE
alloc_obj(void)
{
	NDIS_TIMER_CHARACTERISTICS ch = { 0 };
	NDIS_HANDLE h = NULL;

	ch.Header.Type = NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS;
	ch.Header.Revision = NDIS_TIMER_CHARACTERISTICS_REVISION_1;
	ch.Header.Size = NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1;
	ch.TimerFunction = ndis_fn;
	MC_CHECK(NdisAllocateTimerObject(NULL, &ch, &h) == NDIS_STATUS_SUCCESS);
	return h;
}

static void
ndis_misuse_is_reported(void)
{
	uint64_t junk[8] = { 0 };
	NDIS_MINIPORT_TIMER mt;
	NDIS_HANDLE mp = NdisEmuCreateMiniport("catalogue", FALSE);
	NDIS_HANDLE h;
	LARGE_INTEGER due = { .QuadPart = -100000 };
	KIRQL old;

	NdisEmuDestroyMiniport(junk);
	MC_EXPECT("NdisEmuDestroyMiniport", "not a miniport handle");
	NdisMInitializeTimer(&mt, junk, ndis_fn, NULL);
	MC_EXPECT("NdisMInitializeTimer", "not a miniport handle");
	NdisMInitializeTimer(&mt, mp, NULL, NULL);
	MC_EXPECT("NdisMInitializeTimer", "NULL timer function");

	h = alloc_obj();
	MC_CHECK(!NdisSetTimerObject(h, due, 10, NULL));
	KeRaiseIrql(DISPATCH_LEVEL, &old);
	MC_CHECK(!NdisCancelTimerObject(h));
	MC_EXPECT("NdisCancelTimerObject",
	    "periodic timer cancelled above PASSIVE_LEVEL");
	KeLowerIrql(old);
	MC_CHECK(NdisCancelTimerObject(h)); /* still queued */
	NdisFreeTimerObject(h);
	MC_NONE();
	MC_CHECK(!NdisSetTimerObject(h, due, 0, NULL));
	MC_EXPECT("NdisSetTimerObject", "not a live timer object");
	MC_CHECK(!NdisCancelTimerObject(h));
	MC_EXPECT("NdisCancelTimerObject", "not a live timer object");
	NdisFreeTimerObject(h);
	MC_EXPECT("NdisFreeTimerObject", "not a live timer object");
	NdisEmuDestroyMiniport(mp);
	MC_NONE();
}

static void
freebsd_misuse_is_reported(void)
{
	mc_freebsd_cases();
}

int
main(void)
{
	nt = mc_virtual_clock(2, 0);
	if (nt == NULL || callout_clock_set_default(nt) != 0) {
		fprintf(stderr, "cannot make the default clock\n");
		return 2;
	}
	callout_set_misuse_handler(mc_record);
	RUN(null_callout_is_reported_by_every_call);
	RUN(uninitialised_or_destroyed_callout_is_reported_by_every_call);
	RUN(single_owner_callout_from_another_thread_is_reported);
	RUN(init_with_null_callout_or_clock_is_reported);
	RUN(init_with_unknown_flags_is_reported);
	RUN(destroy_while_pending_is_reported);
	RUN(destroy_while_running_elsewhere_is_reported);
	RUN(null_handler_is_reported);
	RUN(bind_misuse_is_reported);
	RUN(null_clock_is_reported);
	RUN(wrong_kind_of_clock_is_reported);
	RUN(clock_reentered_from_a_handler_is_reported);
	RUN(single_owner_clock_from_another_thread_is_reported);
	RUN(clock_destroy_with_a_pending_callout_is_reported);
	RUN(giant_unlock_without_the_lock_is_reported);
	RUN(timeout_misuse_is_reported);
	RUN(dpc_misuse_is_reported);
	RUN(irql_misuse_is_reported);
	RUN(wait_misuse_is_reported);
	RUN(timer_and_event_misuse_is_reported);
	RUN(ndis_misuse_is_reported);
	RUN(freebsd_misuse_is_reported);
	return check_finish();
}
