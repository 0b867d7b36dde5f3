// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_cli.c - the CLI's UAPI `get` reply parser (cli_uapi_parse) against the daemon's own
 * formatter (uapi_format_get): what the daemon writes, the CLI must read back field by field.
 * Plus a wireguard-go reply written out by hand, the error cases, the text helpers, and the
 * tailnet names (meshgate_name / meshgate_address) through formatter, parser and status output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sodium.h>
#include "cli.h"
#include "uapi.h"
#include "check.h"
#include "keyfmt.h"
#include "status_fmt.h"
#include <jansson.h>

static void roundtrip(void)
{
	struct mg_ipprefix ips0[2] = {
		{ .family = AF_INET, .cidr = 32, .addr = { 100, 64, 0, 2 } },
		{ .family = AF_INET6, .cidr = 128 },
	}, ips1[1] = { { .family = AF_INET, .cidr = 24, .addr = { 192, 168, 20, 0 } } };
	struct uapi_peer_view peers[2] = {
		{ .last_handshake_sec = 1795611527, .last_handshake_nsec = 5, .rx_bytes = 13588, .tx_bytes = 13532,
		  .persistent_keepalive = 25, .n_allowed_ips = 2, .allowed_ips = ips0,
		  .endpoint = { .family = AF_INET, .port = 51820, .addr = { 198, 51, 100, 2 } } },
		{ .n_allowed_ips = 1, .allowed_ips = ips1,
		  .endpoint = { .family = AF_INET6, .port = 41641 } },
	};
	struct uapi_device_view v = { .has_private_key = true, .listen_port = 41641, .n_peers = 2, .peers = peers };
	uint8_t pub[32];
	struct cli_device d;
	char *text;
	size_t len;

	inet_pton(AF_INET6, "fd7a:115c:a1e0::2", ips0[1].addr);
	inet_pton(AF_INET6, "2001:db8::1", peers[1].endpoint.addr);
	randombytes_buf(v.private_key, 32);
	crypto_scalarmult_curve25519_base(pub, v.private_key);
	memset(peers[0].public_key, 0x11, 32);
	memset(peers[1].public_key, 0x22, 32);
	CHECK_INT(uapi_format_get(&v, &text, &len), 0);
	CHECK_INT(cli_uapi_parse(text, &d), 0);
	free(text);
	CHECK(d.has_private_key);
	CHECK(!memcmp(d.public_key, pub, 32));
	CHECK_INT(d.listen_port, 41641);
	CHECK_INT(d.n_peers, 2);
	if (d.n_peers != 2)
		return;
	CHECK(!memcmp(d.peers[0].public_key, peers[0].public_key, 32));
	CHECK_STR(d.peers[0].endpoint, "198.51.100.2:51820");
	CHECK_INT(d.peers[0].handshake_sec, 1795611527);
	CHECK_INT(d.peers[0].rx_bytes, 13588);
	CHECK_INT(d.peers[0].tx_bytes, 13532);
	CHECK_INT(d.peers[0].persistent_keepalive, 25);
	CHECK_INT(d.peers[0].n_ips, 2);
	CHECK_STR(d.peers[0].ips[0], "100.64.0.2/32");
	CHECK_STR(d.peers[0].ips[1], "fd7a:115c:a1e0::2/128");
	CHECK_STR(cli_peer_tailnet_ip(&d.peers[0]), "100.64.0.2");
	CHECK(!memcmp(d.peers[1].public_key, peers[1].public_key, 32));
	CHECK_STR(d.peers[1].endpoint, "[2001:db8::1]:41641");
	CHECK_INT(d.peers[1].handshake_sec, 0);
	CHECK_STR(cli_peer_tailnet_ip(&d.peers[1]), "-");   /* a subnet only: no tailnet host address */
	cli_device_free(&d);
}

/* As wireguard-go writes it (wireguard.com/xplatform), with keys the CLI ignores. */
static void wireguard_go_reply(void)
{
	static const char reply[] =
		"private_key=0000000000000000000000000000000000000000000000000000000000000000\n"
		"listen_port=51820\n"
		"public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
		"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
		"protocol_version=1\n"
		"endpoint=192.168.4.6:51820\n"
		"last_handshake_time_sec=0\n"
		"last_handshake_time_nsec=0\n"
		"tx_bytes=0\n"
		"rx_bytes=0\n"
		"persistent_keepalive_interval=0\n"
		"allowed_ip=10.0.0.2/32\n"
		"errno=0\n";
	struct cli_device d;

	CHECK_INT(cli_uapi_parse(reply, &d), 0);
	CHECK(!d.has_private_key);                       /* all-zero key = none */
	CHECK_INT(d.listen_port, 51820);
	CHECK_INT(d.n_peers, 1);
	if (d.n_peers == 1) {
		CHECK_STR(d.peers[0].endpoint, "192.168.4.6:51820");
		CHECK_STR(cli_peer_tailnet_ip(&d.peers[0]), "10.0.0.2");
	}
	cli_device_free(&d);
}

static void errors(void)
{
	struct cli_device d;

	CHECK_INT(cli_uapi_parse("errno=5\n", &d), -5);
	CHECK_INT(cli_uapi_parse("listen_port=1\n", &d), -EPROTO);           /* no errno line */
	CHECK_INT(cli_uapi_parse("listen_port\nerrno=0\n", &d), -EPROTO);    /* no '=' */
	CHECK_INT(cli_uapi_parse("public_key=zz\nerrno=0\n", &d), -EPROTO);  /* bad hex key */
	CHECK_INT(cli_uapi_parse("errno=0\n", &d), 0);
	CHECK_INT(d.n_peers, 0);
	cli_device_free(&d);
}

static void helpers(void)
{
	char b[24], name[12];
	uint8_t key[32];
	double v;

	cli_bytes(b, sizeof(b), 0);
	CHECK_STR(b, "0 B");
	cli_bytes(b, sizeof(b), 1023);
	CHECK_STR(b, "1023 B");
	cli_bytes(b, sizeof(b), 1024);
	CHECK_STR(b, "1.00 KiB");
	cli_bytes(b, sizeof(b), 3 * 1024 * 1024 + 512 * 1024);
	CHECK_STR(b, "3.50 MiB");
	memset(key, 0, 32);
	cli_peer_name(name, key);
	CHECK_STR(name, "AAAAAAAA");
	CHECK(cli_metric("# HELP a x\na 1\na_total{x=\"1\"} 2.5\nb 3\n", "a_total{x=\"1\"}", &v) && v == 2.5);
	CHECK(cli_metric("a 1\nab 7\n", "ab", &v) && v == 7);
	CHECK(!cli_metric("ab 7\n", "a", &v));              /* a prefix of a name is not the name */
}

/* A device named router.tail.example. with a named peer, an unnamed (static) one, and one whose
 * name could forge lines: formatted by the daemon's code, parsed by the CLI's. */
static struct mg_ipprefix names_own[2] = {
	{ .family = AF_INET, .cidr = 32, .addr = { 100, 64, 0, 2 } },
	{ .family = AF_INET6, .cidr = 128, .addr = { 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, [15] = 2 } },
};

static int names_reply(struct cli_device *d, char **text)
{
	/* a /32 route listed before the peer's own address: the tailnet IP must not be taken from it */
	struct mg_ipprefix ips0[3] = {
		{ .family = AF_INET, .cidr = 32, .addr = { 10, 9, 9, 9 } },
		names_own[0], names_own[1],
	}, ips1[1] = { { .family = AF_INET, .cidr = 32, .addr = { 10, 0, 0, 7 } } },
	   ips2[1] = { { .family = AF_INET, .cidr = 32, .addr = { 100, 64, 0, 3 } } };
	struct uapi_peer_view peers[3] = {
		{ .n_allowed_ips = 3, .allowed_ips = ips0, .name = "lap.tail.example.",
		  .n_addresses = 2, .addresses = names_own, .last_handshake_sec = 1000, .rx_bytes = 2048,
		  .endpoint = { .family = AF_INET, .port = 41641, .addr = { 198, 51, 100, 2 } } },
		{ .n_allowed_ips = 1, .allowed_ips = ips1 },
		{ .n_allowed_ips = 1, .allowed_ips = ips2, .name = "x\nallowed_ip=0.0.0.0/0" },
	};
	struct uapi_device_view v = { .has_private_key = true, .listen_port = 41641, .n_peers = 3,
				      .peers = peers, .name = "router.tail.example." };
	size_t len;

	memset(v.private_key, 0x42, 32);
	memset(peers[0].public_key, 0x11, 32);
	memset(peers[1].public_key, 0x22, 32);
	memset(peers[2].public_key, 0x33, 32);
	if (uapi_format_get(&v, text, &len))
		return -1;
	return cli_uapi_parse(*text, d);
}

static void names_roundtrip(void)
{
	struct cli_device d;
	char *text = NULL;

	CHECK_INT(names_reply(&d, &text), 0);
	CHECK(text && strstr(text, "listen_port=41641\nmeshgate_name=router.tail.example.\npublic_key=") != NULL);
	CHECK(text && strstr(text, "allowed_ip=fd7a:115c:a1e0::2/128\nmeshgate_name=lap.tail.example.\n"
				   "meshgate_address=100.64.0.2/32\nmeshgate_address=fd7a:115c:a1e0::2/128\n") != NULL);
	/* the forged name is left out whole: no line of it reaches the reply */
	CHECK(text && !strstr(text, "0.0.0.0/0") && !strstr(text, "meshgate_name=x"));
	free(text);
	CHECK_STR(d.name, "router.tail.example.");
	CHECK_INT(d.n_peers, 3);
	if (d.n_peers != 3)
		return;
	CHECK_STR(d.peers[0].name, "lap.tail.example.");
	CHECK_INT(d.peers[0].n_addrs, 2);
	CHECK_INT(d.peers[0].n_ips, 3);
	CHECK_STR(cli_peer_tailnet_ip(&d.peers[0]), "100.64.0.2");    /* not the route 10.9.9.9/32 */
	CHECK_STR(d.peers[1].name, "");
	CHECK_STR(cli_peer_tailnet_ip(&d.peers[1]), "10.0.0.7");      /* static peer: as before */
	CHECK_STR(d.peers[2].name, "");
	CHECK_INT(d.peers[2].n_ips, 1);
	cli_device_free(&d);
}

/* What the CLI does with meshgate_* values a daemon should never send. */
static void names_parse_refusals(void)
{
	static const char reply[] =
		"meshgate_name=has space\n"
		"public_key=1111111111111111111111111111111111111111111111111111111111111111\n"
		"allowed_ip=100.64.0.9/32\n"
		"meshgate_name=a..b\n"
		"meshgate_address=not-an-address\n"
		"meshgate_address=100.64.0.9/33\n"
		"errno=0\n";
	struct cli_device d;

	CHECK_INT(cli_uapi_parse(reply, &d), 0);
	CHECK_STR(d.name, "");
	CHECK_INT(d.n_peers, 1);
	if (d.n_peers == 1) {
		CHECK_STR(d.peers[0].name, "");
		CHECK_INT(d.peers[0].n_addrs, 0);
		CHECK_STR(cli_peer_tailnet_ip(&d.peers[0]), "100.64.0.9");
	}
	cli_device_free(&d);
}

/* The table's row for @ip split into its first three words: IP, NAME, HOST/KEY. */
static bool table_row(const char *out, const char *ip, char name[64], char id[64])
{
	char want[64], first[64];

	for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (sscanf(l, "%63s %63s %63s", first, name, id) == 3 && !strcmp(first, ip))
			return true;
	}
	snprintf(want, sizeof(want), "%s", ip);
	fprintf(stderr, "no table row for %s in:\n%s", want, out);
	return false;
}

static void status_table(void)
{
	struct status_self self = { .host = "gw1", .device = "meshgate0", .ips = "100.64.0.1,fd7a:115c:a1e0::1" };
	struct status_health h = { 0 };
	struct status_ctl ci = { 0 };
	struct cli_device d;
	char *text = NULL, *out = NULL, name[64], id[64], key[12];
	size_t len = 0;
	FILE *f;

	CHECK_INT(names_reply(&d, &text), 0);
	free(text);
	f = open_memstream(&out, &len);
	status_print_table(f, &self, &d, &h, &ci, 1060, true);
	fclose(f);
	CHECK(!strncmp(out, "IP ", 3) && strstr(out, "  NAME ") && strstr(out, "  HOST/KEY "));
	if (table_row(out, "100.64.0.1", name, id)) {       /* this node: tailnet name, then host name */
		CHECK_STR(name, "router");
		CHECK_STR(id, "gw1");
	}
	if (table_row(out, "100.64.0.2", name, id)) {       /* a named peer: short name, key prefix */
		cli_peer_name(key, d.peers[0].public_key);
		CHECK_STR(name, "lap");
		CHECK_STR(id, key);
	}
	if (table_row(out, "10.0.0.7", name, id)) {         /* a static peer: no tailnet name */
		cli_peer_name(key, d.peers[1].public_key);
		CHECK_STR(name, "-");
		CHECK_STR(id, key);
	}
	CHECK(strstr(out, "active; direct 198.51.100.2:41641, handshake 1m0s ago") != NULL);
	free(out);
	/* Without Headscale names at all, this node's row reads "-" too. */
	d.name[0] = '\0';
	f = open_memstream(&out, &len);
	status_print_table(f, &self, &d, &h, &ci, 1060, false);
	fclose(f);
	if (table_row(out, "100.64.0.1", name, id)) {
		CHECK_STR(name, "-");
		CHECK_STR(id, "gw1");
	}
	free(out);
	cli_device_free(&d);
}

static void status_json(void)
{
	struct status_self self = { .host = "gw1", .device = "meshgate0", .ips = "100.64.0.1,fd7a:115c:a1e0::1" };
	struct status_health h = { .n = 1, .msg = { "a warning" } };
	struct status_ctl ci = { 0 };
	struct cli_device d;
	char *text = NULL, *out = NULL;
	size_t len = 0;
	json_error_t jerr;
	json_t *j, *self_j, *peers, *ips;
	FILE *f;

	CHECK_INT(names_reply(&d, &text), 0);
	free(text);
	f = open_memstream(&out, &len);
	status_print_json(f, &self, &d, &h, &ci, 1060);
	fclose(f);
	j = json_loads(out, 0, &jerr);
	CHECK(j != NULL);
	if (!j) {
		fprintf(stderr, "not JSON (%s): %s\n", jerr.text, out);
		goto out;
	}
	self_j = json_object_get(j, "Self");
	CHECK_STR(json_string_value(json_object_get(self_j, "Name")) ?: "", "gw1");
	CHECK_STR(json_string_value(json_object_get(self_j, "DNSName")) ?: "", "router.tail.example.");
	peers = json_object_get(j, "Peers");
	CHECK_INT(json_array_size(peers), 3);
	if (json_array_size(peers) == 3) {
		json_t *p0 = json_array_get(peers, 0), *p1 = json_array_get(peers, 1);

		CHECK_STR(json_string_value(json_object_get(p0, "DNSName")) ?: "", "lap.tail.example.");
		CHECK_STR(json_string_value(json_object_get(p0, "TailscaleIP")) ?: "", "100.64.0.2");
		ips = json_object_get(p0, "TailscaleIPs");
		CHECK_INT(json_array_size(ips), 2);
		CHECK_STR(json_string_value(json_array_get(ips, 0)) ?: "", "100.64.0.2");
		CHECK_STR(json_string_value(json_array_get(ips, 1)) ?: "", "fd7a:115c:a1e0::2");
		CHECK_INT(json_array_size(json_object_get(p0, "AllowedIPs")), 3);
		CHECK_STR(json_string_value(json_object_get(p1, "DNSName")) ?: "x", "");
		ips = json_object_get(p1, "TailscaleIPs");
		CHECK_INT(json_array_size(ips), 1);
		CHECK_STR(json_string_value(json_array_get(ips, 0)) ?: "", "10.0.0.7");
	}
	json_decref(j);
out:
	free(out);
	cli_device_free(&d);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	roundtrip();
	wireguard_go_reply();
	errors();
	names_roundtrip();
	names_parse_refusals();
	status_table();
	status_json();
	helpers();
	return check_done("test_cli");
}
