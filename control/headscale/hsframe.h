/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsframe.h - the two byte-stream framings above the Noise records: the early payload the server
 * may send before HTTP/2 and the length-prefixed MapResponse stream.
 * Both are fed arbitrary slices: record and DATA-frame boundaries mean nothing here.
 */
#ifndef MG_HSFRAME_H
#define MG_HSFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HS_EARLY_MAGIC "\xff\xff\xffTS"
#define HS_EARLY_MAX (10u << 20)            /* the client's limit on the JSON length */
#define HS_EARLY_KEEP 512                   /* JSON bytes we keep (the challenge is 95) */

enum hs_early_state { HS_EARLY_HEADER, HS_EARLY_BODY, HS_EARLY_DONE };

struct hs_early {
	enum hs_early_state state;
	uint8_t hdr[9];
	size_t hdr_len;
	uint32_t body_len, body_seen;
	char body[HS_EARLY_KEEP + 1];           /* NUL-terminated prefix of the JSON */
	bool present;                           /* the magic was seen */
};

/*
 * Feeds plaintext. Returns the number of bytes of @in consumed by the early payload (the rest
 * belongs to HTTP/2), or -EMSGSIZE for a length above HS_EARLY_MAX. Once the first 9 bytes
 * turn out not to be the magic, state becomes DONE and the caller must hand e->hdr[0..hdr_len)
 * to HTTP/2 before the unconsumed rest (hs_early_passthrough tells whether to).
 */
long hs_early_feed(struct hs_early *e, const uint8_t *in, size_t len);
/* True once when the buffered 9 bytes were HTTP/2 and must be replayed; clears the flag. */
bool hs_early_passthrough(struct hs_early *e, const uint8_t **bytes, size_t *len);

#define HS_MAPFRAME_MAX (64u << 20)         /* a sanity cap on one MapResponse */

struct hs_mapframe {
	uint8_t lenbuf[4];
	size_t lenbuf_n;
	uint32_t need;                          /* payload length of the current message */
	uint8_t *buf;                           /* malloc'd payload being assembled */
	size_t have;
};

typedef int (*hs_mapframe_cb)(void *arg, const uint8_t *msg, size_t len);

/*
 * Feeds body bytes of the /machine/map response: uint32 little-endian length + payload, repeated.
 * Calls @cb once per complete payload (a zero-length message is delivered too). Returns 0,
 * -EMSGSIZE, -ENOMEM or the first nonzero value returned by @cb (which stops feeding).
 */
int hs_mapframe_feed(struct hs_mapframe *f, const uint8_t *in, size_t len, hs_mapframe_cb cb, void *arg);
void hs_mapframe_reset(struct hs_mapframe *f);

#endif
