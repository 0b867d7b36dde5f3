/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * disco.h - Tailscale's path discovery protocol: NaCl-boxed Ping / Pong /
 * CallMeMaybe between disco keys, on the WireGuard port or through DERP. The control thread
 * answers every Ping with a Pong (TxID + the source it saw), pings candidate endpoints of its
 * peers and trusts a direct path only for 6.5 s after a Pong on it.
 *
 * Layers: disco_parse/disco_build (inner plaintext), disco_seal/disco_open (the box), then the
 * per-peer state driven by disco_receive, disco_receive_derp and disco_tick. Everything runs on the control thread.
 */
#ifndef MG_DISCO_H
#define MG_DISCO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devconf.h"

#define DISCO_MAGIC           "TS\xf0\x9f\x92\xac"
#define DISCO_MAGIC_LEN       6
#define DISCO_KEY_LEN         32
#define DISCO_NONCE_LEN       24
#define DISCO_TAG_LEN         16
#define DISCO_HDR_LEN         (DISCO_MAGIC_LEN + DISCO_KEY_LEN + DISCO_NONCE_LEN)   /* 62 */
#define DISCO_TXID_LEN        12
#define DISCO_CMM_MAX         16      /* CallMeMaybe endpoints kept (extra ones ignored) */
#define DISCO_PEER_EPS_MAX    24      /* candidate endpoints per peer */
#define DISCO_PKT_MAX         512     /* largest disco packet we build */

/* Timing constants (TS:wgengine/magicsock). */
#define DISCO_NS(ms)                 ((uint64_t)(ms) * 1000000ull)
#define DISCO_HEARTBEAT_NS           DISCO_NS(3000)
#define DISCO_SESSION_ACTIVE_NS      DISCO_NS(45000)
#define DISCO_TRUST_NS               DISCO_NS(6500)
#define DISCO_PING_TIMEOUT_NS        DISCO_NS(5000)
#define DISCO_PING_INTERVAL_NS       DISCO_NS(5000)
#define DISCO_UPGRADE_INTERVAL_NS    DISCO_NS(60000)
#define DISCO_GOOD_ENOUGH_NS         DISCO_NS(5)

enum disco_type { DISCO_PING = 1, DISCO_PONG = 2, DISCO_CALL_ME_MAYBE = 3 };

/* One inner message; which fields count depends on @type. */
struct disco_msg {
	uint8_t type;
	uint8_t version;                       /* 0 on send; CallMeMaybe v!=0 has no endpoints */
	uint8_t txid[DISCO_TXID_LEN];          /* Ping, Pong */
	bool has_node_key;                     /* Ping: sender's WireGuard key (clients > 1.16) */
	uint8_t node_key[32];
	uint16_t padding;                      /* Ping: zero bytes after the key (MTU probes) */
	struct mg_endpoint src;                /* Pong: where the Ping came from */
	size_t n_eps;                          /* CallMeMaybe */
	struct mg_endpoint eps[DISCO_CMM_MAX];
};

/* Inner plaintext (type, version, body). 0; -EINVAL if too short; -EPROTONOSUPPORT for a type
 * we do not handle (relay messages 4..9 and future ones: ignore, do not count as an error). */
int disco_parse(struct disco_msg *m, const uint8_t *p, size_t len);
/* Returns the plaintext length, or -EINVAL / -ENOSPC. */
int disco_build(uint8_t *out, size_t cap, const struct disco_msg *m);

/* Header check used by the classifier: magic and at least magic + key (38 bytes). */
bool disco_looks_like(const uint8_t *pkt, size_t len);
/* magic || sender_pub || nonce || crypto_box_easy_afternm(plain). @nonce NULL = random.
 * Returns the packet length or -ENOSPC. @shared is crypto_box_beforenm(peer_pub, our_priv). */
int disco_seal(uint8_t *out, size_t cap, const uint8_t sender_pub[32], const uint8_t shared[32],
	       const uint8_t *nonce, const uint8_t *plain, size_t plen);
/* Opens a packet whose header passed disco_looks_like; plaintext length or -EINVAL/-EBADMSG. */
int disco_open(uint8_t *plain, size_t cap, const uint8_t shared[32], const uint8_t *pkt, size_t len);

/* The control-thread state. */
struct punt_msg;
struct disco;

/*
 * What the owner lends the room (the disco room knows nothing of the device): a UDP datagram out
 * of the WireGuard port (false = dropped), and our WireGuard public key for pings (false = none
 * yet). @node_key may be NULL: pings then carry no key.
 */
typedef bool disco_udp_send_fn(void *arg, const struct mg_endpoint *dst, const void *pkt, uint16_t len);
typedef bool disco_node_key_fn(void *arg, uint8_t out[32]);
struct disco_ops {
	disco_udp_send_fn *send_udp;
	disco_node_key_fn *node_key;
	void *arg;
};

/* Sends @pkt to the peer @node_key through DERP region @region, or, with @region 0, the peer's
 * home region; false = dropped. */
typedef bool (*disco_derp_send_fn)(void *arg, const uint8_t node_key[32], int region, const void *pkt,
				   uint16_t len);
/* A peer's trusted direct path changed (a Pong arrived on a better address): point WireGuard
 * at it. Called from disco_receive. */
typedef void (*disco_path_fn)(void *arg, const uint8_t node_key[32], const struct mg_endpoint *ep);

/* @ops is copied. */
int disco_init(struct disco **out, const struct disco_ops *ops, const uint8_t disco_private[32]);
void disco_uninit(struct disco *d);
void disco_public_key(const struct disco *d, uint8_t out[32]);
void disco_set_derp(struct disco *d, disco_derp_send_fn fn, void *arg);
void disco_set_path_cb(struct disco *d, disco_path_fn fn, void *arg);
/* Our own endpoints (STUN mapped, port forwards, interface addresses) for CallMeMaybe. */
void disco_set_self_endpoints(struct disco *d, const struct mg_endpoint *eps, size_t n);

/* Netmap: add or update a peer (node key -> disco key, its "Endpoints"); keeps the probe state of
 * endpoints that stay. A zero disco key removes the peer. 0 or -ENOMEM. */
int disco_peer_set(struct disco *d, const uint8_t node_key[32], const uint8_t disco_key[32],
		   const struct mg_endpoint *eps, size_t n_eps);
void disco_peer_remove(struct disco *d, const uint8_t node_key[32]);
/* We sent data to the peer: keeps heartbeats and probing going for 45 s. */
void disco_peer_active(struct disco *d, const uint8_t node_key[32], uint64_t now);
/* The peer's trusted direct path (a Pong within the last 6.5 s); false = use DERP. */
bool disco_peer_path(const struct disco *d, const uint8_t node_key[32], uint64_t now,
		     struct mg_endpoint *out);
/* The last direct path a Pong proved, trusted or not (false: none). For when DERP is gone too:
 * an endpoint that answered a while ago beats a relay that cannot carry anything. */
bool disco_peer_last_path(const struct disco *d, const uint8_t node_key[32], struct mg_endpoint *out);

void disco_receive(struct disco *d, const struct punt_msg *m, uint64_t now);   /* PUNT_DISCO */
/* A disco packet that arrived in a DERP RecvPacket from @src_node_key on @region. */
void disco_receive_derp(struct disco *d, const uint8_t src_node_key[32], int region,
			const uint8_t *pkt, size_t len, uint64_t now);
void disco_tick(struct disco *d, uint64_t now);                                /* every 20 ms */

struct disco_stats {
	uint64_t rx_ping, rx_pong, rx_cmm, rx_unknown_key, rx_bad_box, rx_bad_msg, rx_ignored;
	uint64_t tx_ping, tx_pong, tx_cmm, tx_fail, pong_unmatched;
};
void disco_get_stats(const struct disco *d, struct disco_stats *out);

#endif
