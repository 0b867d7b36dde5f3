/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * counters.h - per-worker packet counters. Single writer (the worker), plain increments,
 * cache-line aligned; the exporter sums them at scrape time and tolerates torn reads of a
 * counter that is being written (each is a naturally aligned u64).
 *
 * One X-macro list is the drop-reason enum, its metric label and its help text.
 */
#ifndef MG_COUNTERS_H
#define MG_COUNTERS_H

#include "mg.h"

/*      name                label                  help */
#define MG_DROP_REASONS(X) \
	X(TOO_SHORT,          "too_short",           "shorter than its headers or message type requires") \
	X(BAD_TYPE,           "bad_type",            "WireGuard message type unknown or reserved bytes set") \
	X(UNKNOWN_INDEX,      "unknown_index",       "data message for a receiver index we do not hold") \
	X(EXPIRED_KEY,        "expired_key",         "keypair past REJECT_AFTER_TIME or REJECT_AFTER_MESSAGES") \
	X(DECRYPT_FAILED,     "decrypt_failed",      "authentication tag did not verify") \
	X(REPLAY,             "replay",              "counter outside or already seen in the replay window") \
	X(MALFORMED,          "malformed",           "inner packet not IPv4/IPv6 or its length lies") \
	X(SOURCE_NOT_ALLOWED, "source_not_allowed",  "inner source not in the sending peer's allowed IPs") \
	X(NO_ROUTE,           "no_route",            "no tunnel peer or LAN route for the destination") \
	X(NO_SESSION,         "no_session",          "no usable keypair before the staging timeout") \
	X(NEIGH_UNRESOLVED,   "neigh_unresolved",    "next hop MAC not resolved before the staging timeout") \
	X(TTL_EXCEEDED,       "ttl_exceeded",        "TTL or hop limit would reach zero") \
	X(TOO_BIG,            "too_big",             "packet larger than the tunnel or link MTU") \
	X(FILTERED,           "filtered",            "denied by the tailnet packet filter (ACL)") \
	X(TSMP,               "tsmp",                "TSMP (IP protocol 99): consumed by the router, never forwarded") \
	X(NAT_FAILED,         "nat_failed",          "not translatable: protocol, fragment, or no free port") \
	X(NAT_UNKNOWN,        "nat_unknown",         "packet to a NAT port that matches no flow") \
	X(NAT_PEER_LIMIT,     "nat_peer_limit",      "new NAT flow refused: the peer holds its maximum of flows") \
	X(NOT_OUR_MAC,        "not_our_mac",         "Ethernet destination not the router's MAC (another host's, broadcast, multicast)") \
	X(SPOOFED_SOURCE,     "spoofed_source",      "from the LAN with a tailnet source (100.64.0.0/10, fd7a:115c:a1e0::/48) or one of the router's") \
	X(PUNT_FULL,          "punt_full",           "control-thread queue full (handshake flood)") \
	X(STAGE_FULL,         "stage_full",          "staging queue full") \
	X(TUN_FULL,           "tun_full",            "local delivery to the TUN device failed") \
	X(TX_FULL,            "tx_full",             "transmit ring full")

enum mg_drop {
#define X(n, l, h) MG_DROP_##n,
	MG_DROP_REASONS(X)
#undef X
	MG_DROP_MAX
};

extern const char *const mg_drop_label[MG_DROP_MAX];
extern const char *const mg_drop_help[MG_DROP_MAX];

/* Handshake messages the control thread refused or could not send (its own counters). */
#define MG_HS_DROP_REASONS(X) \
	X(BAD_MAC1,      "bad_mac1",      "mac1 does not match our public key") \
	X(RATE_LIMITED,  "rate_limited",  "under load: over the per-source limit (20/s, burst 5)") \
	X(DECRYPT,       "decrypt",       "encrypted static or response did not open: not for us, or corrupt") \
	X(UNKNOWN_PEER,  "unknown_peer",  "initiation from a key that is not a peer") \
	X(TIMESTAMP,     "timestamp",     "encrypted timestamp did not open") \
	X(REPLAY,        "replay",        "initiation timestamp not newer than the last (replay, or the peer's clock went back)") \
	X(FLOOD,         "flood",         "initiation within 20 ms of the peer's last one") \
	X(UNKNOWN_INDEX, "unknown_index", "response or cookie reply for a handshake we are not waiting on") \
	X(BAD_COOKIE,    "bad_cookie",    "cookie reply that does not decrypt") \
	X(NOT_SENT,      "not_sent",      "our own message not sent: transmit queue full")

enum mg_hs_drop {
#define X(n, l, h) MG_HS_DROP_##n,
	MG_HS_DROP_REASONS(X)
#undef X
	MG_HS_DROP_MAX
};

#define MG_BATCH_BUCKETS 7      /* crypto batch-size histogram: <=1,2,4,8,16,32,64 */

struct mg_counters {
	uint64_t rx_packets, rx_bytes;             /* frames received on the NIC */
	uint64_t tx_packets, tx_bytes;             /* frames put on the NIC */
	uint64_t decap_packets, decap_bytes;       /* data messages authenticated */
	uint64_t encap_packets, encap_bytes;       /* data messages sealed */
	uint64_t decap_packets6, decap_bytes6;     /* the part of decap_* whose outer packet was IPv6 */
	uint64_t encap_packets6, encap_bytes6;     /* the part of encap_* whose outer packet was IPv6 */
	uint64_t decap_packets_derp, decap_bytes_derp;   /* the part of decap_* relayed by DERP */
	uint64_t encap_packets_derp, encap_bytes_derp;   /* the part of encap_* handed to DERP */
	uint64_t punted;                           /* handshake/cookie messages handed to control */
	uint64_t local_delivered;                  /* to the TUN device */
	uint64_t keepalives_rx;
	uint64_t icmp_sent;                        /* fragmentation-needed / packet-too-big sent */
	uint64_t mss_clamped;                      /* TCP SYNs whose MSS was lowered */
	uint64_t resolve_requests;                 /* next-hop resolve requests punted to control */
	uint64_t resolve_suppressed;               /* resolve requests not sent: one already in flight */
	uint64_t tsmp_pongs;                       /* TSMP pings answered */
	uint64_t flows_tracked, flows_evicted;     /* LAN-started flows noted; live ones pushed out */
	uint64_t flow_replies;                     /* packets from peers let in as replies to those
						    * (that the rules would have dropped) */
	uint64_t nat_lan_replies;                  /* replies to those SNAT left untranslated */
	uint64_t csum_completed;                   /* LAN TCP/UDP with a partial (offload) checksum finished */
	uint64_t drops[MG_DROP_MAX];
	uint64_t batch_hist[MG_BATCH_BUCKETS];     /* crypto bursts by size */
	uint64_t batch_sum;
	uint64_t loops, idle_loops;
} __mg_aligned;

#endif
