/*
 * The NetBSD half of test_freebsd_mixed: this translation unit sees only
 * <callout.h>; the other only <callout/freebsd.h>.
 */
#include <stdlib.h>

#include <callout.h>

#include "test_freebsd_mixed.h"

struct netbsd_side {
	callout_t c;
	int *log;
	int *n;
};

static void
netbsd_fn(void *arg)
{
	struct netbsd_side *s = arg;

	s->log[(*s->n)++] = 'N';
}

struct netbsd_side *
netbsd_side_arm(struct callout_clock *clk, int ticks, int *log, int *n)
{
	struct netbsd_side *s = calloc(1, sizeof(*s));

	s->log = log;
	s->n = n;
	callout_init_clock(&s->c, clk, CALLOUT_MPSAFE);
	callout_reset(&s->c, ticks, netbsd_fn, s);
	return s;
}

bool
netbsd_side_pending(struct netbsd_side *s)
{
	return callout_pending(&s->c);
}

void
netbsd_side_free(struct netbsd_side *s)
{
	callout_halt(&s->c, NULL);
	callout_destroy(&s->c);
	free(s);
}
