/*
 * The core's misuse catalogue: each forbidden call is reported through the
 * installed handler, naming the call, and then has no effect.  The last case
 * runs without a handler in a child process and checks the one-line
 * diagnostic and the abort.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <callout.h>

#include "check.h"

static struct callout_clock *clk;
static int runs;

static void
count_fn(void *arg)
{
	(void)arg;
	runs++;
}

static struct callout_clock *
make_clock(unsigned flags)
{
	struct callout_clock_params p;

	callout_clock_params_init(&p);
	p.flags = flags;
	return callout_clock_create(&p);
}

static void
uninitialised_callout_is_reported(void)
{
	callout_t c;

	memset(&c, 0xa5, sizeof(c));
	callout_reset(&c, 1, count_fn, NULL);
	CHECK_MISUSE("callout_reset");
	CHECK(!callout_stop(&c));
	CHECK_MISUSE("callout_stop");
	CHECK(!callout_pending(&c));
	CHECK_MISUSE("callout_pending");
	callout_clock_advance(clk, 5);
	CHECK_EQ(runs, 0);
}

static void
destroy_while_pending_is_reported_and_ignored(void)
{
	callout_t c;

	runs = 0;
	callout_init_clock(&c, clk, CALLOUT_MPSAFE);
	callout_reset(&c, 3, count_fn, NULL);
	callout_destroy(&c);
	CHECK_MISUSE("callout_destroy");
	CHECK(callout_pending(&c)); /* still alive and armed */
	callout_clock_advance(clk, 3);
	CHECK_EQ(runs, 1);
	callout_destroy(&c);
	CHECK_EQ(atomic_load(&check_misuse_count), 0);
}

static void
null_handler_is_reported(void)
{
	callout_t c;

	runs = 0;
	callout_init_clock(&c, clk, CALLOUT_MPSAFE);
	callout_reset(&c, 1, NULL, NULL);
	CHECK_MISUSE("callout_reset");
	CHECK(!callout_pending(&c));
	callout_setfunc(&c, NULL, NULL);
	CHECK_MISUSE("callout_setfunc");
	callout_schedule(&c, 1); /* no handler was ever set */
	CHECK_MISUSE("callout_schedule");
	CHECK(!callout_pending(&c));
	callout_destroy(&c);
}

static void
unknown_flags_are_reported(void)
{
	callout_t c;

	memset(&c, 0, sizeof(c));
	callout_init_clock(&c, clk, 0x8000);
	CHECK_MISUSE("callout_init");
	callout_schedule(&c, 1); /* init had no effect: not initialised */
	CHECK_MISUSE("callout_schedule");
}

static callout_t reentrant;

static void
advance_from_handler_fn(void *arg)
{
	(void)arg;
	runs++;
	callout_clock_advance(clk, 10);
}

static void
advance_from_a_handler_is_reported(void)
{
	runs = 0;
	callout_init_clock(&reentrant, clk, CALLOUT_MPSAFE);
	callout_reset(&reentrant, 1, advance_from_handler_fn, NULL);
	uint64_t t0 = callout_clock_ticks(clk);
	callout_clock_advance(clk, 1);
	CHECK_MISUSE("callout_clock_advance");
	CHECK_EQ(runs, 1);
	CHECK_U64(callout_clock_ticks(clk), t0 + 1); /* the inner one: none */
	callout_destroy(&reentrant);
}

struct other_thread_call {
	struct callout_clock *clk;
	callout_t *c;
};

static void *
other_thread_main(void *arg)
{
	struct other_thread_call *o = arg;

	callout_reset(o->c, 1, count_fn, NULL);
	callout_clock_advance(o->clk, 1);
	return NULL;
}

static void
single_owner_clock_from_another_thread_is_reported(void)
{
	struct callout_clock *so = make_clock(CALLOUT_CLOCK_SINGLE_OWNER);
	callout_t c;
	pthread_t t;
	struct other_thread_call o = { so, &c };

	runs = 0;
	callout_init_clock(&c, so, CALLOUT_MPSAFE);
	pthread_create(&t, NULL, other_thread_main, &o);
	pthread_join(t, NULL);
	CHECK_EQ(atomic_load(&check_misuse_count), 2);
	atomic_store(&check_misuse_count, 0);
	CHECK(!callout_pending(&c));
	callout_clock_advance(so, 5);
	CHECK_EQ(runs, 0);
	callout_destroy(&c);
	callout_clock_destroy(so);
}

static void
clock_destroy_with_caller_callout_pending_is_reported(void)
{
	struct callout_clock *k = make_clock(0);
	callout_t c;

	runs = 0;
	callout_init_clock(&c, k, CALLOUT_MPSAFE);
	callout_reset(&c, 2, count_fn, NULL);
	callout_clock_destroy(k);
	CHECK_MISUSE("callout_clock_destroy");
	callout_clock_advance(k, 2); /* the clock still works */
	CHECK_EQ(runs, 1);
	callout_destroy(&c);
	callout_clock_destroy(k);
}

static void
bind_while_pending_is_reported(void)
{
	callout_t c;

	callout_init_clock(&c, clk, CALLOUT_MPSAFE);
	callout_reset(&c, 5, count_fn, NULL);
	callout_bind(&c, 0);
	CHECK_MISUSE("callout_bind");
	callout_stop(&c);
	callout_bind(&c, 7); /* no dispatcher 7 on a one-dispatcher clock */
	CHECK_MISUSE("callout_bind");
	callout_destroy(&c);
	callout_init_clock(&c, clk, 0);
	callout_bind(&c, 0); /* giant callouts stay on dispatcher 0 */
	CHECK_MISUSE("callout_bind");
	callout_destroy(&c);
}

static void
default_handler_prints_one_line_and_aborts(void)
{
	int fds[2];
	pid_t pid;
	char buf[256] = { 0 };
	int status;

	CHECK(pipe(fds) == 0);
	pid = fork();
	if (pid == 0) {
		callout_t c;

		dup2(fds[1], 2);
		callout_set_misuse_handler(NULL);
		memset(&c, 0, sizeof(c));
		callout_stop(&c);
		_exit(0); /* not reached */
	}
	close(fds[1]);
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(n > 0);
	CHECK(strncmp(buf, "libcallout: callout_stop(0x", 27) == 0);
	CHECK(strstr(buf, "not initialised or destroyed\n") != NULL);
	CHECK(strchr(buf, '\n') == buf + n - 1); /* exactly one line */
}

int
main(void)
{
	clk = make_clock(0);
	callout_set_misuse_handler(check_misuse);
	RUN(uninitialised_callout_is_reported);
	RUN(destroy_while_pending_is_reported_and_ignored);
	RUN(null_handler_is_reported);
	RUN(unknown_flags_are_reported);
	RUN(advance_from_a_handler_is_reported);
	RUN(single_owner_clock_from_another_thread_is_reported);
	RUN(clock_destroy_with_caller_callout_pending_is_reported);
	RUN(bind_while_pending_is_reported);
	RUN(default_handler_prints_one_line_and_aborts);
	callout_clock_destroy(clk);
	return check_finish();
}
