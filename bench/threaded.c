/*
 * The threaded workload: how late callouts fire on a threaded clock (hz
 * 1000) with many callouts pending, against the operating system's own
 * floor (clock_nanosleep to an absolute time), and arm/cancel throughput
 * from two threads.  Runs on real time: the virtual clock of vtime.c is
 * off, so the library's clock_gettime is the real one.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <callout.h>

#include "bench.h"

struct th_probe {
	callout_t c;
	uint64_t due_ns;   /* start of the due tick */
	uint64_t fired_ns; /* 0 until the handler ran */
};

static void
th_fire(void *arg)
{
	struct th_probe *p = arg;

	p->fired_ns = bench_real_ns();
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
th_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u),
		(long)(ns % 1000000000u) };

	nanosleep(&ts, NULL);
}

static uint64_t th_rng = 88172645463325252ull;

static uint32_t
th_rand(uint32_t n)
{
	th_rng ^= th_rng << 13;
	th_rng ^= th_rng >> 7;
	th_rng ^= th_rng << 17;
	return (uint32_t)(th_rng % n);
}

/* p50, p99 and max of v[0..n) in microseconds; sorts v. */
static void
th_report(FILE *csv, const char *who, int64_t *v, size_t n, size_t early)
{
	double p50, p99, max;

	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_i64);
	p50 = (double)v[n / 2] / 1000.0;
	p99 = (double)v[(n * 99) / 100] / 1000.0;
	max = (double)v[n - 1] / 1000.0;
	printf("  %-34s p50 %8.1f us  p99 %8.1f us  max %8.1f us  (%zu "
	       "samples, %zu early)\n",
	    who, p50, p99, max, n, early);
	if (csv != NULL)
		fprintf(csv,
		    "threaded-lateness,%s,p50_us=%.1f,p99_us=%.1f,"
		    "max_us=%.1f,samples=%zu,early=%zu\n",
		    who, p50, p99, max, n, early);
}

/* The operating system's floor: sleep to absolute instants. */
static void
th_floor(FILE *csv, size_t n)
{
	int64_t *late = calloc(n, sizeof(*late));

	for (size_t i = 0; i < n; i++) {
		uint64_t due = bench_real_ns() + 1000000u * (1 + th_rand(5));
		struct timespec ts = { (time_t)(due / 1000000000u),
			(long)(due % 1000000000u) };

		while (clock_nanosleep(
			   CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
			;
		late[i] = (int64_t)(bench_real_ns() - due);
	}
	th_report(csv, "clock_nanosleep (OS floor)", late, n, 0);
	free(late);
}

struct th_worker {
	callout_t *c;
	size_t n;
	volatile bool *stop;
	uint64_t ops;
};

static void
th_nop(void *arg)
{
	(void)arg;
}

static void *
th_work(void *arg)
{
	struct th_worker *w = arg;
	uint64_t ops = 0;

	while (!*w->stop) {
		for (size_t i = 0; i < w->n; i++) {
			callout_reset(&w->c[i], 100000 + (int)i, th_nop, NULL);
			callout_stop(&w->c[i]);
		}
		ops += 2 * w->n;
	}
	w->ops = ops;
	return NULL;
}

void
workload_threaded(FILE *csv, bool quick)
{
	struct callout_clock_params prm;
	struct callout_clock *clk;
	size_t nbg = quick ? 10000 : 100000, nprobe = quick ? 200 : 2000;
	callout_t *bg;
	struct th_probe *pr;
	int64_t *late;
	size_t nlate = 0, early = 0;
	uint64_t k, t, off;

	bench_vtime_on = false;
	printf("\nthreaded: hz 1000, %zu callouts pending, %zu probes\n", nbg,
	    nprobe);
	callout_clock_params_init(&prm);
	prm.mode = CALLOUT_CLOCK_THREADED;
	prm.hz = 1000;
	clk = callout_clock_create(&prm);
	if (clk == NULL) {
		printf("  not available (threaded clock cannot be created)\n");
		if (csv != NULL)
			fprintf(csv, "threaded,callout,not available\n");
		return;
	}
	/* Where tick boundaries fall on CLOCK_MONOTONIC. */
	k = callout_clock_ticks(clk);
	while ((t = callout_clock_ticks(clk)) == k)
		;
	off = bench_real_ns() - t * 1000000u;

	bg = malloc(sizeof(*bg) * nbg);
	for (size_t i = 0; i < nbg; i++) {
		callout_init_clock(&bg[i], clk, CALLOUT_MPSAFE);
		callout_reset(
		    &bg[i], 10000 + (int)th_rand(3600000), th_nop, NULL);
	}
	pr = calloc(nprobe, sizeof(*pr));
	late = calloc(nprobe, sizeof(*late));
	for (size_t i = 0; i < nprobe; i++) {
		int n = 1 + (int)th_rand(20);
		uint64_t k0, k1;

		callout_init_clock(&pr[i].c, clk, CALLOUT_MPSAFE);
		do {
			k0 = callout_clock_ticks(clk);
			callout_reset(&pr[i].c, n, th_fire, &pr[i]);
			k1 = callout_clock_ticks(clk);
		} while (k0 != k1 && (callout_stop(&pr[i].c), true));
		pr[i].due_ns = off + (k0 + (uint64_t)n) * 1000000u;
		th_sleep_ns(th_rand(2000000));
	}
	th_sleep_ns(100000000);
	for (size_t i = 0; i < nprobe; i++) {
		callout_stop(&pr[i].c);
		if (pr[i].fired_ns == 0)
			continue;
		int64_t l = (int64_t)(pr[i].fired_ns - pr[i].due_ns);

		/* The tick boundary is known to about a microsecond. */
		if (l < -20000)
			early++;
		late[nlate++] = l;
	}
	th_report(csv, "libcallout threaded clock", late, nlate, early);
	if (nlate != nprobe)
		printf("  %zu probes never fired\n", nprobe - nlate);
	th_floor(csv, nprobe / 4);

	/* Arm/cancel throughput from two threads, on distinct callouts. */
	{
		volatile bool stop = false;
		struct th_worker w[2];
		pthread_t tid[2];
		size_t per = 1000;
		callout_t *c = malloc(sizeof(*c) * per * 2);
		uint64_t t0, t1;

		for (size_t i = 0; i < per * 2; i++)
			callout_init_clock(&c[i], clk, CALLOUT_MPSAFE);
		t0 = bench_real_ns();
		for (int i = 0; i < 2; i++) {
			w[i].c = c + per * (size_t)i;
			w[i].n = per;
			w[i].stop = &stop;
			pthread_create(&tid[i], NULL, th_work, &w[i]);
		}
		th_sleep_ns(quick ? 100000000 : 1000000000);
		stop = true;
		for (int i = 0; i < 2; i++)
			pthread_join(tid[i], NULL);
		t1 = bench_real_ns();
		double total = (double)(w[0].ops + w[1].ops);
		double ns = (double)(t1 - t0) * 2 / total;

		printf("  arm+cancel from 2 threads: %.1f Mops/s, %.1f ns per "
		       "operation per thread\n",
		    total / (double)(t1 - t0) * 1000.0, ns);
		if (csv != NULL)
			fprintf(csv,
			    "threaded-throughput,2 threads,"
			    "mops=%.2f,ns_per_op_per_thread=%.1f\n",
			    total / (double)(t1 - t0) * 1000.0, ns);
		for (size_t i = 0; i < per * 2; i++)
			callout_destroy(&c[i]);
		free(c);
	}
	for (size_t i = 0; i < nbg; i++) {
		callout_stop(&bg[i]);
		callout_destroy(&bg[i]);
	}
	for (size_t i = 0; i < nprobe; i++)
		callout_destroy(&pr[i].c);
	callout_clock_destroy(clk);
	free(bg);
	free(pr);
	free(late);
}
