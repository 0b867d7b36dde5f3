// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_frame_pool.c - the frame pool's debug-build ownership check (io/port.h): a frame put back
 * twice, or put back while it never left, aborts the process; correct use does not. Each case
 * runs in a child (a death test) and the parent reads how it ended. Release builds (NDEBUG) have
 * no check: the test is then a counted skip (exit 77).
 *
 *   1  get, put                       exits normally
 *   2  get, put, put                  SIGABRT (double put)
 *   3  put of a frame still in pool   SIGABRT
 *   4  get of all, put of all         exits normally, pool full again
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "io/port.h"

static int failures;

/* Runs case @n in a child; returns its wait status. */
static int run_child(int n)
{
	struct rlimit no_core = { 0, 0 };
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		struct io_port p;
		uint64_t a;

		setrlimit(RLIMIT_CORE, &no_core);
		if (io_port_alloc(&p, 0))
			_exit(3);
		switch (n) {
		case 1:
			a = io_frame_get(&p);
			io_frame_put(&p, a + 300);         /* any offset inside the frame names it */
			break;
		case 2:
			a = io_frame_get(&p);
			io_frame_put(&p, a);
			io_frame_put(&p, a);
			break;
		case 3:
			a = io_frame_get(&p);
			io_frame_put(&p, a + IO_FRAME_SIZE);   /* its neighbour never left the pool */
			break;
		case 4: {
			static uint64_t all[IO_NUM_FRAMES];

			for (unsigned i = 0; i < IO_NUM_FRAMES; i++)
				all[i] = io_frame_get(&p);
			if (io_frame_get(&p) != UINT64_MAX)
				_exit(4);
			for (unsigned i = 0; i < IO_NUM_FRAMES; i++)
				io_frame_put(&p, all[i]);
			if (p.npool != IO_NUM_FRAMES)
				_exit(5);
			break;
		}
		}
		io_port_free(&p);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void expect(int n, bool abort_wanted)
{
	int st = run_child(n);
	bool aborted = st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
	bool clean = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;

	if (abort_wanted ? !aborted : !clean) {
		failures++;
		printf("FAIL case %d: wanted %s, child %s %d\n", n, abort_wanted ? "SIGABRT" : "exit 0",
		       st == -1 ? "not run" : WIFSIGNALED(st) ? "signal" : "exit",
		       st == -1 ? 0 : WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	}
}

int main(void)
{
#ifdef NDEBUG
	printf("SKIP: frame pool: release build, no ownership check\n");
	return 77;
#endif
	expect(1, false);
	expect(2, true);
	expect(3, true);
	expect(4, false);
	printf("frame pool: 4 cases, %d failures\n", failures);
	return failures != 0;
}
