/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cookie.h - mac1/mac2 and cookie replies (whitepaper 5.4.4, 5.4.7).
 *
 * The checker is ours (one per device, control thread); the maker is one
 * per peer (control thread). Rate limiting of packets that carry a valid
 * cookie is the caller's job (ratelimiter.h), after VALID_MAC_WITH_COOKIE.
 */
#ifndef MG_WG_COOKIE_H
#define MG_WG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wireguard/messages.h"

struct cookie_checker {
	uint8_t secret[COOKIE_SECRET_LEN]; /* rotated after COOKIE_SECRET_MAX_AGE */
	uint64_t secret_birthdate_ns;      /* monotonic; 0 = no secret yet */
	uint8_t mac1_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie_encryption_key[NOISE_SYMMETRIC_KEY_LEN];
};

/* Call again whenever our private (hence public) key changes. */
void cookie_checker_init(struct cookie_checker *c, const uint8_t our_public[NOISE_PUBLIC_KEY_LEN]);

enum cookie_mac_state {
	INVALID_MAC,
	VALID_MAC_BUT_NO_COOKIE,
	VALID_MAC_WITH_COOKIE,
};

/*
 * msg/len: the whole handshake message, macs at the end. The cookie input
 * is the outer source address bytes (4 or 16) followed by the big-endian
 * UDP source port. With check_cookie false only mac1 is checked (and the
 * result is never VALID_MAC_WITH_COOKIE).
 */
enum cookie_mac_state cookie_validate_packet(struct cookie_checker *c, const void *msg,
					     size_t len, const uint8_t *src_addr,
					     size_t addr_len, uint16_t src_port_be,
					     bool check_cookie, uint64_t now_ns);

/* Builds the 64-byte type-3 reply to msg; receiver_index is the (host
 * order) sender index of msg. AAD is msg's mac1. */
void cookie_message_create(struct cookie_checker *c, struct msg_cookie *dst,
			   const void *msg, size_t len, uint32_t receiver_index,
			   const uint8_t *src_addr, size_t addr_len,
			   uint16_t src_port_be, uint64_t now_ns);

struct cookie_maker {
	uint8_t mac1_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie_decryption_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie[COOKIE_LEN];
	uint64_t cookie_birthdate_ns; /* monotonic */
	bool is_valid, have_sent_mac1;
	uint8_t last_mac1_sent[COOKIE_LEN];
};

/* Call again when the peer's public key changes. */
void cookie_maker_init(struct cookie_maker *m, const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN]);

/* Writes mac1, and mac2 when we hold a cookie younger than
 * COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY (else mac2 = 0). */
void cookie_add_mac_to_packet(struct cookie_maker *m, void *msg, size_t len, uint64_t now_ns);

/* Accepts a reply only if it authenticates against the last mac1 we sent.
 * The caller found m from src->receiver_index. */
bool cookie_message_consume(struct cookie_maker *m, const struct msg_cookie *src,
			    uint64_t now_ns);

#endif
