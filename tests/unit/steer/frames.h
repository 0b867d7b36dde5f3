/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * frames.h - hand-built Ethernet frames for the steering tests: one description per frame
 * (struct frame_spec), one builder that writes it. Addresses are text, ports host order.
 */
#ifndef MG_TEST_STEER_FRAMES_H
#define MG_TEST_STEER_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

#define FRAME_MAX 512

enum frame_kind {
	F_IP,          /* IPv4 or IPv6 (from the address text) with a transport header */
	F_VLAN,        /* the same inside an 802.1Q tag */
	F_ARP,         /* an ARP request */
};

/* IPv6 "protocols" that are really extension headers in front of UDP. */
#define F_EXT_HOPOPTS 0
#define F_EXT_FRAG    44
#define F_EXT_DSTOPTS_FRAG 0xfe   /* destination options (16 bytes), then a Fragment header */
#define F_EXT_HOP_DST_FRAG 0xfd   /* hop-by-hop, destination options, then a Fragment header */
#define F_EXT_FOUR_FRAG    0xfc   /* hop-by-hop, routing, two destination options, Fragment */

struct frame_spec {
	enum frame_kind kind;
	const char *src, *dst;   /* IPv4 or IPv6 text */
	uint8_t proto;           /* 1, 6, 17, 58 or F_EXT_* (IPv6; UDP follows) or any */
	uint16_t sport, dport;   /* ICMP/ICMPv6: sport = type, dport = echo identifier */
	uint16_t frag;           /* IPv4 flags + fragment offset field, host order; IPv6 with
				  * F_EXT_FRAG: the Fragment header's offset << 3 | M field
				  * (0 = a first fragment, M set) */
	uint8_t ihl;             /* IPv4 header words; 0 = 5; > 5 adds NOP options, as far as
				  * the frame carries them (see cut) */
	uint8_t wg_type;         /* first payload byte (WireGuard message type), 0 = none */
	uint16_t payload;        /* bytes after the transport header */
	uint16_t cut;            /* nonzero: the frame is truncated to this many bytes */
};

/* Writes the frame into buf (FRAME_MAX bytes); returns its length. Exits on bad address text. */
uint32_t frame_build(const struct frame_spec *f, uint8_t *buf);

#endif
