/*
 * The NT emulation binds its processors to the default clock for the
 * process's life.  An NT call after that clock was destroyed stops with one
 * line naming the cause instead of using freed memory.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <callout/ntoskrnl.h>

#include "check.h"

static void
nt_call_after_clock_destroyed_aborts_with_a_diagnostic(void)
{
	int fds[2];
	char buf[256] = { 0 };
	int status;
	pid_t pid;

	CHECK(pipe(fds) == 0);
	pid = fork();
	if (pid == 0) {
		struct callout_clock_params p;
		struct callout_clock *clk;
		KTIMER t;
		LARGE_INTEGER due;

		dup2(fds[1], 2);
		callout_clock_params_init(&p);
		clk = callout_clock_create(&p);
		callout_clock_set_default(clk);
		KeInitializeTimer(&t);
		due.QuadPart = -10000;
		KeSetTimer(&t, due, NULL);
		callout_clock_advance(clk, 5); /* fires: nothing pending */
		callout_clock_destroy(clk);
		KeSetTimer(&t, due, NULL);
		_exit(0); /* not reached */
	}
	close(fds[1]);
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(n > 0);
	CHECK(strstr(buf, "called after its clock was destroyed\n") != NULL);
}

int
main(void)
{
	RUN(nt_call_after_clock_destroyed_aborts_with_a_diagnostic);
	return check_finish();
}
