// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsnode.c - tailcfg.Node and tailcfg.PeerChange as Headscale sends them (TS
 * tailcfg/tailcfg.go, HS hscontrol/types/node.go TailNode). Go decodes field names
 * case-insensitively; Headscale always uses the Go spelling, and so do we.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "addrfmt.h"
#include "hskey.h"
#include "hsnode.h"

static int fail(char *err, size_t errlen, const char *field)
{
	if (err && errlen)
		snprintf(err, errlen, "Node.%s: malformed", field);
	return -EINVAL;
}

int hs_time_parse(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	const char *p;
	int64_t t;

	*out = 0;
	if (!s || !*s || !strncmp(s, "0001-01-01T00:00:00", 19))
		return 0;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	t = (int64_t)timegm(&tm);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;

		t -= *p == '+' ? off : -off;
		p += 6;
	}
	if (*p)
		return -EINVAL;
	*out = t;
	return 0;
}

/* A JSON array of prefix strings; null/absent gives 0 entries. */
static int parse_prefixes(const json_t *arr, struct mg_ipprefix **out, size_t *n)
{
	size_t i;
	json_t *v;

	*out = NULL;
	*n = 0;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return -EINVAL;
	if (!json_array_size(arr))
		return 0;
	*out = calloc(json_array_size(arr), sizeof(**out));
	if (!*out)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || addrfmt_parse_prefix(&(*out)[i], json_string_value(v)))
			return -EINVAL;
	}
	*n = json_array_size(arr);
	return 0;
}

/* Endpoints that do not parse as addr:port (never expected) are skipped, not fatal. */
static int parse_endpoints(const json_t *arr, struct mg_endpoint **out, size_t *n)
{
	size_t i;
	json_t *v;

	*out = NULL;
	*n = 0;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return -EINVAL;
	if (!json_array_size(arr))
		return 0;
	*out = calloc(json_array_size(arr), sizeof(**out));
	if (!*out)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && !addrfmt_parse_endpoint(&(*out)[*n], json_string_value(v), false))
			(*n)++;
	}
	return 0;
}

static int parse_key(const json_t *v, const char *prefix, uint8_t key[32])
{
	if (!v || json_is_null(v)) {
		memset(key, 0, 32);
		return 0;
	}
	return json_is_string(v) ? hskey_parse(key, prefix, json_string_value(v)) : -EINVAL;
}

/* "127.3.3.40:<region>" -> region; anything else -> 0 (unknown). */
static int legacy_derp(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = strlen(HS_DERP_MAGIC_IP);

	if (!s || strncmp(s, HS_DERP_MAGIC_IP, n) || s[n] != ':')
		return 0;
	return atoi(s + n + 1);
}

static int parse_time_field(const json_t *v, int64_t *out)
{
	if (!v || json_is_null(v)) {
		*out = 0;
		return 0;
	}
	return json_is_string(v) ? hs_time_parse(json_string_value(v), out) : -EINVAL;
}

/* Name: absent, null or "" = none; anything nodename_valid refuses = none, flagged. */
static void parse_name(struct hs_node *n, const json_t *v)
{
	const char *s = json_string_value(v);

	if (!v || json_is_null(v) || (s && !*s))
		return;
	if (!s || json_string_length(v) != strlen(s) || !nodename_valid(s)) {
		n->name_malformed = true;
		return;
	}
	snprintf(n->name, sizeof(n->name), "%s", s);
}

int hs_node_parse(struct hs_node *n, const json_t *obj, char *err, size_t errlen)
{
	json_t *v, *allowed;

	memset(n, 0, sizeof(*n));
	n->online = -1;
	if (!json_is_object(obj) || !json_is_integer(json_object_get(obj, "ID")))
		return fail(err, errlen, "ID");
	n->id = json_integer_value(json_object_get(obj, "ID"));
	if (!json_is_string(json_object_get(obj, "Key")) ||
	    parse_key(json_object_get(obj, "Key"), "nodekey:", n->key))
		return fail(err, errlen, "Key");
	if (parse_key(json_object_get(obj, "DiscoKey"), "discokey:", n->disco))
		return fail(err, errlen, "DiscoKey");
	if (parse_time_field(json_object_get(obj, "KeyExpiry"), &n->key_expiry))
		return fail(err, errlen, "KeyExpiry");
	n->expired = json_is_true(json_object_get(obj, "Expired"));
	parse_name(n, json_object_get(obj, "Name"));
	v = json_object_get(obj, "HomeDERP");
	n->home_derp = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	if (!n->home_derp)
		n->home_derp = legacy_derp(json_object_get(obj, "DERP"));
	v = json_object_get(obj, "Online");
	n->online = json_is_boolean(v) ? json_is_true(v) : -1;
	allowed = json_object_get(obj, "AllowedIPs");
	n->allowed_absent = !allowed || json_is_null(allowed);
	if (parse_prefixes(json_object_get(obj, "Addresses"), &n->addresses, &n->n_addresses))
		goto bad_addresses;
	if (parse_prefixes(allowed, &n->allowed, &n->n_allowed))
		goto bad_allowed;
	if (parse_prefixes(json_object_get(obj, "PrimaryRoutes"), &n->primary, &n->n_primary))
		goto bad_primary;
	if (parse_endpoints(json_object_get(obj, "Endpoints"), &n->endpoints, &n->n_endpoints))
		goto bad_endpoints;
	return 0;
bad_endpoints:
	hs_node_free(n);
	return fail(err, errlen, "Endpoints");
bad_primary:
	hs_node_free(n);
	return fail(err, errlen, "PrimaryRoutes");
bad_allowed:
	hs_node_free(n);
	return fail(err, errlen, "AllowedIPs");
bad_addresses:
	hs_node_free(n);
	return fail(err, errlen, "Addresses");
}

int hs_node_patch(struct hs_node *n, const json_t *patch, char *err, size_t errlen)
{
	json_t *v;

	/* A non-empty Endpoints list replaces; empty or absent means unchanged. */
	v = json_object_get(patch, "Endpoints");
	if (json_is_array(v) && json_array_size(v)) {
		struct mg_endpoint *eps;
		size_t neps;

		if (parse_endpoints(v, &eps, &neps)) {
			free(eps);
			return fail(err, errlen, "PeerChange.Endpoints");
		}
		free(n->endpoints);
		n->endpoints = eps;
		n->n_endpoints = neps;
	}
	v = json_object_get(patch, "DERPRegion");
	if (json_is_integer(v) && json_integer_value(v))
		n->home_derp = (int)json_integer_value(v);
	if ((v = json_object_get(patch, "Key")) && !json_is_null(v) && parse_key(v, "nodekey:", n->key))
		return fail(err, errlen, "PeerChange.Key");
	if ((v = json_object_get(patch, "DiscoKey")) && !json_is_null(v) && parse_key(v, "discokey:", n->disco))
		return fail(err, errlen, "PeerChange.DiscoKey");
	if ((v = json_object_get(patch, "KeyExpiry")) && !json_is_null(v) && parse_time_field(v, &n->key_expiry))
		return fail(err, errlen, "PeerChange.KeyExpiry");
	v = json_object_get(patch, "Online");
	if (json_is_boolean(v))
		n->online = json_is_true(v);
	return 0;
}

void hs_node_free(struct hs_node *n)
{
	free(n->addresses);
	free(n->allowed);
	free(n->primary);
	free(n->endpoints);
	n->addresses = n->allowed = n->primary = NULL;
	n->endpoints = NULL;
	n->n_addresses = n->n_allowed = n->n_primary = n->n_endpoints = 0;
}

static int dup(void **dst, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (!n)
		return 0;
	*dst = malloc(n * size);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, n * size);
	return 0;
}

int hs_node_copy(struct hs_node *dst, const struct hs_node *src)
{
	*dst = *src;
	dst->addresses = dst->allowed = dst->primary = NULL;
	dst->endpoints = NULL;
	if (dup((void **)&dst->addresses, src->addresses, src->n_addresses, sizeof(*src->addresses)) ||
	    dup((void **)&dst->allowed, src->allowed, src->n_allowed, sizeof(*src->allowed)) ||
	    dup((void **)&dst->primary, src->primary, src->n_primary, sizeof(*src->primary)) ||
	    dup((void **)&dst->endpoints, src->endpoints, src->n_endpoints, sizeof(*src->endpoints))) {
		hs_node_free(dst);
		return -ENOMEM;
	}
	return 0;
}
