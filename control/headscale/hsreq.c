// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsreq.c - control-protocol JSON (TS tailcfg/tailcfg.go RegisterRequest, MapRequest, Hostinfo,
 * OverTLSPublicKeyResponse). Keys go out in their prefixed hex forms (hskey.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "addrfmt.h"
#include "hskey.h"
#include "hsreq.h"
#include "mg_config.h"

int hs_req_parse_key(const char *body, size_t len, uint8_t key[32], char *err, size_t errlen)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *pk = json_string_value(json_object_get(j, "publicKey"));
	int ret = -EINVAL;

	if (!json_is_object(j))
		snprintf(err, errlen, "/key: not JSON (server too old for ts2021?)");
	else if (!pk || hskey_parse(key, "mkey:", pk))
		snprintf(err, errlen, "/key: no valid publicKey");
	else if (hskey_is_zero(key))
		snprintf(err, errlen, "/key: control server is too old; no noise key");
	else
		ret = 0;
	json_decref(j);
	return ret;
}

static int cmp_prefix(const void *a, const void *b)
{
	const struct mg_ipprefix *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	c = memcmp(x->addr, y->addr, 16);
	return c ? c : x->cidr - y->cidr;
}

/* RoutableIPs: sorted, de-duplicated, host bits cleared; exit node adds both default routes. */
static json_t *routable_ips(const struct hs_hostinfo *hi)
{
	size_t n = hi->n_routes + 2, i, k = 0;
	struct mg_ipprefix *p = calloc(n, sizeof(*p));
	json_t *arr = json_array();
	char buf[ADDRFMT_PREFIX_MAX];

	if (!p)
		return arr;
	for (i = 0; i < hi->n_routes; i++) {
		unsigned bits = hi->routes[i].cidr, b;

		p[k] = hi->routes[i];
		for (b = bits; b < 128; b++)
			p[k].addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
		k++;
	}
	if (hi->exit_node) {
		p[k++] = (struct mg_ipprefix){ .family = AF_INET };
		p[k++] = (struct mg_ipprefix){ .family = AF_INET6 };
	}
	qsort(p, k, sizeof(*p), cmp_prefix);
	for (i = 0; i < k; i++) {
		if (i && !cmp_prefix(&p[i], &p[i - 1]))
			continue;
		addrfmt_format_prefix(buf, sizeof(buf), &p[i]);
		json_array_append_new(arr, json_string(buf));
	}
	free(p);
	return arr;
}

static json_t *hostinfo(const struct hs_hostinfo *hi)
{
	json_t *h = json_pack("{s:s, s:s, s:s, s:o}", "OS", "linux", "Hostname", hi->hostname,
			      "IPNVersion", HS_IPN_VERSION "-meshgate-" MG_VERSION, "RoutableIPs", routable_ips(hi));

	if (h && hi->preferred_derp)
		json_object_set_new(h, "NetInfo", json_pack("{s:i}", "PreferredDERP", hi->preferred_derp));
	return h;
}

static char *dump(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

char *hs_req_register(const uint8_t node_pub[32], const uint8_t *old_node_pub, const char *auth_key,
		      const struct hs_hostinfo *hi)
{
	static const uint8_t zero[32];
	char nk[HSKEY_TEXT_MAX], old[HSKEY_TEXT_MAX];

	json_t *j;

	hskey_format(nk, "nodekey:", node_pub);
	hskey_format(old, "nodekey:", old_node_pub ? old_node_pub : zero);
	j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:o}", "Version", HS_CAPVER, "NodeKey", nk, "OldNodeKey", old,
		      "Expiry", "0001-01-01T00:00:00Z", "Followup", "", "Hostinfo", hostinfo(hi));
	/* No key, no Auth (tailscaled): Headscale then answers for a node it knows instead of
	 * starting an interactive login, which it does for an empty AuthKey. */
	if (j && auth_key && *auth_key)
		json_object_set_new(j, "Auth", json_pack("{s:s}", "AuthKey", auth_key));
	return dump(j);
}

int hs_req_parse_register(const char *body, size_t len, struct hs_register_result *r)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *s;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(j)) {
		snprintf(r->error, sizeof(r->error), "register: response is not JSON");
		json_decref(j);
		return -EINVAL;
	}
	r->machine_authorized = json_is_true(json_object_get(j, "MachineAuthorized"));
	r->node_key_expired = json_is_true(json_object_get(j, "NodeKeyExpired"));
	if ((s = json_string_value(json_object_get(j, "Error"))))
		snprintf(r->error, sizeof(r->error), "%s", s);
	if ((s = json_string_value(json_object_get(j, "AuthURL"))))
		snprintf(r->auth_url, sizeof(r->auth_url), "%s", s);
	if ((s = json_string_value(json_object_get(json_object_get(j, "Login"), "LoginName"))))
		snprintf(r->user, sizeof(r->user), "%s", s);
	json_decref(j);
	return 0;
}

char *hs_req_map(const uint8_t node_pub[32], const uint8_t disco_pub[32], bool stream, const struct hs_hostinfo *hi,
		 const struct hs_endpoints *eps, bool zstd)
{
	char nk[HSKEY_TEXT_MAX], dk[HSKEY_TEXT_MAX], buf[ADDRFMT_ENDPOINT_MAX];
	json_t *eparr = json_array(), *types = json_array(), *j;
	size_t i;

	hskey_format(nk, "nodekey:", node_pub);
	hskey_format(dk, "discokey:", disco_pub);
	for (i = 0; eps && i < eps->n; i++) {
		addrfmt_format_endpoint(buf, sizeof(buf), &eps->ep[i]);
		json_array_append_new(eparr, json_string(buf));
		json_array_append_new(types, json_integer(eps->type[i]));
	}
	j = json_pack("{s:i, s:b, s:s, s:s, s:b, s:b, s:o}",
		      "Version", HS_CAPVER, "KeepAlive", 1, "NodeKey", nk, "DiscoKey", dk,
		      "Stream", stream, "OmitPeers", !stream, "Hostinfo", hostinfo(hi));
	/*
	 * No endpoints known yet (the first request after a start): leave both out, as tailscaled
	 * does (omitempty). Headscale takes an empty list as "no endpoints" and would wipe the set it
	 * stored, leaving peers nothing to try but DERP until our next update.
	 */
	if (j && json_array_size(eparr)) {
		json_object_set(j, "Endpoints", eparr);
		json_object_set(j, "EndpointTypes", types);
	}
	json_decref(eparr);
	json_decref(types);
	if (j && zstd)
		json_object_set_new(j, "Compress", json_string("zstd"));   /* exact string (§3.3) */
	return dump(j);
}
