// SPDX-License-Identifier: GPL-2.0-only
/*
 * derpmap.c - DERPMap regions from JSON (TS:tailcfg/derpmap.go). Go decodes field
 * names case-insensitively; Tailscale and Headscale both send the exact Go names, which is what
 * jansson matches here. Also the copy the daemon keeps in StateDir for `meshgate netcheck`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "derpmap.h"
#include "atomicfile.h"
#include "devconf.h"

static void copy_str(char *dst, size_t cap, const json_t *v)
{
	const char *s = json_string_value(v);

	snprintf(dst, cap, "%s", s ? s : "");
}

static void parse_node(struct derp_node *n, const json_t *o)
{
	json_t *v;

	memset(n, 0, sizeof(*n));
	copy_str(n->name, sizeof(n->name), json_object_get(o, "Name"));
	copy_str(n->host, sizeof(n->host), json_object_get(o, "HostName"));
	copy_str(n->ipv4, sizeof(n->ipv4), json_object_get(o, "IPv4"));
	copy_str(n->ipv6, sizeof(n->ipv6), json_object_get(o, "IPv6"));
	copy_str(n->cert_name, sizeof(n->cert_name), json_object_get(o, "CertName"));
	v = json_object_get(o, "DERPPort");
	n->derp_port = json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 65536 ?
		       (uint16_t)json_integer_value(v) : 443;
	v = json_object_get(o, "STUNPort");
	n->stun_port = !json_is_integer(v) || json_integer_value(v) == 0 ? 3478 :
		       json_integer_value(v) < 0 ? -1 : (int)json_integer_value(v);
	n->stun_only = json_is_true(json_object_get(o, "STUNOnly"));
	n->insecure = json_is_true(json_object_get(o, "InsecureForTests"));
}

static int by_id(const void *a, const void *b)
{
	const struct derp_region *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* A region worth parsing: a valid id and at least one node object. */
struct cand {
	int id;
	size_t rank;                     /* position in @keep; n_keep if not there */
	const json_t *r;
};

static int by_rank(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static bool has_node(const json_t *nodes)
{
	size_t i;
	json_t *n;

	json_array_foreach(nodes, i, n)
		if (json_is_object(n))
			return true;
	return false;
}

/* Every usable region of @regions into @c (json_object_size entries), ranked by @keep. */
static size_t candidates(const json_t *regions, const int *keep, size_t n_keep, struct cand *c)
{
	const char *key;
	json_t *r;
	size_t k = 0;

	json_object_foreach((json_t *)regions, key, r) {
		json_t *id = json_object_get(r, "RegionID");
		size_t rank;

		/* Ids above INT_MAX are valid on the wire (up to 2^53-1) but never used; skip them. */
		if (!json_is_integer(id) || json_integer_value(id) <= 0 || json_integer_value(id) > 0x7fffffff ||
		    !has_node(json_object_get(r, "Nodes")))
			continue;
		c[k].id = (int)json_integer_value(id);
		for (rank = 0; rank < n_keep && keep[rank] != c[k].id; rank++)
			;
		c[k].rank = rank;
		c[k++].r = r;
	}
	return k;
}

static void parse_region(struct derp_region *reg, int id, const json_t *r)
{
	json_t *n;
	size_t i;

	memset(reg, 0, sizeof(*reg));
	reg->id = id;
	copy_str(reg->code, sizeof(reg->code), json_object_get(r, "RegionCode"));
	copy_str(reg->name, sizeof(reg->name), json_object_get(r, "RegionName"));
	reg->no_home = json_is_true(json_object_get(r, "NoMeasureNoHome"));
	json_array_foreach(json_object_get(r, "Nodes"), i, n) {
		if (reg->n_nodes == DERP_NODES_MAX)
			break;
		if (json_is_object(n))
			parse_node(&reg->nodes[reg->n_nodes++], n);
	}
}

size_t derp_map_parse_keep(const json_t *regions, struct derp_region *out, size_t max, const int *keep,
			   size_t n_keep, size_t *dropped)
{
	struct cand *c;
	size_t n, k, i;

	if (dropped)
		*dropped = 0;
	if (!json_is_object(regions) || !json_object_size(regions))
		return 0;
	c = calloc(json_object_size(regions), sizeof(*c));
	if (!c)
		return 0;
	/* Which regions survive must not depend on the order of the JSON object's keys. */
	n = candidates(regions, keep, n_keep, c);
	qsort(c, n, sizeof(*c), by_rank);
	k = n < max ? n : max;
	for (i = 0; i < k; i++)
		parse_region(&out[i], c[i].id, c[i].r);
	free(c);
	if (dropped)
		*dropped = n - k;
	qsort(out, k, sizeof(*out), by_id);
	return k;
}

size_t derp_map_parse(const json_t *regions, struct derp_region *out, size_t max)
{
	return derp_map_parse_keep(regions, out, max, NULL, 0, NULL);
}

static bool addr_is(const char *text, const struct mg_endpoint *ep)
{
	uint8_t a[16];

	if (ep->family == AF_INET)
		return inet_pton(AF_INET, text, a) == 1 && !memcmp(a, ep->addr, 4);
	return ep->family == AF_INET6 && inet_pton(AF_INET6, text, a) == 1 && !memcmp(a, ep->addr, 16);
}

bool derp_node_is_stun_server(const struct derp_node *n, const struct mg_endpoint *ep)
{
	if (n->stun_port < 0 || n->stun_port != ep->port)
		return false;
	return addr_is(n->ipv4, ep) || addr_is(n->ipv6, ep) || addr_is(n->host, ep);
}

int derp_map_save(const json_t *regions, const char *dir)
{
	char path[4096], *text;
	json_t *doc;
	int ret;

	if (!json_is_object(regions))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%s", dir, DERPMAP_FILE) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	doc = json_pack("{sO}", "Regions", (json_t *)regions);
	text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	ret = atomicfile_write(path, text, strlen(text), 0644);
	free(text);
	return ret;
}

json_t *derp_map_load(const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *regions;

	if (!doc) {
		if (je.position == 0 && errno)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "%s:%d: not JSON: %s", path, je.line, je.text);
		return NULL;
	}
	regions = json_object_get(doc, "Regions");
	if (!regions && json_object_get(doc, "DERPMap"))        /* a MapResponse */
		regions = json_object_get(json_object_get(doc, "DERPMap"), "Regions");
	if (!regions && json_is_object(doc) && json_object_size(doc)) {
		const char *k;
		json_t *v;
		bool all_regions = true;

		json_object_foreach(doc, k, v)
			all_regions &= json_is_object(v) && json_object_get(v, "RegionID") != NULL;
		if (all_regions)
			regions = doc;                           /* a bare Regions object */
	}
	if (!json_is_object(regions)) {
		snprintf(err, errlen, "%s: no \"Regions\" object (a DERPMap is {\"Regions\":{\"1\":{...}}})", path);
		json_decref(doc);
		return NULL;
	}
	json_incref(regions);
	json_decref(doc);
	return regions;
}
