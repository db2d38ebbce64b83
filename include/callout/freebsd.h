/*
 * callout(9) for programs, with FreeBSD semantics: a caller-owned
 * struct callout, lock-assisted cancel for callouts with a mutex, drains,
 * and sbintime_t deadlines with a precision window.  The FreeBSD names are
 * macros for distinct library symbols (callout_fbsd_*), so a program can
 * hold code of both personalities, on one clock; a translation unit
 * includes either this header or <callout.h>.  See callout_freebsd(3).
 */
#ifndef CALLOUT_FREEBSD_H
#define CALLOUT_FREEBSD_H

#ifdef CALLOUT_H
#error "include either <callout.h> or <callout/freebsd.h>, not both"
#endif

#include <pthread.h>
#include <stdint.h>

#include <callout/clock.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Opaque and caller-owned: the library never allocates per callout.  The
 * size is part of the ABI (80 bytes on LP64).
 */
struct callout {
	uint64_t _c_store[10];
};

#ifndef __cplusplus
_Static_assert(
    sizeof(struct callout) <= 80, "struct callout is at most 80 bytes");
#endif

/* callout_init_mtx flags */
#define CALLOUT_RETURNUNLOCKED 0x0010 /* the handler unlocks the mutex */

/* 32.32 fixed-point seconds since the clock's tick 0. */
typedef int64_t sbintime_t;

#define SBT_1S ((sbintime_t)1 << 32)
#define SBT_1M (SBT_1S * 60)
#define SBT_1MS (SBT_1S / 1000)
#define SBT_1US (SBT_1S / 1000000)
#define SBT_1NS (SBT_1S / 1000000000)
#define SBT_MAX ((sbintime_t)INT64_MAX)

/* callout_reset_sbt flags */
#define C_DIRECT_EXEC 0x0001                /* run in the clock's expiry path */
#define C_PREL(n) ((((n) + 1) & 0x3f) << 1) /* precision = delay >> n */
#define C_HARDCLOCK 0x0100 /* align to ticks (they always are) */
#define C_ABSOLUTE 0x0200  /* sbt is a time, not a delay */

/* Conversions: to sbintime_t rounds up, from it down, so round trips hold. */
static inline sbintime_t
nstosbt(int64_t ns)
{
	return (sbintime_t)(ns / 1000000000) * SBT_1S +
	    (sbintime_t)((((uint64_t)(ns % 1000000000) << 32) + 999999999) /
		1000000000);
}

static inline sbintime_t
ustosbt(int64_t us)
{
	return (sbintime_t)(us / 1000000) * SBT_1S +
	    (sbintime_t)((((uint64_t)(us % 1000000) << 32) + 999999) / 1000000);
}

static inline sbintime_t
mstosbt(int64_t ms)
{
	return (sbintime_t)(ms / 1000) * SBT_1S +
	    (sbintime_t)((((uint64_t)(ms % 1000) << 32) + 999) / 1000);
}

static inline int64_t
sbttons(sbintime_t sbt)
{
	return (sbt >> 32) * 1000000000 +
	    (int64_t)(((uint64_t)(sbt & 0xffffffff) * 1000000000) >> 32);
}

static inline int64_t
sbttous(sbintime_t sbt)
{
	return (sbt >> 32) * 1000000 +
	    (int64_t)(((uint64_t)(sbt & 0xffffffff) * 1000000) >> 32);
}

static inline int64_t
sbttoms(sbintime_t sbt)
{
	return (sbt >> 32) * 1000 +
	    (int64_t)(((uint64_t)(sbt & 0xffffffff) * 1000) >> 32);
}

void callout_fbsd_init_clock(
    struct callout *c, struct callout_clock *clk, int mpsafe);
void callout_fbsd_init_mtx_clock(struct callout *c, struct callout_clock *clk,
    pthread_mutex_t *mtx, int flags);
int callout_fbsd_reset_on(
    struct callout *c, int ticks, void (*fn)(void *), void *arg, int cpu);
int callout_fbsd_schedule_on(struct callout *c, int ticks, int cpu);
int callout_fbsd_reset_sbt_on(struct callout *c, sbintime_t sbt,
    sbintime_t prec, void (*fn)(void *), void *arg, int cpu, int flags);
int callout_fbsd_schedule_sbt_on(
    struct callout *c, sbintime_t sbt, sbintime_t prec, int cpu, int flags);
int callout_fbsd_stop(struct callout *c);
int callout_fbsd_drain(struct callout *c);
int callout_fbsd_async_drain(struct callout *c, void (*drain_fn)(void *));
int callout_fbsd_pending(struct callout *c);
int callout_fbsd_active(struct callout *c);
void callout_fbsd_deactivate(struct callout *c);
int callout_fbsd_curcpu(struct callout *c);
sbintime_t callout_clock_sbinuptime(const struct callout_clock *clk);

#define callout_init(c, mpsafe) \
	callout_fbsd_init_clock((c), callout_clock_default(), (mpsafe))
#define callout_init_clock(c, clk, mpsafe) \
	callout_fbsd_init_clock((c), (clk), (mpsafe))
#define callout_init_mtx(c, mtx, flags) \
	callout_fbsd_init_mtx_clock( \
	    (c), callout_clock_default(), (mtx), (flags))
#define callout_init_mtx_clock(c, clk, mtx, flags) \
	callout_fbsd_init_mtx_clock((c), (clk), (mtx), (flags))
#define callout_reset_on(c, ticks, fn, arg, cpu) \
	callout_fbsd_reset_on((c), (ticks), (fn), (arg), (cpu))
#define callout_reset(c, ticks, fn, arg) \
	callout_fbsd_reset_on((c), (ticks), (fn), (arg), -1)
#define callout_reset_curcpu(c, ticks, fn, arg) \
	callout_fbsd_reset_on((c), (ticks), (fn), (arg), callout_fbsd_curcpu(c))
#define callout_schedule_on(c, ticks, cpu) \
	callout_fbsd_schedule_on((c), (ticks), (cpu))
#define callout_schedule(c, ticks) callout_fbsd_schedule_on((c), (ticks), -1)
#define callout_schedule_curcpu(c, ticks) \
	callout_fbsd_schedule_on((c), (ticks), callout_fbsd_curcpu(c))
#define callout_reset_sbt_on(c, sbt, prec, fn, arg, cpu, flags) \
	callout_fbsd_reset_sbt_on( \
	    (c), (sbt), (prec), (fn), (arg), (cpu), (flags))
#define callout_reset_sbt(c, sbt, prec, fn, arg, flags) \
	callout_fbsd_reset_sbt_on((c), (sbt), (prec), (fn), (arg), -1, (flags))
#define callout_reset_sbt_curcpu(c, sbt, prec, fn, arg, flags) \
	callout_fbsd_reset_sbt_on( \
	    (c), (sbt), (prec), (fn), (arg), callout_fbsd_curcpu(c), (flags))
#define callout_schedule_sbt_on(c, sbt, prec, cpu, flags) \
	callout_fbsd_schedule_sbt_on((c), (sbt), (prec), (cpu), (flags))
#define callout_schedule_sbt(c, sbt, prec, flags) \
	callout_fbsd_schedule_sbt_on((c), (sbt), (prec), -1, (flags))
#define callout_stop(c) callout_fbsd_stop(c)
#define callout_drain(c) callout_fbsd_drain(c)
#define callout_async_drain(c, fn) callout_fbsd_async_drain((c), (fn))
#define callout_pending(c) callout_fbsd_pending(c)
#define callout_active(c) callout_fbsd_active(c)
#define callout_deactivate(c) callout_fbsd_deactivate(c)

/* The default clock's uptime, as a FreeBSD kernel's sbinuptime(). */
#define sbinuptime() callout_clock_sbinuptime(callout_clock_default())
#define getsbinuptime() sbinuptime()

#ifdef __cplusplus
}
#endif

#endif /* !CALLOUT_FREEBSD_H */
