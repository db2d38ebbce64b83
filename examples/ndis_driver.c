/*
 * A tiny NDIS-style driver: a miniport timer with NdisMInitializeTimer, a
 * periodic watchdog, and a DPC queued from a timer, the way Windows network
 * drivers use them.  The timers are initialised and never destroyed, as
 * drivers do; the emulation borrows a callout only while each is armed.
 * Runs on a virtual clock so that the output is exact.
 */
#include <stdio.h>

#include <callout/ndis.h>
#include <callout/timeout.h>

struct adapter {
	NDIS_HANDLE miniport;
	NDIS_MINIPORT_TIMER watchdog;
	NDIS_MINIPORT_TIMER link_poll;
	KDPC rx_dpc;
	int watchdog_runs, polls, rx_runs;
};

static VOID NTAPI
rx_dpc_fn(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
	struct adapter *ad = ctx;

	(void)dpc;
	(void)a1;
	(void)a2;
	ad->rx_runs++;
}

static VOID NTAPI
watchdog_fn(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
	struct adapter *ad = ctx;

	(void)s1;
	(void)s2;
	(void)s3;
	ad->watchdog_runs++;
	KeInsertQueueDpc(&ad->rx_dpc, NULL, NULL); /* kick the receive path */
}

static VOID NTAPI
link_poll_fn(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
	struct adapter *ad = ctx;

	(void)s1;
	(void)s2;
	(void)s3;
	if (++ad->polls < 5)
		NdisMSetTimer(&ad->link_poll, 300); /* re-armed from itself */
}

int
main(void)
{
	struct callout_clock_params p;
	struct adapter ad = { 0 };
	struct callout_pool_counters pc;
	BOOLEAN cancelled;

	callout_clock_params_init(&p); /* virtual clock, hz 1000 */
	struct callout_clock *clk = callout_clock_create(&p);
	callout_clock_set_default(clk); /* the NT layer uses the default */

	ad.miniport = NdisEmuCreateMiniport("demo0", TRUE);
	NdisMInitializeTimer(&ad.watchdog, ad.miniport, watchdog_fn, &ad);
	NdisMInitializeTimer(&ad.link_poll, ad.miniport, link_poll_fn, &ad);
	KeInitializeDpc(&ad.rx_dpc, rx_dpc_fn, &ad);

	NdisMSetPeriodicTimer(&ad.watchdog, 1000);
	NdisMSetTimer(&ad.link_poll, 300);
	callout_pool_counters(&pc);
	printf("armed 2 timers: %zu callouts borrowed\n", pc.in_use);

	callout_clock_advance(clk, 10 * 1000); /* ten simulated seconds */
	NdisMCancelTimer(&ad.watchdog, &cancelled);
	printf("watchdog ran %d times, link polled %d times, rx DPC ran %d "
	       "times\n",
	    ad.watchdog_runs, ad.polls, ad.rx_runs);
	printf("cancel of the periodic watchdog returned %s\n",
	    cancelled ? "TRUE" : "FALSE");
	callout_pool_counters(&pc);
	printf("callouts borrowed now: %zu (peak %zu)\n", pc.in_use,
	    pc.high_water);

	NdisEmuDestroyMiniport(ad.miniport);
	return ad.watchdog_runs == 10 && ad.polls == 5 && pc.in_use == 0 &&
		cancelled
	    ? 0
	    : 1;
}
