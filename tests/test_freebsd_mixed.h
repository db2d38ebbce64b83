/*
 * test_freebsd_mixed: the calls the FreeBSD half makes into the NetBSD
 * half, declared without either personality's header.
 */
#ifndef TEST_FREEBSD_MIXED_H
#define TEST_FREEBSD_MIXED_H

#include <stdbool.h>

#include <callout/clock.h>

struct netbsd_side;

struct netbsd_side *netbsd_side_arm(
    struct callout_clock *clk, int ticks, int *log, int *n);
bool netbsd_side_pending(struct netbsd_side *s);
void netbsd_side_free(struct netbsd_side *s);

#endif
