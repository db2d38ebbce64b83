/*
 * callout(9) for programs, with NetBSD semantics: a caller-owned callout_t
 * on a hierarchical timing wheel, driven by a virtual, threaded or external
 * clock.  See callout(3) and libcallout(3).
 */
#ifndef CALLOUT_H
#define CALLOUT_H

#ifdef CALLOUT_FREEBSD_H
#error "include either <callout.h> or <callout/freebsd.h>, not both"
#endif

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <callout/clock.h>

#ifdef __cplusplus
extern "C" {
#endif

/* callout_init flags */
#define CALLOUT_MPSAFE 0x0100u /* run without the giant lock */

/*
 * Opaque and caller-owned: the library never allocates per callout.  The
 * size is part of the ABI (64 bytes on LP64).
 */
typedef struct callout {
	uint64_t _c_store[8];
} callout_t;

void callout_init(callout_t *c, unsigned flags);
void callout_init_clock(
    callout_t *c, struct callout_clock *clk, unsigned flags);
void callout_destroy(callout_t *c);
void callout_setfunc(callout_t *c, void (*fn)(void *), void *arg);
void callout_reset(callout_t *c, int ticks, void (*fn)(void *), void *arg);
void callout_schedule(callout_t *c, int ticks);
bool callout_stop(callout_t *c);
bool callout_halt(callout_t *c, pthread_mutex_t *interlock);
bool callout_pending(callout_t *c);
bool callout_expired(callout_t *c);
bool callout_active(callout_t *c);
bool callout_invoking(callout_t *c);
void callout_ack(callout_t *c);
void callout_bind(callout_t *c, unsigned int cpu);

int callout_hz(void);
int callout_ticks(void);

#ifdef CALLOUT_KERNEL_NAMES
#define hz (callout_hz())
#define ticks (callout_ticks())
#endif

#ifdef __cplusplus
}
#endif

#endif /* !CALLOUT_H */
