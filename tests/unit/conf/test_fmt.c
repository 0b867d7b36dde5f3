// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_fmt.c - keyfmt and addrfmt: known answers (RFC 7748 keys, wg(8) outputs), rejection of
 * every malformed form, and a differential run against libsodium's independent base64 and hex
 * codecs on random keys and on every single-character corruption of them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdint.h>

#include "check.h"
#include "addrfmt.h"
#include "keyfmt.h"

/* RFC 7748 6.1: Alice's private key, in hex and in wg(8)'s base64. */
static const char alice_hex[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char alice_b64[] = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";

static void test_known_answers(void)
{
	uint8_t k[32], k2[32];
	char b64[45], hex[65];

	CHECK_INT(keyfmt_hex_decode(k, alice_hex), 0);
	keyfmt_base64_encode(b64, k);
	CHECK_STR(b64, alice_b64);
	CHECK_INT(keyfmt_base64_decode(k2, alice_b64), 0);
	CHECK(!memcmp(k, k2, 32));
	keyfmt_hex_encode(hex, k2);
	CHECK_STR(hex, alice_hex);
	/* Upper-case hex is accepted (wireguard-go uses encoding/hex); output is lower case. */
	CHECK_INT(keyfmt_hex_decode(k2, "77076D0A7318A57D3C16C17251B26645DF4C2F87EBC0992AB177FBA51DB92C2A"), 0);
	CHECK(!memcmp(k, k2, 32));
	memset(k, 0xff, 32);
	keyfmt_base64_encode(b64, k);
	CHECK_STR(b64, "//////////////////////////////////////////8=");
	memset(k, 0, 32);
	keyfmt_base64_encode(b64, k);
	CHECK_STR(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	CHECK(keyfmt_is_zero(k));
	k[31] = 1;
	CHECK(!keyfmt_is_zero(k));
}

static void test_rejects(void)
{
	static const char *const bad_b64[] = {
		"", "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo",      /* no '=' */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo==",        /* 45 chars */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=",         /* non-canonical last char */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC==",         /* '=' inside */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L o=",         /* space */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L-o=",         /* url-safe alphabet */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L\xaao=",      /* high byte */
	};
	static const char *const bad_hex[] = {
		"", "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2",
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a0",
		"g7076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2 ",
	};
	uint8_t k[32];
	size_t i;

	for (i = 0; i < sizeof(bad_b64) / sizeof(*bad_b64); i++) {
		memset(k, 0x55, 32);
		CHECK_INT(keyfmt_base64_decode(k, bad_b64[i]), -EINVAL);
		CHECK(keyfmt_is_zero(k));   /* nothing half-decoded is left behind */
	}
	for (i = 0; i < sizeof(bad_hex) / sizeof(*bad_hex); i++)
		CHECK_INT(keyfmt_hex_decode(k, bad_hex[i]), -EINVAL);
}

/* libsodium is the naive reference: same answers on random keys and every corruption. */
static void test_against_libsodium(void)
{
	uint8_t k[32], got[32], want[32];
	char mine[45], ref[45], hex[65], refhex[65];
	size_t binlen, pos;
	int iter, c, rm, rr;

	for (iter = 0; iter < 2000; iter++) {
		randombytes_buf(k, sizeof(k));
		keyfmt_base64_encode(mine, k);
		sodium_bin2base64(ref, sizeof(ref), k, 32, sodium_base64_VARIANT_ORIGINAL);
		CHECK_STR(mine, ref);
		keyfmt_hex_encode(hex, k);
		sodium_bin2hex(refhex, sizeof(refhex), k, 32);
		CHECK_STR(hex, refhex);
		/* Corrupt one character with a random ASCII byte; both decoders must agree on validity and
		 * value. (libsodium 1.0.18 accepts some bytes >= 0x80 as base64 digits, so it is no
		 * reference there; test_rejects covers them.) */
		pos = randombytes_uniform(44);
		c = (int)randombytes_uniform(127) + 1;
		mine[pos] = (char)c;
		rm = keyfmt_base64_decode(got, mine);
		rr = sodium_base642bin(want, 32, mine, 44, NULL, &binlen, NULL, sodium_base64_VARIANT_ORIGINAL);
		rr = rr == 0 && binlen == 32 ? 0 : -EINVAL;
		CHECK_INT(rm, rr);
		if (!rm && !rr)
			CHECK(!memcmp(got, want, 32));
	}
}

static void test_prefixes(void)
{
	static const struct { const char *in, *out; int ret; } cases[] = {
		{ "10.0.0.0/8", "10.0.0.0/8", 0 },
		{ "10.1.2.3/8", "10.1.2.3/8", 0 },           /* host bits kept */
		{ "192.168.8.1", "192.168.8.1/32", 0 },      /* bare address = host prefix */
		{ "0.0.0.0/0", "0.0.0.0/0", 0 },
		{ "fd7a:115c:a1e0::5/128", "fd7a:115c:a1e0::5/128", 0 },
		{ "FD7A:115C:A1E0:0:0:0:0:5/64", "fd7a:115c:a1e0::5/64", 0 },
		{ "::/0", "::/0", 0 },
		{ "::1", "::1/128", 0 },
		{ "10.0.0.0/33", NULL, -EINVAL }, { "::/129", NULL, -EINVAL }, { "10.0.0.0/", NULL, -EINVAL },
		{ "10.0.0.0/+8", NULL, -EINVAL }, { "10.0.0/8", NULL, -EINVAL }, { "/8", NULL, -EINVAL },
		{ "10.0.0.0/8/8", NULL, -EINVAL }, { "host/32", NULL, -EINVAL }, { "", NULL, -EINVAL },
		{ " 10.0.0.0/8", NULL, -EINVAL }, { "10.0.0.0/08x", NULL, -EINVAL },
	};
	struct mg_ipprefix p;
	char buf[ADDRFMT_PREFIX_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		CHECK_INT(addrfmt_parse_prefix(&p, cases[i].in), cases[i].ret);
		if (cases[i].ret)
			continue;
		CHECK_INT(addrfmt_format_prefix(buf, sizeof(buf), &p), (long long)strlen(cases[i].out));
		CHECK_STR(buf, cases[i].out);
	}
	CHECK_INT(addrfmt_parse_prefix(&p, "fd00::/64"), 0);
	CHECK_INT(addrfmt_format_prefix(buf, 9, &p), -ENOSPC);
	CHECK_STR(buf, "");
}

static void test_endpoints(void)
{
	static const struct { const char *in, *out; int ret; } cases[] = {
		{ "198.51.100.2:41641", "198.51.100.2:41641", 0 },
		{ "[fd00::1]:51820", "[fd00::1]:51820", 0 },
		{ "[::ffff:1.2.3.4]:1", "[::ffff:1.2.3.4]:1", 0 },
		{ "1.2.3.4:0", "1.2.3.4:0", 0 },
		{ "1.2.3.4:65536", NULL, -EINVAL }, { "1.2.3.4", NULL, -EINVAL }, { "1.2.3.4:", NULL, -EINVAL },
		{ "fd00::1:51820", NULL, -EINVAL },          /* v6 needs brackets */
		{ "[fd00::1]51820", NULL, -EINVAL }, { "[1.2.3.4]:1", NULL, -EINVAL },
		{ "localhost:1", NULL, -EINVAL },           /* no resolving unless asked */
		{ ":1", NULL, -EINVAL }, { "[]:1", NULL, -EINVAL }, { "1.2.3.4:-1", NULL, -EINVAL },
	};
	struct mg_endpoint e;
	char buf[ADDRFMT_ENDPOINT_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		CHECK_INT(addrfmt_parse_endpoint(&e, cases[i].in, false), cases[i].ret);
		if (cases[i].ret)
			continue;
		CHECK(addrfmt_format_endpoint(buf, sizeof(buf), &e) > 0);
		CHECK_STR(buf, cases[i].out);
	}
	/* Resolution through getaddrinfo: "localhost" is in /etc/hosts on any test machine. */
	CHECK_INT(addrfmt_parse_endpoint(&e, "localhost:51820", true), 0);
	CHECK(e.family == AF_INET || e.family == AF_INET6);
	CHECK_INT(e.port, 51820);
	CHECK_INT(addrfmt_parse_endpoint(&e, "no-such-host.invalid:1", true), -EADDRNOTAVAIL);
	CHECK_INT(addrfmt_parse_endpoint(&e, "bad_host$:1", true), -EINVAL);
	memset(&e, 0, sizeof(e));
	CHECK_INT(addrfmt_format_endpoint(buf, sizeof(buf), &e), -EAFNOSUPPORT);
}

int main(void)
{
	if (sodium_init() < 0)
		return 99;
	test_known_answers();
	test_rejects();
	test_against_libsodium();
	test_prefixes();
	test_endpoints();
	return check_done("test_fmt");
}
