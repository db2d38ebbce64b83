/*
 * Both personalities in one program, on one clock: FreeBSD and NetBSD
 * callouts interleave by due tick, each keeps its own semantics, and the
 * clock counts them together.  Linking this test at all proves the two
 * headers map onto distinct symbols.
 */
#include <callout/freebsd.h>

#include "check.h"
#include "test_freebsd_mixed.h"

static int log_[16], n_;

static void
freebsd_fn(void *arg)
{
	(void)arg;
	log_[n_++] = 'F';
}

static void
personalities_share_one_clock(void)
{
	struct callout_clock_params p;
	struct callout_clock *clk;
	struct callout_counters k;
	struct callout f1, f2;
	struct netbsd_side *nb;

	callout_clock_params_init(&p);
	clk = callout_clock_create(&p);
	callout_init_clock(&f1, clk, 1);
	callout_init_clock(&f2, clk, 1);
	CHECK_EQ(callout_reset(&f1, 1, freebsd_fn, NULL), 0);
	nb = netbsd_side_arm(clk, 2, log_, &n_);
	CHECK_EQ(callout_reset(&f2, 3, freebsd_fn, NULL), 0);
	CHECK(netbsd_side_pending(nb));
	callout_clock_advance(clk, 3);
	CHECK_EQ(n_, 3);
	CHECK_EQ(log_[0], 'F');
	CHECK_EQ(log_[1], 'N');
	CHECK_EQ(log_[2], 'F');
	CHECK(!netbsd_side_pending(nb));
	CHECK_EQ(callout_active(&f1), 1); /* FreeBSD: expiry keeps ACTIVE */
	CHECK_EQ(callout_stop(&f1), -1);
	callout_clock_counters(clk, &k);
	CHECK_U64(k.fired, 3);
	netbsd_side_free(nb);
	callout_clock_destroy(clk);
}

int
main(void)
{
	RUN(personalities_share_one_clock);
	return check_finish();
}
