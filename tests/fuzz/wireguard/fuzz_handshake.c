// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_handshake.c - libFuzzer harness for handshake initiation and response consumption, the
 * control thread's path for untrusted types 1 and 2: cookie_validate_packet (mac1, and mac2
 * when under load) -> noise_consume_initiation / noise_consume_response -> create response ->
 * derive keypair. Keys are fixed (fuzz_keys.h) and the harness writes a valid mac1 after the
 * fuzzer's bytes, so inputs reach the Noise code. The first byte picks a mode:
 *   0  raw initiation: 148 fuzzer bytes (mac1 fixed up) to the responder
 *   1  honest initiation with fuzzer-chosen index and timestamp, then byte flips: it must be
 *      accepted exactly when the authenticated part [8, 116) is unchanged, and a replay of an
 *      accepted one must be refused (timestamp rule, whitepaper 5.1)
 *   2  raw response: 92 fuzzer bytes to an initiator waiting for its response
 *   3  honest response then byte flips: accepted exactly when [8, 60) is unchanged, and then
 *      both sides derive mirrored keys
 * Bit 7 of the mode byte puts the responder under load (mac2 checked). Ephemeral keys are
 * random (noise_create_initiation), so modes 1 and 3 are not bit-for-bit reproducible; their
 * assertions hold for every ephemeral. Violations abort(): a test that cannot fail is useless.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wireguard/cookie.h"
#include "wireguard/hash.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct side {
	struct noise_static_identity id;
	struct noise_handshake hs;     /* the handshake with the other side */
	struct cookie_checker checker; /* our mac1/cookie checker */
	struct cookie_maker maker;     /* macs for what we send to the other side */
};

static struct side resp, init;
static uint64_t now = 1000000000ull;

#define require(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_handshake: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

static void side_setup(struct side *s, const struct side *other)
{
	noise_handshake_init(&s->hs, &s->id, other->id.static_public, fuzz_psk);
	cookie_checker_init(&s->checker, s->id.static_public);
	cookie_maker_init(&s->maker, other->id.static_public);
}

static void setup(void)
{
	noise_static_identity_set(&resp.id, fuzz_resp_private);
	noise_static_identity_set(&init.id, fuzz_init_private);
	side_setup(&resp, &init);
	side_setup(&init, &resp);
}

static struct noise_handshake *lookup_static(void *ctx, const uint8_t key[32])
{
	(void)ctx;
	/* public data: plain memcmp */
	return memcmp(key, init.id.static_public, 32) ? NULL : &resp.hs;
}

static struct noise_handshake *lookup_index(void *ctx, uint32_t index)
{
	(void)ctx;
	return index == init.hs.local_index && init.hs.state == HANDSHAKE_CREATED_INITIATION ?
	       &init.hs : NULL;
}

static const uint8_t src_addr[4] = { 198, 51, 100, 2 };

/* The mac gate of control/handshake.c: false = dropped (or answered with a cookie) before Noise. */
static bool macs_pass(struct side *rx, const void *msg, size_t len, bool under_load)
{
	enum cookie_mac_state st;

	st = cookie_validate_packet(&rx->checker, msg, len, src_addr, 4, 0x5ba0, under_load, now);
	require(st != INVALID_MAC);   /* the harness always writes a valid mac1 */
	return !under_load || st == VALID_MAC_WITH_COOKIE;
}

/*
 * Under load the receiver wants mac2: play the cookie round trip the honest sender would (reply
 * from rx's checker, consumed by tx's maker, macs rewritten), so loaded inputs reach Noise too.
 */
static void macs_write(struct side *tx, struct side *rx, void *msg, size_t len, bool under_load)
{
	struct msg_cookie c;

	cookie_add_mac_to_packet(&tx->maker, msg, len, now);
	if (!under_load)
		return;
	cookie_message_create(&rx->checker, &c, msg, len, 7, src_addr, 4, 0x5ba0, now);
	require(cookie_message_consume(&tx->maker, &c, now));
	cookie_add_mac_to_packet(&tx->maker, msg, len, now);
}

/* Responder side of message 1; returns true when a session was derived (into kp). */
static bool responder_consume(const struct msg_initiation *m, bool under_load, struct msg_response *out,
			      struct noise_keypair *kp)
{
	struct noise_handshake *hs;

	require(macs_pass(&resp, m, sizeof(*m), under_load));
	hs = noise_consume_initiation(&resp.id, m, lookup_static, NULL, now);
	if (!hs)
		return false;
	require(hs == &resp.hs && hs->state == HANDSHAKE_CONSUMED_INITIATION);
	require(noise_create_response(hs, out, 0x1234));
	cookie_add_mac_to_packet(&resp.maker, out, sizeof(*out), now);
	require(noise_derive_keypair(hs, kp, now));
	return true;
}

static void honest_initiation(struct fuzz_in *in, struct msg_initiation *m)
{
	uint8_t ts[NOISE_TIMESTAMP_LEN];
	uint32_t idx;

	fuzz_bytes(in, &idx, sizeof(idx));
	fuzz_bytes(in, ts, sizeof(ts));
	ts[0] |= 0x40;   /* TAI64N of any date after 1970: greater than a fresh handshake's zero */
	require(noise_create_initiation(&init.id, &init.hs, m, idx, ts));
	cookie_add_mac_to_packet(&init.maker, m, sizeof(*m), now);
}

static void mode_initiation(struct fuzz_in *in, bool honest, bool under_load)
{
	struct msg_initiation m, orig;
	struct noise_keypair kp;
	struct msg_response r;
	bool ok;

	if (honest) {
		honest_initiation(in, &m);
		orig = m;
		fuzz_flip(in, (uint8_t *)&m, 4, offsetof(struct msg_initiation, macs), 8);
	} else {
		fuzz_bytes(in, &m, sizeof(m));
		m.header.type = htole32(MESSAGE_HANDSHAKE_INITIATION);
	}
	macs_write(&init, &resp, &m, sizeof(m), under_load);
	ok = responder_consume(&m, under_load, &r, &kp);
	if (ok)
		noise_keypair_wipe(&kp);
	if (!honest)
		return;
	/* [8, 116): ephemeral (hashed), encrypted static and timestamp (AEAD) */
	require(ok == !memcmp((uint8_t *)&m + 8, (uint8_t *)&orig + 8, 116 - 8));
	if (ok) {
		now += NSEC_PER_SEC;   /* past the flood guard: only the timestamp rule can refuse */
		require(!responder_consume(&m, false, &r, &kp));
	}
}

static void mode_response(struct fuzz_in *in, bool honest, bool under_load)
{
	struct msg_initiation m;
	struct msg_response r, orig;
	struct noise_keypair ki, kr;
	struct noise_handshake *hs;

	honest_initiation(in, &m);
	if (honest) {
		require(responder_consume(&m, false, &r, &kr));
		orig = r;
		fuzz_flip(in, (uint8_t *)&r, 4, offsetof(struct msg_response, macs), 8);
	} else {
		fuzz_bytes(in, &r, sizeof(r));
		r.header.type = htole32(MESSAGE_HANDSHAKE_RESPONSE);
		if (fuzz_u8(in) & 1)   /* help the fuzzer: point it at the waiting handshake */
			r.receiver_index = htole32(init.hs.local_index);
	}
	macs_write(&resp, &init, &r, sizeof(r), under_load);
	require(macs_pass(&init, &r, sizeof(r), under_load));
	hs = noise_consume_response(&init.id, &r, lookup_index, NULL);
	/* [8, 60): receiver index (lookup), ephemeral (hashed), empty AEAD */
	if (honest)
		require(!hs == !!memcmp((uint8_t *)&r + 8, (uint8_t *)&orig + 8, 60 - 8));
	if (hs) {
		require(hs == &init.hs && noise_derive_keypair(hs, &ki, now));
		/* the two ends of one handshake hold mirrored keys */
		if (honest)
			require(!memcmp(ki.send_key, kr.recv_key, 32) && !memcmp(ki.recv_key, kr.send_key, 32));
		noise_keypair_wipe(&ki);
	}
	if (honest)
		noise_keypair_wipe(&kr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t mode = fuzz_u8(&in);
	bool under_load = mode & 0x80;

	if (!resp.id.has_identity)
		setup();
	/* fresh handshakes per input: results depend on this input only */
	noise_handshake_init(&resp.hs, &resp.id, init.id.static_public, fuzz_psk);
	noise_handshake_init(&init.hs, &init.id, resp.id.static_public, fuzz_psk);
	now += NSEC_PER_SEC;
	switch (mode & 3) {
	case 0: mode_initiation(&in, false, under_load); break;
	case 1: mode_initiation(&in, true, under_load); break;
	case 2: mode_response(&in, false, under_load); break;
	default: mode_response(&in, true, under_load); break;
	}
	return 0;
}
