/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derp_frame.h - DERP frames: the 5-byte header, the handshake payloads
 * (ServerKey, ClientInfo, ServerInfo) and the relay payloads (SendPacket, RecvPacket), as pure
 * encoders/decoders over caller buffers. The connection (TLS, HTTP upgrade, reconnects) is not
 * here; this is what it reads and writes.
 */
#ifndef MG_DERP_FRAME_H
#define MG_DERP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DERP_HDR_LEN          5              /* type[1] || payload length[4] BE */
#define DERP_MAGIC            "DERP\xf0\x9f\x94\x91"
#define DERP_MAGIC_LEN        8
#define DERP_KEY_LEN          32
#define DERP_NONCE_LEN        24
#define DERP_VERSION          2
#define DERP_MAX_PACKET       (64u * 1024u)  /* SendPacket/RecvPacket data */
#define DERP_MAX_FRAME        (1024u * 1024u)/* what a client accepts */

enum derp_frame_type {
	DERP_SERVER_KEY = 0x01, DERP_CLIENT_INFO = 0x02, DERP_SERVER_INFO = 0x03,
	DERP_SEND_PACKET = 0x04, DERP_RECV_PACKET = 0x05, DERP_KEEP_ALIVE = 0x06,
	DERP_NOTE_PREFERRED = 0x07, DERP_PEER_GONE = 0x08, DERP_PING = 0x12, DERP_PONG = 0x13,
	DERP_HEALTH = 0x14, DERP_RESTARTING = 0x15,
};

void derp_frame_put_header(uint8_t out[DERP_HDR_LEN], uint8_t type, uint32_t len);
/* -EMSGSIZE if the declared length exceeds DERP_MAX_FRAME (the stream is then unusable). */
int derp_frame_get_header(const uint8_t in[DERP_HDR_LEN], uint8_t *type, uint32_t *len);

/* ServerKey payload: magic || server key (|| ignored future bytes). 0 or -EINVAL. */
int derp_parse_server_key(const uint8_t *p, size_t len, uint8_t server_pub[DERP_KEY_LEN]);

/* Whole ClientInfo frame: header || our node key || nonce || crypto_box(json) to the server.
 * @json e.g. {"version":2,"CanAckPings":true}. @nonce NULL = random. Length or -ENOSPC. */
int derp_build_client_info(uint8_t *out, size_t cap, const uint8_t node_pub[32],
			   const uint8_t node_priv[32], const uint8_t server_pub[32],
			   const uint8_t *nonce, const char *json, size_t json_len);
/* ServerInfo payload: nonce || box(json) from the server. JSON length (NUL-terminated in
 * @json) or -EINVAL/-EBADMSG/-ENOSPC. */
int derp_open_server_info(char *json, size_t cap, const uint8_t *p, size_t len,
			  const uint8_t node_priv[32], const uint8_t server_pub[32]);

/* Whole SendPacket frame: header || destination node key || packet. Length or -ENOSPC/-EMSGSIZE. */
int derp_build_send_packet(uint8_t *out, size_t cap, const uint8_t dst[32], const void *pkt, size_t len);
/* RecvPacket payload (v2): source node key || packet. 0 or -EINVAL. */
int derp_parse_recv_packet(const uint8_t *p, size_t len, const uint8_t **src, const uint8_t **pkt,
			   size_t *pkt_len);
/* Small control frames: NotePreferred(1 byte), Ping/Pong (8 bytes echoed). Whole frame length. */
int derp_build_note_preferred(uint8_t out[DERP_HDR_LEN + 1], bool preferred);
int derp_build_pong(uint8_t out[DERP_HDR_LEN + 8], const uint8_t ping_data[8]);

#endif
