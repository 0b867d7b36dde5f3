/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsnoise.h - the ts2021 Noise layer: Noise_IK_25519_ChaChaPoly_BLAKE2s, client
 * (initiator) side only, plus the transport records that carry HTTP/2 afterwards.
 */
#ifndef MG_HSNOISE_H
#define MG_HSNOISE_H

#include <stddef.h>
#include <stdint.h>

#define HS_NOISE_INIT_LEN 101        /* 2 version + 1 type + 2 length + 32 e + 48 s + 16 tag */
#define HS_NOISE_RESP_LEN 51         /* 1 type + 2 length + 32 e + 16 tag */
#define HS_MSG_INITIATION 0x01
#define HS_MSG_RESPONSE 0x02
#define HS_MSG_ERROR 0x03
#define HS_MSG_RECORD 0x04
#define HS_RECORD_HDR 3
#define HS_RECORD_MAX 4096            /* on the wire, header included */
#define HS_RECORD_PT_MAX (HS_RECORD_MAX - HS_RECORD_HDR - 16)   /* 4077 */

/* One direction of the transport: key from Split, 64-bit counter sent big-endian. */
struct hs_cipher {
	uint8_t key[32];
	uint64_t nonce;
};

struct hs_transport {
	struct hs_cipher tx, rx;      /* client: tx = k1, rx = k2 */
	uint8_t handshake_hash[32];
};

/* Initiator state between message 1 and message 2; wiped by hs_noise_finish. */
struct hs_noise_hs {
	uint8_t h[32], ck[32];
	uint8_t e_priv[32], e_pub[32];
	uint8_t s_priv[32];
	uint8_t rs[32];
};

/*
 * Builds the 101-byte initiation for protocol @version with our machine key @s_priv towards the
 * server's Noise key @rs. @e_priv is the ephemeral (NULL = random; tests pass a fixed one).
 * 0, or -EINVAL if a DH result is all-zero.
 */
int hs_noise_initiate(struct hs_noise_hs *hs, uint16_t version, const uint8_t s_priv[32],
		      const uint8_t rs[32], const uint8_t *e_priv, uint8_t out[HS_NOISE_INIT_LEN]);
/*
 * Consumes the 51-byte response and derives the transport keys. 0, -EPROTO for a wrong header
 * (an error message is type 3: the caller may show its text, it is unauthenticated),
 * -EBADMSG if the tag does not verify. The handshake state is wiped either way.
 */
int hs_noise_finish(struct hs_noise_hs *hs, const uint8_t in[HS_NOISE_RESP_LEN], struct hs_transport *t);

/*
 * Seals @len (<= HS_RECORD_PT_MAX) bytes into one record at @out (len + 19 bytes).
 * Returns the record length, or -ENOSPC (length) / -EOVERFLOW (counter exhausted).
 */
int hs_record_seal(struct hs_cipher *c, const uint8_t *pt, size_t len, uint8_t *out);
/*
 * Opens the ciphertext of one record (the @len bytes after its 3-byte header) into @pt
 * (len - 16 bytes). Returns the plaintext length, or -EBADMSG / -EOVERFLOW.
 */
int hs_record_open(struct hs_cipher *c, const uint8_t *ct, size_t len, uint8_t *pt);
/* The 12-byte transport nonce: 4 zero bytes, then the counter big-endian (not Noise's LE). */
void hs_record_nonce(uint8_t out[12], uint64_t counter);

#endif
