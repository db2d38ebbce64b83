/*
 * The simulated packet stream of ndis_demo: a seeded generator shared by
 * the demonstration and its checker, so that both see the same packets.
 * It only draws the input (when each packet is sent, and whether and when
 * it completes); what the timers must do with it is worked out separately
 * by each side.
 */
#ifndef DEMO_TRAFFIC_H
#define DEMO_TRAFFIC_H

#include <stdint.h>

struct demo_traffic {
	uint64_t state;
	uint64_t next_send; /* tick of the next packet */
	unsigned gap_max;   /* gaps are uniform in [0, gap_max] ticks */
	unsigned lat_max;   /* completions are uniform in [1, lat_max] ticks */
	uint32_t loss_ppm;  /* packets in a million that never complete */
};

/* splitmix64: small, fast, and the same on every platform. */
static inline uint64_t
demo_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* rate: packets a second on average, hz: ticks a second. */
static inline void
demo_traffic_init(struct demo_traffic *g, uint64_t seed, unsigned miniport,
    unsigned rate, unsigned hz, unsigned lat_max, uint32_t loss_ppm)
{
	g->state = seed * 0x100000001b3ull + miniport + 1;
	g->gap_max = rate == 0 ? hz : 2 * hz / rate;
	g->lat_max = lat_max == 0 ? 1 : lat_max;
	g->loss_ppm = loss_ppm;
	g->next_send = 1 + demo_rand(&g->state) % (g->gap_max + 1);
}

/*
 * The packet sent at g->next_send: returns its completion delay in ticks,
 * or 0 if it is lost; g->next_send then moves to the following packet.
 */
static inline unsigned
demo_traffic_take(struct demo_traffic *g)
{
	uint64_t r = demo_rand(&g->state);
	unsigned lat;

	if (r % 1000000 < g->loss_ppm)
		lat = 0;
	else
		lat = 1 + (unsigned)((r >> 20) % g->lat_max);
	g->next_send += demo_rand(&g->state) % (g->gap_max + 1);
	return lat;
}

#endif /* !DEMO_TRAFFIC_H */
