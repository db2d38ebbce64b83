/*
 * Misuse reporting (quality.md, case 2): one line naming the call, the
 * object and the fault, then abort, unless the program installed a handler
 * that returns; the faulty call then returns without effect.
 */
#ifndef CALLOUT_SRC_MISUSE_H
#define CALLOUT_SRC_MISUSE_H

/* Report; returns only if the installed handler returned. */
void co_misuse(const char *call, const void *obj, const char *what);

/* Resource exhaustion where the API cannot report it: always aborts. */
_Noreturn void co_fatal(const char *call, const void *obj, const char *what);

#endif /* !CALLOUT_SRC_MISUSE_H */
