// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_iplen.c - ip_packet_len (pkt.h), the check every frame's IP header and every decrypted
 * packet pass: the IP packet's length, or 0 for a malformed header. Its IPv4-without-options
 * fast path must answer exactly as the general rules below.
 *
 *   #  header                                             expect
 *   1  IPv4 0x45, total 20..len                           total, AF_INET
 *   2  IPv4 0x45, total below 20 or above the buffer      0
 *   3  IPv4 with options (ihl 6..15), total vs 4 * ihl    total if 4 * ihl <= total <= len
 *   4  ihl below 5, versions other than 4 and 6           0
 *   5  IPv6, payload length vs the buffer                 40 + payload if it fits, else 0
 *   6  buffers shorter than either header                 0
 *   7  random first bytes, totals and buffer lengths      the general rules' answer
 */
#include <stdlib.h>
#include "pkt.h"
#include "pktcheck.h"

/* The rules, written plainly: what ip_packet_len must answer (and *family when nonzero). */
static uint32_t rule(const uint8_t *p, uint32_t len, int *family)
{
	unsigned version = p[0] >> 4, ihl = p[0] & 15;

	if (version == 4 && len >= 20) {
		uint32_t tot = (uint32_t)p[2] << 8 | p[3];

		*family = AF_INET;
		return ihl >= 5 && tot >= 4 * ihl && tot <= len ? tot : 0;
	}
	if (version == 6 && len >= 40) {
		uint32_t tot = 40 + ((uint32_t)p[4] << 8 | p[5]);

		*family = AF_INET6;
		return tot <= len ? tot : 0;
	}
	return 0;
}

static void check(const uint8_t *p, uint32_t len, const char *what)
{
	int want_family = 0, family = 0;
	uint32_t want = rule(p, len, &want_family), got = ip_packet_len(p, len, &family);

	T_CHECK(got == want && (!got || family == want_family),
		"%s: first byte 0x%02x, len %u: got %u (family %d), want %u (family %d)", what, p[0], len,
		got, family, want, want_family);
}

static void set_tot(uint8_t *p, uint32_t tot)
{
	p[2] = (uint8_t)(tot >> 8);
	p[3] = (uint8_t)tot;
}

int main(void)
{
	uint8_t b[2048] = { 0 };
	unsigned checked = 0;

	b[0] = 0x45;
	for (uint32_t tot = 20; tot <= 1500; tot++) {
		set_tot(b, tot);
		T_CHECK(ip_packet_len(b, 1500, &(int){ 0 }) == tot, "#1 0x45 total %u", tot);
		check(b, 1500, "#1");
	}
	for (uint32_t tot = 0; tot < 20; tot++) {
		set_tot(b, tot);
		T_CHECK(ip_packet_len(b, 1500, &(int){ 0 }) == 0, "#2 0x45 total %u accepted", tot);
	}
	set_tot(b, 1501);
	T_CHECK(ip_packet_len(b, 1500, &(int){ 0 }) == 0, "#2 0x45 total beyond the buffer accepted");
	for (unsigned ihl = 6; ihl <= 15; ihl++) {
		b[0] = (uint8_t)(0x40 | ihl);
		for (uint32_t tot = 4 * ihl - 2; tot <= 4 * ihl + 2; tot++) {
			set_tot(b, tot);
			check(b, 200, "#3");
		}
	}
	for (unsigned first = 0; first < 256; first++) {
		b[0] = (uint8_t)first;
		set_tot(b, 100);
		b[4] = 0;
		b[5] = 60;
		if ((first >> 4 == 4 && (first & 15) < 5) || (first >> 4 != 4 && first >> 4 != 6))
			T_CHECK(ip_packet_len(b, 200, &(int){ 0 }) == 0, "#4 first byte 0x%02x accepted", first);
		check(b, 200, "#4");
	}
	b[0] = 0x60;
	for (uint32_t plen = 0; plen <= 200; plen++) {
		b[4] = (uint8_t)(plen >> 8);
		b[5] = (uint8_t)plen;
		check(b, 200, "#5");
	}
	b[5] = 0;
	T_CHECK(ip_packet_len(b, 40, &(int){ 0 }) == 40, "#5 IPv6 without payload refused");
	for (uint32_t len = 0; len < 40; len++) {
		b[0] = 0x45;
		set_tot(b, len);
		check(b, len, "#6 IPv4");
		b[0] = 0x60;
		check(b, len, "#6 IPv6");
		T_CHECK(ip_packet_len(b, len, &(int){ 0 }) == 0, "#6 an IPv6 header in %u bytes accepted", len);
	}
	srandom(18);
	for (unsigned i = 0; i < 200000; i++) {
		uint32_t len = (uint32_t)random() % 1600;

		b[0] = (uint8_t)(random() % 4 ? (random() % 2 ? 0x45 : 0x40 | random() % 16) : random() % 256);
		set_tot(b, random() % 4 ? (uint32_t)random() % 1700 : (uint32_t)random() % 65536);
		b[4] = (uint8_t)(random() % 8);
		b[5] = (uint8_t)random();
		check(b, len, "#7");
		checked++;
	}
	printf("%s (%u random headers)\n", t_failures ? "FAILED" : "iplen: all cases pass", checked);
	return t_failures != 0;
}
