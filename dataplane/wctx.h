/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wctx.h - the state of one worker's loop (struct wctx) and the primitives every stage ends
 * with: drop with a reason, append to the TX list, push on the stage queue, punt to control,
 * and the caches of answers (next hop, "is it ours", allowed IPs). The bottom of the worker: the
 * stages sit on top of it, poll loop (worker.c) -> rx (worker_rx.c) -> tx (worker_tx.c), and it
 * calls none of them.
 *
 * Ownership: every function taking a struct wpkt consumes the frame: it ends on the transmit
 * list, in the crypto batch, in the stage queue, or dropped back to the pool with a reason.
 */
#ifndef MG_WCTX_H
#define MG_WCTX_H

#include "device.h"
#include "pkt.h"
#include "crypto/aead.h"
#include "netlink/nl_snapshot.h"

/*
 * A pass takes up to BURST frames from its port (VPP's vector size): what a pass pays once (the
 * snapshots, the staged and control queues, the TX ring) and what a seal batch pays once per
 * keypair (the nonce block, the byte count, the timers) is shared by more packets, and with many
 * peers interleaved a keypair has more than one packet in a batch. The seal batch is the pass's
 * (SEAL_BATCH), sealed in AEAD calls of up to AEAD_BURST_MAX; the open batch is one AEAD call,
 * whose answer is a 64-bit mask (OPEN_BATCH). Measured against 64-frame passes with
 * perf/engine-bench (perf/README.md): 64 interleaved peers at 64 B +4.7% sealing, +0.7% opening.
 */
#define BURST 256u
#define OPEN_BATCH AEAD_BURST_MAX
#define SEAL_BATCH BURST
_Static_assert(OPEN_BATCH <= 64, "wk_flush_open: one bit per packet of the batch in a uint64_t");
#define TX_MAX (4 * BURST)
#define WK_RX_PREFETCH 4u                /* frames ahead of the one classified whose headers are fetched */
#define STAGE_SLOTS 512u
#define STAGE_PER_PEER 128u              /* a peer's share of its worker's stage queue (as the kernel's) */
#define STAGE_PEER_SLOTS 1024u           /* peers counted at once; a power of two > STAGE_SLOTS */
#define STAGE_PER_NEIGH 32u              /* LAN-bound packets waiting for one next hop's MAC, per worker */
#define RESOLVE_SLOTS 64u                /* next hops whose last resolve request is remembered */
/* One resolve request per next hop this often: control asks the kernel no more often than this
 * (nlmirror_resolve), so requests in between would only fill the punt ring handshakes use. */
#define RESOLVE_INTERVAL_NS (100 * NSEC_PER_MSEC)
/* Caches of answers (direct-mapped, each slot count a power of two), sized for a burst to
 * 64 peers; the ones keyed by an address have 256 slots, where 64 addresses rarely share one
 * (in 64 slots, 64 consecutive tailnet addresses took 56: the pairs evicted each other every
 * pass, a trie or snapshot lookup each time): */
#define WK_HOP_SLOTS 64u                /* next hops, per netlink snapshot */
#define WK_OUTER_SLOTS 8u               /* outer IPv4 headers of control's datagrams */
#define WK_LOCAL_SLOTS 256u             /* "is it ours", per netlink snapshot */
#define WK_AIP_SLOTS 256u               /* allowed IPs, per generation of the trie */
#define WK_PATH_SLOTS 64u               /* a peer's endpoint and next hop, by peer id */
#define WK_ROUTE_SLOTS 16u              /* per-pass inner-destination cache (a power of two) */
#define WK_PAIR_SLOTS 256u              /* wk_pair_slot's values */
#define WK_LAN_SLOTS WK_PAIR_SLOTS      /* LAN flows into the tunnel, by source and destination */
#define WK_PEERFLOW_SLOTS WK_PAIR_SLOTS /* peers' flows to the LAN, likewise */
/*
 * Where control-originated packets start in a fresh frame. The outer headers prepended to one
 * (Ethernet, IPv6, UDP, WireGuard: 78 bytes) must not start before the highest received-packet
 * offset minus DPDK's 128-byte headroom, where a DPDK mbuf's buffer starts (io/dpdk.h); and a
 * TXREQ_DATA_MAX packet plus its tag must fit behind it.
 */
#define FRAME_DATA_OFF 1024u
_Static_assert(FRAME_DATA_OFF - 78 >= IO_RX_HEADROOM + 64 * (IO_COLORS - 1) - 128, "control packet headroom");
_Static_assert(FRAME_DATA_OFF + TXREQ_DATA_MAX + 16 <= IO_FRAME_SIZE, "control packet tailroom");

/*
 * Cycles by stage (engine-bench --stages; off in the daemon): with c->prof set, each boundary of
 * a stage reads the time-stamp counter and charges what elapsed to the stage that was running,
 * so a stage entered inside another (a full open batch flushed from the rx loop) is not counted
 * twice. Off, a boundary is one load and a predicted branch. WK_PROF_RX is the rx burst with
 * each frame's classification and, for LAN packets, the queueing for the seal batch (wk_tunnel);
 * the batches count from their flush; WK_PROF_OTHER is the rest of the pass (control's packets,
 * staged retries, the pass's start).
 */
enum wk_prof_stage {
	WK_PROF_OTHER, WK_PROF_RX, WK_PROF_OPEN_AEAD, WK_PROF_OPEN_AFTER, WK_PROF_SEAL_BEFORE,
	WK_PROF_SEAL_AEAD, WK_PROF_SEAL_AFTER, WK_PROF_TX, WK_PROF_MAX
};
struct wk_prof {
	uint64_t cycles[WK_PROF_MAX];
	uint64_t last;                   /* the counter at the last boundary */
	uint64_t boundaries;             /* counter reads so far (what the profile itself costs) */
	unsigned stage;                  /* the stage running since then */
};

/* The time-stamp counter (x86); elsewhere the monotonic clock in ns. */
static inline uint64_t wk_cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return mg_now();
#endif
}

static inline unsigned wk_prof_to(struct wk_prof *prof, unsigned stage)
{
	unsigned was = 0;

	if (__builtin_expect(prof != NULL, 0)) {
		uint64_t now = wk_cycles();

		was = prof->stage;
		prof->cycles[was] += now - prof->last;
		prof->last = now;
		prof->boundaries++;
		prof->stage = stage;
	}
	return was;
}

enum wpkt_origin { FROM_LAN, FROM_PEER, FROM_LOCAL };

/*
 * A packet on its way through a pass. Two cache lines: what the open batch and the way to the LAN
 * use fits the first (a burst is 64 of these beside 64 frames, and a burst for many peers needs
 * every line of L1 it can get); the seal batch's own fields fill the second. A message's nonce
 * lives in its AEAD op (wctx.dec_ops/enc_ops), not here.
 */
struct wpkt {
	uint64_t addr;                   /* port offset of the L3 header (frame = io_frame_base(addr)) */
	uint8_t *l3;                     /* same, as a pointer */
	uint32_t len;                    /* L3 length */
	uint8_t family;                  /* AF_INET or AF_INET6 */
	uint8_t origin;
	bool natted;                     /* FROM_LAN: a reply nat_in translated, not a LAN-started flow
					  * (read by wk_tunnel from what it is handed, not copied) */
	bool framed;                     /* seal batch: its outer headers are in the frame already
					  * (plain IPv4; of ep only the family is set, hop is not) */
	/* crypto batch context */
	struct peer *peer;
	struct keypair *kp;
	struct mg_endpoint ep;           /* outer destination (seal) or source (open) */
	uint8_t path;                    /* seal batch: its peer's slot in wctx.path */
	uint8_t grp;                     /* seal batch: its keypair's group (wctx.kgrp) */
	/* the seal batch's second line */
	_Alignas(MG_CACHELINE) uint32_t plen;   /* padded plaintext length (seal) */
	uint64_t since;                  /* seal batch: when it was first staged (0: never) */
	struct nl_l2hop hop;             /* outer next hop (seal) */
};
_Static_assert(offsetof(struct wpkt, grp) < MG_CACHELINE && sizeof(struct wpkt) == 2 * MG_CACHELINE,
	       "struct wpkt: the open path's fields on one line, two lines in all");

struct stage_ent {
	struct wpkt pkt;                 /* peer/kp not kept: they are looked up again */
	uint64_t bound_id;               /* the count it is held against (0 = none): see wk_stage */
	uint64_t since;
	uint8_t kind;                    /* STAGE_TUNNEL, STAGE_LAN, STAGE_UDP */
};

enum { STAGE_TUNNEL = 1, STAGE_LAN, STAGE_UDP };

/* An IPv4 outer header of control's datagrams, built once and copied in front of each
 * (worker_tx.c). */
struct wk_outer4 {
	bool built;                      /* else every field below is zero, never a match */
	uint16_t lport;                  /* our listen port when built (it may change) */
	uint16_t port;                   /* destination, as p->ep.port */
	uint8_t dst[4], src[4];          /* destination, source addresses */
	uint8_t dst_mac[6], src_mac[6];
	uint32_t sum;                    /* the IPv4 header's sum with tot_len and check zero */
	/* Ethernet, IPv4, UDP from byte 2 (lengths and checksum zero), so that the IPv4 header is
	 * 4-byte aligned as in a frame */
	_Alignas(8) uint8_t hdr[2 + 14 + 20 + 8];
};

/*
 * A TCP or UDP flow as a packet's header holds it, for the worker's per-pass memos (the flow
 * table's note, the filter's verdict): only for packets whose ports sit right after a fixed-size
 * header, as the tables themselves read them (IPv4 without options and not a fragment; IPv6 with
 * TCP/UDP as its next header). The addresses and ports are kept as loaded.
 */
struct wk_flow_key {
	uint64_t addrs[4];               /* source and destination (IPv4: the first word) */
	uint32_t ports;                  /* source and destination port */
	uint8_t family, proto;
};

/* k from the packet at l3; false if the packet is not one the memos may stand for. */
static inline bool wk_flow_key(struct wk_flow_key *k, const uint8_t *l3, uint32_t len, int family, uint8_t proto)
{
	const unsigned hl = family == AF_INET ? 20 : 40;

	if (!ip_l4_follows(l3, family) || len < hl + 4 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return false;
	memcpy(k->addrs, l3 + (family == AF_INET ? 12 : 8), family == AF_INET ? 8 : 32);
	memcpy(&k->ports, l3 + hl, 4);
	k->family = (uint8_t)family;
	k->proto = proto;
	return true;
}

static inline bool wk_flow_key_eq(const struct wk_flow_key *a, const struct wk_flow_key *b)
{
	if (a->family != b->family || a->proto != b->proto || a->ports != b->ports || a->addrs[0] != b->addrs[0])
		return false;
	return a->family == AF_INET ||
	       (a->addrs[1] == b->addrs[1] && a->addrs[2] == b->addrs[2] && a->addrs[3] == b->addrs[3]);
}

/* 16 bytes of a header, compared and masked as one vector (SSE2 on x86-64). */
typedef uint8_t wk_v16 __attribute__((vector_size(16)));

struct wctx {
	struct worker *w;
	struct mg_device *dev;
	struct mg_counters *ctr;
	uint64_t now;
	const struct nl_snapshot *nl;
	const struct nl_snapshot *nl_fixed;   /* engine benchmark: a built table, no kernel mirror */
	uint16_t listen_port;
	uint8_t mac[6];                  /* the NIC's own MAC, read from nl once per pass */
	uint32_t lan_mtu;                /* the NIC's MTU, likewise */
	bool snat;                       /* the device's SNAT switch, likewise */
	bool note_flows;                 /* SNAT or a packet filter, likewise: LAN flows are noted */
	const struct filter *filter;     /* the device's packet filter (RCU: this pass's), likewise */
	uint8_t *area;                   /* the port's frame area (io_port_data), likewise */
	bool sole;                       /* the device's only worker: no one else opens (replay window) */
	uint64_t peer_gen;               /* peer.h, peer_gen, read first thing in the pass */
	unsigned wid;                    /* c->w->id (its slot in a peer's wslot, its NAT and flow
					  * table shares), likewise */

	struct aead_op dec_ops[OPEN_BATCH];
	struct wpkt dec[OPEN_BATCH];
	unsigned ndec;
	struct aead_op enc_ops[SEAL_BATCH];
	struct wpkt enc[SEAL_BATCH];
	unsigned nenc;

	struct io_desc rx[BURST + WK_RX_PREFETCH];   /* wk_rx_burst: room past the last */
	struct io_desc tx[TX_MAX];
	unsigned ntx;

	/*
	 * Each peer's way out (worker_tx.c), by peer id: an entry holds while the peer's endpoint
	 * sequence number and the path epoch (the netlink snapshot and our listen port) are the
	 * ones it was built under. One line per peer, all a packet over plain IPv4 reads: the
	 * outer Ethernet, IPv4 and UDP headers (lengths and checksum zero) and their sum, copied
	 * into the frame as the packet joins the seal batch. A burst to 64 peers reads 64 of these
	 * where the endpoint, the next hop and a template of their own took four lines a peer.
	 * The endpoint and next hop themselves (IPv6 and DERP build their headers from them) sit
	 * apart, in path_way.
	 */
	struct wk_path_ent {
		uint64_t id;                 /* the peer's (0: none; ids are never reused) */
		uint32_t ep_seq;             /* peer_endpoint_seq when built */
		uint32_t epoch;              /* path_epoch when built */
		uint32_t sum;                /* hdr's IPv4 header summed (tot_len, check zero) */
		bool tpl4;                   /* the endpoint is IPv4, not DERP: hdr is its headers */
		uint8_t hdr[ETH_HLEN_ + IP4_HLEN + UDP_HLEN];
	} __mg_aligned path[WK_PATH_SLOTS];
	struct wk_path_way {
		struct mg_endpoint ep;
		struct nl_l2hop hop;
	} path_way[WK_PATH_SLOTS];
	uint32_t path_epoch;             /* from 1: moves when nl_gen or listen_port does */
	uint64_t path_nl_gen;            /* those it stands for */
	uint16_t path_lport;
	/* The seal batch's packets grouped by keypair (worker_tx.c): one nonce reservation, byte
	 * count and timer update per keypair and batch, however its packets interleave with other
	 * peers'. kslot maps a path slot to its group in batch number kbatch. */
	struct wk_kgroup {
		struct keypair *kp;
		struct peer *peer;           /* its peer (the packets' p->peer) */
		uint64_t next;               /* its next nonce (once sealed: 1 + the highest sent) */
		uint64_t bytes;
		uint32_t n;
		bool data;
	} kgrp[SEAL_BATCH];
	struct { uint64_t batch; uint8_t g; } kslot[WK_PATH_SLOTS];
	uint64_t kbatch;

	struct {                         /* the last LAN source found not spoofed, this pass (worker_rx.c) */
		uint64_t pass;
		uint8_t family;
		uint8_t addr[16];
	} lan_src;

	struct {                         /* the last IPv4 packet of this open batch to the LAN (worker_rx.c) */
		struct peer *peer;           /* it came from (NULL = none yet) */
		uint64_t addrs;              /* its source and destination, as loaded */
	} flow4;
	/* IPv4 flows from peers to the LAN (worker_rx.c, rx_peer_flow_known): a peer, an inner source
	 * and destination whose source check passed and whose verdict was the LAN, under the tables
	 * of memo_epoch; direct-mapped by the addresses. The peer pointer is only compared. With a
	 * packet filter, also one TCP/UDP flow of the pair that the filter's rules let in
	 * (rx_filter_pass; memo_epoch names the filter too). */
	struct wk_peerflow_ent {
		uint64_t addrs;              /* source and destination, as loaded */
		struct peer *peer;
		uint32_t epoch;              /* memo_epoch when taken (0: never) */
		uint32_t ruled_ports;        /* the ports of the flow the rules let in, as loaded */
		uint8_t ruled_proto;         /* its protocol; 0: none */
		bool ruled_opens;            /* judged as a packet that opens a flow (not TCP past its SYN) */
	} peerflow[WK_PEERFLOW_SLOTS];

	/* The outer headers of the last data message rx_frame took in this pass, under
	 * rx_outer_mask (worker_rx.c): a frame that matches them passes the same header checks. */
	struct {
		wk_v16 hdr[3];
		uint64_t pass;
		uint32_t index;              /* its receiver index, as loaded */
		struct keypair *kp;          /* what the index gave in this pass (its peer: kp->entry.peer) */
	} outer_in;

	/* IPv4 LAN flows that rx_frame's general checks sent into the seal batch (worker_rx.c,
	 * rx_lan_known), direct-mapped by source and destination: an entry holds while the tables
	 * those checks read are the ones it was taken under (memo_epoch), across passes. The peer
	 * pointer stays valid as long: a peer leaves the allowed-IPs trie before it is freed. */
	struct wk_lan_ent {
		uint64_t addrs;              /* source and destination, as loaded (frame bytes 26-33) */
		uint32_t epoch;              /* memo_epoch when taken (0: never) */
		uint32_t csum_key;           /* protocol << 16 | length (0: none) whose partial */
		int32_t csum_value;          /* checksum value is kept (l4_csum_partial_value) */
		uint32_t csum_at;
		struct peer *peer;           /* the destination's, by allowed IPs */
		struct keypair *kp;          /* the peer's current keypair under peer_gen */
		uint64_t peer_gen;           /* peer.h, peer_gen: when kp was found */
		uint64_t kp_expires;         /* kp's birth + REJECT_AFTER_TIME */
	} lan[WK_LAN_SLOTS];
	wk_v16 lan_hdr;                  /* frame bytes 0-15 under RX_MASK_ETH: our MAC, IPv4, 0x45 */
	/* Numbers (from 1) the tables the flow memos stand for: the netlink snapshot, the
	 * allowed-IPs trie, our tailnet addresses and the advertised routes, by their own numbers. */
	uint32_t memo_epoch;
	uint64_t memo_nl_gen, memo_aip_gen, memo_addrs_gen, memo_routes_gen;
	uint64_t memo_filter;            /* the packet filter's serial (0: none) */

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

	/* Caches, direct-mapped by destination; an entry counts only if its key is the current
	 * one (the pass, the snapshot's number, the trie's generation: nothing to clear). */
	uint64_t pass;                   /* wk_poll calls so far, from 1 */
	uint64_t nl_gen;                 /* nl_snapshot_gen(nl), read once per pass */
	uint64_t aip_gen;                /* allowedips_gen of the device's trie, likewise */
	struct wk_hop_ent {              /* next hops found in this snapshot (wk_hop) */
		uint64_t gen;
		int family;
		uint8_t dst[16];
		struct nl_l2hop hop;
	} hop[WK_HOP_SLOTS];
	struct wk_outer4 outer4[WK_OUTER_SLOTS];   /* for control's datagrams (wk_udp) */

	struct wk_local_ent {            /* "is it one of our addresses" answers of this snapshot */
		uint64_t gen;
		int family;
		bool local;
		uint8_t addr[16];
	} local[WK_LOCAL_SLOTS];
	struct wk_aip_ent {              /* allowed-IPs answers of this generation (wk_allowedips) */
		uint64_t gen;
		int family;
		uint8_t addr[16];
		struct peer *peer;           /* NULL: no peer's prefix holds addr */
	} aip[WK_AIP_SLOTS];
	struct wk_route_ent {            /* where an inner destination goes, this pass (worker_rx.c) */
		uint64_t pass;
		uint8_t family;
		uint8_t verdict;             /* enum wk_route in worker_rx.c */
		uint8_t addr[16];
		struct peer *peer;           /* the peer, for a destination in one's allowed IPs */
	} route[WK_ROUTE_SLOTS];

	/* The entry of each cache that answered last: asked first, since consecutive packets mostly
	 * ask the same (no hash then). Never NULL (wk_ctx_new points them at slot 0). */
	struct wk_hop_ent *hop_last;
	struct wk_local_ent *local_last;
	struct wk_aip_ent *aip_last;
	struct wk_route_ent *route_last;

	struct wk_prof *prof;            /* cycles by stage, or NULL (engine-bench sets it) */

	uint64_t icmp_last;              /* ICMP error token bucket */
	uint32_t icmp_tokens;

	/* The per-pass flow memos (dataplane/README.md, "What a worker keeps between packets"),
	 * after the caches: read only with SNAT or a filter on. */
	struct {                         /* the last TCP/UDP flow noted in this pass (worker_tx.h) */
		uint64_t pass;
		struct wk_flow_key k;
	} flow_noted;

	struct {                         /* the last TCP/UDP flow the filter let in, this pass (worker_rx.c) */
		uint64_t pass;
		const struct filter *f;      /* by this filter */
		struct wk_flow_key k;
		bool reply;                  /* as a reply to a flow the LAN started */
		bool opens;                  /* judged as a packet that opens a flow (not TCP past its SYN) */
	} filter_ok;

	/* The flows SNAT translated (worker_rx.c, snat_out) and whose replies it translated back,
	 * under nat_stamp: a new one when memo_epoch or the NAT table's generation moved (nat.h). */
	uint64_t nat_stamp, memo_nat_gen;
	struct nat_memos nat_out_memo, nat_in_memo;
} __mg_aligned;                          /* written every pass: no line shared with another worker */
_Static_assert(sizeof(((struct wctx *)0)->path[0]) == MG_CACHELINE, "struct wk_path_ent: one line");

/* The context of one worker's loop; NULL without memory. */
struct wctx *wk_ctx_new(struct worker *w);
void wk_ctx_free(struct wctx *c);        /* hands staged frames back to the pool */

void wk_drop(struct wctx *c, struct wpkt *p, enum mg_drop why);
/* wk_tx_flush hands the TX list to the port, kicks it, and drops what the ring did not take. */
void wk_tx_flush(struct wctx *c);

/* io_port_data and io_port_addr through the pass's copy of the frame area (c->area): one load
 * less than through the worker's port. */
static inline uint8_t *wk_data(const struct wctx *c, uint64_t addr)
{
	return c->area + addr;
}

static inline uint64_t wk_addr(const struct wctx *c, const uint8_t *ptr)
{
	return (uint64_t)(ptr - c->area);
}

/* Appends a frame to the TX list (flushing a full one first), uncounted: for a caller that
 * counts a batch's frames at once (tx_packets, tx_bytes). */
static inline void wk_tx_list(struct wctx *c, uint8_t *frame, uint32_t len)
{
	if (c->ntx == TX_MAX)
		wk_tx_flush(c);
	c->tx[c->ntx].addr = wk_addr(c, frame);
	c->tx[c->ntx].len = len;
	c->ntx++;
}

/* Appends a frame to the TX list and counts it. Inline: every packet ends here. */
static inline void wk_tx(struct wctx *c, uint8_t *frame, uint32_t len)
{
	wk_tx_list(c, frame, len);
	c->ctr->tx_packets++;
	c->ctr->tx_bytes += len;
}
/* An AEAD call of n messages into the batch-size histogram (counters.h: per call). */
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

/* Whether a cache entry's address is addr (constant-size compares: inlined). */
static inline bool wk_addr_eq(const uint8_t *e, int family, const uint8_t *addr)
{
	return family == AF_INET ? !memcmp(e, addr, 4) : !memcmp(e, addr, 16);
}

/* A slot of the flow memos (WK_PAIR_SLOTS) for an IPv4 source and destination as loaded (one
 * 8-byte word): a multiplicative hash, its top 8 bits. */
static inline unsigned wk_pair_slot(uint64_t addrs)
{
	_Static_assert(WK_PAIR_SLOTS == 256, "wk_pair_slot keeps 8 bits");
	return (unsigned)((addrs * 0x9e3779b97f4a7c15ull) >> 56);
}

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
 * nl_snapshot_lookup, remembering successes while the snapshot lasts (wk_hop_miss asks the
 * snapshot). A snapshot is immutable and its number never reused, so an answer keyed by the
 * number holds until control publishes the next one; traffic goes to few destinations (one LAN
 * host, the endpoints of the peers it carries), several at once (direct-mapped: a burst to 64
 * peers keeps each endpoint's hop). Only successes are kept: a neighbour being resolved is
 * asked again. The hit is inline: every packet asks.
 */
/* wk_hop's answer in place if it is cached (no copy), else NULL (then ask wk_hop). */
static inline const struct nl_l2hop *wk_hop_cached(struct wctx *c, int family, const uint8_t *dst)
{
	struct wk_hop_ent *e = c->hop_last;

	if (!(e->gen == c->nl_gen && e->family == family && wk_addr_eq(e->dst, family, dst))) {
		e = &c->hop[wk_addr_slot(family, dst, WK_HOP_SLOTS)];
		if (!(e->gen == c->nl_gen && e->family == family && wk_addr_eq(e->dst, family, dst)))
			return NULL;
		c->hop_last = e;
	}
	return &e->hop;
}

static inline int wk_hop(struct wctx *c, int family, const uint8_t *dst, struct nl_l2hop *out)
{
	struct wk_hop_ent *e = c->hop_last;

	if (!(e->gen == c->nl_gen && e->family == family && wk_addr_eq(e->dst, family, dst))) {
		e = &c->hop[wk_addr_slot(family, dst, WK_HOP_SLOTS)];
		if (!(e->gen == c->nl_gen && e->family == family && wk_addr_eq(e->dst, family, dst)))
			return wk_hop_miss(c, e, family, dst, out);
		c->hop_last = e;
	}
	*out = e->hop;
	return 0;
}

/*
 * nl_snapshot_is_local, remembering answers while the snapshot lasts, like wk_hop. Every frame
 * asks whether an address is ours (the outer destination of WireGuard, the inner destination out
 * of the tunnel, a LAN packet's destination), and traffic has few distinct ones.
 */
static inline bool wk_is_local(struct wctx *c, int family, const uint8_t *addr)
{
	struct wk_local_ent *e = c->local_last;

	if (!(e->gen == c->nl_gen && e->family == family && wk_addr_eq(e->addr, family, addr))) {
		e = &c->local[wk_addr_slot(family, addr, WK_LOCAL_SLOTS)];
		if (!(e->gen == c->nl_gen && e->family == family && wk_addr_eq(e->addr, family, addr)))
			return wk_is_local_miss(c, e, family, addr);
		c->local_last = e;
	}
	return e->local;
}

/*
 * allowedips_lookup, remembering answers while the trie's generation lasts: each packet out of
 * the tunnel asks twice (its source must be the sender's, its destination may be another
 * peer's) and each packet into it once, for one address per peer or LAN host. Control bumps the
 * generation after every change and before any peer it named is freed (allowedips.h), and a pass
 * reads it once at its start, after a quiescent state: a pass that still sees the old generation
 * started before the peer's grace period could end. Removal also shows as peer->dead.
 */
static inline struct peer *wk_allowedips(struct wctx *c, int family, const uint8_t *addr)
{
	struct wk_aip_ent *e = c->aip_last;

	if (!(e->gen == c->aip_gen && e->family == family && wk_addr_eq(e->addr, family, addr))) {
		e = &c->aip[wk_addr_slot(family, addr, WK_AIP_SLOTS)];
		if (!(e->gen == c->aip_gen && e->family == family && wk_addr_eq(e->addr, family, addr)))
			return wk_allowedips_miss(c, e, family, addr);
		c->aip_last = e;
	}
	return e->peer;
}

#endif
