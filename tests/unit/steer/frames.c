// SPDX-License-Identifier: GPL-2.0-only
/*
 * frames.c - builds the frames of frames.h. Checksums stay zero: steering never reads them.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"

static const uint8_t mac_router[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x05 };
static const uint8_t mac_host[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x80 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int family_of(const char *s, uint8_t out[16])
{
	if (inet_pton(AF_INET, s, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, out) == 1)
		return AF_INET6;
	fprintf(stderr, "frames: bad address %s\n", s);
	exit(1);
}

/* Transport header + payload at p; returns its length. */
static uint32_t l4_build(const struct frame_spec *f, uint8_t proto, uint8_t *p)
{
	uint32_t hl = proto == 6 ? 20 : 8;

	memset(p, 0, hl + f->payload);
	if (proto == 1 || proto == 58) {
		p[0] = (uint8_t)f->sport;            /* type */
		put16(p + 4, f->dport);              /* echo identifier */
		put16(p + 6, 1);                     /* sequence */
	} else {
		put16(p, f->sport);
		put16(p + 2, f->dport);
		if (proto == 17)
			put16(p + 4, (uint16_t)(hl + f->payload));
		if (proto == 6)
			p[12] = 5 << 4;              /* data offset */
	}
	if (f->payload && f->wg_type)
		p[hl] = f->wg_type;
	return hl + f->payload;
}

static uint32_t ip4_build(const struct frame_spec *f, const uint8_t *src, const uint8_t *dst, uint8_t *p)
{
	uint32_t ihl = f->ihl ? f->ihl : 5, hl = ihl * 4 > 20 ? ihl * 4 : 20, n;

	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | ihl);
	put16(p + 6, f->frag);
	p[8] = 64;
	p[9] = f->proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	memset(p + 20, 1, hl - 20);                  /* options: NOP */
	n = l4_build(f, f->proto, p + hl);
	put16(p + 2, (uint16_t)(hl + n));
	return hl + n;
}

static uint32_t ip6_build(const struct frame_spec *f, const uint8_t *src, const uint8_t *dst, uint8_t *p)
{
	uint32_t ext = 0, n;

	memset(p, 0, 40);
	p[0] = 0x60;
	p[6] = f->proto;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	if (f->proto == F_EXT_DSTOPTS_FRAG || f->proto == F_EXT_HOP_DST_FRAG || f->proto == F_EXT_FOUR_FRAG) {
		/* Option headers (PadN filling each; length in 8-byte units beyond the first 8) chained
		 * to a Fragment header, then UDP. */
		static const uint8_t dst_frag[] = { 60 }, hop_dst_frag[] = { 0, 60 }, four[] = { 0, 43, 60, 60 };
		const uint8_t *chain = f->proto == F_EXT_DSTOPTS_FRAG ? dst_frag :
				       f->proto == F_EXT_HOP_DST_FRAG ? hop_dst_frag : four;
		unsigned nchain = f->proto == F_EXT_DSTOPTS_FRAG ? 1 : f->proto == F_EXT_HOP_DST_FRAG ? 2 : 4;

		p[6] = chain[0];
		for (unsigned i = 0; i < nchain; i++) {
			uint8_t *h = p + 40 + ext;
			unsigned len = chain[i] == 60 && i == 0 ? 16 : 8;

			memset(h, 0, len);
			h[0] = i + 1 < nchain ? chain[i + 1] : 44;
			h[1] = (uint8_t)(len / 8 - 1);
			if (chain[i] == 43)
				h[2] = 0, h[3] = 0;          /* routing type 0, no segments left */
			else
				h[2] = 1, h[3] = (uint8_t)(len - 4);   /* PadN over the rest */
			ext += len;
		}
		memset(p + 40 + ext, 0, 8);
		p[40 + ext] = 17;
		if (f->frag)
			put16(p + 40 + ext + 2, f->frag);
		else
			p[40 + ext + 3] = 1;                 /* M: a first fragment */
		ext += 8;
	} else if (f->proto == F_EXT_HOPOPTS || f->proto == F_EXT_FRAG) {
		memset(p + 40, 0, 8);                /* 8 bytes: PadN for hop-by-hop, offset 0 */
		p[40] = 17;                          /* next header: UDP */
		if (f->proto == F_EXT_HOPOPTS)
			p[42] = 1, p[43] = 4;        /* PadN of 4 bytes + PadN header */
		else if (f->frag)
			put16(p + 42, f->frag);      /* offset << 3 | M, as given */
		else
			p[43] = 1;                   /* M flag: a first fragment */
		ext = 8;
	}
	n = l4_build(f, ext ? 17 : f->proto, p + 40 + ext);
	put16(p + 4, (uint16_t)(ext + n));
	return 40 + ext + n;
}

static uint32_t arp_build(uint8_t *p)
{
	static const uint8_t req[28] = { 0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0x80, 192, 168, 8, 80,
					 0, 0, 0, 0, 0, 0, 192, 168, 8, 105 };

	memcpy(p, req, sizeof(req));
	return sizeof(req);
}

uint32_t frame_build(const struct frame_spec *f, uint8_t *buf)
{
	uint8_t src[16], dst[16];
	uint32_t len = 14;
	int family = AF_INET;

	memset(buf, 0, FRAME_MAX);
	memcpy(buf, f->kind == F_ARP ? (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } : mac_router, 6);
	memcpy(buf + 6, mac_host, 6);
	if (f->kind == F_ARP) {
		put16(buf + 12, 0x0806);
		len += arp_build(buf + len);
		return f->cut && f->cut < len ? f->cut : len;
	}
	family = family_of(f->src, src);
	if (family_of(f->dst, dst) != family) {
		fprintf(stderr, "frames: %s and %s differ in family\n", f->src, f->dst);
		exit(1);
	}
	if (f->kind == F_VLAN) {
		put16(buf + 12, 0x8100);
		put16(buf + 14, 100);                /* VID 100 */
		len += 4;
	}
	put16(buf + len - 2, family == AF_INET ? 0x0800 : 0x86dd);
	len += family == AF_INET ? ip4_build(f, src, dst, buf + len) : ip6_build(f, src, dst, buf + len);
	return f->cut && f->cut < len ? f->cut : len;
}
