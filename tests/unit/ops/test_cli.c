// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_cli.c - the CLI's UAPI `get` reply parser (cli_uapi_parse) against the daemon's own
 * formatter (uapi_format_get): what the daemon writes, the CLI must read back field by field.
 * Plus a wireguard-go reply written out by hand, the error cases, and the text helpers.
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

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	roundtrip();
	wireguard_go_reply();
	errors();
	helpers();
	return check_done("test_cli");
}
