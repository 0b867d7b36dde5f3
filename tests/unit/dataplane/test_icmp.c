// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_icmp.c - the ICMP errors for packets over the tunnel MTU: type/code, the MTU field, the
 * addresses, the quote (RFC 1812: up to 576 bytes in all for v4; RFC 4443: up to 1280 for v6) and
 * the checksums, verified from scratch.
 */
#include "icmp_build.h"
#include "pktcheck.h"

int main(void)
{
	uint8_t orig[1500], out[1500], me4[4], me6[16];
	size_t len;
	uint32_t n;

	inet_pton(AF_INET, "192.168.8.105", me4);
	inet_pton(AF_INET6, "fd00:8::105", me6);

	len = mkpkt(orig, 0, "192.168.8.80", "100.64.0.2", IPPROTO_UDP, 5000, 6000, 1400 - 28);
	n = icmp_build_too_big(out, orig, (uint32_t)len, AF_INET, me4, 1280);
	T_CHECK(n == 576, "v4 error length %u, want 576", n);
	T_CHECK(out[9] == IPPROTO_ICMP && out[20] == 3 && out[21] == 4, "v4 type/code %u/%u", out[20], out[21]);
	T_CHECK((out[26] << 8 | out[27]) == 1280, "v4 next-hop MTU %u", out[26] << 8 | out[27]);
	T_CHECK(!memcmp(out + 12, me4, 4) && !memcmp(out + 16, orig + 12, 4), "v4 addresses");
	T_CHECK(!memcmp(out + 28, orig, 576 - 28), "v4 quote");
	T_CHECK(ref_valid(out, n), "v4 checksums");

	len = mkpkt(orig, 0, "192.168.8.80", "100.64.0.2", IPPROTO_UDP, 5000, 6000, 100);
	n = icmp_build_too_big(out, orig, (uint32_t)len, AF_INET, me4, 1280);
	T_CHECK(n == 28 + len && !memcmp(out + 28, orig, len) && ref_valid(out, n), "v4 short packet quoted whole");

	len = mkpkt(orig, 1, "fd00:8::80", "fd7a:115c:a1e0::2", IPPROTO_UDP, 5000, 6000, 1400 - 48);
	n = icmp_build_too_big(out, orig, (uint32_t)len, AF_INET6, me6, 1280);
	T_CHECK(n == 1280, "v6 error length %u, want 1280", n);
	T_CHECK(out[6] == IPPROTO_ICMPV6 && out[40] == 2 && out[41] == 0, "v6 type/code");
	T_CHECK((out[44] << 24 | out[45] << 16 | out[46] << 8 | out[47]) == 1280, "v6 MTU");
	T_CHECK(!memcmp(out + 8, me6, 16) && !memcmp(out + 24, orig + 8, 16), "v6 addresses");
	T_CHECK(!memcmp(out + 48, orig, 1280 - 48), "v6 quote");
	T_CHECK(ref_valid(out, n), "v6 checksum");
	printf("%s\n", t_failures ? "FAILED" : "icmp: all cases pass");
	return t_failures != 0;
}
