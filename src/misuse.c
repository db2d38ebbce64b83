/*
 * The misuse handler: by default a kernel-assertion-like line on stderr and
 * abort(); tests install a handler that records the report and returns.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <callout/clock.h>

#include "misuse.h"

static _Atomic(callout_misuse_fn *) misuse_handler;

callout_misuse_fn *
callout_set_misuse_handler(callout_misuse_fn *fn)
{
	return atomic_exchange(&misuse_handler, fn);
}

void
co_misuse(const char *call, const void *obj, const char *what)
{
	callout_misuse_fn *fn = atomic_load(&misuse_handler);

	if (fn != NULL) {
		fn(call, obj, what);
		return;
	}
	fprintf(stderr, "libcallout: %s(%p): %s\n", call, obj, what);
	abort();
}

void
co_fatal(const char *call, const void *obj, const char *what)
{
	fprintf(stderr, "libcallout: %s(%p): %s\n", call, obj, what);
	abort();
}
