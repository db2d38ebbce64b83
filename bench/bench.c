/*
 * The timer benchmark (bench.md): every contender replays the same
 * pre-generated operation streams, in one process, repetition after
 * repetition, and each run is checked against the reference (the binary
 * heap): the same timers must fire in the same advances.  Prints a table,
 * writes results.csv, headline.md and charts.gp (gnuplot) into the output
 * directory.  A cross-check failure makes the exit status 1; timings never
 * do.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define MAXREP 9
#define MAXPHASE 8
#define NCONT 7
#define HOT_TIMERS 16

static const struct contender *contenders[NCONT] = {
	&contender_heap, /* first: it is the reference */
	&contender_rbtree,
	&contender_libevent,
	&contender_libuv,
	&contender_wheel,
	&contender_callout_so,
	&contender_callout_mt,
};

/* Options. */
static bool opt_quick;
static int opt_reps = 5;
static int opt_reps_big = 3; /* at 10^7 */
static uint64_t opt_sizes[8];
static int opt_nsizes;
static size_t opt_ops = 1000000; /* operations of the hot/rearm/... phases */
static const char *opt_out = "results";
static const char *opt_trace;
static const char *opt_workloads;  /* comma list, NULL = all */
static const char *opt_contenders; /* comma list, NULL = all */
static double tsc_per_ns;
static int exit_status;

/* ------------------------------------------------------------------ */
/* Streams. */

struct phase {
	const char *workload; /* NULL: not timed (set-up) */
	size_t off, n;
	bool per_fired;   /* ns per fired timer rather than per op */
	bool is_next;     /* only "next" queries */
	bool bytes_after; /* measure bytes per pending timer after it */
	bool ref_set;
	uint64_t ref_count, ref_hash;
};

struct stream {
	const char *name;
	uint64_t n; /* N, the size the phases are reported at */
	uint32_t ntimers;
	struct op *ops;
	size_t nops, cap;
	struct phase ph[MAXPHASE];
	int nph;
	uint64_t true_next; /* for the next phase */
};

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static uint32_t
rng_range(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rng() % ((uint64_t)hi - lo + 1));
}

/* Log-uniform in [lo, hi]. */
static uint32_t
rng_log(uint32_t lo, uint32_t hi)
{
	double u = (double)(rng() >> 11) / 9007199254740992.0;
	double v = exp(log((double)lo) + u * (log((double)hi) - log(lo)));
	uint32_t x = (uint32_t)v;

	return x < lo ? lo : x > hi ? hi : x;
}

static void
st_push(struct stream *s, struct op o)
{
	if (s->nops == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1 << 16;
		s->ops = realloc(s->ops, s->cap * sizeof(*s->ops));
		if (s->ops == NULL) {
			perror("realloc");
			exit(2);
		}
	}
	s->ops[s->nops++] = o;
}

static struct phase *
st_phase(struct stream *s, const char *workload)
{
	struct phase *p = &s->ph[s->nph++];

	memset(p, 0, sizeof(*p));
	p->workload = workload;
	p->off = s->nops;
	return p;
}

static void
st_end(struct stream *s, struct phase *p)
{
	p->n = s->nops - p->off;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Session A: fill N timers (uniform 1..60000), ask for the next expiry,
 * arm+cancel a hot timer, re-arm random timers later, cancel and re-arm
 * random timers, then advance from due tick to due tick until all fired.
 * Time stays at 0 until the expiry phase, so every timer stays pending.
 */
static void
gen_session_a(struct stream *s, uint64_t n)
{
	uint64_t *due = malloc(sizeof(*due) * n);
	struct phase *p;
	size_t m = opt_ops;

	s->name = "A";
	s->n = n;
	s->ntimers = (uint32_t)n + HOT_TIMERS;
	p = st_phase(s, "fill");
	p->bytes_after = true;
	s->true_next = UINT64_MAX;
	for (uint32_t i = 0; i < n; i++) {
		due[i] = rng_range(1, 60000);
		if (due[i] < s->true_next)
			s->true_next = due[i];
		st_push(s, op_make(OP_ARM, i, (uint32_t)due[i]));
	}
	st_end(s, p);

	/*
	 * A zero advance first: libuv's uv_backend_timeout says 0 until its
	 * loop has run once since the timers were armed.
	 */
	p = st_phase(s, NULL);
	st_push(s, op_make(OP_ADVANCE, 0, 0));
	st_end(s, p);
	p = st_phase(s, "next");
	p->is_next = true;
	for (size_t i = 0; i < m; i++)
		st_push(s, op_make(OP_NEXT, 0, 0));
	st_end(s, p);

	p = st_phase(s, "hot");
	for (size_t i = 0; i < m / 2; i++) {
		uint32_t id = (uint32_t)n + (uint32_t)(i % HOT_TIMERS);

		st_push(s, op_make(OP_ARM, id, rng_range(30000, 31000)));
		st_push(s, op_make(OP_CANCEL, id, 0));
	}
	st_end(s, p);

	p = st_phase(s, "rearm");
	for (size_t i = 0; i < m; i++) {
		uint32_t id = (uint32_t)(rng() % n);

		due[id] += rng_range(1, 60000);
		st_push(s, op_make(OP_ARM, id, (uint32_t)due[id]));
	}
	st_end(s, p);

	p = st_phase(s, "cancel+arm");
	for (size_t i = 0; i < m / 2; i++) {
		uint32_t id = (uint32_t)(rng() % n);

		due[id] = rng_range(1, 60000);
		st_push(s, op_make(OP_CANCEL, id, 0));
		st_push(s, op_make(OP_ARM, id, (uint32_t)due[id]));
	}
	st_end(s, p);

	p = st_phase(s, "expire");
	p->per_fired = true;
	qsort(due, n, sizeof(*due), cmp_u64);
	uint64_t now = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (due[i] > now) {
			st_push(s,
			    op_make(OP_ADVANCE, 0, (uint32_t)(due[i] - now)));
			now = due[i];
		}
	}
	st_end(s, p);
	free(due);
}

/*
 * Session B: fill N timers log-uniform 1 ms..1 h, add N/8 far timers
 * (1 h..20 days, untimed; callout_reset takes an int) so every level holds some, then jump the clock
 * by 10 s, 1 h and 1 day at once.
 */
static void
gen_session_b(struct stream *s, uint64_t n)
{
	uint32_t far = (uint32_t)(n / 8 + 1);
	struct phase *p;

	s->name = "B";
	s->n = n;
	s->ntimers = (uint32_t)n + far;
	p = st_phase(s, "fill-log");
	for (uint32_t i = 0; i < n; i++)
		st_push(s, op_make(OP_ARM, i, rng_log(1, 3600000)));
	st_end(s, p);
	p = st_phase(s, NULL);
	for (uint32_t i = 0; i < far; i++)
		st_push(s,
		    op_make(OP_ARM, (uint32_t)n + i,
			rng_log(3600000, 20u * 86400000u)));
	st_end(s, p);
	static const struct {
		const char *name;
		uint32_t ticks;
	} jumps[] = { { "idle-10s", 10000 }, { "idle-1h", 3600000 },
		{ "idle-1d", 86400000 } };
	for (int j = 0; j < 3; j++) {
		p = st_phase(s, jumps[j].name);
		p->per_fired = true;
		st_push(s, op_make(OP_ADVANCE, 0, jumps[j].ticks));
		st_end(s, p);
	}
}

/*
 * Session C, TCP connections: per connection a retransmit, delayed-ack,
 * idle and keepalive timer (ids 4c..4c+3); N/4 connections.  Each send
 * re-arms the retransmit and idle timers; acks come back in order a few
 * sends later and cancel the retransmit and re-arm keepalive; data
 * received on a connection with a send outstanding arms the delayed ack,
 * which the ack or the next send usually cancels.  One ack in 500 is lost
 * (the retransmit fires) and one delayed ack in 100 is
 * left to fire.  The clock moves 1 ms every M/1000 operations (1000 by
 * default), so the stream covers about one second.
 */
static void
gen_session_c(struct stream *s, uint64_t n)
{
	uint32_t conns = (uint32_t)(n / 4 > 0 ? n / 4 : 1);
	uint32_t ring[64];
	unsigned rhead = 0, rlen = 0;
	struct phase *p;
	size_t m = opt_ops;

	s->name = "C";
	s->n = n;
	s->ntimers = conns * 4;
	p = st_phase(s, NULL);
	for (uint32_t c = 0; c < conns; c++) {
		st_push(s, op_make(OP_ARM, 4 * c + 2, rng_range(1, 300000)));
		st_push(s, op_make(OP_ARM, 4 * c + 3, rng_range(1, 7200000)));
	}
	st_end(s, p);
	p = st_phase(s, "tcp");
	size_t start = s->nops, last_adv = s->nops;

	while (s->nops - start < m) {
		uint32_t c = (uint32_t)(rng() % conns);
		uint32_t r = (uint32_t)(rng() % 1000);

		if (r < 450 || rlen == 0) {
			/* send: re-arm retransmit and idle, ack piggybacked */
			st_push(s, op_make(OP_ARM, 4 * c, rng_range(200, 400)));
			st_push(s, op_make(OP_ARM, 4 * c + 2, 300000));
			if (rng() % 100 != 0)
				st_push(s, op_make(OP_CANCEL, 4 * c + 1, 0));
			if (rlen < 64)
				ring[(rhead + rlen++) % 64] = c;
		} else if (r < 900) {
			/* ack for the oldest outstanding send */
			uint32_t a = ring[rhead];

			rhead = (rhead + 1) % 64;
			rlen--;
			if (rng() % 500 != 0)
				st_push(s, op_make(OP_CANCEL, 4 * a, 0));
			/* the ack we send with it covers a delayed ack */
			if (rng() % 100 != 0)
				st_push(s, op_make(OP_CANCEL, 4 * a + 1, 0));
			st_push(s, op_make(OP_ARM, 4 * a + 3, 7200000));
		} else {
			/* data received on a busy connection: delayed ack */
			uint32_t b = ring[(rhead + rng() % rlen) % 64];

			st_push(s, op_make(OP_ARM, 4 * b + 1, 40));
		}
		if (s->nops - last_adv >= (m >= 1000 ? m / 1000 : 1)) {
			st_push(s, op_make(OP_ADVANCE, 0, 1));
			last_adv = s->nops;
		}
	}
	st_end(s, p);
}

/*
 * Session D: N timers all within the level-0 horizon (1..64 ticks), then
 * the clock advances tick by tick until all fired: expiry without any
 * cascading.
 */
static void
gen_session_d(struct stream *s, uint64_t n)
{
	struct phase *p;

	s->name = "D";
	s->n = n;
	s->ntimers = (uint32_t)n;
	p = st_phase(s, NULL);
	for (uint32_t i = 0; i < n; i++)
		st_push(s, op_make(OP_ARM, i, rng_range(1, 64)));
	st_end(s, p);
	p = st_phase(s, "expire-l0");
	p->per_fired = true;
	for (int t = 0; t < 64; t++)
		st_push(s, op_make(OP_ADVANCE, 0, 1));
	st_end(s, p);
}

/* Session T: a kernel timer trace, "S id t", "C id", "A n" per line. */
static bool
gen_session_trace(struct stream *s, const char *path, size_t maxops)
{
	char cmd[4200];
	FILE *f;
	char line[128];
	uint32_t maxid = 0;
	struct phase *p;

	if (strlen(path) > 4000)
		return false;
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "bench: trace %s: %s\n", path, strerror(errno));
		return false;
	}
	snprintf(cmd, sizeof(cmd), "gzip -dcf '%s'", path);
	f = popen(cmd, "r");
	if (f == NULL)
		return false;
	s->name = "T";
	p = st_phase(s, "trace");
	while (fgets(line, sizeof(line), f) != NULL && s->nops < maxops) {
		unsigned long a = 0, b = 0;

		if (line[0] == 'S' &&
		    sscanf(line + 1, "%lu %lu", &a, &b) == 2) {
			/* 0 means "the next tick", as in callout(9). */
			if (b < 1)
				b = 1;
			if (b > INT32_MAX)
				b = INT32_MAX;
			st_push(s, op_make(OP_ARM, (uint32_t)a, (uint32_t)b));
		} else if (line[0] == 'C' && sscanf(line + 1, "%lu", &a) == 1) {
			st_push(s, op_make(OP_CANCEL, (uint32_t)a, 0));
		} else if (line[0] == 'A' && sscanf(line + 1, "%lu", &a) == 1) {
			st_push(s, op_make(OP_ADVANCE, 0, (uint32_t)a));
			continue;
		} else {
			continue;
		}
		if (a > maxid)
			maxid = (uint32_t)a;
	}
	pclose(f);
	st_end(s, p);
	s->ntimers = maxid + 1;
	s->n = s->ntimers;
	return s->nops > 0;
}

static void
stream_free(struct stream *s)
{
	free(s->ops);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------ */
/* Results. */

struct result {
	const char *workload;
	uint64_t n;
	int cont; /* index in contenders[], or -1/-2 for the floors */
	double ns[MAXREP];
	double worst_us[MAXREP];
	double total_us[MAXREP];
	int nrep;
	double bytes; /* per pending timer, fill phase */
	uint64_t ops, fired;
	bool na;
};

static struct result *results;
static size_t nresults, capresults;

static struct result *
result_of(const char *workload, uint64_t n, int cont)
{
	for (size_t i = 0; i < nresults; i++)
		if (results[i].n == n && results[i].cont == cont &&
		    strcmp(results[i].workload, workload) == 0)
			return &results[i];
	if (nresults == capresults) {
		capresults = capresults ? capresults * 2 : 256;
		results = realloc(results, capresults * sizeof(*results));
	}
	struct result *r = &results[nresults++];

	memset(r, 0, sizeof(*r));
	r->workload = workload;
	r->n = n;
	r->cont = cont;
	return r;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(const double *v, int n)
{
	double tmp[MAXREP];

	if (n == 0)
		return NAN;
	memcpy(tmp, v, sizeof(double) * (size_t)n);
	qsort(tmp, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static const char *
cont_name(int c)
{
	return c == -1 ? "floor-chase"
	    : c == -2  ? "floor-relink"
		       : contenders[c]->name;
}

static const char *
cont_layer(int c)
{
	return c == -1 ? "pointer chase, 64-byte nodes"
	    : c == -2  ? "ideal intrusive-list relink"
		       : contenders[c]->layer;
}

/* ------------------------------------------------------------------ */
/* Running. */

static uint64_t
heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* Is name in the comma-separated list (NULL: everything is)? */
static bool
in_list(const char *list, const char *name)
{
	const char *p;
	size_t l = strlen(name);

	if (list == NULL)
		return true;
	for (p = list; (p = strstr(p, name)) != NULL; p += l)
		if ((p == list || p[-1] == ',') &&
		    (p[l] == ',' || p[l] == '\0'))
			return true;
	return false;
}

static bool
want(const char *workload)
{
	return in_list(opt_workloads, workload);
}

/* Replay stream s on contender ci once; record timings and check. */
static void
run_one(struct stream *s, int ci)
{
	const struct contender *c = contenders[ci];
	const char *inject = getenv("BENCH_INJECT_FAULT");
	uint64_t mem0;
	void *ctx;

	bench_vnow = 0;
	bench_vtime_on = true;
	memset(&bench_fire, 0, sizeof(bench_fire));
	mem0 = heap_bytes();
	ctx = c->create(s->ntimers);
	if (ctx == NULL) {
		for (int i = 0; i < s->nph; i++)
			if (s->ph[i].workload != NULL)
				result_of(s->ph[i].workload, s->n, ci)->na =
				    true;
		return;
	}
	for (int i = 0; i < s->nph; i++) {
		struct phase *p = &s->ph[i];
		struct run_stats st = { 0, UINT64_MAX, 0 };
		uint64_t c0 = bench_fire.count, h0 = bench_fire.hash;

		if (p->is_next && !c->has_next) {
			result_of(p->workload, s->n, ci)->na = true;
			continue;
		}
		const char *dump = getenv("BENCH_DUMP");

		bench_dump = dump != NULL && p->workload != NULL &&
		    strcmp(dump, p->workload) == 0;
		if (bench_dump)
			fprintf(stderr, "dump %s\n", c->name);
		uint64_t t0 = bench_real_ns();

		if (inject != NULL && strcmp(inject, c->name) == 0) {
			/* Self-test of the cross-check: lose every cancel. */
			struct op *ops = malloc(sizeof(*ops) * (p->n + 1));
			size_t k = 0;

			for (size_t j = 0; j < p->n; j++)
				if (s->ops[p->off + j].w >> OP_KIND_SHIFT !=
				    OP_CANCEL)
					ops[k++] = s->ops[p->off + j];
			c->run(ctx, ops, k, &st);
			free(ops);
		} else {
			c->run(ctx, s->ops + p->off, p->n, &st);
		}
		uint64_t t1 = bench_real_ns();
		bench_dump = 0;
		uint64_t fired = bench_fire.count - c0;
		uint64_t hash = bench_fire.hash - h0;

		if (!p->ref_set) {
			p->ref_set = true;
			p->ref_count = fired;
			p->ref_hash = hash;
		} else if (fired != p->ref_count || hash != p->ref_hash) {
			fprintf(stderr,
			    "bench: MISMATCH %s N=%llu %s phase %d: fired %llu "
			    "(hash %016llx), expected %llu (hash %016llx)\n",
			    p->workload ? p->workload : "set-up",
			    (unsigned long long)s->n, c->name, i,
			    (unsigned long long)fired, (unsigned long long)hash,
			    (unsigned long long)p->ref_count,
			    (unsigned long long)p->ref_hash);
			exit_status = 1;
		}
		if (p->is_next) {
			bool ok = c->exact_next
			    ? st.next_min == s->true_next &&
				st.next_max == s->true_next
			    : st.next_max <= s->true_next && st.next_min > 0;
			if (!ok) {
				fprintf(stderr,
				    "bench: MISMATCH next N=%llu %s: answers "
				    "%llu..%llu, true next %llu\n",
				    (unsigned long long)s->n, c->name,
				    (unsigned long long)st.next_min,
				    (unsigned long long)st.next_max,
				    (unsigned long long)s->true_next);
				exit_status = 1;
			}
		}
		if (p->workload == NULL)
			continue;
		struct result *r = result_of(p->workload, s->n, ci);
		double div =
		    p->per_fired ? (double)(fired ? fired : 1) : (double)p->n;

		if (r->nrep < MAXREP) {
			r->ns[r->nrep] = (double)(t1 - t0) / div;
			r->worst_us[r->nrep] =
			    (double)st.max_adv_cycles / tsc_per_ns / 1000.0;
			r->total_us[r->nrep] = (double)(t1 - t0) / 1000.0;
			r->nrep++;
		}
		r->ops = p->n;
		r->fired = fired;
		if (p->bytes_after)
			r->bytes = (double)(heap_bytes() - mem0) / (double)s->n;
	}
	c->destroy(ctx);
	bench_vtime_on = false;
}

static void
run_stream(struct stream *s, int reps)
{
	for (int rep = 0; rep < reps; rep++) {
		for (int ci = 0; ci < NCONT; ci++) {
			if (!in_list(opt_contenders, contenders[ci]->name))
				continue;
			fprintf(stderr, "\r  %s N=%-9llu rep %d/%d %-12s",
			    s->ph[s->nph - 1].workload,
			    (unsigned long long)s->n, rep + 1, reps,
			    contenders[ci]->name);
			run_one(s, ci);
		}
	}
	fprintf(stderr, "\r%60s\r", "");
}

static void
run_floors(uint64_t n, int reps)
{
	uint64_t steps = opt_quick ? 100000 : 2000000;

	for (int rep = 0; rep < reps; rep++) {
		struct result *r = result_of("floor", n, -1);

		r->ns[r->nrep++] = floor_chase_ns((uint32_t)n, steps, 7 + rep);
		r->ops = steps;
		r = result_of("floor", n, -2);
		r->ns[r->nrep++] = floor_relink_ns((uint32_t)n, steps, 9 + rep);
		r->ops = steps;
	}
}

static void
calibrate_tsc(void)
{
	uint64_t t0 = bench_real_ns(), c0 = __rdtsc(), t1;

	do
		t1 = bench_real_ns();
	while (t1 - t0 < 50000000);
	tsc_per_ns = (double)(__rdtsc() - c0) / (double)(t1 - t0);
}

/* ------------------------------------------------------------------ */
/* Output. */

static const char *const workload_order[] = { "fill", "fill-log", "hot",
	"rearm", "cancel+arm", "tcp", "expire", "expire-l0", "idle-10s",
	"idle-1h", "idle-1d", "next", "trace" };
#define NWORKLOADS (sizeof(workload_order) / sizeof(workload_order[0]))

static void
print_table(FILE *f)
{
	for (size_t w = 0; w < NWORKLOADS; w++) {
		const char *wl = workload_order[w];
		bool any = false;

		for (size_t i = 0; i < nresults; i++)
			if (strcmp(results[i].workload, wl) == 0)
				any = true;
		if (!any)
			continue;
		fprintf(f, "\n%s: median ns per %s\n%10s", wl,
		    strncmp(wl, "expire", 6) == 0 || strncmp(wl, "idle", 4) == 0
			? "fired timer"
			: "operation",
		    "N");
		for (int c = 0; c < NCONT; c++)
			fprintf(f, " %11s", contenders[c]->name);
		fprintf(f, " %11s %11s\n", "chase", "relink");
		for (int si = 0; si < opt_nsizes + 1; si++) {
			uint64_t n = 0;
			bool row = false;

			for (size_t i = 0; i < nresults; i++)
				if (strcmp(results[i].workload, wl) == 0 &&
				    (si == opt_nsizes
					    ? strcmp(wl, "trace") == 0
					    : results[i].n == opt_sizes[si])) {
					n = results[i].n;
					row = true;
				}
			if (!row)
				continue;
			fprintf(f, "%10llu", (unsigned long long)n);
			for (int c = 0; c < NCONT + 2; c++) {
				int ci = c < NCONT ? c : NCONT - 1 - c;
				const char *src = ci < 0 ? "floor" : wl;
				struct result *r = NULL;

				for (size_t i = 0; i < nresults; i++)
					if (results[i].n == n &&
					    results[i].cont == ci &&
					    strcmp(results[i].workload, src) ==
						0)
						r = &results[i];
				if (r == NULL || r->na || r->nrep == 0)
					fprintf(f, " %11s", "n/a");
				else
					fprintf(f, " %11.1f",
					    median(r->ns, r->nrep));
			}
			fprintf(f, "\n");
		}
	}
}

static void
write_csv(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		exit_status = exit_status ? exit_status : 2;
		return;
	}
	fprintf(f,
	    "workload,n,contender,layer,ns_per_op,min,max,reps,ops,"
	    "fired,worst_advance_us,total_us,bytes_per_timer\n");
	for (size_t i = 0; i < nresults; i++) {
		struct result *r = &results[i];
		double lo = NAN, hi = NAN;

		for (int k = 0; k < r->nrep; k++) {
			if (k == 0 || r->ns[k] < lo)
				lo = r->ns[k];
			if (k == 0 || r->ns[k] > hi)
				hi = r->ns[k];
		}
		if (r->na || r->nrep == 0) {
			fprintf(f, "%s,%llu,%s,\"%s\",n/a,,,0,,,,,\n",
			    r->workload, (unsigned long long)r->n,
			    cont_name(r->cont), cont_layer(r->cont));
			continue;
		}
		fprintf(f,
		    "%s,%llu,%s,\"%s\",%.2f,%.2f,%.2f,%d,%llu,%llu,%.1f,"
		    "%.1f,",
		    r->workload, (unsigned long long)r->n, cont_name(r->cont),
		    cont_layer(r->cont), median(r->ns, r->nrep), lo, hi,
		    r->nrep, (unsigned long long)r->ops,
		    (unsigned long long)r->fired, median(r->worst_us, r->nrep),
		    median(r->total_us, r->nrep));
		if (r->bytes > 0)
			fprintf(f, "%.1f", r->bytes);
		fprintf(f, "\n");
	}
	fclose(f);
}

static double
med_of(const char *wl, uint64_t n, int c)
{
	for (size_t i = 0; i < nresults; i++)
		if (results[i].cont == c && results[i].n == n &&
		    strcmp(results[i].workload, wl) == 0 && !results[i].na &&
		    results[i].nrep > 0)
			return median(results[i].ns, results[i].nrep);
	return NAN;
}

/* The README's headline: libcallout against libevent and libuv. */
static void
write_headline(const char *path)
{
	uint64_t n = 0;
	FILE *f;

	for (int i = 0; i < opt_nsizes; i++)
		if (opt_sizes[i] <= 1000000 && opt_sizes[i] > n)
			n = opt_sizes[i];
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		return;
	}
	fprintf(f,
	    "| workload (N = %llu; trace: its own) | callout "
	    "single-owner | callout thread-safe | raw wheel | libevent "
	    "| libuv | libevent / callout | libuv / callout |\n",
	    (unsigned long long)n);
	fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t w = 0; w < NWORKLOADS; w++) {
		const char *wl = workload_order[w];
		uint64_t nn = n;

		if (strcmp(wl, "trace") == 0)
			for (size_t i = 0; i < nresults; i++)
				if (strcmp(results[i].workload, wl) == 0)
					nn = results[i].n;
		double so = med_of(wl, nn, 5), mt = med_of(wl, nn, 6);
		double wh = med_of(wl, nn, 4), le = med_of(wl, nn, 2);
		double lu = med_of(wl, nn, 3);

		if (isnan(so) && isnan(wh))
			continue;
		double v[7] = { so, mt, wh, le, lu, le / so, lu / so };

		fprintf(f, "| %s", wl);
		for (int k = 0; k < 7; k++) {
			if (isnan(v[k]))
				fprintf(f, " | n/a");
			else
				fprintf(
				    f, k < 5 ? " | %.1f" : " | %.1fx", v[k]);
		}
		fprintf(f, " |\n");
	}
	fprintf(f,
	    "\nns per operation (expire, idle: per fired timer); "
	    "median of the repetitions.\n");
	fclose(f);
}

/* One gnuplot script with the data inline; run by bench/run. */
static void
write_gnuplot(const char *dir)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/charts.gp", dir);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		return;
	}
	fprintf(f,
	    "# Made by bench; run with gnuplot from %s.\n"
	    "set terminal pngcairo size 900,600 noenhanced\n"
	    "set logscale xy\nset grid\nset key outside right\n"
	    "set datafile missing '?'\nset xlabel 'N pending timers'\n",
	    dir);
	for (size_t w = 0; w < NWORKLOADS; w++) {
		const char *wl = workload_order[w];
		bool any = false;
		char fname[64];

		for (size_t i = 0; i < nresults; i++)
			if (strcmp(results[i].workload, wl) == 0)
				any = true;
		if (!any)
			continue;
		snprintf(fname, sizeof(fname), "%s", wl);
		/* gnuplot data block names: letters, digits, '_'. */
		for (char *p = fname; *p; p++)
			if (*p == '+' || *p == '-')
				*p = '_';
		fprintf(f, "$%s << EOD\nN", fname);
		for (int c = 0; c < NCONT + 2; c++)
			fprintf(
			    f, " %s", cont_name(c < NCONT ? c : NCONT - 1 - c));
		fprintf(f, "\n");
		for (int si = 0; si < opt_nsizes; si++) {
			uint64_t n = opt_sizes[si];

			if (strcmp(wl, "trace") == 0)
				continue;
			fprintf(f, "%llu", (unsigned long long)n);
			for (int c = 0; c < NCONT + 2; c++) {
				int ci = c < NCONT ? c : NCONT - 1 - c;
				double v = med_of(ci < 0 ? "floor" : wl, n, ci);

				if (isnan(v))
					fprintf(f, " ?");
				else
					fprintf(f, " %.2f", v);
			}
			fprintf(f, "\n");
		}
		fprintf(f, "EOD\n");
		fprintf(f, "set output '%s.png'\n", fname);
		if (strcmp(wl, "trace") == 0) {
			fprintf(f,
			    "unset logscale\nset style data histogram\n"
			    "set style fill solid\nset xlabel ''\n"
			    "set ylabel 'ns per operation'\nunset key\n"
			    "set title 'trace replay (linux-tcp-500conn), "
			    "ns per operation'\n");
			fprintf(f, "$trace_bars << EOD\n");
			for (int c = 0; c < NCONT; c++) {
				uint64_t nn = 0;

				for (size_t i = 0; i < nresults; i++)
					if (strcmp(results[i].workload, wl) ==
					    0)
						nn = results[i].n;
				double v = med_of(wl, nn, c);

				if (!isnan(v))
					fprintf(
					    f, "%s %.2f\n", cont_name(c), v);
			}
			fprintf(f,
			    "EOD\nplot $trace_bars using 2:xtic(1)\n"
			    "set logscale xy\nset key outside right\n"
			    "set style data linespoints\n");
			continue;
		}
		fprintf(f,
		    "set title '%s: ns per %s (log scale)'\n"
		    "set ylabel 'ns'\n",
		    wl,
		    strncmp(wl, "expire", 6) == 0 || strncmp(wl, "idle", 4) == 0
			? "fired timer"
			: "operation");
		fprintf(f,
		    "plot for [i=2:%d] $%s using 1:i with linespoints "
		    "title columnhead(i) lw 2, \\\n"
		    "  for [i=%d:%d] $%s using 1:i with lines dt 2 "
		    "title columnhead(i)\n",
		    NCONT + 1, fname, NCONT + 2, NCONT + 3, fname);
	}
	fclose(f);
}

/* ------------------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench [--quick] [--sizes 1000,10000,...] [--reps R]\n"
	    "             [--ops M] [--workloads fill,hot,...] [--trace FILE]"
	    "\n             [--contenders heap,callout,...]"
	    "\n             [--out DIR]\n"
	    "workloads: fill fill-log hot rearm cancel+arm tcp expire "
	    "expire-l0 "
	    "idle next trace periodic threaded\n");
	exit(2);
}

static void
parse_sizes(const char *arg)
{
	char *dup = strdup(arg), *save = NULL;

	opt_nsizes = 0;
	for (char *t = strtok_r(dup, ",", &save); t && opt_nsizes < 8;
	     t = strtok_r(NULL, ",", &save))
		opt_sizes[opt_nsizes++] = strtoull(t, NULL, 10);
	free(dup);
}

static bool
want_any(const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (want(names[i]))
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	static const char *const a_names[] = { "fill", "next", "hot", "rearm",
		"cancel+arm", "expire" };
	static const char *const b_names[] = { "fill-log", "idle" };
	char path[4200];

	parse_sizes("1000,10000,100000,1000000,10000000");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			opt_quick = true;
			parse_sizes("1000");
			opt_reps = opt_reps_big = 1;
			opt_ops = 20000;
		} else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
			parse_sizes(argv[++i]);
		} else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
			opt_reps = opt_reps_big = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc) {
			opt_ops = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--workloads") == 0 &&
		    i + 1 < argc) {
			opt_workloads = argv[++i];
		} else if (strcmp(argv[i], "--contenders") == 0 &&
		    i + 1 < argc) {
			opt_contenders = argv[++i];
		} else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) {
			opt_trace = argv[++i];
		} else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
			opt_out = argv[++i];
		} else {
			usage();
		}
	}
	if (opt_reps < 1 || opt_reps > MAXREP || opt_ops < 2)
		usage();
	if (opt_trace == NULL)
		opt_trace = getenv("CALLOUT_TRACE");
#ifdef BENCH_TRACE_DEFAULT
	if (opt_trace == NULL)
		opt_trace = BENCH_TRACE_DEFAULT;
#endif
	mkdir(opt_out, 0777);
	calibrate_tsc();
	rng_state = 20240611;

	for (int si = 0; si < opt_nsizes; si++) {
		uint64_t n = opt_sizes[si];
		int reps = n >= 10000000 ? opt_reps_big : opt_reps;
		struct stream s;

		if (n < 4 || n > OP_ID_MASK / 2) {
			fprintf(stderr, "bench: size %llu out of range\n",
			    (unsigned long long)n);
			continue;
		}
		if (want_any(a_names, 6)) {
			memset(&s, 0, sizeof(s));
			gen_session_a(&s, n);
			run_stream(&s, reps);
			stream_free(&s);
		}
		if (want_any(b_names, 2)) {
			memset(&s, 0, sizeof(s));
			gen_session_b(&s, n);
			run_stream(&s, reps);
			stream_free(&s);
		}
		if (want("expire-l0")) {
			memset(&s, 0, sizeof(s));
			gen_session_d(&s, n);
			run_stream(&s, reps);
			stream_free(&s);
		}
		if (want("tcp")) {
			memset(&s, 0, sizeof(s));
			gen_session_c(&s, n);
			run_stream(&s, reps);
			stream_free(&s);
		}
		if (want("floor") || opt_workloads == NULL)
			run_floors(n, reps);
	}
	if (want("trace") && opt_trace != NULL) {
		struct stream s;

		memset(&s, 0, sizeof(s));
		if (gen_session_trace(
			&s, opt_trace, opt_quick ? 500000 : SIZE_MAX)) {
			run_stream(&s, opt_reps);
		} else {
			fprintf(stderr, "bench: no trace replayed\n");
		}
		stream_free(&s);
	}

	print_table(stdout);
	snprintf(path, sizeof(path), "%s/results.csv", opt_out);
	write_csv(path);
	{
		FILE *f;

		snprintf(path, sizeof(path), "%s/extra.csv", opt_out);
		f = fopen(path, "w");
		if (want("periodic"))
			workload_periodic(f, opt_sizes, opt_nsizes, opt_reps);
		if (want("threaded"))
			workload_threaded(f, opt_quick);
		if (f != NULL)
			fclose(f);
	}
	snprintf(path, sizeof(path), "%s/headline.md", opt_out);
	write_headline(path);
	write_gnuplot(opt_out);
	if (exit_status != 0)
		fprintf(stderr, "bench: CROSS-CHECK FAILED\n");
	return exit_status;
}
