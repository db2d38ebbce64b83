/*
 * The NT emulation's binding to its clock: at the first NT call it takes
 * the default clock as it is then, creates one emulated processor per
 * dispatcher, installs the tick hook that runs their DPC queues, and sets
 * up the striped locks of the dispatcher objects.  Also the per-thread
 * execution contexts (IRQL and current processor).
 */
#include <stdlib.h>

#include "nt_impl.h"

struct nt_state nt_g;
pthread_mutex_t nt_stripes[NT_NSTRIPES];

static pthread_once_t nt_once = PTHREAD_ONCE_INIT;
static _Atomic(struct callout_clock *) nt_bound;
static atomic_bool nt_clock_gone;

/*
 * The bound clock is being destroyed.  The emulated processors live as
 * long as the process and cannot move to another clock, so any NT call
 * after this is fatal rather than a use of freed memory.
 */
static void
nt_unbind(struct callout_clock *clk)
{
	if (clk != atomic_load(&nt_bound))
		return;
	atomic_store(&nt_clock_gone, true);
	atomic_store(&nt_bound, NULL);
}

static void
nt_bind(void)
{
	struct callout_clock *clk = co_default_clock();
	pthread_condattr_t ca;

	for (int i = 0; i < NT_NSTRIPES; i++)
		pthread_mutex_init(&nt_stripes[i], NULL);
	nt_g.ncpu = clk->ndisp;
	nt_g.cpus = calloc((size_t)clk->ndisp, sizeof(*nt_g.cpus));
	if (nt_g.cpus == NULL)
		co_fatal("NT emulation", clk, "out of memory for processors");
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (int i = 0; i < clk->ndisp; i++) {
		struct nt_cpu *p = &nt_g.cpus[i];

		pthread_mutex_init(&p->lock, NULL);
		pthread_cond_init(&p->cv, &ca);
		nt_list_init(&p->queue);
		p->def_first = NULL;
		p->def_lastp = &p->def_first;
		p->index = i;
	}
	pthread_condattr_destroy(&ca);
	nt_g.clk = clk;
	co_clock_set_tick_hook(clk, nt_tick_hook, NULL);
	co_clock_gone_hook = nt_unbind;
	atomic_store(&nt_bound, clk);
}

struct callout_clock *
nt_clock(void)
{
	struct callout_clock *clk =
	    atomic_load_explicit(&nt_bound, memory_order_acquire);

	if (clk != NULL)
		return clk;
	pthread_once(&nt_once, nt_bind);
	if (atomic_load(&nt_clock_gone))
		co_fatal("NT emulation", nt_g.clk,
		    "called after its clock was destroyed");
	return nt_g.clk;
}

/* Thread contexts: a base one per thread, and pushed ones on the stack. */
static _Thread_local struct nt_ctx nt_base;
static _Thread_local struct nt_ctx *nt_top;

struct nt_ctx *
nt_ctx(void)
{
	if (nt_top == NULL)
		nt_top = &nt_base;
	return nt_top;
}

int
nt_ctx_cpu(struct nt_ctx *c)
{
	if (c->pushed || c->irql >= DISPATCH_LEVEL)
		return c->cpu;
	return co_home_cpu(nt_clock());
}

void
nt_ctx_push(struct nt_ctx *c, int cpu, KIRQL irql)
{
	c->irql = irql;
	c->cpu = cpu;
	c->pushed = true;
	c->prev = nt_ctx();
	nt_top = c;
}

void
nt_ctx_pop(struct nt_ctx *c)
{
	nt_top = c->prev;
}
