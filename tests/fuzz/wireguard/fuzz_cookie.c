// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_cookie.c - libFuzzer harness for cookie reply consumption (type 3, whitepaper 5.4.7):
 * cookie_message_consume on the initiator's cookie maker, which earlier sent one mac1'd
 * initiation to the router. The first byte picks a mode:
 *   0  raw: 64 fuzzer bytes as the reply
 *   1  honest reply from the router's checker (fuzzer-chosen source address and port), then byte
 *      flips: accepted exactly when the type and [8, 64) (nonce, encrypted cookie) are unchanged; once
 *      accepted, the maker's next mac2 must satisfy the router's checker (VALID_MAC_WITH_COOKIE)
 *      for that source and no other
 * An accepted raw reply must also leave the maker producing a mac2 the checker can evaluate
 * without crashing. Violations abort().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wireguard/cookie.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct noise_static_identity router;
static uint8_t router_public[32];
static uint64_t now = 1000000000ull;

#define require(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_cookie: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* Any 148-byte handshake body will do: the macs cover whatever it holds. */
static void sent_initiation(struct cookie_maker *mk, struct msg_initiation *m, struct fuzz_in *in)
{
	fuzz_bytes(in, m, offsetof(struct msg_initiation, macs));
	m->header.type = htole32(MESSAGE_HANDSHAKE_INITIATION);
	cookie_add_mac_to_packet(mk, m, sizeof(*m), now);
}

static void mode_honest(struct cookie_checker *ck, struct cookie_maker *mk, struct fuzz_in *in)
{
	struct msg_initiation m;
	struct msg_cookie c, orig;
	uint8_t addr[16], other[16];
	uint16_t port;
	bool ok;

	sent_initiation(mk, &m, in);
	fuzz_bytes(in, addr, sizeof(addr));
	fuzz_bytes(in, &port, sizeof(port));
	cookie_message_create(ck, &c, &m, sizeof(m), le32toh(m.sender_index), addr, 16, port, now);
	require(le32toh(c.header.type) == MESSAGE_HANDSHAKE_COOKIE && c.receiver_index == m.sender_index);
	orig = c;
	fuzz_flip(in, (uint8_t *)&c, 0, sizeof(c), 6);
	ok = cookie_message_consume(mk, &c, now);
	/* the reply is bound to our last mac1 (AAD) and its own nonce; header and index are not
	 * authenticated (the caller used the index to find us), the type is checked */
	require(ok == (c.header.type == orig.header.type &&
		       !memcmp((uint8_t *)&c + 8, (uint8_t *)&orig + 8, sizeof(c) - 8)));
	if (!ok)
		return;
	now += NSEC_PER_SEC;
	m.sender_index ^= 1;   /* a new initiation: new mac1 */
	cookie_add_mac_to_packet(mk, &m, sizeof(m), now);
	require(cookie_validate_packet(ck, &m, sizeof(m), addr, 16, port, true, now) == VALID_MAC_WITH_COOKIE);
	memcpy(other, addr, 16);
	other[15] ^= 1;
	require(cookie_validate_packet(ck, &m, sizeof(m), other, 16, port, true, now) == VALID_MAC_BUT_NO_COOKIE);
	/* a second copy of the same reply no longer matches: the last mac1 sent changed */
	require(!cookie_message_consume(mk, &orig, now));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct cookie_checker ck;
	struct cookie_maker mk;
	struct msg_initiation m;
	struct msg_cookie c;
	uint8_t mode = fuzz_u8(&in);

	if (!router.has_identity) {
		noise_static_identity_set(&router, fuzz_resp_private);
		memcpy(router_public, router.static_public, 32);
	}
	now += NSEC_PER_SEC;
	cookie_checker_init(&ck, router_public);
	cookie_maker_init(&mk, router_public);
	if (mode & 1) {
		mode_honest(&ck, &mk, &in);
		return 0;
	}
	if (mode & 2)   /* the maker may also receive a reply before it sent anything */
		sent_initiation(&mk, &m, &in);
	fuzz_bytes(&in, &c, sizeof(c));
	if (cookie_message_consume(&mk, &c, now)) {
		require(mode & 2);   /* no mac1 sent: nothing to accept (kernel: have_sent_mac1) */
		cookie_add_mac_to_packet(&mk, &m, sizeof(m), now);
		(void)cookie_validate_packet(&ck, &m, sizeof(m), (const uint8_t *)"\x01\x02\x03\x04", 4, 1, true, now);
	}
	return 0;
}
