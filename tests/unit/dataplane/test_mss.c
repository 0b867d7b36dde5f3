// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_mss.c - MSS clamping: the option lowered to MTU - 40 (v4) / - 60 (v6) on SYNs only, never
 * raised, found after NOPs at even and odd offsets, malformed options left alone; the TCP
 * checksum is verified from scratch after every rewrite.
 */
#include "mss.h"
#include "pktcheck.h"

/* A SYN (or ACK) with the given option bytes (padded to 4), MSS value at its place. */
static size_t syn(uint8_t *b, int v6, const uint8_t *opts, size_t olen, uint8_t flags)
{
	size_t hl = v6 ? 40 : 20, len;
	size_t padded = (olen + 3) & ~(size_t)3;

	len = mkpkt(b, v6, v6 ? "fd00:8::80" : "192.168.8.80", v6 ? "fd7a:115c:a1e0::2" : "100.64.0.2",
		    IPPROTO_TCP, 80, 40000, padded);
	memcpy(b + hl + 20, opts, olen);
	memset(b + hl + 20 + olen, 0, padded - olen);
	b[hl + 12] = (uint8_t)((5 + padded / 4) << 4);
	b[hl + 13] = flags;
	ref_fix(b, len);
	return len;
}

static uint16_t mss_at(const uint8_t *b, int v6, size_t off)
{
	size_t p = (v6 ? 40 : 20) + 20 + off;

	return (uint16_t)(b[p] << 8 | b[p + 1]);
}

int main(void)
{
	static const uint8_t even[] = { 2, 4, 0x05, 0xb4 };                       /* MSS 1460 at 20 */
	static const uint8_t odd[] = { 1, 2, 4, 0x05, 0xb4, 1, 1, 1 };            /* NOP, MSS at 21 */
	static const uint8_t small[] = { 2, 4, 0x02, 0x00 };                      /* MSS 512 */
	static const uint8_t bad[] = { 3, 0, 2, 4, 0x05, 0xb4 };                  /* zero-length option */
	uint8_t b[256];
	size_t len;

	for (int v6 = 0; v6 <= 1; v6++) {
		uint16_t want = v6 ? 1220 : 1240;

		len = syn(b, v6, even, sizeof(even), 0x02);
		T_CHECK(mss_clamp(b, len, v6 ? AF_INET6 : AF_INET, 1280), "v6=%d even: not clamped", v6);
		T_CHECK(mss_at(b, v6, 2) == want, "v6=%d even: MSS %u", v6, mss_at(b, v6, 2));
		T_CHECK(ref_valid(b, len), "v6=%d even: checksum", v6);

		len = syn(b, v6, odd, sizeof(odd), 0x12);                        /* SYN-ACK */
		T_CHECK(mss_clamp(b, len, v6 ? AF_INET6 : AF_INET, 1280), "v6=%d odd: not clamped", v6);
		T_CHECK(mss_at(b, v6, 3) == want, "v6=%d odd: MSS %u", v6, mss_at(b, v6, 3));
		T_CHECK(ref_valid(b, len), "v6=%d odd offset: checksum", v6);

		len = syn(b, v6, small, sizeof(small), 0x02);
		T_CHECK(!mss_clamp(b, len, v6 ? AF_INET6 : AF_INET, 1280) && mss_at(b, v6, 2) == 512,
			"v6=%d: a smaller MSS was raised", v6);

		len = syn(b, v6, even, sizeof(even), 0x10);                      /* plain ACK */
		T_CHECK(!mss_clamp(b, len, v6 ? AF_INET6 : AF_INET, 1280), "v6=%d: non-SYN rewritten", v6);

		len = syn(b, v6, bad, sizeof(bad), 0x02);
		T_CHECK(!mss_clamp(b, len, v6 ? AF_INET6 : AF_INET, 1280) && ref_valid(b, len),
			"v6=%d: malformed options touched", v6);
	}
	printf("%s\n", t_failures ? "FAILED" : "mss: all cases pass");
	return t_failures != 0;
}
