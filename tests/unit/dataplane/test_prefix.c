// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_prefix.c - mg_prefix_contains (addr.h) against the definition, bit by bit: for every
 * prefix length of both families (IPv4 0-32, IPv6 0-128), random prefixes and addresses that
 * differ from the prefix first at each bit position (and not at all), plus the other family.
 */
#include <sodium.h>
#include "base/addr.h"
#include "pktcheck.h"

/* The definition: the first cidr bits of addr equal the prefix's. */
static bool reference(const struct mg_ipprefix *pfx, int family, const uint8_t *addr)
{
	if (pfx->family != family)
		return false;
	for (unsigned b = 0; b < pfx->cidr; b++)
		if ((pfx->addr[b / 8] ^ addr[b / 8]) >> (7 - b % 8) & 1)
			return false;
	return true;
}

int main(void)
{
	unsigned checked = 0, inside = 0, wrong = 0;

	if (sodium_init() < 0)
		return 1;
	for (int v6 = 0; v6 < 2; v6++) {
		unsigned width = v6 ? 128 : 32;

		for (unsigned cidr = 0; cidr <= width; cidr++) {
			for (unsigned flip = 0; flip <= width; flip++) {   /* width: no bit flipped */
				for (unsigned r = 0; r < 4; r++) {
					struct mg_ipprefix pfx = { .family = v6 ? AF_INET6 : AF_INET, .cidr = (uint8_t)cidr };
					uint8_t addr[16];
					bool got, want;

					randombytes_buf(pfx.addr, width / 8);
					memcpy(addr, pfx.addr, 16);
					/* bits past the flipped one at random; the flipped one differs */
					if (flip < width) {
						for (unsigned b = flip + 1; b < width; b++)
							if (randombytes_uniform(2))
								addr[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
						addr[flip / 8] ^= (uint8_t)(0x80 >> (flip % 8));
					}
					got = mg_prefix_contains(&pfx, pfx.family, addr);
					want = reference(&pfx, pfx.family, addr);
					wrong += got != want;
					inside += want;
					wrong += mg_prefix_contains(&pfx, v6 ? AF_INET : AF_INET6, addr);
					checked++;
				}
			}
		}
	}
	T_CHECK(!wrong, "%u of %u answers differ from the definition", wrong, checked);
	T_CHECK(inside > checked / 4 && inside < checked, "%u of %u inside: the cases lack one side", inside,
		checked);
	printf("%s: %u prefixes and addresses, %u inside\n", t_failures ? "FAILED" : "prefix: all cases pass",
	       checked, inside);
	return t_failures != 0;
}
