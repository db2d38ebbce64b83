/*
 * Shared by the two halves of test_misuse_catalogue (the FreeBSD names
 * need their own translation unit): the recorder that checks each report's
 * call and text exactly, and the helpers the FreeBSD half borrows.
 */
#ifndef CALLOUT_TESTS_MISUSE_CATALOGUE_H
#define CALLOUT_TESTS_MISUSE_CATALOGUE_H

#include <stdbool.h>

#include <callout/clock.h>

/* Exactly one report since the last check, from `call`, saying `what`. */
void mc_expect_at(
    const char *file, int line, const char *call, const char *what);
#define MC_EXPECT(call, what) mc_expect_at(__FILE__, __LINE__, (call), (what))

/* No report since the last check. */
void mc_none_at(const char *file, int line);
#define MC_NONE() mc_none_at(__FILE__, __LINE__)

/* A plain condition, counted with the rest. */
void mc_check_at(const char *file, int line, bool ok, const char *text);
#define MC_CHECK(cond) mc_check_at(__FILE__, __LINE__, (cond), #cond)

/* Run fn(arg) on a new thread and wait for it. */
void mc_in_thread(void (*fn)(void *), void *arg);

/* A virtual clock with `ndisp` dispatchers and the given flags. */
struct callout_clock *mc_virtual_clock(int ndisp, unsigned flags);

/* Initialise a NetBSD callout_t in `buf` (at least 64 bytes, aligned). */
void mc_netbsd_init(void *buf, struct callout_clock *clk);
void mc_netbsd_destroy(void *buf);

/* The FreeBSD half: runs its cases. */
void mc_freebsd_cases(void);

#endif /* !CALLOUT_TESTS_MISUSE_CATALOGUE_H */
