// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsframe.c - early payload (TS control/ts2021/conn.go) and MapResponse framing
 * (TS control/controlclient/direct.go, HS hscontrol/poll.go writeMap).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "hsframe.h"

long hs_early_feed(struct hs_early *e, const uint8_t *in, size_t len)
{
	size_t used = 0, n;

	if (e->state == HS_EARLY_HEADER) {
		n = sizeof(e->hdr) - e->hdr_len;
		if (n > len)
			n = len;
		memcpy(e->hdr + e->hdr_len, in, n);
		e->hdr_len += n;
		used += n;
		if (e->hdr_len < sizeof(e->hdr))
			return (long)used;
		if (memcmp(e->hdr, HS_EARLY_MAGIC, 5)) {
			/* An HTTP/2 frame header: the caller replays e->hdr, then the rest. */
			e->state = HS_EARLY_DONE;
			return (long)used;
		}
		e->present = true;
		e->body_len = (uint32_t)e->hdr[5] << 24 | (uint32_t)e->hdr[6] << 16 |
			      (uint32_t)e->hdr[7] << 8 | e->hdr[8];
		e->hdr_len = 0;
		if (e->body_len > HS_EARLY_MAX)
			return -EMSGSIZE;
		e->state = e->body_len ? HS_EARLY_BODY : HS_EARLY_DONE;
	}
	if (e->state == HS_EARLY_BODY) {
		n = e->body_len - e->body_seen;
		if (n > len - used)
			n = len - used;
		if (e->body_seen < HS_EARLY_KEEP) {
			size_t keep = HS_EARLY_KEEP - e->body_seen;

			memcpy(e->body + e->body_seen, in + used, keep < n ? keep : n);
		}
		e->body_seen += (uint32_t)n;
		used += n;
		e->body[e->body_seen < HS_EARLY_KEEP ? e->body_seen : HS_EARLY_KEEP] = '\0';
		if (e->body_seen == e->body_len)
			e->state = HS_EARLY_DONE;
	}
	return (long)used;
}

bool hs_early_passthrough(struct hs_early *e, const uint8_t **bytes, size_t *len)
{
	if (e->state != HS_EARLY_DONE || e->present || !e->hdr_len)
		return false;
	*bytes = e->hdr;
	*len = e->hdr_len;
	e->hdr_len = 0;             /* once */
	return true;
}

void hs_mapframe_reset(struct hs_mapframe *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

static int deliver(struct hs_mapframe *f, hs_mapframe_cb cb, void *arg)
{
	uint8_t *msg = f->buf;
	size_t len = f->have;
	int ret;

	f->buf = NULL;
	f->have = 0;
	f->need = 0;
	f->lenbuf_n = 0;
	ret = cb(arg, msg ? msg : (const uint8_t *)"", len);
	free(msg);
	return ret;
}

int hs_mapframe_feed(struct hs_mapframe *f, const uint8_t *in, size_t len, hs_mapframe_cb cb, void *arg)
{
	int ret;

	while (len) {
		size_t n;

		if (f->lenbuf_n < 4) {
			f->lenbuf[f->lenbuf_n++] = *in++;
			len--;
			if (f->lenbuf_n < 4)
				continue;
			f->need = (uint32_t)f->lenbuf[0] | (uint32_t)f->lenbuf[1] << 8 |
				  (uint32_t)f->lenbuf[2] << 16 | (uint32_t)f->lenbuf[3] << 24;
			if (f->need > HS_MAPFRAME_MAX)
				return -EMSGSIZE;
			if (f->need && !(f->buf = malloc(f->need + 1)))
				return -ENOMEM;
			if (!f->need && (ret = deliver(f, cb, arg)))
				return ret;
			continue;
		}
		n = f->need - f->have;
		if (n > len)
			n = len;
		memcpy(f->buf + f->have, in, n);
		f->have += n;
		in += n;
		len -= n;
		if (f->have == f->need) {
			f->buf[f->have] = '\0';      /* JSON parsers may rely on it */
			if ((ret = deliver(f, cb, arg)))
				return ret;
		}
	}
	return 0;
}
