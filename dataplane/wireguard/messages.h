/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * messages.h - WireGuard wire format and protocol constants.
 *
 * All multi-byte fields on the wire are little-endian; the structs are packed
 * and hold raw le32/le64 values (convert with htole32/le32toh). The message
 * type is a le32 whose upper three bytes must be zero. Timer values are the
 * whitepaper's table as the kernel's messages.h and wireguard-go's
 * constants.go carry them.
 */
#ifndef MG_WG_MESSAGES_H
#define MG_WG_MESSAGES_H

#include <stdint.h>
#include <assert.h>
#include "mg.h"

enum noise_lengths {
	NOISE_PUBLIC_KEY_LEN = 32,
	NOISE_SYMMETRIC_KEY_LEN = 32,
	NOISE_TIMESTAMP_LEN = 12,
	NOISE_AUTHTAG_LEN = 16,
	NOISE_HASH_LEN = 32,
};

#define noise_encrypted_len(plain_len) ((plain_len) + NOISE_AUTHTAG_LEN)

enum cookie_values {
	COOKIE_SECRET_LEN = 32,
	COOKIE_LEN = 16,
	COOKIE_NONCE_LEN = 24,
};

#define REKEY_AFTER_MESSAGES (1ULL << 60)
/* Kernel: U64_MAX - COUNTER_WINDOW_SIZE - 1 on 64-bit; the paper's
 * 2^64 - 2^13 - 1 is one larger. We follow the kernel so that the replay
 * window of COUNTER_WINDOW_SIZE never wraps. */
#define COUNTER_BITS_TOTAL 8192
#define COUNTER_WORD_BITS 64
#define COUNTER_WINDOW_SIZE (COUNTER_BITS_TOTAL - COUNTER_WORD_BITS) /* 8128 */
#define REJECT_AFTER_MESSAGES (UINT64_MAX - COUNTER_WINDOW_SIZE - 1)

#define REKEY_TIMEOUT_NS (5 * NSEC_PER_SEC)
#define REKEY_TIMEOUT_JITTER_MAX_NS (NSEC_PER_SEC / 3)
#define REKEY_AFTER_TIME_NS (120 * NSEC_PER_SEC)
#define REJECT_AFTER_TIME_NS (180 * NSEC_PER_SEC)
#define REKEY_ATTEMPT_TIME_NS (90 * NSEC_PER_SEC)
#define KEEPALIVE_TIMEOUT_NS (10 * NSEC_PER_SEC)
#define COOKIE_SECRET_MAX_AGE_NS (120 * NSEC_PER_SEC)
#define COOKIE_SECRET_LATENCY_NS (5 * NSEC_PER_SEC)
#define MAX_TIMER_HANDSHAKES (90 / 5) /* REKEY_ATTEMPT_TIME / REKEY_TIMEOUT = 18 */
#define INITIATIONS_PER_SECOND 50
#define MAX_PEERS_PER_DEVICE (1U << 20)
#define MESSAGE_PADDING_MULTIPLE 16

enum message_type {
	MESSAGE_INVALID = 0,
	MESSAGE_HANDSHAKE_INITIATION = 1,
	MESSAGE_HANDSHAKE_RESPONSE = 2,
	MESSAGE_HANDSHAKE_COOKIE = 3,
	MESSAGE_DATA = 4,
};

struct msg_header {
	uint32_t type; /* le32; only the low byte may be non-zero */
} __attribute__((packed));

/* Trailer of every handshake message; mac1 covers everything before it,
 * mac2 covers everything before mac2 (so it includes mac1). */
struct msg_macs {
	uint8_t mac1[COOKIE_LEN];
	uint8_t mac2[COOKIE_LEN];
} __attribute__((packed));

struct msg_initiation {
	struct msg_header header;
	uint32_t sender_index; /* le32 */
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_static[noise_encrypted_len(NOISE_PUBLIC_KEY_LEN)];
	uint8_t encrypted_timestamp[noise_encrypted_len(NOISE_TIMESTAMP_LEN)];
	struct msg_macs macs;
} __attribute__((packed));

struct msg_response {
	struct msg_header header;
	uint32_t sender_index;   /* le32 */
	uint32_t receiver_index; /* le32 */
	uint8_t unencrypted_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_nothing[noise_encrypted_len(0)];
	struct msg_macs macs;
} __attribute__((packed));

struct msg_cookie {
	struct msg_header header;
	uint32_t receiver_index; /* le32 */
	uint8_t nonce[COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[noise_encrypted_len(COOKIE_LEN)];
} __attribute__((packed));

struct msg_data {
	struct msg_header header;
	uint32_t receiver_index; /* le32 */
	uint64_t counter;        /* le64 */
	uint8_t encrypted_data[];
} __attribute__((packed));

#define message_data_len(plain_len) \
	(noise_encrypted_len(plain_len) + sizeof(struct msg_data))

enum message_alignments {
	MESSAGE_MINIMUM_LENGTH = message_data_len(0), /* a keepalive: 32 B */
};

static_assert(sizeof(struct msg_header) == 4, "header size");
static_assert(sizeof(struct msg_macs) == 32, "macs size");
static_assert(sizeof(struct msg_initiation) == 148, "initiation size");
static_assert(sizeof(struct msg_response) == 92, "response size");
static_assert(sizeof(struct msg_cookie) == 64, "cookie reply size");
static_assert(sizeof(struct msg_data) == 16, "data header size");
static_assert(MESSAGE_MINIMUM_LENGTH == 32, "keepalive size");
static_assert(COUNTER_WINDOW_SIZE == 8128, "replay window");
static_assert(MAX_TIMER_HANDSHAKES == 18, "handshake attempts");

#endif
