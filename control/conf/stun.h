/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stun.h - STUN binding requests from the WireGuard port, and the mapped address they return
 * (RFC 5389). Requests carry SOFTWARE "tailnode" and FINGERPRINT, in that order,
 * because Tailscale's STUN servers (derper, Headscale's embedded one) ignore anything else.
 * The pure encoder/decoder is separate from the small client state so both are testable.
 */
#ifndef MG_STUN_H
#define MG_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devconf.h"

#define STUN_HDR_LEN          20
#define STUN_TXID_LEN         12
#define STUN_REQUEST_LEN      40     /* header + SOFTWARE(4+8) + FINGERPRINT(4+4) */
#define STUN_MAGIC_COOKIE     0x2112a442u
#define STUN_DEFAULT_PORT     3478
#define STUN_PENDING_MAX      64     /* outstanding requests remembered (one per server): every
                                      * region of a public-sized DERP map, v4 and v6, is measured */
#define STUN_TIMEOUT_NS       (5ull * 1000000000ull)
#define STUN_SERVERS_MAX      STUN_PENDING_MAX
#define STUN_RESTUN_MIN_NS    (20ull * 1000000000ull)   /* re-STUN every uniform[20 s, 26 s) */
#define STUN_RESTUN_SPAN_NS   (6ull * 1000000000ull)

/* Cheap classifier: cookie at offset 4, top two bits of byte 0 zero, >= 20 bytes. */
bool stun_looks_like(const uint8_t *pkt, size_t len);

/* Writes the 40-byte binding request for @txid into @out. */
void stun_build_request(uint8_t out[STUN_REQUEST_LEN], const uint8_t txid[STUN_TXID_LEN]);

/* Parses a binding success response: XOR-MAPPED-ADDRESS (0x0020, or 0x8020 from old servers)
 * wins over MAPPED-ADDRESS (0x0001). Only the header's declared length is read; trailing bytes
 * are ignored. 0 and fills @txid/@mapped, -EINVAL (malformed or not a success response) or
 * -ENOENT (well-formed, no address attribute). */
int stun_parse_response(const uint8_t *pkt, size_t len, uint8_t txid[STUN_TXID_LEN],
			struct mg_endpoint *mapped);

/* CRC-32 (IEEE 802.3, reflected, as zlib) - FINGERPRINT is this XOR 0x5354554e. */
uint32_t stun_crc32(const uint8_t *p, size_t n);

/* The client: the daemon's on the control thread, and `meshgate netcheck`'s. */
struct stun;

/* The owner's way out: for the daemon a UDP datagram from the WireGuard port, so the mapping the
 * server sees is the one peers must use. False = dropped (TX queue full). */
typedef bool stun_send_fn(void *arg, const struct mg_endpoint *dst, const void *pkt, uint16_t len);

int stun_init(struct stun **out, stun_send_fn *send, void *arg);
void stun_uninit(struct stun *s);
/* Sends one request to @server (port 0 means 3478); 0, or -errno (-ENOBUFS: TX queue full). */
int stun_query(struct stun *s, const struct mg_endpoint *server, uint64_t now);
/* A received STUN datagram (the daemon: a PUNT_STUN message): answers to our own pending requests
 * only; anything else is counted and ignored. */
void stun_receive(struct stun *s, const uint8_t *pkt, size_t len, uint64_t now);
/* Periodic discovery: the DERP map's STUN servers (port 0 = 3478; at most
 * STUN_SERVERS_MAX kept), queried all at once on the first stun_tick while active and then every
 * uniform[20 s, 26 s) while @active (the node has peers and sent data in the last 45 s). */
void stun_set_servers(struct stun *s, const struct mg_endpoint *servers, size_t n);
void stun_tick(struct stun *s, uint64_t now, bool active);
/* The latest mapped address; false until a response arrived. */
bool stun_mapped(const struct stun *s, struct mg_endpoint *out);
/* When the latest mapped address was learned (0 = never), for freshness checks (27 s). */
uint64_t stun_mapped_at(const struct stun *s);

/* Called for each answer to our own request with the server asked, the address it saw us at and
 * the round trip (the DERP client's home-region choice, "Latencies choose the home region";
 * netcheck's per-server table, which compares the mapped addresses). */
typedef void stun_rtt_fn(void *arg, const struct mg_endpoint *server, const struct mg_endpoint *mapped,
			 uint64_t rtt_ns, uint64_t now);
void stun_set_rtt_hook(struct stun *s, stun_rtt_fn *fn, void *arg);

/* Counters for /metrics. */
struct stun_stats {
	uint64_t tx, rx_ok, rx_unknown_txid, rx_bad;
};
void stun_get_stats(const struct stun *s, struct stun_stats *out);

#endif
