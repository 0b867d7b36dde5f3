// SPDX-License-Identifier: GPL-2.0-only
/*
 * derp_frame.c - DERP frame encoding (TS:derp/derp.go, derp_client.go).
 *
 * Every frame is type[1] || length[4] big-endian || payload. The handshake:
 *   S->C ServerKey   magic "DERP🔑" || server public key
 *   C->S ClientInfo  client node key || nonce[24] || crypto_box(JSON) client -> server
 *   S->C ServerInfo  nonce[24] || crypto_box(JSON) server -> client
 * The client key is the WireGuard node key. Boxes are NaCl crypto_box, tag first.
 */
#include <errno.h>
#include <string.h>
#include <sodium.h>
#include "derp_frame.h"

void derp_frame_put_header(uint8_t out[DERP_HDR_LEN], uint8_t type, uint32_t len)
{
	out[0] = type;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
}

int derp_frame_get_header(const uint8_t in[DERP_HDR_LEN], uint8_t *type, uint32_t *len)
{
	*type = in[0];
	*len = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 8 | in[4];
	return *len > DERP_MAX_FRAME ? -EMSGSIZE : 0;
}

int derp_parse_server_key(const uint8_t *p, size_t len, uint8_t server_pub[DERP_KEY_LEN])
{
	if (len < DERP_MAGIC_LEN + DERP_KEY_LEN || memcmp(p, DERP_MAGIC, DERP_MAGIC_LEN))
		return -EINVAL;
	memcpy(server_pub, p + DERP_MAGIC_LEN, DERP_KEY_LEN);
	return 0;
}

int derp_build_client_info(uint8_t *out, size_t cap, const uint8_t node_pub[32],
			   const uint8_t node_priv[32], const uint8_t server_pub[32],
			   const uint8_t *nonce, const char *json, size_t json_len)
{
	size_t payload = DERP_KEY_LEN + DERP_NONCE_LEN + crypto_box_MACBYTES + json_len;
	uint8_t *n = out + DERP_HDR_LEN + DERP_KEY_LEN;

	if (cap < DERP_HDR_LEN + payload)
		return -ENOSPC;
	derp_frame_put_header(out, DERP_CLIENT_INFO, (uint32_t)payload);
	memcpy(out + DERP_HDR_LEN, node_pub, DERP_KEY_LEN);
	if (nonce)
		memcpy(n, nonce, DERP_NONCE_LEN);
	else
		randombytes_buf(n, DERP_NONCE_LEN);
	if (crypto_box_easy(n + DERP_NONCE_LEN, (const uint8_t *)json, json_len, n, server_pub, node_priv))
		return -EINVAL;                  /* low-order server key */
	return (int)(DERP_HDR_LEN + payload);
}

int derp_open_server_info(char *json, size_t cap, const uint8_t *p, size_t len,
			  const uint8_t node_priv[32], const uint8_t server_pub[32])
{
	size_t mlen;

	if (len < DERP_NONCE_LEN + crypto_box_MACBYTES)
		return -EINVAL;
	mlen = len - DERP_NONCE_LEN - crypto_box_MACBYTES;
	if (mlen + 1 > cap)
		return -ENOSPC;
	if (crypto_box_open_easy((uint8_t *)json, p + DERP_NONCE_LEN, len - DERP_NONCE_LEN, p,
				 server_pub, node_priv))
		return -EBADMSG;
	json[mlen] = 0;
	return (int)mlen;
}

int derp_build_send_packet(uint8_t *out, size_t cap, const uint8_t dst[32], const void *pkt, size_t len)
{
	if (len > DERP_MAX_PACKET)
		return -EMSGSIZE;
	if (cap < DERP_HDR_LEN + DERP_KEY_LEN + len)
		return -ENOSPC;
	derp_frame_put_header(out, DERP_SEND_PACKET, (uint32_t)(DERP_KEY_LEN + len));
	memcpy(out + DERP_HDR_LEN, dst, DERP_KEY_LEN);
	memcpy(out + DERP_HDR_LEN + DERP_KEY_LEN, pkt, len);
	return (int)(DERP_HDR_LEN + DERP_KEY_LEN + len);
}

int derp_parse_recv_packet(const uint8_t *p, size_t len, const uint8_t **src, const uint8_t **pkt,
			   size_t *pkt_len)
{
	if (len < DERP_KEY_LEN || len - DERP_KEY_LEN > DERP_MAX_PACKET)
		return -EINVAL;
	*src = p;
	*pkt = p + DERP_KEY_LEN;
	*pkt_len = len - DERP_KEY_LEN;
	return 0;
}

int derp_build_note_preferred(uint8_t out[DERP_HDR_LEN + 1], bool preferred)
{
	derp_frame_put_header(out, DERP_NOTE_PREFERRED, 1);
	out[DERP_HDR_LEN] = preferred ? 1 : 0;
	return DERP_HDR_LEN + 1;
}

int derp_build_pong(uint8_t out[DERP_HDR_LEN + 8], const uint8_t ping_data[8])
{
	derp_frame_put_header(out, DERP_PONG, 8);
	memcpy(out + DERP_HDR_LEN, ping_data, 8);
	return DERP_HDR_LEN + 8;
}
