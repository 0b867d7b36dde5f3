// SPDX-License-Identifier: GPL-2.0-only
/*
 * forge.c - a handshake forger for the denial-of-service tests (tests/netns/t-dos.sh). It knows
 * only what an attacker on the internet knows, the router's public key, except in `valid` mode:
 *
 *   forge flood  --pub B64 --to IP:PORT --from IP [--count N] [--ports K] --rate PPS --seconds S
 *       mac1-valid initiations (whitepaper 5.4.4: mac1 needs only the responder's public key)
 *       with a random ephemeral, garbage encrypted parts and a random sender index, round-robin
 *       from N consecutive source addresses x K source ports (each a UDP socket bound there).
 *   forge valid  --pub B64 --key FILE --to IP:PORT --from IP [--count N] --rate PPS --seconds S
 *       genuine initiations of a real peer (its private key in FILE), each with a fresh, strictly
 *       increasing TAI64N timestamp; cookie replies are consumed and later messages carry mac2,
 *       so under load only the per-source rate limit stands between them and a response.
 *       --clock-offset SECS puts the peer's clock that far off (negative: it stepped back).
 *   forge replay --pcap FILE --type T --to IP:PORT --from IP[:PORT] [--wait S]
 *       re-sends the first captured UDP payload of WireGuard type T (a tcpdump -w file of
 *       Ethernet/IPv4 frames) from another address, then listens S seconds (default 2).
 *
 * Addresses are IPv4 (a.b.c.d[:port]) or IPv6 ([v6]:port, or bare for --from); --count steps
 * an IPv6 source through its last 32 bits, so consecutive sources share one /64, which is the
 * rate limiter's unit for IPv6.
 *
 * Every mode ends with one line of counts of what came back, for the test to parse:
 *   sent=N cookie=N cookie_bad=N response=N other=N
 * cookie counts well-formed cookie replies (type 3, exactly 64 bytes); cookie_bad any type-3
 * reply of another size. The sockets are ordinary UDP sockets: the source addresses must be
 * configured in the namespace, which is also what lets the replies come back.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "wireguard/cookie.h"
#include "wireguard/hash.h"
#include "wireguard/noise.h"
#include "keyfmt.h"

#define MAX_SOCKS 4096

struct opts {
	const char *mode, *pub, *key, *pcap, *to, *from;
	unsigned count, ports, type;
	double rate, seconds, wait, clock_offset;
};

struct forge {
	struct opts o;
	uint8_t router_pub[32];
	struct sockaddr_storage dst;
	socklen_t dst_len;
	struct pollfd fds[MAX_SOCKS];
	unsigned nfds;
	/* per source socket: a cookie is bound to the source address and port (whitepaper 5.4.7) */
	struct cookie_maker makers[MAX_SOCKS];
	/* valid mode */
	struct noise_static_identity id;
	struct noise_handshake hs;
	uint8_t ts[NOISE_TIMESTAMP_LEN];
	/* what happened */
	unsigned long sent, cookie, cookie_bad, response, other;
};

/* SIGINT/SIGTERM end the run early; the summary line is still printed. */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "forge: %s\n", what);
	exit(2);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
	return (uint64_t)(now_s() * 1e9);
}

/* "a.b.c.d[:port]", "[v6]:port" or a bare v6 address into ss; the port is optional when
 * dflt_port >= 0. Returns the sockaddr length. */
static socklen_t parse_addr(const char *s, struct sockaddr_storage *ss, int dflt_port)
{
	struct sockaddr_in6 *s6 = (void *)ss;
	struct sockaddr_in *s4 = (void *)ss;
	char buf[80], *host = buf, *port = NULL, *end;

	snprintf(buf, sizeof(buf), "%s", s);
	memset(ss, 0, sizeof(*ss));
	if (buf[0] == '[' && (end = strchr(buf, ']'))) {
		host = buf + 1;
		*end = '\0';
		port = end[1] == ':' ? end + 2 : NULL;
	} else if (strchr(buf, ':') == strrchr(buf, ':') && (port = strchr(buf, ':'))) {
		*port++ = '\0';   /* exactly one colon: IPv4 with a port */
	}
	if (!port && dflt_port < 0)
		die("address needs a port");
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port ? (uint16_t)atoi(port) : (uint16_t)dflt_port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
		die("not an IP address");
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port ? (uint16_t)atoi(port) : (uint16_t)dflt_port);
	return sizeof(*s6);
}

/* base + i: for IPv4 the whole address, for IPv6 its last 32 bits; plus j on a fixed port. */
static socklen_t nth_addr(const struct sockaddr_storage *base, unsigned i, unsigned j,
			  struct sockaddr_storage *out)
{
	struct sockaddr_in6 *s6 = (void *)out;
	struct sockaddr_in *s4 = (void *)out;
	uint32_t last;

	*out = *base;
	if (out->ss_family == AF_INET) {
		s4->sin_addr.s_addr = htonl(ntohl(s4->sin_addr.s_addr) + i);
		if (s4->sin_port)
			s4->sin_port = htons((uint16_t)(ntohs(s4->sin_port) + j));
		return sizeof(*s4);
	}
	memcpy(&last, &s6->sin6_addr.s6_addr[12], 4);
	last = htonl(ntohl(last) + i);
	memcpy(&s6->sin6_addr.s6_addr[12], &last, 4);
	if (s6->sin6_port)
		s6->sin6_port = htons((uint16_t)(ntohs(s6->sin6_port) + j));
	return sizeof(*s6);
}

/* One non-blocking UDP socket bound to src; its fd joins the poll set. */
static void add_socket(struct forge *f, const struct sockaddr_storage *src, socklen_t len)
{
	int fd, one = 1;

	if (f->nfds == MAX_SOCKS)
		die("too many sockets");
	if (src->ss_family != f->dst.ss_family)
		die("--from and --to must be the same address family");
	fd = socket(src->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)src, len)) {
		perror("forge: bind");
		die("cannot bind a source address (is it configured in this namespace?)");
	}
	f->fds[f->nfds].fd = fd;
	f->fds[f->nfds].events = POLLIN;
	f->nfds++;
}

/* count consecutive addresses from o.from, ports sockets each (kernel-chosen ports unless
 * --from names one). */
static void open_sources(struct forge *f)
{
	struct sockaddr_storage base, a;

	parse_addr(f->o.from, &base, 0);
	for (unsigned i = 0; i < f->o.count; i++)
		for (unsigned j = 0; j < f->o.ports; j++)
			add_socket(f, &a, nth_addr(&base, i, j, &a));
}

/* Sort what came back: the counts are the test's evidence. */
static void classify_reply(struct forge *f, unsigned sock, const uint8_t *buf, ssize_t n)
{
	uint8_t type = n >= 4 ? buf[0] : 0;

	if (type == MESSAGE_HANDSHAKE_COOKIE && n == sizeof(struct msg_cookie)) {
		f->cookie++;
		/* in valid mode, take the cookie: later messages carry mac2 */
		if (f->id.has_identity)
			cookie_message_consume(&f->makers[sock], (const void *)buf, now_ns());
	} else if (type == MESSAGE_HANDSHAKE_COOKIE) {
		f->cookie_bad++;
	} else if (type == MESSAGE_HANDSHAKE_RESPONSE && n == sizeof(struct msg_response)) {
		f->response++;
	} else {
		f->other++;
	}
}

static void drain(struct forge *f, int timeout_ms)
{
	uint8_t buf[2048];
	ssize_t n;

	if (poll(f->fds, f->nfds, timeout_ms) <= 0)
		return;
	for (unsigned i = 0; i < f->nfds; i++) {
		if (!(f->fds[i].revents & POLLIN))
			continue;
		while ((n = recv(f->fds[i].fd, buf, sizeof(buf), 0)) >= 0)
			classify_reply(f, i, buf, n);
	}
}

static void send_from(struct forge *f, unsigned sock, const void *msg, size_t len)
{
	if (sendto(f->fds[sock].fd, msg, len, 0, (const struct sockaddr *)&f->dst, f->dst_len) ==
	    (ssize_t)len)
		f->sent++;
	else if (errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED)
		perror("forge: sendto");
}

/* Garbage that passes the cheap check: only mac1 is right (mac2 zero). */
static void forge_initiation(struct forge *f, unsigned sock, struct msg_initiation *m)
{
	randombytes_buf(m, offsetof(struct msg_initiation, macs));
	m->header.type = htole32(MESSAGE_HANDSHAKE_INITIATION);
	cookie_add_mac_to_packet(&f->makers[sock], m, sizeof(*m), now_ns());
}

/* TAI64N as a 96-bit big-endian number, plus one: strictly greater than the last, always. */
static void ts_next(uint8_t ts[NOISE_TIMESTAMP_LEN])
{
	for (int i = NOISE_TIMESTAMP_LEN - 1; i >= 0 && ++ts[i] == 0; i--)
		;
}

static void valid_initiation(struct forge *f, unsigned sock, struct msg_initiation *m)
{
	ts_next(f->ts);
	noise_handshake_clear(&f->hs);
	if (!noise_create_initiation(&f->id, &f->hs, m, randombytes_random(), f->ts))
		die("noise_create_initiation failed (low-order router key?)");
	cookie_add_mac_to_packet(&f->makers[sock], m, sizeof(*m), now_ns());
}

/* Paced sending: at any time t, rate * t messages are out, within one burst. */
static void run_paced(struct forge *f, bool valid)
{
	double start = now_s(), elapsed;
	struct msg_initiation m;
	unsigned long want;
	unsigned next = 0;

	while (!stop && (elapsed = now_s() - start) < f->o.seconds) {
		want = (unsigned long)(elapsed * f->o.rate) + 1;
		for (unsigned burst = 0; f->sent < want && burst < 64; burst++) {
			if (valid)
				valid_initiation(f, next, &m);
			else
				forge_initiation(f, next, &m);
			send_from(f, next, &m, sizeof(m));
			next = (next + 1) % f->nfds;
		}
		drain(f, f->sent < want ? 0 : 1);
	}
	if (!stop)
		drain(f, 200);
}

/*
 * The first UDP payload of WireGuard type `type` in a classic pcap file (tcpdump -w) of
 * Ethernet frames carrying IPv4. Returns its length, 0 if none.
 */
static size_t pcap_find(const char *path, unsigned type, uint8_t *out, size_t cap)
{
	uint8_t gh[24], rh[16], pkt[65536];
	size_t got = 0;
	FILE *fp = fopen(path, "rb");

	if (!fp || fread(gh, 1, sizeof(gh), fp) != sizeof(gh))
		die("cannot read the pcap file");
	if (gh[0] != 0xd4 || gh[1] != 0xc3 || gh[20] != 1)   /* little-endian, usec, linktype 1 */
		die("need a little-endian pcap of Ethernet frames (tcpdump -w)");
	while (!got && fread(rh, 1, sizeof(rh), fp) == sizeof(rh)) {
		uint32_t caplen = rh[8] | rh[9] << 8 | rh[10] << 16 | (uint32_t)rh[11] << 24;
		size_t ihl, ulen;

		if (caplen > sizeof(pkt) || fread(pkt, 1, caplen, fp) != caplen)
			break;
		if (caplen < 14 + 20 + 8 || pkt[12] != 0x08 || pkt[13] != 0x00 || pkt[14 + 9] != 17)
			continue;
		ihl = (size_t)(pkt[14] & 0x0f) * 4;
		if (14 + ihl + 8 > caplen)
			continue;
		ulen = (size_t)(pkt[14 + ihl + 4] << 8 | pkt[14 + ihl + 5]);
		if (ulen < 8 + 4 || 14 + ihl + ulen > caplen || ulen - 8 > cap || pkt[14 + ihl + 8] != type)
			continue;
		got = ulen - 8;
		memcpy(out, pkt + 14 + ihl + 8, got);
	}
	fclose(fp);
	return got;
}

static void run_replay(struct forge *f)
{
	uint8_t msg[2048];
	size_t len = pcap_find(f->o.pcap, f->o.type, msg, sizeof(msg));
	double end;

	if (!len)
		die("no message of that type in the capture");
	send_from(f, 0, msg, len);
	for (end = now_s() + f->o.wait; !stop && now_s() < end;)
		drain(f, 50);
}

static void usage(void)
{
	fputs("usage: forge flood  --pub B64 --to IP:PORT --from IP [--count N] [--ports K] --rate PPS --seconds S\n"
	      "       forge valid  --pub B64 --key FILE --to IP:PORT --from IP [--count N] --rate PPS --seconds S\n"
	      "                    [--clock-offset SECS]\n"
	      "       forge replay --pcap FILE --type T --to IP:PORT --from IP[:PORT] [--wait S]\n", stderr);
	exit(2);
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pub", 1, 0, 'p' }, { "key", 1, 0, 'k' }, { "pcap", 1, 0, 'c' }, { "type", 1, 0, 't' },
		{ "to", 1, 0, 'T' }, { "from", 1, 0, 'f' }, { "count", 1, 0, 'n' }, { "ports", 1, 0, 'P' },
		{ "rate", 1, 0, 'r' }, { "seconds", 1, 0, 's' }, { "wait", 1, 0, 'w' },
		{ "clock-offset", 1, 0, 'o' }, { 0, 0, 0, 0 },
	};
	int c;

	*o = (struct opts){ .count = 1, .ports = 1, .rate = 1000, .seconds = 1, .wait = 2 };
	if (argc < 2)
		usage();
	o->mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o->pub = optarg; break;
		case 'k': o->key = optarg; break;
		case 'c': o->pcap = optarg; break;
		case 't': o->type = (unsigned)atoi(optarg); break;
		case 'T': o->to = optarg; break;
		case 'f': o->from = optarg; break;
		case 'n': o->count = (unsigned)atoi(optarg); break;
		case 'P': o->ports = (unsigned)atoi(optarg); break;
		case 'r': o->rate = atof(optarg); break;
		case 's': o->seconds = atof(optarg); break;
		case 'w': o->wait = atof(optarg); break;
		case 'o': o->clock_offset = atof(optarg); break;
		default: usage();
		}
	}
	if (!o->to || !o->from || !o->count || !o->ports || o->rate <= 0)
		usage();
}

int main(int argc, char **argv)
{
	static struct forge f;
	uint8_t priv[32];

	if (sodium_init() < 0)
		die("sodium_init");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	parse_opts(&f.o, argc, argv);
	f.dst_len = parse_addr(f.o.to, &f.dst, -1);
	open_sources(&f);
	if (!strcmp(f.o.mode, "replay")) {
		if (!f.o.pcap || !f.o.type)
			usage();
		run_replay(&f);
	} else if (!strcmp(f.o.mode, "flood") || !strcmp(f.o.mode, "valid")) {
		if (!f.o.pub)
			usage();
		if (keyfmt_base64_decode(f.router_pub, f.o.pub))
			die("--pub: not a base64 key");
		for (unsigned i = 0; i < f.nfds; i++)
			cookie_maker_init(&f.makers[i], f.router_pub);
		if (f.o.mode[0] == 'v') {
			if (!f.o.key)
				usage();
			if (keyfmt_read_file(priv, f.o.key))
				die("--key: cannot read a base64 key from the file");
			noise_static_identity_set(&f.id, priv);
			sodium_memzero(priv, sizeof(priv));
			noise_handshake_init(&f.hs, &f.id, f.router_pub, NULL);
			/* A peer whose clock is off by --clock-offset seconds (e.g. -3600: stepped back). */
			{
				struct timespec now;

				clock_gettime(CLOCK_REALTIME, &now);
				tai64n_at(f.ts, (uint64_t)((double)now.tv_sec * 1e9 + now.tv_nsec +
							   f.o.clock_offset * 1e9));
			}
		}
		run_paced(&f, f.o.mode[0] == 'v');
	} else {
		usage();
	}
	printf("sent=%lu cookie=%lu cookie_bad=%lu response=%lu other=%lu\n",
	       f.sent, f.cookie, f.cookie_bad, f.response, f.other);
	return 0;
}
