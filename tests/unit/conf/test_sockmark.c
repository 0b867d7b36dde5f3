// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_sockmark.c - FwMark on meshgate's own sockets (conf/sockmark.c): after sockmark_set(M)
 * a new TCP socket (DERP, Headscale) and a listener (metrics) carry SO_MARK = M, and a connection
 * accepted on the marked listener inherits it; with the mark off nothing is set. Setting SO_MARK
 * needs CAP_NET_ADMIN: without it the test is a counted skip (77).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "sockmark.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #c); \
	printf(__VA_ARGS__); printf("\n"); } } while (0)

static uint32_t mark_of(int fd)
{
	uint32_t m = 0xdeadbeef;
	socklen_t l = sizeof(m);

	return getsockopt(fd, SOL_SOCKET, SO_MARK, &m, &l) ? 0xdeadbeef : m;
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), l, c, acc;
	int ret;

	sockmark_set(0);
	CHECK(sockmark_apply(s) == 0 && mark_of(s) == 0, "mark off: socket has mark %#x", mark_of(s));
	close(s);

	sockmark_set(0x1f);
	s = socket(AF_INET, SOCK_STREAM, 0);
	ret = sockmark_apply(s);
	if (ret == -EPERM) {
		printf("SKIP: sockmark: SO_MARK needs CAP_NET_ADMIN\n");
		return 77;
	}
	CHECK(ret == 0 && mark_of(s) == 0x1f, "apply %d, mark %#x, want 0x1f", ret, mark_of(s));
	close(s);

	/* A listener like the metrics one: what it accepts carries the mark too. */
	l = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(!sockmark_apply(l), "listener not marked");
	CHECK(!bind(l, (struct sockaddr *)&a, sizeof(a)) && !listen(l, 1) &&
	      !getsockname(l, (struct sockaddr *)&a, &al), "listen: %s", strerror(errno));
	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(!connect(c, (struct sockaddr *)&a, sizeof(a)), "connect: %s", strerror(errno));
	acc = accept(l, NULL, NULL);
	CHECK(acc >= 0 && mark_of(acc) == 0x1f, "accepted connection mark %#x, want 0x1f", mark_of(acc));
	CHECK(mark_of(c) == 0, "the unmarked client socket got mark %#x", mark_of(c));
	close(acc);
	close(c);
	close(l);
	sockmark_set(0);
	printf("sockmark: %d failures\n", failures);
	return failures != 0;
}
