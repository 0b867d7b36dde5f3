// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsderpmap.c - STUN targets and a fallback home region from the DERPMap (TS tailcfg/derpmap.go;
 * STUNPort 0 -> 3478, -1 -> none; IPv4/IPv6 "none" disables a family).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "hsderpmap.h"

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * Region ids in ascending order (keys are decimal strings; junk keys are skipped), all of them:
 * a cap applied while walking the object would keep whichever came first in the JSON. malloc'd
 * into *@ids (NULL when there are none or memory is short).
 */
static size_t region_ids(const json_t *regions, int **ids)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	*ids = json_object_size(regions) ? malloc(json_object_size(regions) * sizeof(**ids)) : NULL;
	if (!*ids)
		return 0;
	json_object_foreach((json_t *)regions, k, v) {
		char *end;
		long id = strtol(k, &end, 10);

		if (*end || end == k || id <= 0 || id > 0x7fffffff || !json_is_object(v))
			continue;
		(*ids)[n++] = (int)id;
	}
	qsort(*ids, n, sizeof(**ids), cmp_int);
	return n;
}

static const json_t *region(const json_t *regions, int id)
{
	char k[16];

	snprintf(k, sizeof(k), "%d", id);
	return json_object_get(regions, k);
}

static bool parse_ip(const char *s, int family, uint16_t port, struct mg_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (!s || !*s || inet_pton(family, s, ep->addr) != 1)
		return false;
	ep->family = (uint8_t)family;
	ep->port = port;
	return true;
}

/* tailcfg.DERPNode: STUNPort 0 means the STUN default, 3478 (RFC 5389). */
#define DERPMAP_STUN_PORT 3478

/* 0, 1 or 2 endpoints of one node; -1 if the node has STUN disabled; 0 with @name set when
 * only a host name is given. */
static int node_stun(const json_t *node, struct mg_endpoint ep[2], const char **name, uint16_t *name_port)
{
	const char *v4 = json_string_value(json_object_get(node, "IPv4"));
	const char *v6 = json_string_value(json_object_get(node, "IPv6"));
	const char *host = json_string_value(json_object_get(node, "HostName"));
	json_int_t port = json_integer_value(json_object_get(node, "STUNPort"));
	int n = 0;

	*name = NULL;
	if (port < 0 || port > 65535)
		return -1;
	if (!port)
		port = DERPMAP_STUN_PORT;
	if (parse_ip(v4, AF_INET, (uint16_t)port, &ep[n]))
		n++;
	if (parse_ip(v6, AF_INET6, (uint16_t)port, &ep[n]))
		n++;
	/* Only an address literal in HostName, and only when no family was given (or disabled). */
	if (!n && (!v4 || !*v4) && (!v6 || !*v6) && host && *host) {
		if (parse_ip(host, AF_INET, (uint16_t)port, &ep[0]) || parse_ip(host, AF_INET6, (uint16_t)port, &ep[0]))
			n = 1;
		else if (strlen(host) < 256)
			*name = host;
		*name_port = (uint16_t)port;
	}
	return n;
}

size_t hs_derpmap_stun_servers(const json_t *regions, struct mg_endpoint *out, size_t max,
			       struct hs_stun_names *names)
{
	size_t n_ids, i, n = 0;
	int *ids;

	if (names)
		names->n = 0;
	if (!json_is_object(regions))
		return 0;
	n_ids = region_ids(regions, &ids);
	for (i = 0; i < n_ids && n < max; i++) {
		const json_t *r = region(regions, ids[i]), *node;
		size_t k;

		if (json_is_true(json_object_get(r, "NoMeasureNoHome")))
			continue;
		json_array_foreach(json_object_get(r, "Nodes"), k, node) {
			struct mg_endpoint ep[2];
			const char *name;
			uint16_t port;
			int got = node_stun(node, ep, &name, &port);

			if (got < 0)
				continue;
			for (int j = 0; j < got && n < max; j++)
				out[n++] = ep[j];
			if (!got && name && names && names->n < HS_RESOLVE_MAX) {
				snprintf(names->name[names->n], sizeof(names->name[0]), "%s", name);
				names->port[names->n++] = port;
				got = 1;
			}
			if (got > 0)
				break;           /* the first STUN-capable node stands for its region */
		}
	}
	free(ids);
	return n;
}

int hs_derpmap_first_region(const json_t *regions)
{
	size_t n_ids, i;
	int *ids, first = 0;

	if (!json_is_object(regions))
		return 0;
	n_ids = region_ids(regions, &ids);
	for (i = 0; i < n_ids && !first; i++) {
		const json_t *r = region(regions, ids[i]), *nodes = json_object_get(r, "Nodes");

		if (!json_is_true(json_object_get(r, "NoMeasureNoHome")) && json_array_size(nodes))
			first = ids[i];
	}
	free(ids);
	return first;
}
