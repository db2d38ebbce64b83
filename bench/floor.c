/*
 * Floor probes: what the memory system alone costs at a given working set.
 * The pointer chase follows a random cycle through N 64-byte nodes (one
 * dependent cache miss per step once N outgrows the caches); the ideal
 * relink unlinks a random node from its intrusive list and pushes it on
 * the head of another, as a wheel re-arm does at best.
 */
#include <stdlib.h>

#include "bench.h"

struct fl_node {
	struct fl_node *next;
	struct fl_node **pprev;
	uint64_t pad[6]; /* 64 bytes, the size of a callout_t */
};

#define FL_HEADS 704 /* as many as the wheel has slots */

static uint64_t
fl_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

double
floor_chase_ns(uint32_t n, uint64_t steps, uint64_t seed)
{
	struct fl_node *v = malloc(sizeof(*v) * n);
	uint32_t *perm = malloc(sizeof(*perm) * n);
	uint64_t s = seed | 1;

	/* Sattolo's shuffle: one cycle through every node. */
	for (uint32_t i = 0; i < n; i++)
		perm[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(fl_rand(&s) % i);
		uint32_t x = perm[i];

		perm[i] = perm[j];
		perm[j] = x;
	}
	for (uint32_t i = 0; i < n; i++)
		v[i].next = &v[perm[i]];
	free(perm);

	struct fl_node *p = &v[0];
	uint64_t t0 = bench_real_ns();

	for (uint64_t i = 0; i < steps; i++)
		p = p->next;
	uint64_t t1 = bench_real_ns();

	__asm__ volatile("" : : "r"(p));
	free(v);
	return (double)(t1 - t0) / (double)steps;
}

double
floor_relink_ns(uint32_t n, uint64_t steps, uint64_t seed)
{
	struct fl_node *v = calloc(n, sizeof(*v));
	struct fl_node **head = calloc(FL_HEADS, sizeof(*head));
	uint32_t *idx = malloc(sizeof(*idx) * steps);
	uint64_t s = seed | 1;

	for (uint32_t i = 0; i < n; i++) {
		struct fl_node **h = &head[fl_rand(&s) % FL_HEADS];

		v[i].next = *h;
		if (*h != NULL)
			(*h)->pprev = &v[i].next;
		v[i].pprev = h;
		*h = &v[i];
	}
	for (uint64_t i = 0; i < steps; i++)
		idx[i] = (uint32_t)(fl_rand(&s) % n);

	uint64_t t0 = bench_real_ns();

	for (uint64_t i = 0; i < steps; i++) {
		struct fl_node *x = &v[idx[i]];
		struct fl_node **h = &head[(i * 7) % FL_HEADS];

		if (x->next != NULL)
			x->next->pprev = x->pprev;
		*x->pprev = x->next;
		x->next = *h;
		if (*h != NULL)
			(*h)->pprev = &x->next;
		x->pprev = h;
		*h = x;
	}
	uint64_t t1 = bench_real_ns();

	free(idx);
	free(head);
	free(v);
	return (double)(t1 - t0) / (double)steps;
}
