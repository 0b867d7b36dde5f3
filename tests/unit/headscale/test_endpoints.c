// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_endpoints.c - what the client publishes and where it STUNs:
 * the endpoint set (types, order, de-duplication, local addresses without loopback/link-local),
 * STUN targets and the fallback home region from DERPMaps shaped like Headscale's embedded
 * region and Tailscale's default map, and zstd frames made by python3-zstandard (level 1, with
 * and without content size / checksum, as Headscale's "fastest" encoder may send them); the
 * PublicEndpoint / ForwardedPort config keys.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "addrfmt.h"
#include "config.h"
#include "hsderpmap.h"
#include "hsendpoint.h"
#include "hsresolve.h"
#include "hszstd.h"
#include "t.h"

static struct mg_endpoint ep(const char *s)
{
	struct mg_endpoint e;

	if (addrfmt_parse_endpoint(&e, s, false))
		memset(&e, 0, sizeof(e));
	return e;
}

static void test_set(void)
{
	struct hs_endpoints s = { 0 }, t = { 0 };
	struct mg_endpoint e = ep("198.51.100.1:41641"), none = { 0 };
	char buf[256];

	CHECK(hs_endpoints_add(&s, &e, HS_EP_CONFIGURED));
	e = ep("198.51.100.1:40001");
	CHECK(hs_endpoints_add(&s, &e, HS_EP_STUN));
	e = ep("198.51.100.1:41641");                 /* same as the configured one: kept once */
	CHECK(!hs_endpoints_add(&s, &e, HS_EP_STUN));
	e = ep("[2001:db8::1]:41641");
	CHECK(hs_endpoints_add(&s, &e, HS_EP_LOCAL));
	CHECK(!hs_endpoints_add(&s, &none, HS_EP_LOCAL));
	e = ep("192.168.8.2:0");
	CHECK(!hs_endpoints_add(&s, &e, HS_EP_LOCAL));  /* no port: not an endpoint */
	CHECK(s.n == 3 && s.type[0] == 5 && s.type[1] == 2 && s.type[2] == 1);
	hs_endpoints_format(buf, sizeof(buf), &s);
	CHECK(!strcmp(buf, "198.51.100.1:41641/5,198.51.100.1:40001/2,[2001:db8::1]:41641/1"));
	CHECK(!hs_endpoints_equal(&s, &t));
	t = s;
	CHECK(hs_endpoints_equal(&s, &t));
	t.type[1] = HS_EP_STUN4_LOCALPORT;
	CHECK(!hs_endpoints_equal(&s, &t));
	for (int i = 0; i < 40; i++) {                 /* bounded */
		e = ep("10.0.0.1:1");
		e.port = (uint16_t)(100 + i);
		hs_endpoints_add(&t, &e, HS_EP_LOCAL);
	}
	CHECK(t.n == HS_EP_MAX);
	hs_endpoints_format(buf, 10, &t);              /* truncates, stays a string */
	CHECK(strlen(buf) < 10);
}

static void test_local(void)
{
	struct hs_endpoints s = { 0 };
	size_t i;

	CHECK(hs_endpoints_add_local(&s, 41641, NULL) == 0);
	for (i = 0; i < s.n; i++) {
		CHECK(s.type[i] == HS_EP_LOCAL && s.ep[i].port == 41641);
		CHECK(!(s.ep[i].family == AF_INET && s.ep[i].addr[0] == 127));
		CHECK(!(s.ep[i].family == AF_INET6 && s.ep[i].addr[0] == 0xfe && (s.ep[i].addr[1] & 0xc0) == 0x80));
	}
}

/* Headscale's embedded region plus regions like Tailscale's default map. */
static const char derpmap[] =
	"{\"999\":{\"RegionID\":999,\"RegionCode\":\"headscale\",\"Nodes\":[{\"Name\":\"999\",\"RegionID\":999,"
	"  \"HostName\":\"hs.example.com\",\"IPv4\":\"198.51.100.1\",\"IPv6\":\"2001:db8::1\",\"STUNPort\":3478,\"DERPPort\":443}]},"
	" \"2\":{\"RegionID\":2,\"Nodes\":[{\"Name\":\"2a\",\"HostName\":\"derp2.example\",\"IPv4\":\"203.0.113.2\",\"IPv6\":\"none\",\"STUNPort\":-1},"
	"  {\"Name\":\"2b\",\"HostName\":\"derp2b.example\",\"IPv4\":\"203.0.113.22\",\"STUNOnly\":true},"
	"  {\"Name\":\"2c\",\"IPv4\":\"203.0.113.23\"}]},"
	" \"10\":{\"RegionID\":10,\"Nodes\":[{\"Name\":\"10a\",\"HostName\":\"192.0.2.10\",\"STUNPort\":3479}]},"
	" \"11\":{\"RegionID\":11,\"Nodes\":[{\"Name\":\"11a\",\"HostName\":\"derp11.example\"}]},"
	" \"1\":{\"RegionID\":1,\"NoMeasureNoHome\":true,\"Nodes\":[{\"Name\":\"1a\",\"IPv4\":\"203.0.113.1\"}]},"
	" \"junk\":{\"RegionID\":5}, \"7\":{\"RegionID\":7,\"Nodes\":[]}}";

static void test_derpmap(void)
{
	json_t *r = json_loads(derpmap, 0, NULL);
	struct hs_stun_names names;
	struct mg_endpoint out[8];
	char buf[64];
	size_t n;

	CHECK(r != NULL);
	n = hs_derpmap_stun_servers(r, out, 8, &names);
	/* Region order 1 (skipped: NoMeasureNoHome), 2 (2a has no STUN; 2b, STUNOnly, default port),
	 * 7 (no nodes), 10 (numeric HostName), 11 (a name only: to resolve), 999 (v4 and v6). */
	CHECK(n == 4);
	CHECK(names.n == 1 && !strcmp(names.name[0], "derp11.example") && names.port[0] == 3478);
	addrfmt_format_endpoint(buf, sizeof(buf), &out[0]);
	CHECK(!strcmp(buf, "203.0.113.22:3478"));
	addrfmt_format_endpoint(buf, sizeof(buf), &out[1]);
	CHECK(!strcmp(buf, "192.0.2.10:3479"));
	addrfmt_format_endpoint(buf, sizeof(buf), &out[2]);
	CHECK(!strcmp(buf, "198.51.100.1:3478"));
	addrfmt_format_endpoint(buf, sizeof(buf), &out[3]);
	CHECK(!strcmp(buf, "[2001:db8::1]:3478"));
	CHECK(hs_derpmap_stun_servers(r, out, 2, NULL) == 2);
	CHECK(hs_derpmap_first_region(r) == 2);
	CHECK(hs_derpmap_stun_servers(NULL, out, 8, &names) == 0 && names.n == 0 && hs_derpmap_first_region(NULL) == 0);
	json_decref(r);
}

/* 300 regions written highest id first: the STUN targets and the first region are still the
 * lowest ids (no cap that keeps whatever the JSON names first). */
static void test_derpmap_many(void)
{
	json_t *m = json_object();
	struct mg_endpoint out[4];
	char key[8], ip[32], buf[64];
	bool ok = true;

	for (int id = 300; id >= 1; id--) {
		snprintf(key, sizeof(key), "%d", id);
		snprintf(ip, sizeof(ip), "10.0.%d.%d", id / 256, id % 256);
		json_object_set_new(m, key, json_pack("{s:i, s:[{s:s, s:s}]}", "RegionID", id, "Nodes", "Name", key, "IPv4", ip));
	}
	CHECK(hs_derpmap_stun_servers(m, out, 4, NULL) == 4);
	for (int i = 0; i < 4; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d:3478", i + 1);
		addrfmt_format_endpoint(buf, sizeof(buf), &out[i]);
		ok = ok && !strcmp(buf, ip);
	}
	CHECK(ok);
	CHECK(hs_derpmap_first_region(m) == 1);
	json_decref(m);
}

/* Names resolve off the thread; "localhost" comes from /etc/hosts, the .invalid TLD never
 * resolves (RFC 6761), so the test needs no network. */
static void test_resolve(void)
{
	static const char names[2][256] = { "localhost", "stun.invalid" };
	static const uint16_t ports[2] = { 3478, 3479 };
	struct hs_resolve_batch *b;
	struct mg_endpoint out[4];
	size_t n = 99, i;
	bool done = false, v4 = false;

	CHECK(hs_resolve_start(&b, names, ports, 2) == 0);
	for (i = 0; i < 500 && !(done = hs_resolve_poll(b, out, 4, &n)); i++)
		usleep(10000);
	CHECK(done && n >= 1 && n <= 2);
	for (i = 0; done && i < n; i++) {
		CHECK(out[i].port == 3478);
		v4 |= out[i].family == AF_INET && out[i].addr[0] == 127;
	}
	CHECK(v4);
	hs_resolve_free(b);
	CHECK(hs_resolve_start(&b, names, ports, 0) == -EINVAL);
	CHECK(hs_resolve_start(&b, names, ports, 2) == 0);
	hs_resolve_free(b);                /* while running: cancelled or waited for */
	hs_resolve_free(NULL);
}

/* python3-zstandard 0.20, level 1, write_content_size=False: {"KeepAlive":true} */
static const uint8_t zka[] = {
	0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x91, 0x00, 0x00, 0x7b, 0x22, 0x4b, 0x65, 0x65, 0x70, 0x41,
	0x6c, 0x69, 0x76, 0x65, 0x22, 0x3a, 0x74, 0x72, 0x75, 0x65, 0x7d,
};
/* Level 1 with content size and checksum: {"Domain":"abab...ab"} (100000 x "ab", 200013 bytes). */
static const uint8_t zbig[] = {
	0x28, 0xb5, 0x2f, 0xfd, 0xa4, 0x4d, 0x0d, 0x03, 0x00, 0xac, 0x00, 0x00, 0x68, 0x7b, 0x22, 0x44,
	0x6f, 0x6d, 0x61, 0x69, 0x6e, 0x22, 0x3a, 0x22, 0x61, 0x62, 0x01, 0x00, 0xf0, 0xff, 0xe5, 0xee,
	0x0b, 0x5d, 0x00, 0x00, 0x18, 0x62, 0x22, 0x7d, 0x01, 0x00, 0x47, 0x0d, 0x39, 0x10, 0x02, 0x5b,
	0xae, 0x8c, 0xda,
};

static void test_zstd(void)
{
	char *out = NULL;
	size_t len = 0, i;
	uint8_t bad[sizeof(zbig)];
	bool ok = true;

	CHECK(hs_zstd_is_frame(zka, sizeof(zka)) && !hs_zstd_is_frame((const uint8_t *)"{\"a\":1}", 7));
	if (!hs_zstd_available()) {
		CHECK(hs_zstd_decode(zka, sizeof(zka), 1024, &out, &len) == -ENOTSUP);
		printf("test_endpoints: built without libzstd, decoding not tested\n");
		return;
	}
	CHECK(hs_zstd_decode(zka, sizeof(zka), 1024, &out, &len) == 0);
	CHECK(len == 18 && !strcmp(out, "{\"KeepAlive\":true}"));
	free(out);
	CHECK(hs_zstd_decode(zbig, sizeof(zbig), 1u << 20, &out, &len) == 0);
	CHECK(len == 200013 && !memcmp(out, "{\"Domain\":\"abab", 15) && !strcmp(out + len - 4, "ab\"}"));
	for (i = 11; i < len - 2; i++)
		ok &= out[i] == ((i - 11) % 2 ? 'b' : 'a');
	CHECK(ok);
	free(out);
	CHECK(hs_zstd_decode(zbig, sizeof(zbig), 200012, &out, &len) == -EMSGSIZE);   /* the cap holds */
	CHECK(hs_zstd_decode(zbig, sizeof(zbig) - 5, 1u << 20, &out, &len) == -EINVAL);  /* truncated */
	memcpy(bad, zbig, sizeof(bad));
	bad[sizeof(bad) - 1] ^= 1;                                                        /* checksum */
	CHECK(hs_zstd_decode(bad, sizeof(bad), 1u << 20, &out, &len) == -EINVAL);
	CHECK(hs_zstd_decode(zka, 4, 1024, &out, &len) == -EINVAL);
}

static int load(struct mg_config *c, const char *iface_lines, char *err, size_t len)
{
	char text[1024];

	snprintf(text, sizeof(text), "[Interface]\nPrivateKey = %s\n%s\n",
		 "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=", iface_lines);
	return config_load_string(c, "t.conf", text, err, len);
}

static void test_config(void)
{
	struct mg_config c;
	char err[256], buf[64];

	CHECK(load(&c, "ForwardedPort = 41641\nPublicEndpoint = 203.0.113.5:41641, [2001:db8::5]:41642", err, sizeof(err)) == 0);
	CHECK(c.forwarded_port == 41641 && c.n_public_endpoints == 2);
	addrfmt_format_endpoint(buf, sizeof(buf), &c.public_endpoints[1]);
	CHECK(!strcmp(buf, "[2001:db8::5]:41642"));
	config_free(&c);
	CHECK(load(&c, "", err, sizeof(err)) == 0 && c.forwarded_port == 0 && c.n_public_endpoints == 0);
	config_free(&c);
	CHECK(load(&c, "PublicEndpoint = 1.1.1.1:1,1.1.1.2:1,1.1.1.3:1,1.1.1.4:1,1.1.1.5:1", err, sizeof(err)) != 0);
	CHECK(strstr(err, "PublicEndpoint") != NULL);
	CHECK(load(&c, "PublicEndpoint = 203.0.113.5", err, sizeof(err)) != 0);      /* no port */
	CHECK(load(&c, "PublicEndpoint = example.com:41641", err, sizeof(err)) != 0); /* no names */
	CHECK(load(&c, "ForwardedPort = 65536", err, sizeof(err)) != 0 && strstr(err, "ForwardedPort"));
}

int main(void)
{
	test_config();
	test_set();
	test_local();
	test_derpmap();
	test_derpmap_many();
	test_resolve();
	test_zstd();
	return t_done("test_endpoints");
}
