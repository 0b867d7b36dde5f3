// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_languard.c - LAN frames into the tunnel through the real worker (wk_poll over the memory
 * port, io/mem_router.h, one peer with a live session): what is sealed, what is dropped, and
 * what the peer gets after opening the message.
 *
 *   #  frame from the LAN host to the peer's tailnet address     expect
 *   1  honest UDP, full checksum                                sealed; inner packet unchanged
 *   2  UDP and TCP with a partial checksum (offload)            sealed with the checksum completed,
 *                                                               checksum_completed counted
 *   3  source 100.64.0.9 / the router's LAN address             dropped, spoofed_source
 *   4  Ethernet broadcast / another host's MAC                  dropped, not_our_mac
 */
#include <sodium.h>
#include <urcu-qsbr.h>
#include "worker.h"
#include "io/mem.h"
#include "io/mem_router.h"
#include "crypto/aead.h"
#include "pkt.h"
#include "wireguard/messages.h"
#include "pktcheck.h"

static struct mem_router R;
static struct mem_far far;

/* Runs the worker; opens what it sealed for the peer into @inner (the last one), returns the
 * count of messages that opened. */
static unsigned run(uint8_t *inner, size_t *ilen)
{
	struct io_desc out[64];
	unsigned n, opened = 0;

	for (int spin = 0; spin < 4; spin++) {
		wk_poll(R.c);
		rcu_quiescent_state();
		while ((n = io_mem_tx_pop(&R.w->port, out, 64))) {
			for (unsigned i = 0; i < n; i++) {
				uint8_t *f = io_port_data(&R.w->port, out[i].addr);
				struct msg_data *m = (void *)(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
				uint32_t hl = ETH_HLEN_ + IP4_HLEN + UDP_HLEN + sizeof(*m) + AEAD_TAG_LEN;

				if (out[i].len > hl && m->header.type == htole32(MESSAGE_DATA)) {
					struct aead_op op = { .key = far.kp.recv_key, .counter = le64toh(m->counter),
							      .src = m->encrypted_data, .dst = m->encrypted_data,
							      .len = out[i].len - hl };

					if (aead_open_burst(&op, 1) == 1) {
						opened++;
						*ilen = op.len;
						memcpy(inner, m->encrypted_data, op.len);
					}
				}
				io_frame_put(&R.w->port, out[i].addr);
			}
		}
		while (ring_peek(&R.w->punt))
			ring_release(&R.w->punt);
	}
	return opened;
}

/* Sends @pkt (len bytes of IP) from the LAN to Ethernet destination @mac; returns the count of
 * sealed messages that opened, the last one's plaintext in @inner. */
static unsigned send_lan(const uint8_t *mac, const uint8_t *pkt, size_t len, uint8_t *inner, size_t *ilen)
{
	uint64_t base = io_frame_get(&R.w->port), a = base + IO_RX_HEADROOM;
	uint8_t *f = io_port_data(&R.w->port, a);

	T_CHECK(base != UINT64_MAX, "frame pool empty");
	eth_build(f, mac, mem_lan.host_mac, pkt[0] >> 4 == 6 ? AF_INET6 : AF_INET);
	memcpy(f + ETH_HLEN_, pkt, len);
	T_CHECK(io_mem_rx_push(&R.w->port, a, (uint32_t)(ETH_HLEN_ + len)), "rx push");
	return run(inner, ilen);
}

/* What an offloading sender leaves in the checksum field: the folded pseudo-header sum. */
static void make_partial(uint8_t *b, size_t len)
{
	size_t off = b[9] == IPPROTO_TCP ? 16 : 6;
	uint16_t p = ref_sum(b + 12, 8, b[9] + (uint32_t)(len - 20));

	b[20 + off] = (uint8_t)(p >> 8);
	b[20 + off + 1] = (uint8_t)p;
}

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t other[6] = { 0x02, 0, 0x5e, 0, 0, 0x99 };
	uint8_t pkt[1600], want[1600], inner[2048];
	char host[16], peer[16], lan[16];
	size_t len, ilen = 0;
	struct mg_counters *ctr;
	uint64_t d;

	if (sodium_init() < 0 || aead_init("auto"))
		return 1;
	rcu_register_thread();
	if (mem_router_init(&R, "langd0", 1280) || mem_router_add_peer(&R, 0, true, &far))
		return printf("FAIL: in-memory router\n"), 1;
	ctr = R.c->ctr;
	inet_ntop(AF_INET, mem_lan.host_ip, host, sizeof(host));
	inet_ntop(AF_INET, far.tun_ip, peer, sizeof(peer));
	inet_ntop(AF_INET, mem_lan.router_ip, lan, sizeof(lan));

	/* #1 */
	len = mkpkt(pkt, 0, host, peer, IPPROTO_UDP, 40000, 53, 200);
	memcpy(want, pkt, len);
	want[8]--;                                   /* the router forwards: TTL one less */
	ref_fix(want, len);
	T_CHECK(send_lan(mem_lan.router_mac, pkt, len, inner, &ilen) == 1, "#1 honest UDP not sealed");
	T_CHECK(ilen >= len && !memcmp(inner, want, len), "#1 inner packet changed");
	T_CHECK(ctr->csum_completed == 0, "#1 a full checksum counted as completed");

	/* #2 */
	for (int tcp = 0; tcp <= 1; tcp++) {
		d = ctr->csum_completed;
		len = mkpkt(pkt, 0, host, peer, tcp ? IPPROTO_TCP : IPPROTO_UDP, 40000, 443, 301);
		memcpy(want, pkt, len);
		want[8]--;
		ref_fix(want, len);
		make_partial(pkt, len);
		T_CHECK(!ref_valid(pkt, len), "#2 tcp=%d: the partial packet verifies", tcp);
		T_CHECK(send_lan(mem_lan.router_mac, pkt, len, inner, &ilen) == 1, "#2 tcp=%d not sealed", tcp);
		T_CHECK(ilen >= len && ref_valid(inner, len) && !memcmp(inner, want, len),
			"#2 tcp=%d: the peer got a wrong checksum", tcp);
		T_CHECK(ctr->csum_completed == d + 1, "#2 tcp=%d: completion not counted", tcp);
	}

	/* #3 */
	d = ctr->drops[MG_DROP_SPOOFED_SOURCE];
	len = mkpkt(pkt, 0, "100.64.0.9", peer, IPPROTO_UDP, 40000, 53, 64);
	T_CHECK(send_lan(mem_lan.router_mac, pkt, len, inner, &ilen) == 0, "#3 tailnet source sealed");
	len = mkpkt(pkt, 0, lan, peer, IPPROTO_UDP, 40000, 53, 64);
	T_CHECK(send_lan(mem_lan.router_mac, pkt, len, inner, &ilen) == 0, "#3 the router's LAN address sealed");
	T_CHECK(ctr->drops[MG_DROP_SPOOFED_SOURCE] == d + 2, "#3 spoofed_source counted %lu, want 2",
		(unsigned long)(ctr->drops[MG_DROP_SPOOFED_SOURCE] - d));

	/* #4 */
	d = ctr->drops[MG_DROP_NOT_OUR_MAC];
	len = mkpkt(pkt, 0, host, peer, IPPROTO_UDP, 40000, 53, 64);
	T_CHECK(send_lan(bcast, pkt, len, inner, &ilen) == 0, "#4 broadcast frame sealed");
	T_CHECK(send_lan(other, pkt, len, inner, &ilen) == 0, "#4 another host's frame sealed");
	T_CHECK(ctr->drops[MG_DROP_NOT_OUR_MAC] == d + 2, "#4 not_our_mac counted %lu, want 2",
		(unsigned long)(ctr->drops[MG_DROP_NOT_OUR_MAC] - d));

	T_CHECK(mem_router_free(&R) == 0, "frames lost");
	rcu_unregister_thread();
	printf("%s\n", t_failures ? "FAILED" : "languard: all cases pass");
	return t_failures != 0;
}
