// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_derp_frame.c - DERP frame known answers: headers from TS:derp/derp_test.go,
 * the ServerKey magic, a ClientInfo frame and a ServerInfo payload sealed by PyNaCl with fixed
 * keys and nonces (tests/disco/gen_kat.py), SendPacket/RecvPacket layout and limits.
 */
#include <errno.h>
#include <sodium.h>
#include "t.h"
#include "derp_frame.h"

static void test_headers(void)
{
	uint8_t h[5], want[5], type;
	uint32_t len;

	derp_frame_put_header(h, DERP_SEND_PACKET, 1024);
	t_unhex(want, 5, "0400000400");
	CHECK_MEM(h, want, 5);
	derp_frame_put_header(h, DERP_KEEP_ALIVE, 0);
	t_unhex(want, 5, "0600000000");
	CHECK_MEM(h, want, 5);
	CHECK(derp_frame_get_header(want, &type, &len) == 0 && type == DERP_KEEP_ALIVE && len == 0);
	t_unhex(want, 5, "0501020304");
	CHECK(derp_frame_get_header(want, &type, &len) == -EMSGSIZE && len == 0x01020304);
	t_unhex(want, 5, "0500100000");
	CHECK(derp_frame_get_header(want, &type, &len) == 0 && len == DERP_MAX_FRAME);
}

static void test_handshake(void)
{
	uint8_t cpriv[32], cpub[32], spub[32], want_spub[32], nonce[24], frame[256], want[256], sk[64];
	char json[64];
	size_t n;

	for (int i = 0; i < 32; i++)
		cpriv[i] = (uint8_t)(i + 1);
	for (int i = 0; i < 24; i++)
		nonce[i] = (uint8_t)i;
	crypto_scalarmult_base(cpub, cpriv);
	t_unhex(want_spub, 32, "64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466");

	/* ServerKey: magic || key || future bytes (ignored). */
	memcpy(sk, DERP_MAGIC, 8);
	memcpy(sk + 8, want_spub, 32);
	CHECK(derp_parse_server_key(sk, 44, spub) == 0 && !memcmp(spub, want_spub, 32));
	CHECK(derp_parse_server_key(sk, 39, spub) == -EINVAL);
	sk[7] ^= 1;
	CHECK(derp_parse_server_key(sk, 40, spub) == -EINVAL);

	static const char ci_json[] = "{\"version\":2,\"CanAckPings\":true}";
	n = t_unhex(want, sizeof(want), "020000006807a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0"
		    "b2b86d1c7c000102030405060708090a0b0c0d0e0f1011121314151617adae4041b70fe715a2dcf6"
		    "3c8ac02df1e4e99f7e03896c0d8df02f11f38281e1fd9e1b60e2040edd9003eadd2e2a72bf");
	CHECK(derp_build_client_info(frame, sizeof(frame), cpub, cpriv, spub, nonce, ci_json,
				     sizeof(ci_json) - 1) == (int)n);
	CHECK_MEM(frame, want, n);
	CHECK(derp_build_client_info(frame, n - 1, cpub, cpriv, spub, nonce, ci_json,
				     sizeof(ci_json) - 1) == -ENOSPC);

	n = t_unhex(want, sizeof(want), "c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf3325b5867700f5"
		    "06dfe6465757c29b271977bc53dfa1bf144b1127a1be");
	CHECK(derp_open_server_info(json, sizeof(json), want, n, cpriv, spub) == 13);
	CHECK(!strcmp(json, "{\"version\":2}"));
	CHECK(derp_open_server_info(json, 13, want, n, cpriv, spub) == -ENOSPC);
	want[n - 1] ^= 1;
	CHECK(derp_open_server_info(json, sizeof(json), want, n, cpriv, spub) == -EBADMSG);
	CHECK(derp_open_server_info(json, sizeof(json), want, 39, cpriv, spub) == -EINVAL);
}

static void test_packets(void)
{
	static uint8_t big[DERP_MAX_PACKET + 64];
	uint8_t dst[32] = { 0xd5, [31] = 0x77 }, frame[128], type;
	const uint8_t *src, *pkt;
	size_t plen;
	uint32_t len;

	CHECK(derp_build_send_packet(frame, sizeof(frame), dst, "\x04\0\0\0abcd", 8) == 5 + 32 + 8);
	CHECK(derp_frame_get_header(frame, &type, &len) == 0 && type == DERP_SEND_PACKET && len == 40);
	CHECK_MEM(frame + 5, dst, 32);
	CHECK_MEM(frame + 37, "\x04\0\0\0abcd", 8);
	CHECK(derp_build_send_packet(frame, 44, dst, "\x04\0\0\0abcd", 8) == -ENOSPC);
	CHECK(derp_build_send_packet(big, sizeof(big), dst, big, DERP_MAX_PACKET + 1) == -EMSGSIZE);

	/* RecvPacket payload (the frame minus its header) splits into source and packet. */
	CHECK(derp_parse_recv_packet(frame + 5, 40, &src, &pkt, &plen) == 0);
	CHECK(src == frame + 5 && pkt == frame + 37 && plen == 8);
	CHECK(derp_parse_recv_packet(frame + 5, 31, &src, &pkt, &plen) == -EINVAL);
	CHECK(derp_parse_recv_packet(big, DERP_KEY_LEN + DERP_MAX_PACKET + 1, &src, &pkt, &plen) == -EINVAL);

	uint8_t np[6], pong[13];
	CHECK(derp_build_note_preferred(np, true) == 6 && !memcmp(np, "\x07\0\0\0\x01\x01", 6));
	CHECK(derp_build_note_preferred(np, false) == 6 && np[5] == 0);
	CHECK(derp_build_pong(pong, (const uint8_t *)"12345678") == 13);
	CHECK(!memcmp(pong, "\x13\0\0\0\x08" "12345678", 13));
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_headers();
	test_handshake();
	test_packets();
	return t_done("test_derp_frame");
}
