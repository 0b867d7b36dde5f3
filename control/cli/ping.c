// SPDX-License-Identifier: GPL-2.0-only
/*
 * ping.c - `meshgate ping [-c FILE] [--count N] [--timeout SECS] PEER-OR-IP`, shaped like
 * `tailscale ping`: finds the peer whose allowed IPs hold the address (longest prefix) or whose
 * public key starts with the argument, sends ICMP echo requests to it through the tunnel (the
 * daemon routes every allowed IP to its TUN device), and prints
 *     pong from NAME (IP) via ENDPOINT in 1.23ms
 * for the first reply, then stops (meshgate's only path is direct, so the first pong is the
 * answer tailscale's --until-direct waits for). "ping "IP" timed out" per lost request; exit 1
 * with "no reply" after N.
 *
 * Proof that the reply crossed the tunnel: the peer's rx_bytes (UAPI) must grow across the
 * exchange; if it did not, the kernel answered from elsewhere and we say so.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sodium.h>
#include "cli.h"
#include "ping.h"
#include "addrfmt.h"
#include "keyfmt.h"

struct pinger {
	int fd, family;
	bool raw;                        /* SOCK_RAW: IPv4 replies carry the IP header */
	union { struct sockaddr_in v4; struct sockaddr_in6 v6; } dst;
	uint16_t id;
	uint8_t cookie[16];              /* random payload: tells our replies from anyone else's */
};

/* The peer for @arg: longest allowed-IP match for an address, else a public-key prefix. */
static const struct cli_peer *find_peer(const struct cli_device *d, const char *arg, struct mg_ipprefix *ip)
{
	const struct cli_peer *best = NULL;
	int best_cidr = -1;

	if (!addrfmt_parse_prefix(ip, arg) && (ip->cidr == 32 || ip->cidr == 128)) {
		for (size_t i = 0; i < d->n_peers; i++)
			for (size_t j = 0; j < d->peers[i].n_ips; j++) {
				struct mg_ipprefix p;

				if (!addrfmt_parse_prefix(&p, d->peers[i].ips[j]) && mg_prefix_contains(&p, ip->family, ip->addr) &&
				    p.cidr > best_cidr)
					best = &d->peers[i], best_cidr = p.cidr;
			}
		return best;
	}
	for (size_t i = 0; i < d->n_peers; i++) {
		char key[KEYFMT_BASE64_LEN + 1];

		keyfmt_base64_encode(key, d->peers[i].public_key);
		if (!strncmp(key, arg, strlen(arg)) && strcmp(cli_peer_tailnet_ip(&d->peers[i]), "-")) {
			addrfmt_parse_prefix(ip, cli_peer_tailnet_ip(&d->peers[i]));
			return &d->peers[i];
		}
	}
	return NULL;
}

/* Unprivileged ICMP datagram sockets when net.ipv4.ping_group_range allows, raw ones as root. */
static int pinger_open(struct pinger *pg, const struct mg_ipprefix *ip)
{
	int proto = ip->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;

	memset(pg, 0, sizeof(*pg));
	pg->family = ip->family;
	pg->fd = socket(ip->family, SOCK_DGRAM | SOCK_CLOEXEC, proto);
	if (pg->fd < 0) {
		pg->fd = socket(ip->family, SOCK_RAW | SOCK_CLOEXEC, proto);
		pg->raw = true;
	}
	if (pg->fd < 0)
		return -errno;
	if (ip->family == AF_INET) {
		pg->dst.v4.sin_family = AF_INET;
		memcpy(&pg->dst.v4.sin_addr, ip->addr, 4);
	} else {
		pg->dst.v6.sin6_family = AF_INET6;
		memcpy(&pg->dst.v6.sin6_addr, ip->addr, 16);
	}
	randombytes_buf(&pg->id, sizeof(pg->id));
	randombytes_buf(pg->cookie, sizeof(pg->cookie));
	return 0;
}

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons(~s & 0xffff);
}

static int pinger_send(struct pinger *pg, uint16_t seq)
{
	uint8_t pkt[8 + sizeof(pg->cookie)];

	pkt[0] = pg->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	pkt[1] = 0;
	memset(pkt + 2, 0, 2);
	memcpy(pkt + 4, &pg->id, 2);
	pkt[6] = seq >> 8, pkt[7] = seq & 0xff;
	memcpy(pkt + 8, pg->cookie, sizeof(pg->cookie));
	/* ICMPv6 checksums cover a pseudo-header: the kernel fills them. ICMPv4 on a raw socket: us. */
	if (pg->family == AF_INET) {
		uint16_t c = csum(pkt, sizeof(pkt));

		memcpy(pkt + 2, &c, 2);
	}
	if (sendto(pg->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&pg->dst,
		   pg->family == AF_INET ? sizeof(pg->dst.v4) : sizeof(pg->dst.v6)) < 0)
		return -errno;
	return 0;
}

/* Is @buf an echo reply to @seq carrying our cookie? (Datagram sockets rewrite the id.) */
static bool is_our_reply(const struct pinger *pg, const uint8_t *buf, ssize_t n, uint16_t seq)
{
	uint8_t want = pg->family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;

	if (pg->raw && pg->family == AF_INET && n >= 20) {
		size_t ihl = (buf[0] & 0x0f) * 4u;

		buf += ihl, n -= ihl;
	}
	return n >= (ssize_t)(8 + sizeof(pg->cookie)) && buf[0] == want && (buf[6] << 8 | buf[7]) == seq &&
	       !memcmp(buf + 8, pg->cookie, sizeof(pg->cookie));
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Waits up to @timeout_ms for the reply to @seq. RTT in ms, or -1 on timeout. */
static double pinger_wait(struct pinger *pg, uint16_t seq, double sent, int timeout_ms)
{
	uint8_t buf[2048];

	for (;;) {
		int left = timeout_ms - (int)(now_ms() - sent);
		struct pollfd pfd = { .fd = pg->fd, .events = POLLIN };
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return -1;
		n = recv(pg->fd, buf, sizeof(buf), 0);
		if (n > 0 && is_our_reply(pg, buf, n, seq))
			return now_ms() - sent;
	}
}

static uint64_t peer_rx(const char *name, const uint8_t key[32], char *endpoint, size_t eplen)
{
	struct cli_device d;
	uint64_t rx = 0;

	if (cli_uapi_get(name, &d))
		return 0;
	for (size_t i = 0; i < d.n_peers; i++)
		if (!memcmp(d.peers[i].public_key, key, 32)) {
			rx = d.peers[i].rx_bytes;
			snprintf(endpoint, eplen, "%s", d.peers[i].endpoint);
		}
	cli_device_free(&d);
	return rx;
}

static int ping_loop(const struct cli_target *t, const struct cli_peer *peer, const char *ipstr,
		     struct pinger *pg, unsigned count, int timeout_ms)
{
	char name[12], ep[64] = "";
	uint64_t rx0 = peer_rx(t->name, peer->public_key, ep, sizeof(ep));

	cli_peer_name(name, peer->public_key);
	for (unsigned seq = 1; seq <= count; seq++) {
		double sent = now_ms(), rtt;
		int ret = pinger_send(pg, (uint16_t)seq);

		if (ret) {
			fprintf(stderr, "meshgate ping %s: %s\n", ipstr, strerror(-ret));
			return 1;
		}
		rtt = pinger_wait(pg, (uint16_t)seq, sent, timeout_ms);
		if (rtt < 0) {
			printf("ping \"%s\" timed out\n", ipstr);
			continue;
		}
		if (peer_rx(t->name, peer->public_key, ep, sizeof(ep)) == rx0) {
			printf("pong from %s (%s) in %.2fms, but not through the tunnel: the peer's rx counter did not move\n",
			       name, ipstr, rtt);
			return 1;
		}
		printf("pong from %s (%s) via %s in %.2fms\n", name, ipstr, ep[0] ? ep : "(no endpoint)", rtt);
		return 0;
	}
	printf("no reply\n");
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: meshgate ping [-c FILE] [--count N] [--timeout SECS] PEER-OR-IP\n");
	return 2;
}

int ping_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	unsigned count = 10;
	double timeout_s = 5;
	struct cli_target t;
	struct cli_device d;
	const struct cli_peer *peer;
	struct mg_ipprefix ip;
	struct pinger pg;
	char ipstr[ADDRFMT_PREFIX_MAX];
	int c, ret;

	if (sodium_init() < 0)   /* key derivation (status), random ping ids (ping) */
		return 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'n')
			count = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 't')
			timeout_s = strtod(optarg, NULL);
		else
			return usage();
	}
	if (optind + 1 != argc || !count || timeout_s <= 0)
		return usage();
	if (cli_target_load(&t, config))
		return 1;
	ret = cli_uapi_get(t.name, &d);
	if (ret) {
		fprintf(stderr, "meshgate is not running (%s: %s).\n", t.name, strerror(-ret));
		return 1;
	}
	peer = find_peer(&d, argv[optind], &ip);
	if (!peer) {
		fprintf(stderr, "meshgate ping: no peer has %s in its allowed IPs or as its key\n", argv[optind]);
		cli_device_free(&d);
		return 1;
	}
	inet_ntop(ip.family, ip.addr, ipstr, sizeof(ipstr));
	ret = pinger_open(&pg, &ip);
	if (ret) {
		fprintf(stderr, "meshgate ping: ICMP socket: %s (needs root or net.ipv4.ping_group_range)\n", strerror(-ret));
		cli_device_free(&d);
		return 1;
	}
	ret = ping_loop(&t, peer, ipstr, &pg, count, (int)(timeout_s * 1000));
	close(pg.fd);
	cli_device_free(&d);
	return ret;
}
