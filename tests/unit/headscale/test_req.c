// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_req.c - request bodies and small parsers against expected JSON:
 * RegisterRequest and MapRequest field by field, RoutableIPs sorted/de-duplicated with host
 * bits cleared and both default routes for an exit node; the /key answer (zero key refused);
 * RegisterResponse refusals; login-server URLs.
 */
#include <errno.h>
#include <jansson.h>
#include "addrfmt.h"
#include "hsfetch.h"
#include "hskey.h"
#include "hsreq.h"
#include "t.h"

static json_t *parse(char *s)
{
	json_t *j = json_loads(s, 0, NULL);

	free(s);
	return j;
}

static void test_register(void)
{
	struct mg_ipprefix r[3];
	struct hs_hostinfo hi = { .hostname = "gw", .routes = r, .n_routes = 3, .exit_node = true };
	uint8_t nk[32], old[32];
	json_t *j, *want;

	CHECK(!addrfmt_parse_prefix(&r[0], "192.168.20.7/24"));
	CHECK(!addrfmt_parse_prefix(&r[1], "192.168.8.0/24"));
	CHECK(!addrfmt_parse_prefix(&r[2], "192.168.8.0/24"));
	memset(nk, 0x3f, 32);
	memset(old, 0x11, 32);
	j = parse(hs_req_register(nk, NULL, "hskey-auth-x", &hi));
	want = json_pack("{s:i, s:s, s:s, s:{s:s}, s:s, s:s, s:{s:s, s:s, s:s, s:[s,s,s,s]}}",
			 "Version", 115,
			 "NodeKey", "nodekey:3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f",
			 "OldNodeKey", "nodekey:0000000000000000000000000000000000000000000000000000000000000000",
			 "Auth", "AuthKey", "hskey-auth-x", "Expiry", "0001-01-01T00:00:00Z", "Followup", "",
			 "Hostinfo", "OS", "linux", "Hostname", "gw", "IPNVersion", "1.82.0-meshgate-" MG_VERSION_FOR_TEST,
			 "RoutableIPs", "0.0.0.0/0", "192.168.8.0/24", "192.168.20.0/24", "::/0");
	CHECK(json_equal(j, want));
	if (!json_equal(j, want)) {
		char *s = json_dumps(j, JSON_COMPACT);

		fprintf(stderr, "got %s\n", s);
		free(s);
	}
	json_decref(j);
	json_decref(want);
	j = parse(hs_req_register(nk, old, "k", &hi));
	CHECK(!strcmp(json_string_value(json_object_get(j, "OldNodeKey")),
		      "nodekey:1111111111111111111111111111111111111111111111111111111111111111"));
	json_decref(j);
	/* No key (a login after the join with AuthKeyFile emptied): no Auth at all, as tailscaled. */
	j = parse(hs_req_register(nk, NULL, "", &hi));
	CHECK(j && !json_object_get(j, "Auth"));
	json_decref(j);
	j = parse(hs_req_register(nk, NULL, NULL, &hi));
	CHECK(j && !json_object_get(j, "Auth"));
	json_decref(j);
}

static void test_map(void)
{
	struct hs_hostinfo hi = { .hostname = "gw", .preferred_derp = 999 };
	struct hs_endpoints eps = { 0 };
	struct mg_endpoint ep;
	uint8_t nk[32], dk[32];
	json_t *j;

	memset(nk, 0xab, 32);
	memset(dk, 0xcd, 32);
	CHECK(!addrfmt_parse_endpoint(&ep, "203.0.113.1:41641", false));
	CHECK(hs_endpoints_add(&eps, &ep, HS_EP_CONFIGURED));
	CHECK(!addrfmt_parse_endpoint(&ep, "[2001:db8::7]:1234", false));
	CHECK(hs_endpoints_add(&eps, &ep, HS_EP_STUN));
	j = parse(hs_req_map(nk, dk, true, &hi, &eps, false));
	CHECK(json_integer_value(json_object_get(j, "Version")) == 115);
	CHECK(json_is_true(json_object_get(j, "Stream")) && json_is_false(json_object_get(j, "OmitPeers")));
	CHECK(json_is_true(json_object_get(j, "KeepAlive")));
	CHECK(!json_object_get(j, "Compress") && !json_object_get(j, "ReadOnly"));
	CHECK(!strncmp(json_string_value(json_object_get(j, "DiscoKey")), "discokey:cdcd", 13));
	CHECK(!strcmp(json_string_value(json_array_get(json_object_get(j, "Endpoints"), 0)), "203.0.113.1:41641"));
	CHECK(json_integer_value(json_array_get(json_object_get(j, "EndpointTypes"), 0)) == 5);
	CHECK(!strcmp(json_string_value(json_array_get(json_object_get(j, "Endpoints"), 1)), "[2001:db8::7]:1234"));
	CHECK(json_integer_value(json_array_get(json_object_get(j, "EndpointTypes"), 1)) == 2);
	CHECK(json_array_size(json_object_get(j, "Endpoints")) == 2 &&
	      json_array_size(json_object_get(j, "EndpointTypes")) == 2);
	CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(j, "Hostinfo"), "NetInfo"),
						 "PreferredDERP")) == 999);
	json_decref(j);
	j = parse(hs_req_map(nk, dk, false, &hi, NULL, true));
	CHECK(json_is_false(json_object_get(j, "Stream")) && json_is_true(json_object_get(j, "OmitPeers")));
	/* No endpoints: both fields left out (an empty list would wipe the server's stored set). */
	CHECK(!json_object_get(j, "Endpoints") && !json_object_get(j, "EndpointTypes"));
	CHECK(!strcmp(json_string_value(json_object_get(j, "Compress")), "zstd"));
	json_decref(j);
	eps.n = 0;
	j = parse(hs_req_map(nk, dk, true, &hi, &eps, false));
	CHECK(j && !json_object_get(j, "Endpoints") && !json_object_get(j, "EndpointTypes"));
	json_decref(j);
	eps.n = 2;
	hi.preferred_derp = 0;          /* unknown home: NetInfo left out (Headscale keeps the stored one) */
	j = parse(hs_req_map(nk, dk, false, &hi, &eps, false));
	CHECK(!json_object_get(json_object_get(j, "Hostinfo"), "NetInfo"));
	json_decref(j);
}

static void test_parsers(void)
{
	static const char key_ok[] = "{\"legacyPublicKey\":\"mkey:0000000000000000000000000000000000000000000000000000000000000000\","
				     "\"publicKey\":\"mkey:50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765\"}";
	static const char key_zero[] = "{\"publicKey\":\"mkey:0000000000000000000000000000000000000000000000000000000000000000\"}";
	static const char reg_err[] = "{\"Error\":\"authkey expired\",\"MachineAuthorized\":false}";
	static const char reg_ok[] = "{\"User\":{\"ID\":1},\"Login\":{\"LoginName\":\"alice\"},\"NodeKeyExpired\":false,"
				     "\"MachineAuthorized\":true,\"AuthURL\":\"\"}";
	struct hs_register_result r;
	uint8_t k[32];
	char err[128];

	CHECK(!hs_req_parse_key(key_ok, strlen(key_ok), k, err, sizeof(err)) && k[0] == 0x50 && k[31] == 0x65);
	CHECK(hs_req_parse_key(key_zero, strlen(key_zero), k, err, sizeof(err)) == -EINVAL && strstr(err, "too old"));
	CHECK(hs_req_parse_key("", 0, k, err, sizeof(err)) == -EINVAL);
	CHECK(!hs_req_parse_register(reg_err, strlen(reg_err), &r) && !strcmp(r.error, "authkey expired") &&
	      !r.machine_authorized);
	CHECK(!hs_req_parse_register(reg_ok, strlen(reg_ok), &r) && r.machine_authorized && !r.error[0] &&
	      !strcmp(r.user, "alice"));
	CHECK(hs_req_parse_register("<html>", 6, &r) == -EINVAL && r.error[0]);
}

static void test_urls(void)
{
	static const struct { const char *url; int ret; bool tls; const char *host; uint16_t port; const char *path; } v[] = {
		{ "https://hs.example.com", 0, true, "hs.example.com", 443, "/" },
		{ "http://192.168.8.1:8080", 0, false, "192.168.8.1", 8080, "/" },
		{ "https://[2001:db8::1]:8443/key?v=133", 0, true, "2001:db8::1", 8443, "/key?v=133" },
		{ "http://h/x", 0, false, "h", 80, "/x" },
		{ "ftp://h", -EINVAL, false, "", 0, "" },
		{ "https://h:0", -EINVAL, false, "", 0, "" },
		{ "https://h:99999", -EINVAL, false, "", 0, "" },
		{ "https://:443", -EINVAL, false, "", 0, "" },
		{ "https://[::1", -EINVAL, false, "", 0, "" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char host[64] = "", path[64] = "";
		uint16_t port = 0;
		bool tls = false;
		int ret = hs_url_parse(v[i].url, &tls, host, sizeof(host), &port, path, sizeof(path));

		CHECK(ret == v[i].ret);
		if (ret || v[i].ret)
			continue;
		CHECK(tls == v[i].tls && !strcmp(host, v[i].host) && port == v[i].port && !strcmp(path, v[i].path));
	}
}

int main(void)
{
	test_register();
	test_map();
	test_parsers();
	test_urls();
	return t_done("test_req");
}
