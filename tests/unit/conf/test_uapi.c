// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_uapi.c - the UAPI's pure parser and formatter: every set key (incl. "-prefix" removal),
 * the error code of each malformed line (wireguard-go's: -EPROTO for framing, -EINVAL for the
 * rest), an exact get reply, and round trips through naive serializers written here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>

#include "check.h"
#include "uapi.h"
#include "addrfmt.h"
#include "keyfmt.h"

#define H1 "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define H2 "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define H3 "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define HZ "0000000000000000000000000000000000000000000000000000000000000000"

static int parse(const char *body, struct mg_device_update *u)
{
	return uapi_parse_set(body, strlen(body), u);
}

static void test_every_key(void)
{
	static const char body[] =
		"private_key=" H1 "\nlisten_port=51820\nfwmark=4294967295\nreplace_peers=true\n"
		"public_key=" H2 "\nupdate_only=true\npreshared_key=" H3 "\nendpoint=[2001:db8::1]:65535\n"
		"persistent_keepalive_interval=25\nreplace_allowed_ips=true\nallowed_ip=10.0.0.0/8\n"
		"allowed_ip=-fd00::/64\nprotocol_version=1\n"
		"public_key=" H3 "\nremove=true\n";
	struct mg_device_update u;
	uint8_t k[32];

	CHECK_INT(parse(body, &u), 0);
	keyfmt_hex_decode(k, H1);
	CHECK(u.has_private_key && !memcmp(u.private_key, k, 32));
	CHECK_INT(u.listen_port, 51820);
	CHECK_INT(u.fwmark, 4294967295LL);
	CHECK(u.replace_peers);
	CHECK_INT(u.n_peers, 2);
	keyfmt_hex_decode(k, H2);
	CHECK(!memcmp(u.peers[0].public_key, k, 32));
	CHECK(u.peers[0].update_only && !u.peers[0].remove);
	keyfmt_hex_decode(k, H3);
	CHECK(u.peers[0].has_preshared_key && !memcmp(u.peers[0].preshared_key, k, 32));
	CHECK(u.peers[0].has_endpoint && u.peers[0].endpoint.family == AF_INET6 && u.peers[0].endpoint.port == 65535);
	CHECK_INT(u.peers[0].persistent_keepalive, 25);
	CHECK(u.peers[0].replace_allowed_ips);
	CHECK_INT(u.peers[0].n_allowed_ips, 2);
	CHECK(u.peers[0].allowed_ips[0].p.family == AF_INET && u.peers[0].allowed_ips[0].p.cidr == 8 &&
	      !u.peers[0].allowed_ips[0].remove);
	CHECK(u.peers[0].allowed_ips[1].p.family == AF_INET6 && u.peers[0].allowed_ips[1].p.cidr == 64 &&
	      u.peers[0].allowed_ips[1].remove);
	CHECK(!memcmp(u.peers[1].public_key, k, 32));
	CHECK(u.peers[1].remove && u.peers[1].persistent_keepalive == -1 && !u.peers[1].has_endpoint);
	devconf_update_free(&u);

	/* Nothing set: everything "unchanged". The private key may be cleared with zeros. */
	CHECK_INT(parse("", &u), 0);
	CHECK(!u.has_private_key && u.listen_port == -1 && u.fwmark == -1 && !u.replace_peers && u.n_peers == 0);
	devconf_update_free(&u);
	CHECK_INT(parse("private_key=" HZ "\nfwmark=0\nlisten_port=0\n", &u), 0);
	CHECK(u.has_private_key && keyfmt_is_zero(u.private_key) && u.fwmark == 0 && u.listen_port == 0);
	devconf_update_free(&u);
	/* A body without its final '\n' (the pure API allows it) and a repeated peer. */
	CHECK_INT(parse("public_key=" H2 "\nallowed_ip=1.2.3.4/32\npublic_key=" H2 "\nallowed_ip=1.2.3.5/32", &u), 0);
	CHECK_INT(u.n_peers, 2);
	CHECK(u.n_peers == 2 && !memcmp(u.peers[0].public_key, u.peers[1].public_key, 32));
	devconf_update_free(&u);
}

static const struct { const char *body; int ret; } bad[] = {
	/* 0 */ { "listen_port\n", -EPROTO },
	/* 1 */ { "listen_port=1\n\nfwmark=1\n", -EPROTO },                     /* blank line inside */
	/* 2 */ { "bogus=1\n", -EINVAL },
	/* 3 */ { "listen_port=65536\n", -EINVAL },
	/* 4 */ { "listen_port=-1\n", -EINVAL },
	/* 5 */ { "listen_port=+1\n", -EINVAL },
	/* 6 */ { "listen_port=\n", -EINVAL },
	/* 7 */ { "fwmark=4294967296\n", -EINVAL },
	/* 8 */ { "fwmark=0x10\n", -EINVAL },
	/* 9 */ { "private_key=" H1 "0\n", -EINVAL },
	/* 10 */ { "private_key=dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n", -EINVAL },  /* base64, not hex */
	/* 11 */ { "replace_peers=false\n", -EINVAL },
	/* 12 */ { "public_key=" H2 "\nlisten_port=1\n", -EINVAL },             /* device key after a peer */
	/* 13 */ { "public_key=" H2 "\nremove=1\n", -EINVAL },
	/* 14 */ { "public_key=" H2 "\nupdate_only=yes\n", -EINVAL },
	/* 15 */ { "public_key=" H2 "\nreplace_allowed_ips=false\n", -EINVAL },
	/* 16 */ { "public_key=" H2 "\nprotocol_version=2\n", -EINVAL },
	/* 17 */ { "public_key=" H2 "\nendpoint=host.example:1\n", -EINVAL },   /* numeric only */
	/* 18 */ { "public_key=" H2 "\nendpoint=::1:1\n", -EINVAL },
	/* 19 */ { "public_key=" H2 "\nallowed_ip=10.0.0.0/33\n", -EINVAL },
	/* 20 */ { "public_key=" H2 "\nallowed_ip=10.0.0.1\n", -EINVAL },       /* a prefix needs its length */
	/* 21 */ { "public_key=" H2 "\nallowed_ip=+10.0.0.0/8\n", -EINVAL },
	/* 22 */ { "public_key=" H2 "\nallowed_ip=--10.0.0.0/8\n", -EINVAL },
	/* 23 */ { "public_key=" H2 "\npersistent_keepalive_interval=65536\n", -EINVAL },
	/* 24 */ { "public_key=" H2 "\npreshared_key=xyz\n", -EINVAL },
	/* 25 */ { "public_key=" H2 "\nbogus=1\n", -EINVAL },
	/* 26 */ { "public_key=\n", -EINVAL },
	/* 27 */ { "Listen_Port=1\n", -EINVAL },                                /* keys are case-sensitive */
	/* 28 */ { "=1\n", -EINVAL },
};

static void test_bad(void)
{
	struct mg_device_update u;
	char big[600];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int r = parse(bad[i].body, &u);

		if (r != bad[i].ret)
			fprintf(stderr, "bad case %zu: %d, want %d\n", i, r, bad[i].ret);
		CHECK_INT(r, bad[i].ret);
		CHECK(u.peers == NULL && u.n_peers == 0);   /* freed on error */
	}
	/* NUL inside a line; an over-long line with and without '='. */
	CHECK_INT(uapi_parse_set("fwmark=1\0\n", 10, &u), -EPROTO);
	memset(big, 'a', sizeof(big));
	big[5] = '=';
	CHECK_INT(uapi_parse_set(big, sizeof(big), &u), -EINVAL);
	big[5] = 'a';
	CHECK_INT(uapi_parse_set(big, sizeof(big), &u), -EPROTO);
}

static void test_format_exact(void)
{
	struct mg_ipprefix ips[2];
	struct uapi_peer_view peers[2];
	struct uapi_device_view v;
	char *out;
	size_t len;

	memset(&v, 0, sizeof(v));
	memset(peers, 0, sizeof(peers));
	addrfmt_parse_prefix(&ips[0], "10.0.0.0/8");
	addrfmt_parse_prefix(&ips[1], "fd00::/64");
	v.has_private_key = true;
	keyfmt_hex_decode(v.private_key, H1);
	v.listen_port = 51820;
	v.fwmark = 0;                        /* omitted */
	keyfmt_hex_decode(peers[0].public_key, H2);
	keyfmt_hex_decode(peers[0].preshared_key, H3);
	addrfmt_parse_endpoint(&peers[0].endpoint, "[2001:db8::1]:51820", false);
	peers[0].last_handshake_sec = 1700000000;
	peers[0].last_handshake_nsec = 123456789;
	peers[0].rx_bytes = 18446744073709551615ULL;
	peers[0].tx_bytes = 1;
	peers[0].persistent_keepalive = 25;
	peers[0].n_allowed_ips = 2;
	peers[0].allowed_ips = ips;
	keyfmt_hex_decode(peers[1].public_key, H3);
	v.n_peers = 2;
	v.peers = peers;
	CHECK_INT(uapi_format_get(&v, &out, &len), 0);
	CHECK_INT(len, strlen(out));
	CHECK_STR(out,
		  "private_key=" H1 "\nlisten_port=51820\n"
		  "public_key=" H2 "\npreshared_key=" H3 "\nprotocol_version=1\nendpoint=[2001:db8::1]:51820\n"
		  "last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=123456789\n"
		  "tx_bytes=1\nrx_bytes=18446744073709551615\npersistent_keepalive_interval=25\n"
		  "allowed_ip=10.0.0.0/8\nallowed_ip=fd00::/64\n"
		  "public_key=" H3 "\npreshared_key=" HZ "\nprotocol_version=1\n"
		  "last_handshake_time_sec=0\nlast_handshake_time_nsec=0\n"
		  "tx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0\n"
		  "errno=0\n\n");
	CHECK(strchr(strchr(out, '=') + 1, '=') != NULL);
	free(out);

	/* An empty device is just the errno line; a zero private key is "unset". */
	memset(&v, 0, sizeof(v));
	v.has_private_key = true;
	v.fwmark = 7;
	CHECK_INT(uapi_format_get(&v, &out, &len), 0);
	CHECK_STR(out, "fwmark=7\nerrno=0\n\n");
	free(out);
}

/* Naive reference: serialize an update the way wg(8) does, then parse it back. */
static void random_prefix(struct mg_ipprefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = randombytes_uniform(2) ? AF_INET : AF_INET6;
	randombytes_buf(p->addr, p->family == AF_INET ? 4 : 16);
	p->cidr = (uint8_t)randombytes_uniform(p->family == AF_INET ? 33 : 129);
}

static void random_allowed(struct mg_allowed_ip *a)
{
	memset(a, 0, sizeof(*a));
	random_prefix(&a->p);
	a->remove = randombytes_uniform(4) == 0;
}

static size_t serialize(const struct mg_device_update *u, char *buf, size_t cap)
{
	char hex[65], txt[ADDRFMT_ENDPOINT_MAX];
	size_t n = 0, i, j;

#define OUT(...) (n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__))
	if (u->has_private_key) {
		keyfmt_hex_encode(hex, u->private_key);
		OUT("private_key=%s\n", hex);
	}
	if (u->listen_port >= 0)
		OUT("listen_port=%d\n", u->listen_port);
	if (u->fwmark >= 0)
		OUT("fwmark=%lld\n", (long long)u->fwmark);
	if (u->replace_peers)
		OUT("replace_peers=true\n");
	for (i = 0; i < u->n_peers; i++) {
		const struct mg_peer_conf *p = &u->peers[i];

		keyfmt_hex_encode(hex, p->public_key);
		OUT("public_key=%s\n", hex);
		if (p->remove)
			OUT("remove=true\n");
		if (p->update_only)
			OUT("update_only=true\n");
		if (p->has_preshared_key) {
			keyfmt_hex_encode(hex, p->preshared_key);
			OUT("preshared_key=%s\n", hex);
		}
		if (p->has_endpoint) {
			addrfmt_format_endpoint(txt, sizeof(txt), &p->endpoint);
			OUT("endpoint=%s\n", txt);
		}
		if (p->persistent_keepalive >= 0)
			OUT("persistent_keepalive_interval=%d\n", p->persistent_keepalive);
		if (p->replace_allowed_ips)
			OUT("replace_allowed_ips=true\n");
		for (j = 0; j < p->n_allowed_ips; j++) {
			addrfmt_format_prefix(txt, sizeof(txt), &p->allowed_ips[j].p);
			OUT("allowed_ip=%s%s\n", p->allowed_ips[j].remove ? "-" : "", txt);
		}
	}
#undef OUT
	return n;
}

static void test_round_trip(void)
{
	static char buf[1 << 16];
	struct mg_allowed_ip ips[8];
	struct mg_peer_conf peers[4];
	struct mg_device_update in, out;
	int iter;
	size_t i, n;

	for (iter = 0; iter < 500; iter++) {
		memset(&in, 0, sizeof(in));
		memset(peers, 0, sizeof(peers));
		in.has_private_key = randombytes_uniform(2);
		if (in.has_private_key)
			randombytes_buf(in.private_key, 32);
		in.listen_port = (int32_t)randombytes_uniform(65537) - 1;
		in.fwmark = randombytes_uniform(2) ? -1 : (int64_t)randombytes_random();
		in.replace_peers = randombytes_uniform(2);
		in.n_peers = randombytes_uniform(5);
		in.peers = peers;
		for (i = 0; i < in.n_peers; i++) {
			struct mg_peer_conf *p = &peers[i];

			randombytes_buf(p->public_key, 32);
			p->remove = randombytes_uniform(5) == 0;
			p->update_only = randombytes_uniform(5) == 0;
			p->has_preshared_key = randombytes_uniform(2);
			if (p->has_preshared_key)
				randombytes_buf(p->preshared_key, 32);
			p->has_endpoint = randombytes_uniform(2);
			if (p->has_endpoint) {
				p->endpoint.family = randombytes_uniform(2) ? AF_INET : AF_INET6;
				randombytes_buf(p->endpoint.addr, p->endpoint.family == AF_INET ? 4 : 16);
				p->endpoint.port = (uint16_t)randombytes_random();
			}
			p->persistent_keepalive = (int32_t)randombytes_uniform(65537) - 1;
			p->replace_allowed_ips = randombytes_uniform(2);
			p->n_allowed_ips = i == 0 ? randombytes_uniform(9) : 0;
			p->allowed_ips = ips;
		}
		for (i = 0; i < 8; i++)
			random_allowed(&ips[i]);
		n = serialize(&in, buf, sizeof(buf));
		CHECK_INT(uapi_parse_set(buf, n, &out), 0);
		CHECK_INT(out.n_peers, in.n_peers);
		CHECK(out.has_private_key == in.has_private_key && !memcmp(out.private_key, in.private_key, 32));
		CHECK(out.listen_port == in.listen_port && out.fwmark == in.fwmark && out.replace_peers == in.replace_peers);
		for (i = 0; i < in.n_peers && i < out.n_peers; i++) {
			const struct mg_peer_conf *a = &in.peers[i], *b = &out.peers[i];

			CHECK(!memcmp(a->public_key, b->public_key, 32) && a->remove == b->remove &&
			      a->update_only == b->update_only && a->has_preshared_key == b->has_preshared_key &&
			      !memcmp(a->preshared_key, b->preshared_key, 32) && a->has_endpoint == b->has_endpoint &&
			      !memcmp(&a->endpoint, &b->endpoint, sizeof(a->endpoint)) &&
			      a->persistent_keepalive == b->persistent_keepalive &&
			      a->replace_allowed_ips == b->replace_allowed_ips && a->n_allowed_ips == b->n_allowed_ips);
			if (a->n_allowed_ips == b->n_allowed_ips && a->n_allowed_ips)
				CHECK(!memcmp(a->allowed_ips, b->allowed_ips, a->n_allowed_ips * sizeof(*a->allowed_ips)));
		}
		devconf_update_free(&out);
	}
}

/* A get reply carries what the view holds: parse it back with a naive line splitter. */
static void test_get_round_trip(void)
{
	struct mg_ipprefix ips[8];
	struct uapi_peer_view peers[3];
	struct uapi_device_view v = { .peers = peers };
	char *out, *line, *save = NULL, hex[65], txt[ADDRFMT_ENDPOINT_MAX], want[128];
	size_t len, i, j, nlines, want_lines;
	int iter;

	for (iter = 0; iter < 200; iter++) {
		memset(peers, 0, sizeof(peers));
		v.has_private_key = randombytes_uniform(2);
		randombytes_buf(v.private_key, 32);
		v.listen_port = (uint16_t)randombytes_random();
		v.fwmark = randombytes_random();
		v.n_peers = randombytes_uniform(4);
		for (i = 0; i < 8; i++)
			random_prefix(&ips[i]);
		want_lines = 1 + v.has_private_key + !!v.listen_port + !!v.fwmark;
		for (i = 0; i < v.n_peers; i++) {
			randombytes_buf(peers[i].public_key, 32);
			randombytes_buf(peers[i].preshared_key, 32);
			peers[i].rx_bytes = ((uint64_t)randombytes_random() << 32) | randombytes_random();
			peers[i].n_allowed_ips = randombytes_uniform(9);
			peers[i].allowed_ips = ips;
			want_lines += 8 + peers[i].n_allowed_ips;   /* no endpoint line: family 0 */
		}
		CHECK_INT(uapi_format_get(&v, &out, &len), 0);
		CHECK(len >= 9 && !strcmp(out + len - 9, "errno=0\n\n"));
		nlines = 0;
		i = (size_t)-1;
		j = 0;
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			nlines++;
			CHECK(strchr(line, '=') && !strchr(strchr(line, '=') + 1, '='));   /* wgctrl-go's rule */
			if (!strncmp(line, "public_key=", 11)) {
				i++;
				j = 0;
				keyfmt_hex_encode(hex, peers[i].public_key);
				CHECK_STR(line + 11, hex);
			} else if (!strncmp(line, "rx_bytes=", 9)) {
				snprintf(want, sizeof(want), "%llu", (unsigned long long)peers[i].rx_bytes);
				CHECK_STR(line + 9, want);
			} else if (!strncmp(line, "allowed_ip=", 11)) {
				addrfmt_format_prefix(txt, sizeof(txt), &peers[i].allowed_ips[j++]);
				CHECK_STR(line + 11, txt);
			} else if (!strncmp(line, "private_key=", 12)) {
				keyfmt_hex_encode(hex, v.private_key);
				CHECK_STR(line + 12, hex);
			}
		}
		CHECK_INT(nlines, want_lines);
		free(out);
	}
}

/* netns.sh's IPC scale case: one peer with 255 x 256 x 2 = 130,560 allowed IPs in one set. */
static void test_scale(void)
{
	struct mg_device_update u;
	size_t cap = 8 << 20, n = 0;
	char *body = malloc(cap);
	int a, b;

	CHECK(body != NULL);
	if (!body)
		return;
	n += (size_t)snprintf(body + n, cap - n, "public_key=" H2 "\nreplace_allowed_ips=true\n");
	for (a = 1; a <= 255; a++) {
		for (b = 0; b < 256; b++) {
			n += (size_t)snprintf(body + n, cap - n, "allowed_ip=%d.%d.0.0/16\n", a, b);
			n += (size_t)snprintf(body + n, cap - n, "allowed_ip=abcd:%x:%x::/48\n", a, b);
		}
	}
	CHECK(n < cap);
	CHECK_INT(uapi_parse_set(body, n, &u), 0);
	CHECK_INT(u.n_peers, 1);
	CHECK_INT(u.n_peers ? u.peers[0].n_allowed_ips : 0, 130560);
	devconf_update_free(&u);
	free(body);
}

int main(void)
{
	if (sodium_init() < 0)
		return 99;
	test_every_key();
	test_bad();
	test_format_exact();
	test_round_trip();
	test_get_round_trip();
	test_scale();
	return check_done("test_uapi");
}
