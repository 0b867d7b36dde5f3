// SPDX-License-Identifier: GPL-2.0-only
/*
 * wggen.c - a WireGuard traffic generator that is a real peer of the router under test.
 *
 *   wggen --key FILE --peer-pub B64 --endpoint IP:PORT --src TAILNET_IP --dst IP:PORT
 *         [--size N] [--rate PPS] [--seconds S] [--run ID] [--listen-port P]
 *         [--xdp IFNAME [--queue Q] [--gw-mac MAC] | --sendmmsg] [--no-tx] [--linger S]
 *         [--mtu N] [--crypto BACKEND] [--rekey-after S]
 *
 * It completes a Noise IKpsk2 handshake with the router as initiator (dataplane/wireguard
 * noise.c, cookie.c: the same code the router runs, checked against wireguard-go by the unit
 * and netns suites), then sends transport data messages (type 4) with fresh counters, sealed
 * with the batch AEAD (crypto/aead.h), each carrying an inner IPv4/UDP packet of --size bytes
 * from --src to --dst with the payload of payload.h, at --rate packets/s (token bucket, 0 =
 * unlimited) for --seconds. Transmit is AF_XDP on --xdp IFNAME (TX only, outer headers
 * written here; the next hop's MAC from the ARP table or --gw-mac), or sendmmsg on the UDP
 * socket with --sendmmsg; the summary says which.
 *
 * It also receives on the same UDP socket: data messages from the router are opened, checked
 * against the replay window, and their inner IPv4/UDP payloads to --src counted like wgsink
 * does (so a LAN-side `wgsink send` to --src measures the reverse direction); keepalives are
 * counted. Without data to send it sends a keepalive every few seconds (key confirmation
 * first, then so the router never decides the session is dead). It re-handshakes before
 * REKEY_AFTER_TIME (or every --rekey-after S, to test that path), keeping the previous session
 * for receiving; it does not answer handshakes the router initiates (runs are short).
 *
 * Output: progress on stderr, then one line on stdout for scripts:
 *   tx_mode=xdp|sendmmsg handshake=ok|fail handshakes=N sent=N bytes=B secs=T tx_short=N
 *   rx=N rx_bytes=B rx_lost=N rx_reordered=N rx_corrupt=N rx_stale=N rx_other=N
 *   keepalive_rx=N auth_fail=N replay=N
 * bytes count inner IPv4 packets (--size each); tx_short counts packets the rate allowed but
 * the transmit path had no room for (AF_XDP ring or socket buffer full); rx_other counts
 * datagrams and inner packets that were not this run's payload (unknown receiver index
 * included). handshake=fail when the first handshake failed (exit 1), handshake=lost when a
 * re-handshake failed mid-run (the run stops there).
 * Outer IPv4 only.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "wireguard/cookie.h"
#include "wireguard/hash.h"
#include "wireguard/noise.h"
#include "payload.h"
#include "rate.h"
#include "wggen_xsk.h"
#include "keyfmt.h"

#define BURST 64
#define BUF_LEN 2048
#define INNER_HDR (sizeof(struct iphdr) + sizeof(struct udphdr))
#define HANDSHAKE_ATTEMPTS 4
#define HANDSHAKE_WAIT_NS (3 * NSEC_PER_SEC)
#define KEEPALIVE_EVERY_NS (3 * NSEC_PER_SEC)
/* well before the initiator's REKEY_AFTER_TIME, so the router never sees an old session */
#define REHANDSHAKE_AFTER_NS (REKEY_AFTER_TIME_NS - 20 * NSEC_PER_SEC)

struct opts {
	const char *key, *peer_pub, *endpoint, *src, *dst, *xdp_if, *gw_mac, *crypto;
	unsigned size, run, listen_port, queue, mtu;
	double rate, seconds, linger, rekey_after;
	bool sendmmsg, no_tx;
};

struct stats {
	uint64_t sent, tx_short, keepalive_rx, auth_fail, replay, rx_other, unknown_index;
	unsigned handshakes;
	struct payload_stats rx;
};

struct gen {
	struct opts o;
	int fd;
	struct sockaddr_in ep, self;
	uint32_t inner_src, inner_dst; /* network order */
	uint16_t inner_dport;
	struct noise_static_identity id;
	struct noise_handshake hs;
	struct cookie_maker maker;
	struct cookie_checker checker; /* ours, only to verify mac1 of responses */
	/* current session, and the one before a re-handshake (still receiving) */
	struct noise_keypair cur, prev;
	bool have_cur, have_prev;
	struct wgx *xsk;
	uint64_t last_tx_ns, tx_seq;
	bool hs_lost;
	struct stats st;
	/* inner packet template of --size bytes, padded to padded_len */
	uint8_t inner[BUF_LEN];
	uint32_t padded_len;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "wggen: %s\n", what);
	exit(2);
}

static void parse_v4(const char *s, struct sockaddr_in *sa, bool need_port)
{
	char buf[64], *colon;

	snprintf(buf, sizeof(buf), "%s", s);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		sa->sin_port = htons((uint16_t)atoi(colon + 1));
	} else if (need_port) {
		die("address needs :PORT");
	}
	if (inet_pton(AF_INET, buf, &sa->sin_addr) != 1)
		die("not an IPv4 address (outer and inner IPv4 only)");
}

/* ---- handshake (initiator), whitepaper 5.4.2-5.4.4 ---- */

static struct noise_handshake *lookup_index(void *ctx, uint32_t index)
{
	struct gen *g = ctx;

	return g->hs.state == HANDSHAKE_CREATED_INITIATION && g->hs.local_index == index ? &g->hs : NULL;
}

static bool send_initiation(struct gen *g, uint64_t now)
{
	struct msg_initiation m;
	uint8_t ts[NOISE_TIMESTAMP_LEN];

	noise_handshake_clear(&g->hs);
	tai64n_now(ts);
	if (!noise_create_initiation(&g->id, &g->hs, &m, randombytes_random(), ts))
		return false;
	cookie_add_mac_to_packet(&g->maker, &m, sizeof(m), now);
	return sendto(g->fd, &m, sizeof(m), 0, (void *)&g->ep, sizeof(g->ep)) == sizeof(m);
}

static void rx_datagrams(struct gen *g, uint8_t (*bufs)[BUF_LEN], const uint32_t *lens, unsigned n);

/* A handshake message arrived while we wait: true when the session is up. */
static bool handshake_reply(struct gen *g, uint8_t *buf, uint32_t len, uint64_t now)
{
	const struct sockaddr_in *a = &g->ep;
	uint32_t type;

	if (len < 4)
		return false;
	memcpy(&type, buf, 4);
	type = le32toh(type);
	if (type == MESSAGE_HANDSHAKE_COOKIE && len == sizeof(struct msg_cookie)) {
		/* under load: the next initiation carries mac2 */
		if (cookie_message_consume(&g->maker, (void *)buf, now))
			send_initiation(g, now);
		return false;
	}
	if (type != MESSAGE_HANDSHAKE_RESPONSE || len != sizeof(struct msg_response))
		return false;
	if (cookie_validate_packet(&g->checker, buf, len, (const uint8_t *)&a->sin_addr, 4, a->sin_port,
				   false, now) == INVALID_MAC)
		return false;
	if (!noise_consume_response(&g->id, (void *)buf, lookup_index, g))
		return false;
	if (g->have_cur) {
		noise_keypair_wipe(&g->prev);
		g->prev = g->cur;
		g->have_prev = true;
	}
	if (!noise_derive_keypair(&g->hs, &g->cur, now))
		return false;
	g->have_cur = true;
	g->st.handshakes++;
	return true;
}

static void send_keepalive(struct gen *g, uint64_t now);

/* Blocking: a few initiations REKEY_TIMEOUT-ish apart; data that arrives meanwhile is still
 * counted. Ends with a keepalive, which confirms the new keys to the responder. */
static bool handshake(struct gen *g)
{
	static uint8_t buf[1][BUF_LEN];

	for (unsigned attempt = 0; attempt < HANDSHAKE_ATTEMPTS && !stop; attempt++) {
		uint64_t start = rate_now_ns();

		if (!send_initiation(g, start))
			die("cannot send the initiation (bad router key, or no route?)");
		while (!stop && rate_now_ns() - start < HANDSHAKE_WAIT_NS) {
			struct pollfd pfd = { g->fd, POLLIN, 0 };
			ssize_t len;

			if (poll(&pfd, 1, 50) <= 0)
				continue;
			len = recv(g->fd, buf[0], BUF_LEN, MSG_DONTWAIT);
			if (len <= 0)
				continue;
			if (handshake_reply(g, buf[0], (uint32_t)len, rate_now_ns())) {
				send_keepalive(g, rate_now_ns());
				return true;
			}
			rx_datagrams(g, buf, (uint32_t[]){ (uint32_t)len }, 1);
		}
	}
	return false;
}

/* ---- transmit ---- */

/* The inner packet every data message carries: IPv4/UDP from --src to --dst, ID 0 with DF,
 * UDP checksum 0 (RFC 768: none); the payload's sequence is written per packet. WireGuard
 * pads the plaintext to a multiple of 16 within the MTU (whitepaper 5.4.6). */
static void inner_init(struct gen *g)
{
	struct iphdr *ip = (void *)g->inner;
	struct udphdr *udp = (void *)(ip + 1);
	uint32_t pad = (g->o.size + MESSAGE_PADDING_MULTIPLE - 1) & ~(uint32_t)(MESSAGE_PADDING_MULTIPLE - 1);
	const uint16_t *w = (const void *)ip;
	uint32_t sum = 0;

	g->padded_len = pad > g->o.mtu ? (g->o.size > g->o.mtu ? g->o.size : g->o.mtu) : pad;
	*ip = (struct iphdr){
		.version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_UDP,
		.tot_len = htons((uint16_t)g->o.size), .frag_off = htons(IP_DF),
		.saddr = g->inner_src, .daddr = g->inner_dst,
	};
	for (unsigned i = 0; i < sizeof(*ip) / 2; i++)
		sum += w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip->check = (uint16_t)~sum;
	*udp = (struct udphdr){
		.source = htons(40000), .dest = g->inner_dport,
		.len = htons((uint16_t)(g->o.size - sizeof(*ip))),
	};
}

/* Fill n messages at msgs[] (each message_data_len(padded_len) bytes) and seal them with one
 * nonce reservation and one AEAD burst. Returns the message length. */
static uint32_t build_data(struct gen *g, uint8_t *msgs[], unsigned n)
{
	struct aead_op ops[BURST];
	uint64_t ctr = atomic_fetch_add(&g->cur.send_counter, n);

	for (unsigned i = 0; i < n; i++) {
		struct msg_data *h = (void *)msgs[i];

		h->header.type = htole32(MESSAGE_DATA);
		h->receiver_index = htole32(g->cur.remote_index);
		h->counter = htole64(ctr + i);
		memcpy(h->encrypted_data, g->inner, INNER_HDR);
		payload_fill(h->encrypted_data + INNER_HDR, g->o.size - (uint32_t)INNER_HDR, g->o.run,
			     g->tx_seq + i);
		memset(h->encrypted_data + g->o.size, 0, g->padded_len - g->o.size);
		ops[i] = (struct aead_op){ .key = g->cur.send_key, .counter = ctr + i,
					   .src = h->encrypted_data, .dst = h->encrypted_data,
					   .len = g->padded_len };
	}
	aead_seal_burst(ops, n);
	g->tx_seq += n;
	return (uint32_t)message_data_len(g->padded_len);
}

static unsigned tx_sendmmsg(struct gen *g, unsigned n)
{
	static uint8_t bufs[BURST][BUF_LEN];
	struct mmsghdr mm[BURST];
	struct iovec iov[BURST];
	uint8_t *msgs[BURST];
	uint32_t len;
	int sent;

	for (unsigned i = 0; i < n; i++)
		msgs[i] = bufs[i];
	len = build_data(g, msgs, n);
	for (unsigned i = 0; i < n; i++) {
		iov[i] = (struct iovec){ bufs[i], len };
		mm[i].msg_hdr = (struct msghdr){ .msg_name = &g->ep, .msg_namelen = sizeof(g->ep),
						 .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	sent = sendmmsg(g->fd, mm, n, MSG_DONTWAIT);
	sent = sent < 0 ? 0 : sent;
	/* the sequence numbers of messages the socket refused were never offered: reuse them */
	g->tx_seq -= n - (unsigned)sent;
	return (unsigned)sent;
}

static unsigned tx_xdp(struct gen *g, unsigned n)
{
	uint8_t *msgs[BURST];
	unsigned k = wgx_reserve(g->xsk, n, msgs);

	if (k)
		wgx_submit(g->xsk, k, build_data(g, msgs, k));
	return k;
}

static void send_keepalive(struct gen *g, uint64_t now)
{
	uint8_t buf[message_data_len(0)];
	struct msg_data *h = (void *)buf;
	struct aead_op op = { .key = g->cur.send_key, .src = h->encrypted_data,
			      .dst = h->encrypted_data, .len = 0 };

	op.counter = atomic_fetch_add(&g->cur.send_counter, 1);
	h->header.type = htole32(MESSAGE_DATA);
	h->receiver_index = htole32(g->cur.remote_index);
	h->counter = htole64(op.counter);
	aead_seal_burst(&op, 1);
	sendto(g->fd, buf, sizeof(buf), 0, (void *)&g->ep, sizeof(g->ep));
	g->last_tx_ns = now;
}

/* ---- receive ---- */

static struct noise_keypair *keypair_for(struct gen *g, uint32_t index)
{
	if (g->have_cur && g->cur.local_index == index)
		return &g->cur;
	if (g->have_prev && g->prev.local_index == index)
		return &g->prev;
	return NULL;
}

/* A decrypted plaintext of len bytes (padding included). */
static void rx_inner(struct gen *g, const uint8_t *p, uint32_t len)
{
	const struct iphdr *ip = (const void *)p;
	const struct udphdr *udp;
	uint32_t ihl, tot;

	if (len == 0) {
		g->st.keepalive_rx++;
		return;
	}
	if (len < INNER_HDR || ip->version != 4 || ip->protocol != IPPROTO_UDP ||
	    ip->daddr != g->inner_src) {
		g->st.rx_other++;
		return;
	}
	ihl = ip->ihl * 4u;
	tot = ntohs(ip->tot_len);
	udp = (const void *)(p + ihl);
	if (ihl < sizeof(*ip) || tot > len || tot < ihl + sizeof(*udp) ||
	    ntohs(udp->len) != tot - ihl) {
		g->st.rx_other++;
		return;
	}
	if (!payload_account(&g->st.rx, p + ihl + sizeof(*udp), tot - ihl - (uint32_t)sizeof(*udp),
			     g->o.run, tot))
		g->st.rx_other++;
}

/* Data messages are opened as one burst; handshake messages outside a handshake are ignored. */
static void rx_datagrams(struct gen *g, uint8_t (*bufs)[BUF_LEN], const uint32_t *lens, unsigned n)
{
	struct aead_op ops[BURST];
	struct noise_keypair *kps[BURST];
	unsigned m = 0;
	uint64_t ok;

	for (unsigned i = 0; i < n; i++) {
		struct msg_data *h = (void *)bufs[i];

		if (lens[i] < MESSAGE_MINIMUM_LENGTH || le32toh(h->header.type) != MESSAGE_DATA) {
			g->st.rx_other++;
			continue;
		}
		kps[m] = keypair_for(g, le32toh(h->receiver_index));
		if (!kps[m]) {
			g->st.unknown_index++;
			continue;
		}
		ops[m] = (struct aead_op){ .key = kps[m]->recv_key, .counter = le64toh(h->counter),
					   .src = h->encrypted_data, .dst = h->encrypted_data,
					   .len = lens[i] - (uint32_t)MESSAGE_MINIMUM_LENGTH };
		m++;
	}
	if (!m)
		return;
	ok = aead_open_burst(ops, m);
	for (unsigned i = 0; i < m; i++) {
		if (!(ok >> i & 1)) {
			g->st.auth_fail++;
			continue;
		}
		if (!replay_check(&kps[i]->replay, ops[i].counter)) {
			g->st.replay++;
			continue;
		}
		rx_inner(g, ops[i].dst, ops[i].len);
	}
}

/* Drain what the socket holds, a few bursts at most per call. */
static void rx_poll(struct gen *g)
{
	static uint8_t bufs[BURST][BUF_LEN];
	struct mmsghdr mm[BURST];
	struct iovec iov[BURST];
	uint32_t lens[BURST];

	for (unsigned round = 0; round < 8; round++) {
		int n;

		for (unsigned i = 0; i < BURST; i++) {
			iov[i] = (struct iovec){ bufs[i], BUF_LEN };
			mm[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		n = recvmmsg(g->fd, mm, BURST, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++)
			lens[i] = mm[i].msg_len;
		rx_datagrams(g, bufs, lens, (unsigned)n);
		if (n < BURST)
			return;
	}
}

/* ---- setup and the loop ---- */

static void socket_open(struct gen *g)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)g->o.listen_port) };
	socklen_t len = sizeof(g->self);
	int sz = 8 << 20;

	g->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (g->fd < 0)
		die("socket");
	if (setsockopt(g->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(g->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(g->fd, (void *)&me, sizeof(me)))
		die("bind (--listen-port in use?)");
	/* connect only to learn our source address for the AF_XDP headers; sends name ep */
	if (connect(g->fd, (void *)&g->ep, sizeof(g->ep)) || getsockname(g->fd, (void *)&g->self, &len))
		die("no route to --endpoint");
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6;
}

/* The next hop's MAC: the ARP entry of the endpoint (on-link, as in the lab); the handshake
 * went through the kernel, so the entry is fresh. */
static bool arp_lookup(const char *ifname, struct in_addr ip, uint8_t mac[6])
{
	char line[256], ipstr[INET_ADDRSTRLEN], a[64], hw[64], flags[16], dev[64];
	FILE *f = fopen("/proc/net/arp", "r");
	bool found = false;

	if (!f)
		return false;
	inet_ntop(AF_INET, &ip, ipstr, sizeof(ipstr));
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %*s %15s %63s %*s %63s", a, flags, hw, dev) == 4 &&
		    !strcmp(a, ipstr) && !strcmp(dev, ifname) && strtoul(flags, NULL, 16) & 0x2)
			found = parse_mac(hw, mac);
	fclose(f);
	return found;
}

static bool if_mac(const char *ifname, uint8_t mac[6])
{
	char path[128], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return parse_mac(buf, mac);
}

static const char *xdp_open(struct gen *g)
{
	struct wgx_flow fl = {
		.src_ip = g->self.sin_addr.s_addr, .dst_ip = g->ep.sin_addr.s_addr,
		.src_port = g->self.sin_port, .dst_port = g->ep.sin_port,
	};
	const char *mode;
	int ret;

	if (!if_mac(g->o.xdp_if, fl.src_mac))
		die("--xdp: no such interface");
	if (g->o.gw_mac ? !parse_mac(g->o.gw_mac, fl.dst_mac) :
			  !arp_lookup(g->o.xdp_if, g->ep.sin_addr, fl.dst_mac))
		die("no ARP entry for the endpoint on --xdp IFNAME (give --gw-mac, or use --sendmmsg)");
	if (message_data_len(g->padded_len) > wgx_max_payload())
		die("--size too large for an AF_XDP frame");
	ret = wgx_open(&g->xsk, g->o.xdp_if, g->o.queue, &fl, &mode);
	if (ret) {
		fprintf(stderr, "wggen: AF_XDP socket on %s: %s\n", g->o.xdp_if, strerror(-ret));
		exit(2);
	}
	return mode;
}

static void run(struct gen *g, const char *tx_mode)
{
	uint64_t t0 = rate_now_ns(), now = t0, end = t0 + (uint64_t)(g->o.seconds * 1e9);
	uint64_t linger_end = end + (uint64_t)(g->o.linger * 1e9);
	uint64_t rekey_ns = g->o.rekey_after > 0 ? (uint64_t)(g->o.rekey_after * 1e9) : REHANDSHAKE_AFTER_NS;
	struct rate r;

	rate_init(&r, g->o.rate, BURST, now);
	while (!stop && (now = rate_now_ns()) < linger_end) {
		bool sending = !g->o.no_tx && now < end;
		unsigned n = sending ? rate_allowed(&r, now) : 0;

		if (now - g->cur.birthdate_ns >= rekey_ns && !handshake(g)) {
			g->hs_lost = true;
			break;
		}
		if (n) {
			unsigned want = n;

			n = g->xsk ? tx_xdp(g, n) : tx_sendmmsg(g, n);
			g->st.tx_short += want - n;
			g->st.sent += n;
			rate_spend(&r, n);
			if (n)
				g->last_tx_ns = now;
		} else if (now - g->last_tx_ns >= KEEPALIVE_EVERY_NS) {
			send_keepalive(g, now);
		}
		rx_poll(g);
		if (!n) {
			/* idle: sleep on the socket until the next burst is due (at most 1 ms) */
			uint64_t w = sending ? rate_wait_ns(&r) : 1000000;
			struct timespec ts = { 0, (long)(w > 1000000 ? 1000000 : w) };
			struct pollfd pfd = { g->fd, POLLIN, 0 };

			ppoll(&pfd, 1, &ts, NULL);
		}
	}
	printf("tx_mode=%s handshake=%s handshakes=%u sent=%lu bytes=%lu secs=%.3f tx_short=%lu "
	       "rx=%lu rx_bytes=%lu rx_lost=%lu rx_reordered=%lu rx_corrupt=%lu rx_stale=%lu "
	       "rx_other=%lu keepalive_rx=%lu auth_fail=%lu replay=%lu\n",
	       tx_mode, g->hs_lost ? "lost" : "ok", g->st.handshakes, g->st.sent, g->st.sent * g->o.size,
	       ((now < end ? now : end) - t0) / 1e9, g->st.tx_short, g->st.rx.rx, g->st.rx.rx_bytes,
	       payload_lost(&g->st.rx), g->st.rx.reordered, g->st.rx.corrupt, g->st.rx.stale,
	       g->st.rx_other + g->st.unknown_index, g->st.keepalive_rx, g->st.auth_fail, g->st.replay);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: wggen --key FILE --peer-pub B64 --endpoint IP:PORT --src IP --dst IP:PORT\n"
		"             [--size N] [--rate PPS] [--seconds S] [--run ID] [--listen-port P]\n"
		"             [--xdp IFNAME [--queue Q] [--gw-mac MAC] | --sendmmsg] [--no-tx]\n"
		"             [--linger S] [--mtu N] [--crypto auto|avx2|ipsecmb|sodium|generic]\n"
		"             [--rekey-after S]\n");
	exit(2);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "key", 1, 0, 'k' }, { "peer-pub", 1, 0, 'P' }, { "endpoint", 1, 0, 'e' },
		{ "src", 1, 0, 's' }, { "dst", 1, 0, 'd' }, { "size", 1, 0, 'z' },
		{ "rate", 1, 0, 'r' }, { "seconds", 1, 0, 'S' }, { "run", 1, 0, 'R' },
		{ "listen-port", 1, 0, 'l' }, { "xdp", 1, 0, 'x' }, { "queue", 1, 0, 'q' },
		{ "gw-mac", 1, 0, 'g' }, { "sendmmsg", 0, 0, 'm' }, { "no-tx", 0, 0, 'n' },
		{ "linger", 1, 0, 'L' }, { "mtu", 1, 0, 'M' }, { "crypto", 1, 0, 'c' },
		{ "rekey-after", 1, 0, 'K' }, { 0, 0, 0, 0 },
	};
	int c;

	*o = (struct opts){ .size = 64, .run = 1, .seconds = 3, .linger = 0.5, .mtu = 1420,
			    .crypto = "auto" };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'k': o->key = optarg; break;
		case 'P': o->peer_pub = optarg; break;
		case 'e': o->endpoint = optarg; break;
		case 's': o->src = optarg; break;
		case 'd': o->dst = optarg; break;
		case 'z': o->size = (unsigned)atoi(optarg); break;
		case 'r': o->rate = atof(optarg); break;
		case 'S': o->seconds = atof(optarg); break;
		case 'R': o->run = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'l': o->listen_port = (unsigned)atoi(optarg); break;
		case 'x': o->xdp_if = optarg; break;
		case 'q': o->queue = (unsigned)atoi(optarg); break;
		case 'g': o->gw_mac = optarg; break;
		case 'm': o->sendmmsg = true; break;
		case 'n': o->no_tx = true; break;
		case 'L': o->linger = atof(optarg); break;
		case 'M': o->mtu = (unsigned)atoi(optarg); break;
		case 'c': o->crypto = optarg; break;
		case 'K': o->rekey_after = atof(optarg); break;
		default: usage();
		}
	}
	if (!o->key || !o->peer_pub || !o->endpoint || !o->src || !o->dst)
		usage();
	if (!o->xdp_if == !o->sendmmsg)
		die("choose one transmit path: --xdp IFNAME or --sendmmsg");
	if (o->size < INNER_HDR + PAYLOAD_MIN || o->size + message_data_len(0) > BUF_LEN)
		die("--size: 44..2000 (inner IPv4 packet bytes)");
}

int main(int argc, char **argv)
{
	static struct gen g;
	struct sigaction sa = { .sa_handler = on_signal };
	struct sockaddr_in a;
	uint8_t priv[32], pub[32];
	const char *tx_mode = "sendmmsg";
	uint64_t t;

	parse_opts(argc, argv, &g.o);
	if (sodium_init() < 0 || aead_init(g.o.crypto))
		die("crypto init");
	if (keyfmt_read_file(priv, g.o.key))
		die("--key: cannot read a base64 key from the file");
	if (keyfmt_base64_decode(pub, g.o.peer_pub))
		die("--peer-pub: not a base64 key");
	noise_static_identity_set(&g.id, priv);
	sodium_memzero(priv, sizeof(priv));
	noise_handshake_init(&g.hs, &g.id, pub, NULL);
	cookie_maker_init(&g.maker, pub);
	cookie_checker_init(&g.checker, g.id.static_public);
	parse_v4(g.o.endpoint, &g.ep, true);
	parse_v4(g.o.src, &a, false);
	g.inner_src = a.sin_addr.s_addr;
	parse_v4(g.o.dst, &a, true);
	g.inner_dst = a.sin_addr.s_addr;
	g.inner_dport = a.sin_port;
	inner_init(&g);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	socket_open(&g);

	t = rate_now_ns();
	if (!handshake(&g)) {
		printf("tx_mode=none handshake=fail handshakes=0\n");
		return 1;
	}
	fprintf(stderr, "wggen: handshake complete in %.1f ms (crypto %s)\n",
		(rate_now_ns() - t) / 1e6, aead_backend_name());
	if (g.o.xdp_if)
		tx_mode = strcmp(xdp_open(&g), "zerocopy") ? "xdp-copy" : "xdp-zerocopy";
	run(&g, tx_mode);
	wgx_close(g.xsk);
	noise_keypair_wipe(&g.cur);
	noise_keypair_wipe(&g.prev);
	close(g.fd);
	return 0;
}
