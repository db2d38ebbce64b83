/*
 * Touches a pooled callout after it went back to the pool, on purpose.
 * Under AddressSanitizer the pool has poisoned it, so this test must die
 * with a use-after-poison report (CTest: WILL_FAIL in ASan builds); under
 * valgrind the access is an invalid read.  In a plain build nothing can
 * see the bug and the test exits 0.
 */
#include <stdio.h>

#include <callout/timeout.h>

#include "pool.h"

static char owner;

int
main(void)
{
	struct co_pool_entry *e = co_pool_lend(&owner, false);
	void (*volatile fn)(void *);

	if (e == NULL)
		return 2;
	co_pool_return(e);
	fn = e->co.fn; /* the bug: e belongs to the pool again */
	printf("read a returned callout: %p\n", (void *)(uintptr_t)fn);
	return 0;
}
