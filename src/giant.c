/*
 * The giant lock: one process-wide recursive lock shared by both
 * personalities.  Handlers of callouts that are not MPSAFE run holding it;
 * halt, drain and the NT waits release every level the caller holds while
 * they block, which needs the depth per thread.
 */
#include <pthread.h>

#include "callout_impl.h"
#include "misuse.h"

static pthread_mutex_t giant = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static _Thread_local unsigned giant_depth;

void
callout_giant_lock(void)
{
	pthread_mutex_lock(&giant);
	giant_depth++;
}

void
callout_giant_unlock(void)
{
	if (giant_depth == 0) {
		co_misuse("callout_giant_unlock", &giant,
		    "giant lock not held by this thread");
		return;
	}
	giant_depth--;
	pthread_mutex_unlock(&giant);
}

bool
co_giant_held(void)
{
	return giant_depth > 0;
}

unsigned
co_giant_release_all(void)
{
	unsigned depth = giant_depth;

	for (unsigned i = 0; i < depth; i++)
		callout_giant_unlock();
	return depth;
}

void
co_giant_reacquire(unsigned depth)
{
	for (unsigned i = 0; i < depth; i++)
		callout_giant_lock();
}
