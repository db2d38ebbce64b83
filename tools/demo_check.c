/*
 * demo_check: checks an ndis_demo --json report.  In every mode it checks
 * the invariants from the counts themselves (each one-shot armed was
 * cancelled or fired exactly once, every expiry ran its DPC or was
 * coalesced, nothing fired after a successful cancel, the pool drained).
 * For a virtual-clock run it also works out, from the parameters and the
 * seeded packet stream alone, what every count driven from handlers and
 * DPCs must be, and compares: floor(duration / period) for the periodic
 * timers, and a replay of the packets' fates for the transmit path.
 * Prints each mismatch as expected vs got; exits 1 if there is one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_traffic.h"

static char *json;
static int failures;

/* The number after "key": (keys are unique in the report). */
static uint64_t
num(const char *key)
{
	char pat[96];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (p == NULL) {
		printf("FAIL %s: missing from the report\n", key);
		failures++;
		return 0;
	}
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p == 't')
		return 1; /* true */
	if (*p == 'f')
		return 0;
	return strtoull(p, NULL, 10);
}

static void
expect(const char *what, uint64_t want, uint64_t got)
{
	if (want != got) {
		printf("FAIL %s: expected %" PRIu64 ", got %" PRIu64 "\n", what,
		    want, got);
		failures++;
	}
}

static void
expect_key(const char *key, uint64_t want)
{
	expect(key, want, num(key));
}

static void
expect_range(const char *what, uint64_t lo, uint64_t hi, uint64_t got)
{
	if (got < lo || got > hi) {
		printf("FAIL %s: expected %" PRIu64 "..%" PRIu64
		       ", got %" PRIu64 "\n",
		    what, lo, hi, got);
		failures++;
	}
}

/* Checks that need no knowledge of the schedule. */
static void
check_invariants(void)
{
	uint64_t runs, worker_exp = num("worker_expiries");

	expect_key("fired_after_cancel", 0);
	expect_key("early_fires", 0);
	expect_key("armed_after_stop", 0);
	expect_key("pool_in_use_after_stop", 0);
	expect_key("borrowed_now", 0);
	expect("link: arms = cancels + runs", num("link_arms"),
	    num("link_cancels") + num("link_runs"));
	expect("traffic: arms = cancels + runs", num("traffic_arms"),
	    num("traffic_cancels") + num("traffic_runs"));
	expect("tx: sent = completed + cancelled at stop + timed out",
	    num("tx_sent"),
	    num("tx_completed") + num("tx_stop_cancels") + num("tx_timeouts"));
	expect("short objects: sets = cancels + fires", num("short_sets"),
	    num("short_cancels") + num("short_fires"));
	expect("long objects: sets = cancels + fires", num("long_sets"),
	    num("long_cancels") + num("long_fires"));
	expect("NDIS 6 objects: allocated = freed", num("ndis6_allocs"),
	    num("ndis6_frees"));
	runs = num("watchdog_runs") + num("link_runs") + num("scan_runs") +
	    num("traffic_runs") + num("tx_timeouts") + num("worker_expiries") +
	    num("stats_runs") + num("short_fires") + num("long_fires");
	expect(
	    "DPC runs = sum of the drivers' callbacks", runs, num("dpc_runs"));
	expect_range("DPC runs + coalesced against the clock's expiries",
	    num("expiries_min"), num("expiries_max"),
	    num("dpc_runs") + num("dpcs_coalesced"));
	expect_range("worker wake-ups", worker_exp > 0 ? 1 : 0, worker_exp,
	    num("worker_wakeups"));
	expect_key("ok", 1);
}

struct tx_expect {
	uint64_t sent, completed, timeouts, stop_cancels, drops, runs;
};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Replay one miniport's packets up to tick d: a packet either completes
 * at its completion tick (its timeout is cancelled), times out at send +
 * timeout if it is lost, or is still in flight at d (cancelled at stop).
 * The traffic timer fires once at every distinct tick that has a send or
 * a completion.
 */
static void
replay(struct tx_expect *e, unsigned mp, uint64_t d)
{
	struct demo_traffic g;
	uint64_t timeout = num("tx_timeout_ms"), ring = num("ring");
	uint64_t *ev = NULL, *end = NULL; /* end ticks of packets in flight */
	size_t nev = 0, cap = 0, nend = 0, endcap = 0;

	demo_traffic_init(&g, num("seed"), mp, (unsigned)num("rate"),
	    (unsigned)num("hz"), (unsigned)num("lat_max_ms"),
	    (uint32_t)num("loss_ppm"));
	while (g.next_send <= d) {
		uint64_t s = g.next_send;
		unsigned lat = demo_traffic_take(&g);
		size_t k = 0;

		/* Free what has ended by s, then take a descriptor. */
		for (size_t i = 0; i < nend; i++)
			if (end[i] > s)
				end[k++] = end[i];
		nend = k;
		if (nend >= ring) {
			e->drops++;
			continue;
		}
		e->sent++;
		if (nend == endcap) {
			endcap = endcap ? 2 * endcap : 1024;
			end = realloc(end, endcap * sizeof(*end));
		}
		if (nev + 2 > cap) {
			cap = cap ? 2 * cap : 4096;
			ev = realloc(ev, cap * sizeof(*ev));
		}
		if (end == NULL || ev == NULL) {
			perror("demo_check");
			exit(2);
		}
		ev[nev++] = s;
		if (lat == 0) {
			end[nend++] = s + timeout;
			if (s + timeout <= d)
				e->timeouts++;
			else
				e->stop_cancels++;
		} else {
			end[nend++] = s + lat;
			if (s + lat <= d) {
				e->completed++;
				ev[nev++] = s + lat;
			} else {
				e->stop_cancels++;
			}
		}
	}
	qsort(ev, nev, sizeof(*ev), cmp_u64);
	for (size_t i = 0; i < nev; i++)
		if (i == 0 || ev[i] != ev[i - 1])
			e->runs++;
	free(ev);
	free(end);
}

static uint64_t
gcd(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static void
check_virtual(void)
{
	uint64_t d = num("duration_ticks"), m = num("miniports");
	uint64_t hz = num("hz"), ncpu = num("processors");
	uint64_t wd = num("watchdog_ms"), link = num("link_ms");
	uint64_t scan = num("scan_ms"), dwell = num("dwell_ms");
	uint64_t worker = num("worker_ms"), stats = num("stats_ms");
	uint64_t shrt = num("short_ms"), lng = num("long_ms");
	uint64_t w, short_fires = 0, long_fires = 0, coalesced, scan_exp;
	uint64_t arms, cancels, runs, inits;
	struct tx_expect tx;

	if (hz != 1000) {
		printf("FAIL hz: the checker assumes 1000 (ms = ticks)\n");
		failures++;
		return;
	}
	memset(&tx, 0, sizeof(tx));
	for (unsigned i = 0; i < m; i++)
		replay(&tx, i, d);
	expect_key("tx_sent", tx.sent);
	expect_key("tx_completed", tx.completed);
	expect_key("tx_timeouts", tx.timeouts);
	expect_key("tx_stop_cancels", tx.stop_cancels);
	expect_key("tx_drops", tx.drops);
	expect_key("tx_late_completions", 0);
	expect_key("traffic_runs", tx.runs);
	expect_key("traffic_arms", tx.runs + m);
	expect_key("traffic_cancels", m);

	w = d / wd;
	expect_key("watchdog_runs", m * w);
	expect_key("link_runs", m * (d / link));
	expect_key("link_arms", m * (1 + d / link));
	expect_key("link_cancels", m);

	/* Scan and dwell share a DPC on another processor. */
	scan_exp = d / scan + d / dwell;
	coalesced = ncpu >= 2 ? d / (scan / gcd(scan, dwell) * dwell) : 0;
	expect_key("scan_runs", m * (scan_exp - coalesced));
	expect_key("dpcs_coalesced", m * coalesced);
	expect_key("scan_cancels", 2 * m);

	expect_key("worker_expiries", m * (d / worker));
	expect_key("worker_cancels", m);
	expect_range("worker_wakeups", d >= worker ? m : 0, m * (d / worker),
	    num("worker_wakeups"));
	expect_key("stats_runs", m * (d / stats));
	expect_key("stats_cancels", m);

	/* Watchdog k (at k * wd) sets a short and a long timer object. */
	for (uint64_t k = 1; k <= w; k++) {
		if (k * wd + shrt <= d)
			short_fires++;
		/* A long one is cancelled by the next watchdog run. */
		if (k * wd + lng < (k + 1) * wd && k * wd + lng <= d)
			long_fires++;
	}
	expect_key("short_sets", m * w);
	expect_key("short_fires", m * short_fires);
	expect_key("short_cancels", m * (w - short_fires));
	expect_key("long_sets", m * w);
	expect_key("long_fires", m * long_fires);
	expect_key("long_cancels", m * (w - long_fires));
	expect_key("ndis6_allocs", m * (2 * w + 1));
	expect_key("ndis6_frees", m * (2 * w + 1));

	inits = 7 * m + tx.sent;
	expect_key("timers_initialised", inits);
	expect_key("timers_never_destroyed", inits);
	runs = m *
		(w + d / link + scan_exp - coalesced + d / worker + d / stats +
		    short_fires + long_fires) +
	    tx.runs + tx.timeouts;
	expect_key("dpc_runs", runs);
	expect_key("fired", runs + m * coalesced);
	arms = m * (1 + (1 + d / link) + 2 + 1 + 1 + 2 * w) + tx.runs + m +
	    tx.sent;
	expect_key("arms", arms);
	cancels = m * (1 + 1 + 2 + 1 + 1 + 1) + tx.completed + tx.stop_cancels +
	    m * (w - short_fires) + m * (w - long_fires);
	expect_key("cancels_ok", cancels);
	expect_key("max", 0); /* lateness: DPCs run on their due tick */
	expect_key("slabs_after_destroy", 0);
}

int
main(int argc, char **argv)
{
	FILE *f;
	long len;

	if (argc != 2) {
		fprintf(stderr, "usage: demo_check report.json\n");
		return 2;
	}
	if ((f = fopen(argv[1], "r")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (json = calloc(1, (size_t)len + 1)) == NULL ||
	    fread(json, 1, (size_t)len, f) != (size_t)len) {
		perror(argv[1]);
		return 2;
	}
	fclose(f);
	check_invariants();
	if (strstr(json, "\"mode\": \"virtual\"") != NULL)
		check_virtual();
	if (failures == 0)
		printf("demo_check: %s: all checks pass\n", argv[1]);
	return failures == 0 ? 0 : 1;
}
