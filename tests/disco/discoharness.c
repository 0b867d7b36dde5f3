// SPDX-License-Identifier: GPL-2.0-only
/*
 * discoharness.c - the control side of disco and STUN on a plain UDP socket, for tests with
 * the Python peer and STUN server before the worker punts disco/STUN (and in the lab beside
 * meshgate). It classifies datagrams like the worker will, wraps them in a
 * struct punt_msg and calls disco_receive / stun_receive; the send function is a sendto().
 *
 *   discoharness -k PRIVHEX [-p PORT] [-P NODEKEYHEX,DISCOPUBHEX[,ENDPOINT...]]... [-s ENDPOINT]
 *                [-a] [-t SECONDS]
 * -k comes first (peers are keyed to it). -a marks every peer active on each tick (we "send data"), so disco_tick pings and heartbeats.
 * Prints PORT, DISCOPUB, then PATH <nodekey> <endpoint> (path callback), TRUSTED <nodekey>
 * <endpoint> / UNTRUSTED <nodekey> (changes of disco_peer_path) and MAPPED <endpoint> as they
 * happen, and STATS at exit. ENDPOINT is a.b.c.d:port or [v6]:port.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "dataplane.h"
#include "disco.h"
#include "stun.h"

#define MAX_PEERS 16

static int sock = -1;
static volatile sig_atomic_t stop;

static void to_sockaddr(const struct mg_endpoint *ep, struct sockaddr_in6 *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	sa->sin6_port = htons(ep->port);
	if (ep->family == AF_INET) {
		sa->sin6_addr.s6_addr[10] = sa->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sa->sin6_addr.s6_addr[12], ep->addr, 4);
	} else {
		memcpy(&sa->sin6_addr, ep->addr, 16);
	}
}

static void from_sockaddr(struct mg_endpoint *ep, const struct sockaddr_in6 *sa)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(ep, 0, sizeof(*ep));
	ep->port = ntohs(sa->sin6_port);
	if (!memcmp(sa->sin6_addr.s6_addr, v4mapped, 12)) {
		ep->family = AF_INET;
		memcpy(ep->addr, &sa->sin6_addr.s6_addr[12], 4);
	} else {
		ep->family = AF_INET6;
		memcpy(ep->addr, &sa->sin6_addr, 16);
	}
}

static bool udp_send(void *arg, const struct mg_endpoint *dst, const void *msg, uint16_t len)
{
	struct sockaddr_in6 sa;

	(void)arg;
	to_sockaddr(dst, &sa);
	return sendto(sock, msg, len, 0, (struct sockaddr *)&sa, sizeof(sa)) == len;
}

static const struct disco_ops harness_ops = { .send_udp = udp_send };

static const char *ep_str(const struct mg_endpoint *ep, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(ep->family, ep->addr, a, sizeof(a));
	snprintf(buf, n, ep->family == AF_INET ? "%s:%u" : "[%s]:%u", a, ep->port);
	return buf;
}

static int ep_parse(struct mg_endpoint *ep, const char *s)
{
	char a[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	size_t alen;

	if (!colon || (alen = (size_t)(colon - s)) >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, alen);
	a[alen] = 0;
	memset(ep, 0, sizeof(*ep));
	ep->port = (uint16_t)atoi(colon + 1);
	if (a[0] == '[' && a[alen - 1] == ']') {
		a[alen - 1] = 0;
		ep->family = AF_INET6;
		return inet_pton(AF_INET6, a + 1, ep->addr) == 1 ? 0 : -EINVAL;
	}
	ep->family = AF_INET;
	return inet_pton(AF_INET, a, ep->addr) == 1 ? 0 : -EINVAL;
}

static int hex32(uint8_t out[32], const char *s)
{
	return sodium_hex2bin(out, 32, s, 64, NULL, NULL, NULL) == 0 ? 0 : -EINVAL;
}

static void on_path(void *arg, const uint8_t node_key[32], const struct mg_endpoint *ep)
{
	char hex[65], buf[64];

	(void)arg;
	printf("PATH %s %s\n", sodium_bin2hex(hex, sizeof(hex), node_key, 32), ep_str(ep, buf, sizeof(buf)));
	fflush(stdout);
}

/* "NODEKEYHEX,DISCOPUBHEX[,EP...]" */
static int add_peer(struct disco *d, char *spec, uint8_t node_out[32])
{
	struct mg_endpoint eps[DISCO_PEER_EPS_MAX];
	uint8_t disco_key[32];
	size_t n = 0;
	char *tok, *save;

	tok = strtok_r(spec, ",", &save);
	if (!tok || hex32(node_out, tok))
		return -EINVAL;
	tok = strtok_r(NULL, ",", &save);
	if (!tok || hex32(disco_key, tok))
		return -EINVAL;
	while ((tok = strtok_r(NULL, ",", &save)) && n < DISCO_PEER_EPS_MAX)
		if (ep_parse(&eps[n++], tok))
			return -EINVAL;
	return disco_peer_set(d, node_out, disco_key, eps, n);
}

static void handle_datagram(struct disco *d, struct stun *s, uint64_t now)
{
	struct punt_msg m = { 0 };
	struct sockaddr_in6 sa;
	socklen_t salen = sizeof(sa);
	ssize_t n = recvfrom(sock, m.data, sizeof(m.data), MSG_TRUNC, (struct sockaddr *)&sa, &salen);

	/* Like the worker: a datagram that does not fit a punt slot is dropped, never cut. */
	if (n < 0 || (size_t)n > sizeof(m.data))
		return;
	m.len = (uint16_t)n;
	from_sockaddr(&m.src, &sa);
	if (stun_looks_like(m.data, m.len))
		stun_receive(s, m.data, m.len, now);
	else if (disco_looks_like(m.data, m.len))
		disco_receive(d, &m, now);
}

static int open_socket(uint16_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	socklen_t len = sizeof(sa);
	int off = 0;

	sock = socket(AF_INET6, SOCK_DGRAM, 0);
	if (sock < 0)
		return -errno;
	setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));   /* v4 and v6 */
	if (bind(sock, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(sock, (struct sockaddr *)&sa, &len))
		return -errno;
	printf("PORT %u\n", ntohs(sa.sin6_port));
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_stats(const struct disco *d, const struct stun *s)
{
	struct disco_stats ds;
	struct stun_stats ss;

	disco_get_stats(d, &ds);
	stun_get_stats(s, &ss);
	printf("STATS rx_ping=%" PRIu64 " rx_pong=%" PRIu64 " rx_cmm=%" PRIu64 " rx_unknown_key=%" PRIu64
	       " rx_bad_box=%" PRIu64 " rx_bad_msg=%" PRIu64 " tx_ping=%" PRIu64 " tx_pong=%" PRIu64
	       " pong_unmatched=%" PRIu64 " stun_tx=%" PRIu64 " stun_ok=%" PRIu64 "\n",
	       ds.rx_ping, ds.rx_pong, ds.rx_cmm, ds.rx_unknown_key, ds.rx_bad_box, ds.rx_bad_msg,
	       ds.tx_ping, ds.tx_pong, ds.pong_unmatched, ss.tx, ss.rx_ok);
}

/* TRUSTED / UNTRUSTED on each change of a peer's direct path (disco_peer_path). */
static void report_trust(const struct disco *d, uint8_t (*nodes)[32], unsigned npeers, uint64_t now)
{
	static bool trusted[MAX_PEERS];
	struct mg_endpoint ep;
	char hex[65], buf[64];

	for (unsigned i = 0; i < npeers; i++) {
		bool t = disco_peer_path(d, nodes[i], now, &ep);

		if (t == trusted[i])
			continue;
		trusted[i] = t;
		sodium_bin2hex(hex, sizeof(hex), nodes[i], 32);
		if (t)
			printf("TRUSTED %s %s\n", hex, ep_str(&ep, buf, sizeof(buf)));
		else
			printf("UNTRUSTED %s\n", hex);
	}
}

/* The control loop in small: 20 ms ticks, STUN every 2 s until mapped. */
static void run(struct disco *d, struct stun *s, const struct mg_endpoint *stun_server,
		uint8_t (*nodes)[32], unsigned npeers, bool active, double seconds)
{
	uint64_t start = mg_now(), next_tick = start, next_stun = start;
	struct mg_endpoint mapped;
	bool reported = false;
	char buf[64];

	while (!stop && mg_now() - start < (uint64_t)(seconds * 1e9)) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		uint64_t now;

		poll(&pfd, 1, 5);
		now = mg_now();
		if (pfd.revents & POLLIN)
			handle_datagram(d, s, now);
		if (stun_server->family && !reported && now >= next_stun) {
			stun_query(s, stun_server, now);
			next_stun = now + 2000000000ull;
		}
		if (!reported && stun_mapped(s, &mapped)) {
			printf("MAPPED %s\n", ep_str(&mapped, buf, sizeof(buf)));
			fflush(stdout);
			reported = true;
		}
		if (now < next_tick)
			continue;
		next_tick = now + 20000000ull;
		for (unsigned i = 0; active && i < npeers; i++)
			disco_peer_active(d, nodes[i], now);
		disco_tick(d, now);
		report_trust(d, nodes, npeers, now);
	}
}

int main(int argc, char **argv)
{
	uint8_t priv[32], pub[32], nodes[MAX_PEERS][32];
	struct mg_endpoint stun_server = { 0 };
	unsigned npeers = 0, port = 0;
	double seconds = 10;
	bool active = false, have_key = false;
	struct disco *d;
	struct stun *s;
	char hex[65];
	int c;

	if (sodium_init() < 0 || disco_init(&d, &harness_ops, (uint8_t[32]){ 0 }) ||
	    stun_init(&s, udp_send, NULL))
		return 1;
	while ((c = getopt(argc, argv, "k:p:P:s:at:")) != -1) {
		switch (c) {
		case 'k':
			if (hex32(priv, optarg))
				goto usage;
			disco_uninit(d);
			if (disco_init(&d, &harness_ops, priv))
				return 1;
			have_key = true;
			break;
		case 'p': port = (unsigned)atoi(optarg); break;
		case 'P':
			if (!have_key || npeers == MAX_PEERS || add_peer(d, optarg, nodes[npeers++]))
				goto usage;
			break;
		case 's': if (ep_parse(&stun_server, optarg)) goto usage; break;
		case 'a': active = true; break;
		case 't': seconds = atof(optarg); break;
		default: goto usage;
		}
	}
	if (!have_key)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (open_socket((uint16_t)port)) {
		perror("socket");
		return 1;
	}
	disco_set_path_cb(d, on_path, NULL);
	disco_public_key(d, pub);
	printf("DISCOPUB %s\n", sodium_bin2hex(hex, sizeof(hex), pub, 32));
	run(d, s, &stun_server, nodes, npeers, active, seconds);
	print_stats(d, s);
	stun_uninit(s);
	disco_uninit(d);
	close(sock);
	return 0;
usage:
	fprintf(stderr, "usage: %s -k PRIVHEX [-p PORT] [-P NODEKEY,DISCOPUB[,EP...]]... "
		"[-s EP] [-a] [-t SECONDS]\n", argv[0]);
	return 2;
}
