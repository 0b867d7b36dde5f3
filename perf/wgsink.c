// SPDX-License-Identifier: GPL-2.0-only
/*
 * wgsink.c - the home host's side of the traffic benchmark: plain UDP, no WireGuard.
 *
 *   wgsink recv --port P [--run ID] [--seconds S]
 *       counts the datagrams wggen sent through the router (payload.h): good packets and
 *       bytes, lost (gaps), reordered, corrupt, stale (an earlier run), foreign. Runs until
 *       SIGINT/SIGTERM or S seconds, then prints one line:
 *         rx=N bytes=B lost=N reordered=N corrupt=N stale=N foreign=N secs=T
 *       bytes counts inner IPv4 packets (UDP payload + 28), the unit wggen's --size uses;
 *       secs is first to last good packet.
 *   wgsink send --to IP:PORT --size N [--rate PPS] --seconds S [--run ID]
 *       the reverse direction: LAN-side plain UDP towards a tailnet address (wggen's), N-byte
 *       IPv4 packets at PPS (0 = as fast as the socket takes them) for S seconds; prints
 *         sent=N bytes=B secs=T errors=N
 *       (errors: send calls refused for an ICMP error an earlier packet drew, or no buffer)
 *
 * sendmmsg/recvmmsg in bursts of up to 64; the socket is blocking on send, so an unlimited
 * sender is paced by its own socket buffer, and everything it counts was accepted by the kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "payload.h"
#include "rate.h"

#define BURST 64
#define IP_UDP_HDR 28
#define SIZE_MAX_INNER 9000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "wgsink: %s\n", what);
	exit(2);
}

struct opts {
	const char *mode, *to;
	unsigned port, size, run;
	double rate, seconds;
};

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), sz = 8 << 20;

	if (fd < 0)
		die("socket");
	/* a deep buffer: the benchmark measures the router, not this socket (FORCE needs root) */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return fd;
}

static int do_recv(const struct opts *o)
{
	static uint8_t bufs[BURST][SIZE_MAX_INNER];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
	struct mmsghdr msgs[BURST];
	struct iovec iov[BURST];
	struct payload_stats st = { 0 };
	uint64_t t0 = rate_now_ns(), first = 0, last = 0;
	int fd = udp_socket();

	if (bind(fd, (void *)&sa, sizeof(sa)))
		die("bind (port in use?)");
	for (unsigned i = 0; i < BURST; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	while (!stop) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		uint64_t now = rate_now_ns();
		int n;

		if (o->seconds > 0 && now - t0 >= o->seconds * 1e9)
			break;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recvmmsg(fd, msgs, BURST, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		now = rate_now_ns();
		for (int i = 0; i < n; i++) {
			uint32_t len = msgs[i].msg_len;

			if (payload_account(&st, bufs[i], len, o->run, len + IP_UDP_HDR)) {
				if (!first)
					first = now;
				last = now;
			}
		}
	}
	printf("rx=%lu bytes=%lu lost=%lu reordered=%lu corrupt=%lu stale=%lu foreign=%lu secs=%.3f\n",
	       st.rx, st.rx_bytes, payload_lost(&st), st.reordered, st.corrupt, st.stale,
	       st.foreign, (last - first) / 1e9);
	close(fd);
	return 0;
}

static int do_send(const struct opts *o)
{
	static uint8_t bufs[BURST][SIZE_MAX_INNER];
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct mmsghdr msgs[BURST];
	struct iovec iov[BURST];
	uint32_t plen = o->size - IP_UDP_HDR;
	uint64_t seq = 0, errors = 0, t0, now, end;
	char host[64], *colon;
	struct rate r;
	int fd = udp_socket();

	snprintf(host, sizeof(host), "%s", o->to);
	colon = strchr(host, ':');
	if (!colon)
		die("--to IP:PORT");
	*colon = '\0';
	dst.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &dst.sin_addr) != 1)
		die("--to: not an IPv4 address");
	if (connect(fd, (void *)&dst, sizeof(dst)))
		die("connect");
	for (unsigned i = 0; i < BURST; i++) {
		iov[i] = (struct iovec){ bufs[i], plen };
		msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	t0 = now = rate_now_ns();
	end = t0 + (uint64_t)(o->seconds * 1e9);
	rate_init(&r, o->rate, BURST, now);
	while (!stop && (now = rate_now_ns()) < end) {
		unsigned n = rate_allowed(&r, now);
		int sent;

		if (!n) {
			uint64_t w = rate_wait_ns(&r);
			struct timespec ts = { (time_t)(w / 1000000000u), (long)(w % 1000000000u) };

			nanosleep(&ts, NULL);
			continue;
		}
		for (unsigned i = 0; i < n; i++)
			payload_fill(bufs[i], plen, o->run, seq + i);
		sent = sendmmsg(fd, msgs, n, 0);
		if (sent < 0) {
			/* "later" (ENOBUFS, EAGAIN), or an ICMP error an earlier packet drew
			 * (ECONNREFUSED, EHOSTUNREACH, ENETUNREACH): count it and go on */
			if (errno != ENOBUFS && errno != ECONNREFUSED && errno != EINTR && errno != EAGAIN &&
			    errno != EHOSTUNREACH && errno != ENETUNREACH)
				die("sendmmsg");
			errors++;
			continue;
		}
		seq += (unsigned)sent;
		rate_spend(&r, (unsigned)sent);
	}
	printf("sent=%lu bytes=%lu secs=%.3f errors=%lu\n", seq, seq * o->size, (rate_now_ns() - t0) / 1e9,
	       errors);
	close(fd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: wgsink recv --port P [--run ID] [--seconds S]\n"
			"       wgsink send --to IP:PORT --size N [--rate PPS] --seconds S [--run ID]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "port", required_argument, 0, 'p' }, { "run", required_argument, 0, 'r' },
		{ "seconds", required_argument, 0, 's' }, { "to", required_argument, 0, 't' },
		{ "size", required_argument, 0, 'z' }, { "rate", required_argument, 0, 'R' },
		{ 0, 0, 0, 0 },
	};
	struct opts o = { .run = 1, .size = 64 };
	struct sigaction sa = { .sa_handler = on_signal };
	int c;

	if (argc < 2)
		usage();
	o.mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'p': o.port = (unsigned)atoi(optarg); break;
		case 'r': o.run = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's': o.seconds = atof(optarg); break;
		case 't': o.to = optarg; break;
		case 'z': o.size = (unsigned)atoi(optarg); break;
		case 'R': o.rate = atof(optarg); break;
		default: usage();
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(o.mode, "recv")) {
		if (!o.port)
			usage();
		return do_recv(&o);
	}
	if (!strcmp(o.mode, "send")) {
		if (!o.to || o.seconds <= 0)
			usage();
		if (o.size < IP_UDP_HDR + PAYLOAD_MIN || o.size > SIZE_MAX_INNER)
			die("--size: 44..9000 (inner IPv4 packet bytes)");
		return do_send(&o);
	}
	usage();
	return 2;
}
