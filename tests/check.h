/*
 * A minimal test harness: checks that print what was expected and what was
 * got, a misuse recorder for callout_set_misuse_handler, the test scale,
 * and the closing "N passed, N failed" line.  Header-only: each test is one
 * program.
 */
#ifndef CALLOUT_TESTS_CHECK_H
#define CALLOUT_TESTS_CHECK_H

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Sanitizer builds run slower: real-time bounds widen (quality.md). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static int check_failures;
static int check_passes;
static const char *check_current = "?";

#define CHECK(cond) \
	do { \
		if (cond) { \
			check_passes++; \
		} else { \
			check_failures++; \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", \
			    __FILE__, __LINE__, check_current, #cond); \
		} \
	} while (0)

/* Integer equality; prints both sides. */
#define CHECK_EQ(got, want) \
	do { \
		long long check_g_ = (long long)(got); \
		long long check_w_ = (long long)(want); \
		if (check_g_ == check_w_) { \
			check_passes++; \
		} else { \
			check_failures++; \
			fprintf(stderr, \
			    "%s:%d: %s: %s: expected %lld, got %lld\n", \
			    __FILE__, __LINE__, check_current, #got, check_w_, \
			    check_g_); \
		} \
	} while (0)

#define CHECK_U64(got, want) \
	do { \
		uint64_t check_g_ = (uint64_t)(got); \
		uint64_t check_w_ = (uint64_t)(want); \
		if (check_g_ == check_w_) { \
			check_passes++; \
		} else { \
			check_failures++; \
			fprintf(stderr, \
			    "%s:%d: %s: %s: expected %" PRIu64 \
			    ", got %" PRIu64 "\n", \
			    __FILE__, __LINE__, check_current, #got, check_w_, \
			    check_g_); \
		} \
	} while (0)

/* Run one named test case. */
#define RUN(fn) \
	do { \
		check_current = #fn; \
		int check_before_ = check_failures; \
		fn(); \
		fprintf(stderr, "%s %s\n", \
		    check_failures == check_before_ ? "ok  " : "FAIL", #fn); \
	} while (0)

/* The closing line CTest logs show; the exit status is what counts. */
static inline int
check_finish(void)
{
	printf("%d passed, %d failed\n", check_passes, check_failures);
	return check_failures == 0 ? 0 : 1;
}

/* CALLOUT_TEST_SCALE multiplies count-heavy loops (default 1). */
static inline double
check_scale(void)
{
	const char *s = getenv("CALLOUT_TEST_SCALE");
	double v = s != NULL ? atof(s) : 1.0;

	return v > 0 ? v : 1.0;
}

static inline long
check_scaled(long n, long min)
{
	long v = (long)(n * check_scale());

	return v < min ? min : v;
}

static inline void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		continue;
}

/* Wait (up to 5 s) until *flag is nonzero; false on timeout. */
static inline bool
wait_flag(atomic_int *flag)
{
	for (int i = 0; i < 5000; i++) {
		if (atomic_load(flag))
			return true;
		sleep_ms(1);
	}
	return false;
}

/* Misuse recorder: install with callout_set_misuse_handler(check_misuse). */
static atomic_int check_misuse_count;
static char check_misuse_call[64];
static char check_misuse_what[160];
static const void *check_misuse_obj;

static inline void
check_misuse(const char *call, const void *obj, const char *what)
{
	snprintf(check_misuse_call, sizeof(check_misuse_call), "%s", call);
	snprintf(check_misuse_what, sizeof(check_misuse_what), "%s", what);
	check_misuse_obj = obj;
	atomic_fetch_add(&check_misuse_count, 1);
}

/* Expect exactly one misuse report from `call` since the last reset. */
#define CHECK_MISUSE(callname) \
	do { \
		CHECK_EQ(atomic_load(&check_misuse_count), 1); \
		if (strcmp(check_misuse_call, callname) != 0) { \
			check_failures++; \
			fprintf(stderr, \
			    "%s:%d: %s: misuse from %s, expected %s\n", \
			    __FILE__, __LINE__, check_current, \
			    check_misuse_call, callname); \
		} \
		atomic_store(&check_misuse_count, 0); \
	} while (0)

#endif /* !CALLOUT_TESTS_CHECK_H */
