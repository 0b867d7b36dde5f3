/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wctx.h - the state of one worker's loop (struct wctx) and the primitives every stage ends
 * with: drop with a reason, append to the TX list, push on the stage queue, punt to control,
 * and the per-pass caches (next hop, "is it ours", allowed IPs). The bottom of the worker: the
 * stages sit on top of it, poll loop (worker.c) -> rx (worker_rx.c) -> tx (worker_tx.c), and it
 * calls none of them.
 *
 * Ownership: every function taking a struct wpkt consumes the frame: it ends on the transmit
 * list, in the crypto batch, in the stage queue, or dropped back to the pool with a reason.
 */
#ifndef MG_WCTX_H
#define MG_WCTX_H

#include "device.h"
#include "crypto/aead.h"
#include "netlink/nl_snapshot.h"

#define BURST 64u
#define TX_MAX (4 * BURST)
#define STAGE_SLOTS 512u
#define STAGE_PER_PEER 128u              /* a peer's share of its worker's stage queue (as the kernel's) */
#define STAGE_PEER_SLOTS 1024u           /* peers counted at once; a power of two > STAGE_SLOTS */
#define STAGE_PER_NEIGH 32u              /* LAN-bound packets waiting for one next hop's MAC, per worker */
#define RESOLVE_SLOTS 64u                /* next hops whose last resolve request is remembered */
/* One resolve request per next hop this often: control asks the kernel no more often than this
 * (nlmirror_resolve), so requests in between would only fill the punt ring handshakes use. */
#define RESOLVE_INTERVAL_NS (100 * NSEC_PER_MSEC)
#define WK_HOP_SLOTS 16u                /* per-pass next-hop cache (a power of two) */
#define WK_OUTER_SLOTS 8u               /* per-pass outer-header cache (a power of two) */
#define WK_LOCAL_SLOTS 16u              /* per-pass "is it ours" cache (a power of two) */
#define WK_AIP_SLOTS 16u                /* per-pass allowed-IPs cache (a power of two) */
/*
 * Where control-originated packets start in a fresh frame. The outer headers prepended to one
 * (Ethernet, IPv6, UDP, WireGuard: 78 bytes) must not start before the highest received-packet
 * offset minus DPDK's 128-byte headroom, where a DPDK mbuf's buffer starts (io/dpdk.h); and a
 * TXREQ_DATA_MAX packet plus its tag must fit behind it.
 */
#define FRAME_DATA_OFF 1024u
_Static_assert(FRAME_DATA_OFF - 78 >= IO_RX_HEADROOM + 64 * (IO_COLORS - 1) - 128, "control packet headroom");
_Static_assert(FRAME_DATA_OFF + TXREQ_DATA_MAX + 16 <= IO_FRAME_SIZE, "control packet tailroom");

enum wpkt_origin { FROM_LAN, FROM_PEER, FROM_LOCAL };

struct wpkt {
	uint64_t addr;                   /* port offset of the L3 header (frame = io_frame_base(addr)) */
	uint8_t *l3;                     /* same, as a pointer */
	uint32_t len;                    /* L3 length */
	int family;
	uint8_t origin;
	bool natted;                     /* FROM_LAN: a reply nat_in translated, not a LAN-started flow */
	/* crypto batch context */
	struct peer *peer;
	struct keypair *kp;
	uint64_t counter;
	uint32_t plen;                   /* padded plaintext length (seal) */
	struct mg_endpoint ep;           /* outer destination (seal) or source (open) */
	struct nl_l2hop hop;             /* outer next hop (seal) */
};

struct stage_ent {
	struct wpkt pkt;                 /* peer/kp not kept: they are looked up again */
	uint64_t bound_id;               /* the count it is held against (0 = none): see wk_stage */
	uint64_t since;
	uint8_t kind;                    /* STAGE_TUNNEL, STAGE_LAN, STAGE_UDP */
};

enum { STAGE_TUNNEL = 1, STAGE_LAN, STAGE_UDP };

struct wctx {
	struct worker *w;
	struct mg_device *dev;
	struct mg_counters *ctr;
	uint64_t now;
	const struct nl_snapshot *nl;
	const struct nl_snapshot *nl_fixed;   /* engine benchmark: a built table, no kernel mirror */
	uint16_t listen_port;
	uint8_t mac[6];                  /* the NIC's own MAC, read from nl once per pass */

	struct aead_op dec_ops[BURST];
	struct wpkt dec[BURST];
	unsigned ndec;
	struct aead_op enc_ops[BURST];
	struct wpkt enc[BURST];
	unsigned nenc;

	struct io_desc rx[BURST];
	struct io_desc tx[TX_MAX];
	unsigned ntx;

	struct {                         /* the last roam check of this open batch (worker_rx.c) */
		struct peer *peer;           /* NULL = none yet */
		struct mg_endpoint ep;
	} roamed;

	struct stage_ent *stage;         /* ring of STAGE_SLOTS */
	uint32_t stage_head, stage_tail;
	/* Staged packets per peer (by peer id) and per next hop (by a hash with bit 63 set; peer
	 * ids never get there): open addressing, linear probing, no deletion; the whole table is
	 * cleared whenever the queue drains (peer ids are never reused, so a stale id costs only
	 * its slot until then). */
	struct stage_peer { uint64_t id; uint32_t n; } *stage_peers;
	bool stage_peers_dirty;
	uint64_t stage_next_retry;
	struct wk_resolve_ent {          /* the last resolve request per next hop (direct-mapped) */
		uint64_t sent;
		int family;
		uint8_t addr[16];
	} resolve[RESOLVE_SLOTS];

	/* Per-pass caches, direct-mapped by destination; an entry counts only if its pass is
	 * this one (nothing to clear between passes). */
	uint64_t pass;                   /* wk_poll calls so far, from 1 */
	struct wk_hop_ent {              /* next hops found in this pass (wk_hop) */
		uint64_t pass;
		int family;
		uint8_t dst[16];
		struct nl_l2hop hop;
	} hop[WK_HOP_SLOTS];
	struct wk_outer4 {               /* IPv4 outer headers built in this pass (worker_tx.c) */
		uint64_t pass;               /* (the listen port may change between passes) */
		uint16_t port;               /* destination, as p->ep.port */
		uint8_t dst[4], src[4];      /* destination, source addresses */
		uint8_t dst_mac[6], src_mac[6];
		uint32_t sum;                /* the IPv4 header's sum with tot_len and check zero */
		/* Ethernet, IPv4, UDP from byte 2 (lengths and checksum zero), so that the IPv4
		 * header is 4-byte aligned as in a frame */
		_Alignas(8) uint8_t hdr[2 + 14 + 20 + 8];
	} outer4[WK_OUTER_SLOTS];

	struct wk_local_ent {            /* "is it one of our addresses" answers of this pass */
		uint64_t pass;
		int family;
		bool local;
		uint8_t addr[16];
	} local[WK_LOCAL_SLOTS];
	struct wk_aip_ent {              /* allowed-IPs answers of this pass (wk_allowedips) */
		uint64_t pass;
		int family;
		uint8_t addr[16];
		struct peer *peer;           /* NULL: no peer's prefix holds addr */
	} aip[WK_AIP_SLOTS];

	uint64_t icmp_last;              /* ICMP error token bucket */
	uint32_t icmp_tokens;
} __mg_aligned;                          /* written every pass: no line shared with another worker */

/* The context of one worker's loop; NULL without memory. */
struct wctx *wk_ctx_new(struct worker *w);
void wk_ctx_free(struct wctx *c);        /* hands staged frames back to the pool */

void wk_drop(struct wctx *c, struct wpkt *p, enum mg_drop why);
/* Appends a frame to the TX list (flushing a full one first); wk_tx_flush hands the list to the
 * port, kicks it, and drops what the ring did not take. */
void wk_tx(struct wctx *c, uint8_t *frame, uint32_t len);
void wk_tx_flush(struct wctx *c);
void wk_batch_hist(struct wctx *c, unsigned n);

/* Holds a packet until its peer has a session or its next hop a MAC (since = 0: now), or drops
 * it as stage_full. A STAGE_LAN packet has p->hop filled in (the next hop it waits for). wk_stage_pop takes the oldest one off the queue for a retry (false if the
 * queue is empty); wk_stage_drained forgets the per-peer counts once the queue is empty. */
void wk_stage(struct wctx *c, struct wpkt *p, uint8_t kind, uint64_t since);
bool wk_stage_pop(struct wctx *c, struct stage_ent *out);
void wk_stage_drained(struct wctx *c);

/* Ask control to resolve a next hop's MAC, unless this worker asked within RESOLVE_INTERVAL_NS
 * (then counted as resolve_suppressed): a flood staged for one neighbour and retried every
 * STAGE_RETRY_NS costs the punt ring one slot per interval, not one per packet per retry. */
void wk_resolve(struct wctx *c, int family, const uint8_t *nexthop);
/* To control, through the worker's punt ring (a full ring drops and counts punt_full). */
void wk_punt(struct wctx *c, uint8_t kind, const struct mg_endpoint *src, const void *data, uint16_t len);
/* A sealed message for a peer behind DERP (p->ep = 127.3.3.40:<region>): copied to control, which
 * relays it; consumes the frame. */
void wk_punt_relay(struct wctx *c, struct wpkt *p, const uint8_t *msg, uint32_t mlen);
void wk_want_handshake(struct wctx *c, struct peer *peer);

int wk_hop_miss(struct wctx *c, struct wk_hop_ent *e, int family, const uint8_t *dst, struct nl_l2hop *out);
bool wk_is_local_miss(struct wctx *c, struct wk_local_ent *e, int family, const uint8_t *addr);
struct peer *wk_allowedips_miss(struct wctx *c, struct wk_aip_ent *e, int family, const uint8_t *addr);

/* A slot for a destination address: a multiplicative hash of its (folded) 32-bit words. */
static inline unsigned wk_addr_slot(int family, const uint8_t *a, unsigned slots)
{
	uint32_t w[4], x;

	if (family == AF_INET) {
		memcpy(&x, a, 4);
	} else {
		memcpy(w, a, 16);
		x = w[0] ^ w[1] ^ w[2] ^ w[3];
	}
	x ^= x >> 16;                    /* IPv4 hosts differ in the last byte: the word's top */
	return (x * 0x9e3779b1u) >> 24 & (slots - 1);
}

/*
 * nl_snapshot_lookup, remembering successes for the rest of the pass (wk_hop_miss asks the
 * snapshot). A burst goes to few destinations (one LAN host, the endpoints of the peers it
 * carries), and the snapshot cannot change within a pass (it is freed only after our next
 * quiescent state), so answers are kept until the pass ends, a few destinations at once
 * (direct-mapped: many peers in one burst each keep their endpoint's hop). Only successes are
 * kept: a neighbour being resolved is asked again. The hit is inline: every packet asks.
 */
static inline int wk_hop(struct wctx *c, int family, const uint8_t *dst, struct nl_l2hop *out)
{
	struct wk_hop_ent *e = &c->hop[wk_addr_slot(family, dst, WK_HOP_SLOTS)];

	if (e->pass == c->pass && e->family == family &&
	    (family == AF_INET ? !memcmp(e->dst, dst, 4) : !memcmp(e->dst, dst, 16))) {
		*out = e->hop;
		return 0;
	}
	return wk_hop_miss(c, e, family, dst, out);
}

/*
 * nl_snapshot_is_local, remembering answers for the rest of the pass like wk_hop. Every frame
 * asks whether an address is ours (the outer destination of WireGuard, the inner destination out
 * of the tunnel, a LAN packet's destination), and a pass sees few distinct ones.
 */
static inline bool wk_is_local(struct wctx *c, int family, const uint8_t *addr)
{
	struct wk_local_ent *e = &c->local[wk_addr_slot(family, addr, WK_LOCAL_SLOTS)];

	if (e->pass == c->pass && e->family == family &&
	    (family == AF_INET ? !memcmp(e->addr, addr, 4) : !memcmp(e->addr, addr, 16)))
		return e->local;
	return wk_is_local_miss(c, e, family, addr);
}

/*
 * allowedips_lookup, remembering answers for the rest of the pass like wk_hop: each packet out
 * of the tunnel asks twice (its source must be the sender's, its destination may be another
 * peer's) and each packet into it once, for few distinct addresses per pass. An answer is what
 * the trie said earlier in the same RCU read-side section; a peer it names stays allocated until
 * our next quiescent state, and removal still shows as peer->dead.
 */
static inline struct peer *wk_allowedips(struct wctx *c, int family, const uint8_t *addr)
{
	struct wk_aip_ent *e = &c->aip[wk_addr_slot(family, addr, WK_AIP_SLOTS)];

	if (e->pass == c->pass && e->family == family &&
	    (family == AF_INET ? !memcmp(e->addr, addr, 4) : !memcmp(e->addr, addr, 16)))
		return e->peer;
	return wk_allowedips_miss(c, e, family, addr);
}

#endif
