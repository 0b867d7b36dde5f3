/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * noise.h - Noise_IKpsk2 handshake state machine and session keys.
 *
 * Threading: everything here is driven by the control thread only; no
 * locking inside. The handshake structs are owned by control. A finished
 * struct noise_keypair is published to workers by the caller (RCU); after
 * that only the fields marked below change.
 */
#ifndef MG_WG_NOISE_H
#define MG_WG_NOISE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mg.h"
#include "wireguard/messages.h"
#include "wireguard/replay.h"

struct noise_static_identity {
	bool has_identity;
	uint8_t static_private[NOISE_PUBLIC_KEY_LEN];
	uint8_t static_public[NOISE_PUBLIC_KEY_LEN];
};

enum noise_handshake_state {
	HANDSHAKE_ZEROED,
	HANDSHAKE_CREATED_INITIATION,
	HANDSHAKE_CONSUMED_INITIATION,
	HANDSHAKE_CREATED_RESPONSE,
	HANDSHAKE_CONSUMED_RESPONSE,
};

struct noise_handshake { /* one per peer, owned by control */
	enum noise_handshake_state state;
	uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];
	/* DH(our static, their static); all zero when unusable (no identity
	 * or a low-order remote key), which makes every handshake fail */
	uint8_t precomputed_static_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t ephemeral_private[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t hash[NOISE_HASH_LEN];
	uint8_t chaining_key[NOISE_HASH_LEN];
	uint8_t latest_timestamp[NOISE_TIMESTAMP_LEN]; /* greatest TAI64N seen */
	uint64_t last_initiation_consumption_ns;      /* monotonic; 0 = never */
	uint32_t local_index, remote_index;           /* host order */
};

/*
 * Three groups of cache lines, so that no write steals a line another core only reads: the
 * immutable keys and fields every sealing and opening worker reads; the nonce counter, which
 * every sealing worker writes; the replay window, which the opening worker writes. A container
 * allocated on the heap must honour the type's alignment (aligned_alloc).
 */
struct noise_keypair { /* immutable after creation except where marked */
	uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t recv_key[NOISE_SYMMETRIC_KEY_LEN];
	uint64_t birthdate_ns; /* monotonic */
	uint32_t local_index, remote_index; /* host order */
	bool i_am_initiator;
	/* atomic: set once when the last-minute rekey was requested */
	_Atomic bool sent_lastminute_handshake;
	/* atomic: workers reserve nonces with one fetch_add per keypair and seal batch */
	_Alignas(MG_CACHELINE) _Atomic uint64_t send_counter;
	/* owned by the worker that receives for this keypair (under the caller's lock) */
	_Alignas(MG_CACHELINE) struct replay_counter replay;
};

/* Keys: clamp and derive; private all-zero or NULL clears the identity. */
void noise_static_identity_set(struct noise_static_identity *ident,
			       const uint8_t private_key[NOISE_PUBLIC_KEY_LEN]);
/* Fresh random X25519 key pair (private clamped). */
void noise_generate_keypair(uint8_t private_key[NOISE_PUBLIC_KEY_LEN],
			    uint8_t public_key[NOISE_PUBLIC_KEY_LEN]);

void noise_handshake_init(struct noise_handshake *hs,
			  const struct noise_static_identity *ident,
			  const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN],
			  const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN]);
/* Wipes ephemeral state and forgets both indices (read local_index first
 * to drop it from the index table); keeps statics, psk and the replay and
 * flood guards. */
void noise_handshake_clear(struct noise_handshake *hs);
void noise_precompute(struct noise_handshake *hs,
		      const struct noise_static_identity *ident);
void noise_set_preshared_key(struct noise_handshake *hs,
			     const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN]);

/* Initiator, message 1. Fills everything but the macs (cookie.h adds
 * them). timestamp is TAI64N (hash.h). */
bool noise_create_initiation(const struct noise_static_identity *ident,
			     struct noise_handshake *hs,
			     struct msg_initiation *dst, uint32_t local_index,
			     const uint8_t timestamp[NOISE_TIMESTAMP_LEN]);

/* Responder, message 1. lookup() maps the decrypted initiator static key
 * to that peer's handshake (NULL = unknown peer). Rejects a timestamp not
 * greater than the latest seen (replay) and a second initiation within
 * 1 s / INITIATIONS_PER_SECOND of the last consumed one (flood). */
/* Why an initiation was not consumed, for counters and the operator's log. */
enum noise_reject {
	NOISE_CONSUMED,
	NOISE_REJECT_DECRYPT,      /* the encrypted static did not open: not for our key, or corrupt */
	NOISE_REJECT_UNKNOWN_PEER, /* a valid sender that is not one of our peers */
	NOISE_REJECT_TIMESTAMP,    /* the encrypted timestamp did not open */
	NOISE_REJECT_REPLAY,       /* timestamp not newer than the greatest seen (or its clock went back) */
	NOISE_REJECT_FLOOD,        /* within 1 s / INITIATIONS_PER_SECOND of the last consumed one */
};

struct noise_verdict {
	enum noise_reject why;
	struct noise_handshake *hs;        /* the sender's handshake, once it is known */
};

/* noise_consume_initiation, saying in @v why it refused (v->hs set from "unknown peer" on). */
struct noise_handshake *
noise_consume_initiation_verdict(const struct noise_static_identity *ident,
				 const struct msg_initiation *src,
				 struct noise_handshake *(*lookup)(void *ctx,
					const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN]),
				 void *ctx, uint64_t now_ns, struct noise_verdict *v);

struct noise_handshake *
noise_consume_initiation(const struct noise_static_identity *ident,
			 const struct msg_initiation *src,
			 struct noise_handshake *(*lookup)(void *ctx,
				const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN]),
			 void *ctx, uint64_t now_ns);

/* Responder, message 2, from CONSUMED_INITIATION. */
bool noise_create_response(struct noise_handshake *hs,
			   struct msg_response *dst, uint32_t local_index);

/* Initiator, message 2. lookup_index() maps our index (the response's
 * receiver index) to the handshake that created it. */
struct noise_handshake *
noise_consume_response(const struct noise_static_identity *ident,
		       const struct msg_response *src,
		       struct noise_handshake *(*lookup_index)(void *ctx,
							       uint32_t local_index),
		       void *ctx);

/* From CONSUMED_RESPONSE (initiator) or CREATED_RESPONSE (responder).
 * The handshake's local index moves to the keypair (hs->local_index
 * becomes 0) and the handshake secrets are wiped (state ZEROED). */
bool noise_derive_keypair(struct noise_handshake *hs,
			  struct noise_keypair *out, uint64_t now_ns);

/* Wipe a retired keypair's keys. */
void noise_keypair_wipe(struct noise_keypair *kp);

/* --- small pure helpers for the peer table and timers --- */

/* Whether the keypair is age_ns old or older at now_ns. One made later is not: a worker reads
 * the clock once per pass, and control may publish a keypair during the pass, so that its birth
 * follows the pass's clock (now - birth would wrap). Birth and ages are far below 2^63 ns. */
static inline bool noise_keypair_aged(const struct noise_keypair *kp, uint64_t now_ns, uint64_t age_ns)
{
	return now_ns >= kp->birthdate_ns + age_ns;
}

/* When the keypair expires: it may not be used in either direction from then on. */
static inline uint64_t noise_keypair_expiry(const struct noise_keypair *kp)
{
	return kp->birthdate_ns + REJECT_AFTER_TIME_NS;
}

static inline bool noise_keypair_expired(const struct noise_keypair *kp,
					 uint64_t now_ns)
{
	return now_ns >= noise_keypair_expiry(kp);
}

/* Send path: rekey when the nonce passed REKEY_AFTER_MESSAGES, or when we
 * initiated this session and it is older than REKEY_AFTER_TIME. */
static inline bool noise_keypair_wants_rekey_on_send(const struct noise_keypair *kp,
						      uint64_t next_nonce,
						      uint64_t now_ns)
{
	return next_nonce > REKEY_AFTER_MESSAGES ||
	       (kp->i_am_initiator &&
		noise_keypair_aged(kp, now_ns, REKEY_AFTER_TIME_NS));
}

/* Receive path ("last minute"): initiator only, once, at
 * REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT (165 s). */
static inline bool noise_keypair_wants_lastminute_rekey(const struct noise_keypair *kp,
							uint64_t now_ns)
{
	return kp->i_am_initiator &&
	       noise_keypair_aged(kp, now_ns, REJECT_AFTER_TIME_NS - KEEPALIVE_TIMEOUT_NS - REKEY_TIMEOUT_NS);
}

/*
 * Key confirmation: a responder must not send with a new keypair until the
 * initiator has used it. The peer keeps {current, previous, next}; a
 * responder's fresh keypair goes to next, and the first data packet that
 * authenticates with next promotes it: previous <- current, current <- next.
 * An initiator's fresh keypair becomes current at once. This returns true
 * when a new keypair should be installed as current immediately.
 */
static inline bool noise_keypair_is_confirmed_at_birth(const struct noise_keypair *kp)
{
	return kp->i_am_initiator;
}

#endif
