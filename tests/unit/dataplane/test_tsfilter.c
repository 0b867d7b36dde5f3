// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_tsfilter.c - the packet filter and TSMP on the worker's path out of the tunnel, as a
 * tailscaled subnet router behaves: the real wk_poll over a memory port (io/mem_router.h) with
 * one live peer (100.64.0.2), the router's tailnet address 100.64.0.1 / fd7a:115c:a1e0::1 and
 * the LAN 192.168.77.0/24 advertised.
 *
 *    LAN host .10 --UDP 40000->53--> router ==wg==> peer 100.64.0.2
 *                 <--UDP 53->40000-- (policy allows nothing peer -> LAN: let in as a reply)
 *
 *   1  policy with no rules: a UDP reply to a query the LAN host sent passes; other UDP does not
 *   2  TSMP ping to the router's tailnet address (IPv4, IPv6): a pong, sealed back to the peer
 *   3  TSMP to a LAN address: a ping is answered in the host's name, nothing reaches the LAN;
 *      other TSMP types are dropped as "tsmp"; the ACL never admits protocol 99
 *   4  TSMP from the LAN host to the peer: dropped, nothing sealed
 *   5  allow-none (no policy yet): even the reply is dropped; a TSMP ping is still answered
 *   6  one pass, several packets of a flow: the filter's answer per packet, as without the memo
 *   7  across passes (the flow memo keeps the flow the rules let in per address pair): a later
 *      pass gets the answer its own check would give. Another port of the pair, a SYN after
 *      segments past their SYN, a new policy (its filter maybe where the old one was) and
 *      replies are each judged again
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <urcu-qsbr.h>
#include "worker.h"
#include "io/mem.h"
#include "io/mem_router.h"
#include "crypto/aead.h"
#include "dataplane.h"
#include "pkt.h"
#include "wireguard/messages.h"

static int failures, checks;
#define CHECK(c) do { checks++; if (!(c)) { failures++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

static struct mem_router R;
static struct mem_far far;
static const uint8_t rtr_ts4[4] = { 100, 64, 0, 1 };
static const uint8_t rtr_ts6[16] = { 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, [15] = 1 };
static const uint8_t far_ts6[16] = { 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, [15] = 2 };

/* What one run of the worker sent: the opened inner packets for the peer, the LAN frames. */
struct sent {
	unsigned n_tunnel, n_lan;
	uint8_t tunnel[4][256];
	uint32_t tunnel_len[4];
	uint8_t lan[4][256];
	uint32_t lan_len[4];
};

static uint8_t *frame_new(uint64_t *addr)
{
	uint64_t base = io_frame_get(&R.w->port);

	*addr = base + IO_RX_HEADROOM;
	return base == UINT64_MAX ? NULL : io_port_data(&R.w->port, *addr);
}

static void take(struct sent *s, const uint8_t *f, uint32_t len)
{
	const struct msg_data *m = (const void *)(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
	uint32_t hdrs = ETH_HLEN_ + IP4_HLEN + UDP_HLEN + sizeof(*m);

	if (!memcmp(f, mem_lan.host_mac, 6)) {
		if (s->n_lan < 4 && len - ETH_HLEN_ <= 256) {
			memcpy(s->lan[s->n_lan], f + ETH_HLEN_, len - ETH_HLEN_);
			s->lan_len[s->n_lan] = len - ETH_HLEN_;
		}
		s->n_lan++;
		return;
	}
	if (len > hdrs + AEAD_TAG_LEN && m->header.type == htole32(MESSAGE_DATA) &&
	    le32toh(m->receiver_index) == far.kp.local_index) {
		uint8_t buf[2048];
		struct aead_op op = { .key = far.kp.recv_key, .counter = le64toh(m->counter),
				      .src = m->encrypted_data, .dst = buf, .len = len - hdrs - AEAD_TAG_LEN };

		CHECK(op.len <= sizeof(buf));
		if (aead_open_burst(&op, 1) == 1 && s->n_tunnel < 4 && op.len <= 256) {
			memcpy(s->tunnel[s->n_tunnel], buf, op.len);
			s->tunnel_len[s->n_tunnel] = op.len;
		}
		s->n_tunnel++;
	}
}

static void run(struct sent *s)
{
	struct io_desc out[64];
	unsigned n;

	memset(s, 0, sizeof(*s));
	for (int spin = 0; spin < 4; spin++) {
		wk_poll(R.c);
		rcu_quiescent_state();
		while ((n = io_mem_tx_pop(&R.w->port, out, 64))) {
			for (unsigned i = 0; i < n; i++) {
				take(s, io_port_data(&R.w->port, out[i].addr), out[i].len);
				io_frame_put(&R.w->port, out[i].addr);
			}
		}
		while (ring_peek(&R.w->punt))
			ring_release(&R.w->punt);
	}
}

/* An inner UDP packet src:sport -> dst:dport (4 payload bytes) at b; its length. */
static uint32_t udp_inner(uint8_t *b, int family, const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport)
{
	struct mg_endpoint d = { .family = family, .port = dport };

	memcpy(d.addr, dst, family == AF_INET ? 4 : 16);
	memset(b + (family == AF_INET ? 28 : 48), 0x5a, 4);
	return ipudp_build(b, &d, src, sport, 4) + 4;
}

/* An inner TSMP packet of @type with 8 data bytes (a ping's payload) at b; its length. */
static uint32_t tsmp_inner(uint8_t *b, int family, const uint8_t *src, const uint8_t *dst, uint8_t type)
{
	uint32_t hl = family == AF_INET ? IP4_HLEN : IP6_HLEN, len = hl + 9;

	memset(b, 0, len);
	if (family == AF_INET) {
		struct iphdr *ip = (void *)b;

		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(len);
		ip->id = htons(0x1234);
		ip->ttl = 64;
		ip->protocol = 99;
		memcpy(&ip->saddr, src, 4);
		memcpy(&ip->daddr, dst, 4);
		ip->check = ip4_header_csum(ip);
	} else {
		b[0] = 0x60;
		b[3] = 0x77;             /* flow label 0x00077 */
		b[5] = 9;
		b[6] = 99;
		b[7] = 64;
		memcpy(b + 8, src, 16);
		memcpy(b + 24, dst, 16);
	}
	b[hl] = type;
	memcpy(b + hl + 1, "pingdata", 8);
	return len;
}

/* An inner TCP segment src:sport -> dst:dport with @flags and no payload at b; its length. */
static uint32_t tcp_inner(uint8_t *b, const uint8_t *src, const uint8_t *dst, uint16_t dport, uint8_t flags)
{
	uint32_t len = udp_inner(b, AF_INET, src, 40000, dst, dport) - 4 + 12;
	struct iphdr *ip = (void *)b;

	ip->protocol = IPPROTO_TCP;
	ip->tot_len = htons(len);
	ip->check = 0;
	ip->check = ip4_header_csum(ip);
	memset(b + IP4_HLEN + 4, 0, 16);
	b[IP4_HLEN + 12] = 5 << 4;
	b[IP4_HLEN + 13] = flags;
	return len;
}

/* The peer seals @inner and sends it to the router's endpoint, to be taken by the next pass. */
static void peer_push(const uint8_t *inner, uint32_t ilen)
{
	struct mg_endpoint us = { .family = AF_INET, .port = MEM_LISTEN_PORT };
	uint64_t a;
	uint8_t *f = frame_new(&a);
	struct msg_data *m = (void *)(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
	uint32_t plen = (ilen + 15) & ~15u;
	struct aead_op op = { .key = far.kp.send_key, .counter = far.send_counter++,
			      .src = m->encrypted_data, .dst = m->encrypted_data, .len = plen };

	memset(m->encrypted_data, 0, plen);
	memcpy(m->encrypted_data, inner, ilen);
	m->header.type = htole32(MESSAGE_DATA);
	m->receiver_index = htole32(far.kp.remote_index);
	m->counter = htole64(op.counter);
	aead_seal_burst(&op, 1);
	memcpy(us.addr, mem_lan.router_ip, 4);
	eth_build(f, mem_lan.router_mac, mem_lan.gw_mac, AF_INET);
	ipudp_build(f + ETH_HLEN_, &us, far.ep_ip, MEM_FAR_PORT, sizeof(*m) + plen + AEAD_TAG_LEN);
	CHECK(io_mem_rx_push(&R.w->port, a, ETH_HLEN_ + IP4_HLEN + UDP_HLEN + sizeof(*m) + plen + AEAD_TAG_LEN));
}

/* The peer sends @inner; what the worker did with it. */
static void from_peer(const uint8_t *inner, uint32_t ilen, struct sent *s)
{
	peer_push(inner, ilen);
	run(s);
}

/* The LAN host sends @inner (an IP packet) toward the router's MAC. */
static void from_lan(const uint8_t *inner, uint32_t ilen, struct sent *s)
{
	uint64_t a;
	uint8_t *f = frame_new(&a);

	eth_build(f, mem_lan.router_mac, mem_lan.host_mac, inner[0] >> 4 == 4 ? AF_INET : AF_INET6);
	memcpy(f + ETH_HLEN_, inner, ilen);
	CHECK(io_mem_rx_push(&R.w->port, a, ETH_HLEN_ + ilen));
	run(s);
}

static uint64_t drops(enum mg_drop why)
{
	return R.c->ctr->drops[why];
}

/* Is the packet at b a TSMP pong from @src to @dst carrying "pingdata"? */
static bool is_pong(const uint8_t *b, uint32_t len, int family, const uint8_t *src, const uint8_t *dst)
{
	uint32_t hl = family == AF_INET ? IP4_HLEN : IP6_HLEN;
	uint32_t alen = family == AF_INET ? 4 : 16;

	if (len < hl + 11 || (family == AF_INET ? b[9] : b[6]) != 99 || b[hl] != 'o' ||
	    memcmp(b + hl + 1, "pingdata", 8) || b[hl + 9] || b[hl + 10])
		return false;
	if (family == AF_INET)
		return ntohs(*(const uint16_t *)(b + 2)) == hl + 11 && !memcmp(b + 12, src, 4) &&
		       !memcmp(b + 16, dst, 4) && ip4_header_csum((const struct iphdr *)b) == 0 &&
		       ntohs(*(const uint16_t *)(b + 4)) == (uint16_t)~0x1234;
	return ntohs(*(const uint16_t *)(b + 4)) == 11 && !memcmp(b + 8, src, alen) && !memcmp(b + 24, dst, alen) &&
	       (ntohl(*(const uint32_t *)b) & 0xfffff) == (~0x77u & 0xfffff);
}

static void set_filter(struct filter *f)
{
	struct filter *old = rcu_xchg_pointer(&R.dev->filter, f);

	filter_free(old);            /* this thread is the only reader */
}

static void udp_reply_case(void)
{
	uint8_t b[128];
	struct sent s;
	uint64_t d;

	/* 1 a DNS-like query from the LAN host; its reply passes although no rule allows it */
	from_lan(b, udp_inner(b, AF_INET, mem_lan.host_ip, 40000, far.tun_ip, 53), &s);
	CHECK(s.n_tunnel == 1 && s.n_lan == 0);
	CHECK(R.c->ctr->flows_tracked == 1);
	from_peer(b, udp_inner(b, AF_INET, far.tun_ip, 53, mem_lan.host_ip, 40000), &s);
	CHECK(s.n_lan == 1 && s.n_tunnel == 0);
	CHECK(s.n_lan == 1 && s.lan_len[0] == 32 && s.lan[0][9] == IPPROTO_UDP);
	CHECK(R.c->ctr->flow_replies == 1);
	/* ... but the same peer port to another LAN port, or another peer port, does not */
	d = drops(MG_DROP_FILTERED);
	from_peer(b, udp_inner(b, AF_INET, far.tun_ip, 53, mem_lan.host_ip, 40001), &s);
	CHECK(s.n_lan == 0);
	from_peer(b, udp_inner(b, AF_INET, far.tun_ip, 54, mem_lan.host_ip, 40000), &s);
	CHECK(s.n_lan == 0);
	CHECK(drops(MG_DROP_FILTERED) == d + 2);
	/* IPv6 the same way */
	from_lan(b, udp_inner(b, AF_INET6, mem_lan.host_ip6, 40000, far_ts6, 53), &s);
	CHECK(s.n_tunnel == 1);
	from_peer(b, udp_inner(b, AF_INET6, far_ts6, 53, mem_lan.host_ip6, 40000), &s);
	CHECK(s.n_lan == 1);
}

static void tsmp_cases(void)
{
	uint8_t b[128];
	struct sent s;
	uint64_t d;

	/* 2 pings to the router's tailnet addresses: pongs back through the tunnel */
	from_peer(b, tsmp_inner(b, AF_INET, far.tun_ip, rtr_ts4, 'p'), &s);
	CHECK(s.n_tunnel == 1 && s.n_lan == 0);
	CHECK(s.n_tunnel == 1 && is_pong(s.tunnel[0], s.tunnel_len[0], AF_INET, rtr_ts4, far.tun_ip));
	from_peer(b, tsmp_inner(b, AF_INET6, far_ts6, rtr_ts6, 'p'), &s);
	CHECK(s.n_tunnel == 1 && s.n_lan == 0);
	CHECK(s.n_tunnel == 1 && is_pong(s.tunnel[0], s.tunnel_len[0], AF_INET6, rtr_ts6, far_ts6));
	CHECK(R.c->ctr->tsmp_pongs == 2);

	/* 3 TSMP for a LAN address never reaches the LAN: a ping is answered, the rest dropped */
	from_peer(b, tsmp_inner(b, AF_INET, far.tun_ip, mem_lan.host_ip, 'p'), &s);
	CHECK(s.n_lan == 0 && s.n_tunnel == 1);
	CHECK(s.n_tunnel == 1 && is_pong(s.tunnel[0], s.tunnel_len[0], AF_INET, mem_lan.host_ip, far.tun_ip));
	d = drops(MG_DROP_TSMP);
	from_peer(b, tsmp_inner(b, AF_INET, far.tun_ip, mem_lan.host_ip, '!'), &s);
	CHECK(s.n_lan == 0 && s.n_tunnel == 0);
	from_peer(b, tsmp_inner(b, AF_INET, far.tun_ip, mem_lan.host_ip, 'a'), &s);
	CHECK(s.n_lan == 0 && s.n_tunnel == 0);
	from_peer(b, tsmp_inner(b, AF_INET, far.tun_ip, rtr_ts4, 'o'), &s);
	CHECK(s.n_lan == 0 && s.n_tunnel == 0);
	CHECK(drops(MG_DROP_TSMP) == d + 3);

	/* 4 a LAN host cannot send TSMP in the router's name */
	d = drops(MG_DROP_TSMP);
	from_lan(b, tsmp_inner(b, AF_INET, mem_lan.host_ip, far.tun_ip, 'a'), &s);
	CHECK(s.n_tunnel == 0 && s.n_lan == 0);
	CHECK(drops(MG_DROP_TSMP) == d + 1);
}

static void allow_none_case(void)
{
	uint8_t b[128];
	struct sent s;
	uint64_t d;

	/* 5 no policy yet: the tracked reply is dropped too; a TSMP ping is still answered */
	set_filter(filter_new_allow_none());
	from_lan(b, udp_inner(b, AF_INET, mem_lan.host_ip, 40002, far.tun_ip, 53), &s);
	CHECK(s.n_tunnel == 1);
	d = drops(MG_DROP_FILTERED);
	from_peer(b, udp_inner(b, AF_INET, far.tun_ip, 53, mem_lan.host_ip, 40002), &s);
	CHECK(s.n_lan == 0);
	from_peer(b, udp_inner(b, AF_INET, far.tun_ip, 53, rtr_ts4, 53), &s);   /* to the router itself */
	CHECK(s.n_lan == 0 && s.n_tunnel == 0);
	/* an established TCP segment passes any policy, but not allow-none */
	from_peer(b, tcp_inner(b, far.tun_ip, mem_lan.host_ip, 22, 0x10), &s);
	CHECK(s.n_lan == 0);
	CHECK(drops(MG_DROP_FILTERED) == d + 3);
	from_peer(b, tsmp_inner(b, AF_INET, far.tun_ip, rtr_ts4, 'p'), &s);
	CHECK(s.n_tunnel == 1 && is_pong(s.tunnel[0], s.tunnel_len[0], AF_INET, rtr_ts4, far.tun_ip));
}

/*
 * 6 the worker remembers, for the rest of a pass, the flow the filter let in last: the packets
 * of a burst in one pass get the answer their own check would give. A TCP segment past its SYN
 * passes any policy, and must not open the way for a SYN of the same ports after it; a rule
 * that lets one port in says nothing of another; replies are counted as replies each time.
 */
static void memo_cases(void)
{
	struct filter *f = filter_new();
	struct filter_rule *r = filter_rule_add(f);
	struct mg_ipprefix any4 = { .family = AF_INET, .cidr = 0 }, host = { .family = AF_INET, .cidr = 32 };
	uint8_t b[128];
	struct sent s;
	uint64_t d, replies;

	memcpy(host.addr, mem_lan.host_ip, 4);
	filter_rule_src(r, &any4);
	filter_rule_dst(r, &host, 80, 80);
	filter_rule_proto(r, IPPROTO_TCP);
	filter_rule_proto(r, IPPROTO_UDP);
	set_filter(f);

	/* ACK then SYN of one tuple to port 22 (no rule): the ACK passes, the SYN does not */
	d = drops(MG_DROP_FILTERED);
	peer_push(b, tcp_inner(b, far.tun_ip, mem_lan.host_ip, 22, 0x10));
	peer_push(b, tcp_inner(b, far.tun_ip, mem_lan.host_ip, 22, 0x02));
	peer_push(b, tcp_inner(b, far.tun_ip, mem_lan.host_ip, 22, 0x10));
	run(&s);
	CHECK(s.n_lan == 2 && drops(MG_DROP_FILTERED) == d + 1);
	/* SYN to port 80 (the rule), then its ACKs, and a SYN to 81 with the same source port */
	peer_push(b, tcp_inner(b, far.tun_ip, mem_lan.host_ip, 80, 0x02));
	peer_push(b, tcp_inner(b, far.tun_ip, mem_lan.host_ip, 80, 0x10));
	peer_push(b, tcp_inner(b, far.tun_ip, mem_lan.host_ip, 80, 0x02));
	peer_push(b, tcp_inner(b, far.tun_ip, mem_lan.host_ip, 81, 0x02));
	run(&s);
	CHECK(s.n_lan == 3 && drops(MG_DROP_FILTERED) == d + 2);
	/* UDP: port 80 let in, then 81 in the same pass is not */
	peer_push(b, udp_inner(b, AF_INET, far.tun_ip, 5000, mem_lan.host_ip, 80));
	peer_push(b, udp_inner(b, AF_INET, far.tun_ip, 5000, mem_lan.host_ip, 81));
	peer_push(b, udp_inner(b, AF_INET, far.tun_ip, 5000, mem_lan.host_ip, 80));
	run(&s);
	CHECK(s.n_lan == 2 && drops(MG_DROP_FILTERED) == d + 3);
	/* three replies to a query the LAN host sent, in one pass: three replies counted */
	from_lan(b, udp_inner(b, AF_INET, mem_lan.host_ip, 40100, far.tun_ip, 53), &s);
	replies = R.c->ctr->flow_replies;
	for (int i = 0; i < 3; i++)
		peer_push(b, udp_inner(b, AF_INET, far.tun_ip, 53, mem_lan.host_ip, 40100));
	run(&s);
	CHECK(s.n_lan == 3 && R.c->ctr->flow_replies == replies + 3);
	/* a new policy (no rules) in the next pass: port 80 is judged again, and refused */
	set_filter(filter_new());
	peer_push(b, udp_inner(b, AF_INET, far.tun_ip, 5000, mem_lan.host_ip, 80));
	run(&s);
	CHECK(s.n_lan == 0 && drops(MG_DROP_FILTERED) == d + 4);
}

/* The peer sends @inner in each of @passes passes, one packet a pass; how many reached the LAN. */
static unsigned passes_to_lan(const uint8_t *inner, uint32_t ilen, unsigned passes)
{
	unsigned lan = 0;
	struct sent s;

	for (unsigned i = 0; i < passes; i++) {
		from_peer(inner, ilen, &s);
		lan += s.n_lan;
	}
	return lan;
}

/* A policy that lets anyone reach the LAN host's UDP @port. */
static struct filter *udp_port_filter(uint16_t port)
{
	struct filter *f = filter_new();
	struct filter_rule *r = filter_rule_add(f);
	struct mg_ipprefix any4 = { .family = AF_INET, .cidr = 0 }, host = { .family = AF_INET, .cidr = 32 };

	memcpy(host.addr, mem_lan.host_ip, 4);
	filter_rule_src(r, &any4);
	filter_rule_dst(r, &host, port, port);
	filter_rule_proto(r, IPPROTO_UDP);
	return f;
}

static void ruled_cases(void)
{
	uint8_t b[128];
	struct sent s;
	uint64_t d, replies;

	set_filter(udp_port_filter(80));
	d = drops(MG_DROP_FILTERED);

	/* UDP to port 80 (the rule) in four passes: the pair's memo entry, then the rules' answer
	 * in it; then port 81 of the same pair and source port is refused, and 80 still passes */
	CHECK(passes_to_lan(b, udp_inner(b, AF_INET, far.tun_ip, 6000, mem_lan.host_ip, 80), 4) == 4);
	CHECK(passes_to_lan(b, udp_inner(b, AF_INET, far.tun_ip, 6000, mem_lan.host_ip, 81), 1) == 0);
	CHECK(drops(MG_DROP_FILTERED) == d + 1);
	CHECK(passes_to_lan(b, udp_inner(b, AF_INET, far.tun_ip, 6000, mem_lan.host_ip, 80), 1) == 1);

	/* TCP segments past their SYN to port 22 (no rule) pass, pass after pass; then a SYN of
	 * the same ports does not: their answer was not the rules' answer for a SYN */
	CHECK(passes_to_lan(b, tcp_inner(b, far.tun_ip, mem_lan.host_ip, 22, 0x10), 4) == 4);
	CHECK(passes_to_lan(b, tcp_inner(b, far.tun_ip, mem_lan.host_ip, 22, 0x02), 1) == 0);
	CHECK(drops(MG_DROP_FILTERED) == d + 2);

	/* replies to a query the LAN host sent, one a pass: each is a reply, counted so */
	from_lan(b, udp_inner(b, AF_INET, mem_lan.host_ip, 40200, far.tun_ip, 53), &s);
	CHECK(s.n_tunnel == 1);
	replies = R.c->ctr->flow_replies;
	CHECK(passes_to_lan(b, udp_inner(b, AF_INET, far.tun_ip, 53, mem_lan.host_ip, 40200), 4) == 4);
	CHECK(R.c->ctr->flow_replies == replies + 4);

	/* a new policy without rules (filter_new may hand back the old one's memory): port 80,
	 * let in for passes, is refused from the next pass on */
	CHECK(passes_to_lan(b, udp_inner(b, AF_INET, far.tun_ip, 6000, mem_lan.host_ip, 80), 2) == 2);
	set_filter(filter_new());
	CHECK(passes_to_lan(b, udp_inner(b, AF_INET, far.tun_ip, 6000, mem_lan.host_ip, 80), 2) == 0);
	CHECK(drops(MG_DROP_FILTERED) == d + 4);

	/* a policy for port 90 alone: its first packet takes the pair's entry again, with nothing
	 * of port 80 in it */
	set_filter(udp_port_filter(90));
	CHECK(passes_to_lan(b, udp_inner(b, AF_INET, far.tun_ip, 6000, mem_lan.host_ip, 90), 1) == 1);
	CHECK(passes_to_lan(b, udp_inner(b, AF_INET, far.tun_ip, 6000, mem_lan.host_ip, 80), 1) == 0);
	CHECK(passes_to_lan(b, udp_inner(b, AF_INET, far.tun_ip, 6000, mem_lan.host_ip, 90), 3) == 3);
	CHECK(drops(MG_DROP_FILTERED) == d + 5);
}

int main(void)
{
	struct mg_addrset *addrs;

	if (sodium_init() < 0 || aead_init("auto"))
		return 1;
	rcu_register_thread();
	if (mem_router_init(&R, "tsfilt0", 1280) || mem_router_add_peer(&R, 0, true, &far))
		return printf("FAIL: in-memory router\n"), 1;
	addrs = calloc(1, sizeof(*addrs) + 2 * sizeof(addrs->a[0]));
	addrs->n = 2;
	addrs->a[0] = (struct mg_ipprefix){ .family = AF_INET, .cidr = 32 };
	memcpy(addrs->a[0].addr, rtr_ts4, 4);
	addrs->a[1] = (struct mg_ipprefix){ .family = AF_INET6, .cidr = 128 };
	memcpy(addrs->a[1].addr, rtr_ts6, 16);
	dataplane_publish_addrs(R.dev, addrs);
	set_filter(filter_new());    /* a policy that allows nothing from peers */
	{                            /* ... which still lets an established TCP segment in */
		uint8_t b[128];
		struct sent s;

		from_peer(b, tcp_inner(b, far.tun_ip, mem_lan.host_ip, 22, 0x10), &s);
		CHECK(s.n_lan == 1);
	}

	udp_reply_case();
	tsmp_cases();
	allow_none_case();
	memo_cases();
	ruled_cases();

	set_filter(NULL);
	free(rcu_xchg_pointer(&R.dev->addrs, NULL));
	CHECK(mem_router_free(&R) == 0);                   /* every frame back in the pool */
	rcu_unregister_thread();
	printf("tsfilter: %d checks, %d failures\n", checks, failures);
	return failures != 0;
}
