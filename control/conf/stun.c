// SPDX-License-Identifier: GPL-2.0-only
/*
 * stun.c - STUN binding client for endpoint discovery (RFC 5389 §6, §15).
 *
 * Request layout (40 bytes, attribute order fixed - derper's XDP responder expects SOFTWARE at
 * offset 20):
 *   0  type 0x0001 | length 20 | cookie 0x2112a442 | TxID[12]
 *  20  SOFTWARE    0x8022, len 8, "tailnode"
 *  32  FINGERPRINT 0x8028, len 4, CRC-32 of bytes 0..31 XOR 0x5354554e (RFC 5389 §15.5)
 *
 * The owner sends and receives: the daemon through the WireGuard port (a worker's TX, answers punted
 * as PUNT_STUN), so the NAT mapping the server sees is the one peers must use; `meshgate netcheck`
 * through kernel UDP sockets of its own. Both share the TxID bookkeeping below.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sodium.h>
#include "stun.h"

#define STUN_BINDING_REQUEST   0x0001
#define STUN_BINDING_SUCCESS   0x0101
#define ATTR_MAPPED_ADDRESS    0x0001
#define ATTR_XOR_MAPPED        0x0020
#define ATTR_XOR_MAPPED_OLD    0x8020
#define ATTR_SOFTWARE          0x8022
#define ATTR_FINGERPRINT       0x8028
#define FINGERPRINT_XOR        0x5354554eu

struct stun_pending {
	uint8_t txid[STUN_TXID_LEN];
	uint64_t sent_ns;                /* 0 = free slot */
	struct mg_endpoint server;       /* asked: whose round trip an answer measures */
};

struct stun {
	stun_send_fn *send;
	void *send_arg;
	struct stun_pending pending[STUN_PENDING_MAX];
	struct mg_endpoint servers[STUN_SERVERS_MAX];
	size_t n_servers;
	uint64_t next_round_ns;          /* 0 = at the next active tick */
	struct mg_endpoint mapped;
	uint64_t mapped_ns;
	struct stun_stats st;
	stun_rtt_fn *on_rtt;             /* DERP home choice by latency; netcheck's report */
	void *rtt_arg;
};

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

uint32_t stun_crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	/* Bitwise: a request is 32 bytes, a table would not pay for itself. */
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

bool stun_looks_like(const uint8_t *pkt, size_t len)
{
	return len >= STUN_HDR_LEN && (pkt[0] & 0xc0) == 0 && get32(pkt + 4) == STUN_MAGIC_COOKIE;
}

void stun_build_request(uint8_t out[STUN_REQUEST_LEN], const uint8_t txid[STUN_TXID_LEN])
{
	put16(out, STUN_BINDING_REQUEST);
	put16(out + 2, STUN_REQUEST_LEN - STUN_HDR_LEN);
	put32(out + 4, STUN_MAGIC_COOKIE);
	memcpy(out + 8, txid, STUN_TXID_LEN);
	put16(out + 20, ATTR_SOFTWARE);
	put16(out + 22, 8);
	memcpy(out + 24, "tailnode", 8);
	put16(out + 32, ATTR_FINGERPRINT);
	put16(out + 34, 4);
	put32(out + 36, stun_crc32(out, 32) ^ FINGERPRINT_XOR);
}

/* (XOR-)MAPPED-ADDRESS value: reserved, family, port, address (RFC 5389 §15.1, §15.2). For the
 * XOR form the port is XORed with the cookie's top half and the address with cookie || TxID. */
static int parse_addr(const uint8_t *v, size_t vlen, const uint8_t *hdr, bool xored,
		      struct mg_endpoint *ep)
{
	size_t alen;

	if (vlen < 4)
		return -EINVAL;
	if (v[1] == 1)
		alen = 4;
	else if (v[1] == 2)
		alen = 16;
	else
		return -EINVAL;
	if (vlen < 4 + alen)
		return -EINVAL;
	memset(ep, 0, sizeof(*ep));
	ep->family = alen == 4 ? AF_INET : AF_INET6;
	ep->port = get16(v + 2);
	memcpy(ep->addr, v + 4, alen);
	if (xored) {
		ep->port ^= STUN_MAGIC_COOKIE >> 16;
		for (size_t i = 0; i < alen; i++)
			ep->addr[i] ^= hdr[4 + i];   /* cookie (4) then TxID (12) */
	}
	/* Headscale's embedded STUN server answers an IPv4 client with an IPv4-mapped IPv6 address
	 * (::ffff:a.b.c.d); tailscale's parser unmaps it, and so do we: it is an IPv4 endpoint. */
	if (alen == 16 && !memcmp(ep->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		memmove(ep->addr, ep->addr + 12, 4);
		memset(ep->addr + 4, 0, 12);
		ep->family = AF_INET;
	}
	return 0;
}

int stun_parse_response(const uint8_t *pkt, size_t len, uint8_t txid[STUN_TXID_LEN],
			struct mg_endpoint *mapped)
{
	struct mg_endpoint plain, xor_ep;
	bool have_plain = false, have_xor = false;
	size_t end, off;

	if (!stun_looks_like(pkt, len) || get16(pkt) != STUN_BINDING_SUCCESS)
		return -EINVAL;
	end = STUN_HDR_LEN + (size_t)get16(pkt + 2);
	if (end > len || (end & 3))
		return -EINVAL;
	for (off = STUN_HDR_LEN; off + 4 <= end;) {
		uint16_t type = get16(pkt + off), alen = get16(pkt + off + 2);
		const uint8_t *v = pkt + off + 4;

		if (off + 4 + alen > end)
			return -EINVAL;
		if ((type == ATTR_XOR_MAPPED || type == ATTR_XOR_MAPPED_OLD) && !have_xor)
			have_xor = parse_addr(v, alen, pkt, true, &xor_ep) == 0;
		else if (type == ATTR_MAPPED_ADDRESS && !have_plain)
			have_plain = parse_addr(v, alen, pkt, false, &plain) == 0;
		off += 4 + ((alen + 3u) & ~3u);      /* values are padded to 4 bytes */
	}
	if (!have_xor && !have_plain)
		return -ENOENT;
	memcpy(txid, pkt + 8, STUN_TXID_LEN);
	*mapped = have_xor ? xor_ep : plain;
	return 0;
}

int stun_init(struct stun **out, stun_send_fn *send, void *arg)
{
	struct stun *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->send = send;
	s->send_arg = arg;
	*out = s;
	return 0;
}

void stun_uninit(struct stun *s)
{
	free(s);
}

/* A free slot, else one whose answer is overdue, else the oldest. */
static struct stun_pending *pending_slot(struct stun *s, uint64_t now)
{
	struct stun_pending *best = &s->pending[0];

	for (unsigned i = 0; i < STUN_PENDING_MAX; i++) {
		struct stun_pending *p = &s->pending[i];

		if (!p->sent_ns || now - p->sent_ns > STUN_TIMEOUT_NS)
			return p;
		if (p->sent_ns < best->sent_ns)
			best = p;
	}
	return best;
}

int stun_query(struct stun *s, const struct mg_endpoint *server, uint64_t now)
{
	struct mg_endpoint dst = *server;
	struct stun_pending *p;
	uint8_t req[STUN_REQUEST_LEN];

	if (dst.family != AF_INET && dst.family != AF_INET6)
		return -EAFNOSUPPORT;
	if (!dst.port)
		dst.port = STUN_DEFAULT_PORT;
	p = pending_slot(s, now);
	randombytes_buf(p->txid, sizeof(p->txid));
	stun_build_request(req, p->txid);
	if (!s->send(s->send_arg, &dst, req, sizeof(req))) {
		p->sent_ns = 0;
		return -ENOBUFS;
	}
	p->sent_ns = now ? now : 1;
	p->server = dst;
	s->st.tx++;
	return 0;
}

void stun_receive(struct stun *s, const uint8_t *pkt, size_t len, uint64_t now)
{
	uint8_t txid[STUN_TXID_LEN];
	struct mg_endpoint ep;

	if (stun_parse_response(pkt, len, txid, &ep)) {
		s->st.rx_bad++;
		return;
	}
	for (unsigned i = 0; i < STUN_PENDING_MAX; i++) {
		struct stun_pending *p = &s->pending[i];

		/* TxIDs are random and public: memcmp is fine. Only our own, unexpired requests
		 * may move the mapped address (anyone can send us a STUN-shaped datagram). */
		if (!p->sent_ns || now - p->sent_ns > STUN_TIMEOUT_NS ||
		    memcmp(p->txid, txid, STUN_TXID_LEN))
			continue;
		if (s->on_rtt)
			s->on_rtt(s->rtt_arg, &p->server, &ep, now - p->sent_ns, now);
		p->sent_ns = 0;
		s->mapped = ep;
		s->mapped_ns = now ? now : 1;
		s->st.rx_ok++;
		return;
	}
	s->st.rx_unknown_txid++;
}

void stun_set_servers(struct stun *s, const struct mg_endpoint *servers, size_t n)
{
	s->n_servers = n < STUN_SERVERS_MAX ? n : STUN_SERVERS_MAX;
	memcpy(s->servers, servers, s->n_servers * sizeof(servers[0]));
	s->next_round_ns = 0;            /* new DERP map: ask again now */
}

void stun_tick(struct stun *s, uint64_t now, bool active)
{
	if (!active || !s->n_servers || (s->next_round_ns && now < s->next_round_ns))
		return;
	for (size_t i = 0; i < s->n_servers; i++)
		stun_query(s, &s->servers[i], now);
	/* Jitter keeps a fleet of routers restarted together from STUNning in lockstep. */
	s->next_round_ns = now + STUN_RESTUN_MIN_NS + randombytes_uniform(1000000) *
			   (STUN_RESTUN_SPAN_NS / 1000000);
}

bool stun_mapped(const struct stun *s, struct mg_endpoint *out)
{
	if (!s->mapped_ns)
		return false;
	*out = s->mapped;
	return true;
}

uint64_t stun_mapped_at(const struct stun *s)
{
	return s->mapped_ns;
}

void stun_get_stats(const struct stun *s, struct stun_stats *out)
{
	*out = s->st;
}

void stun_set_rtt_hook(struct stun *s, stun_rtt_fn *fn, void *arg)
{
	s->on_rtt = fn;
	s->rtt_arg = arg;
}
