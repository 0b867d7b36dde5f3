// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsnetmap.c - applying MapResponses (TS control/controlclient/map.go
 * updatePeersStateFromResponse). A null or absent field means unchanged; a non-empty Peers is
 * the whole peer set and the delta fields of that message are ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hsnetmap.h"

void hs_netmap_init(struct hs_netmap *nm)
{
	memset(nm, 0, sizeof(*nm));
	nm->filters = json_object();
}

static void free_peers(struct hs_node *peers, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		hs_node_free(&peers[i]);
	free(peers);
}

void hs_netmap_free(struct hs_netmap *nm)
{
	free_peers(nm->peers, nm->n_peers);
	if (nm->has_self)
		hs_node_free(&nm->self);
	json_decref(nm->derp_regions);
	json_decref(nm->filters);
	memset(nm, 0, sizeof(*nm));
}

static int cmp_id(const void *a, const void *b)
{
	const struct hs_node *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static long find(const struct hs_netmap *nm, int64_t id)
{
	struct hs_node key = { .id = id }, *p;

	p = nm->n_peers ? bsearch(&key, nm->peers, nm->n_peers, sizeof(key), cmp_id) : NULL;
	return p ? p - nm->peers : -1;
}

const struct hs_node *hs_netmap_peer(const struct hs_netmap *nm, int64_t id)
{
	long i = find(nm, id);

	return i < 0 ? NULL : &nm->peers[i];
}

/* Peers: the complete set. Duplicate IDs keep the last one. */
static int replace_peers(struct hs_netmap *nm, const json_t *arr, char *err, size_t errlen)
{
	struct hs_node *peers = calloc(json_array_size(arr), sizeof(*peers));
	size_t i, n = 0;
	json_t *v;
	int ret;

	if (!peers)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		if ((ret = hs_node_parse(&peers[n], v, err, errlen))) {
			free_peers(peers, n);
			return ret;
		}
		nm->n_bad_names += peers[n].name_malformed;
		n++;
	}
	qsort(peers, n, sizeof(*peers), cmp_id);
	for (i = 1; i < n; i++) {
		if (peers[i].id == peers[i - 1].id) {
			hs_node_free(&peers[i - 1]);
			memmove(&peers[i - 1], &peers[i], (n - i) * sizeof(*peers));
			n--;
			i--;
		}
	}
	free_peers(nm->peers, nm->n_peers);
	nm->peers = peers;
	nm->n_peers = n;
	return 0;
}

static void remove_peer(struct hs_netmap *nm, int64_t id)
{
	long i = find(nm, id);

	if (i < 0)
		return;
	hs_node_free(&nm->peers[i]);
	memmove(&nm->peers[i], &nm->peers[i + 1], (nm->n_peers - (size_t)i - 1) * sizeof(*nm->peers));
	nm->n_peers--;
}

static int upsert_peer(struct hs_netmap *nm, const json_t *obj, char *err, size_t errlen)
{
	struct hs_node n, *grown;
	long i;
	int ret = hs_node_parse(&n, obj, err, errlen);

	if (ret)
		return ret;
	nm->n_bad_names += n.name_malformed;
	i = find(nm, n.id);
	if (i >= 0) {
		hs_node_free(&nm->peers[i]);
		nm->peers[i] = n;
		return 0;
	}
	grown = realloc(nm->peers, (nm->n_peers + 1) * sizeof(*grown));
	if (!grown) {
		hs_node_free(&n);
		return -ENOMEM;
	}
	nm->peers = grown;
	nm->peers[nm->n_peers++] = n;
	qsort(nm->peers, nm->n_peers, sizeof(*nm->peers), cmp_id);
	return 0;
}

static int apply_deltas(struct hs_netmap *nm, const json_t *msg, char *err, size_t errlen)
{
	json_t *arr, *v;
	size_t i;
	int ret;

	arr = json_object_get(msg, "PeersRemoved");
	json_array_foreach(arr, i, v)
		if (json_is_integer(v))
			remove_peer(nm, json_integer_value(v));
	arr = json_object_get(msg, "PeersChanged");
	json_array_foreach(arr, i, v)
		if ((ret = upsert_peer(nm, v, err, errlen)))
			return ret;
	arr = json_object_get(msg, "PeersChangedPatch");
	json_array_foreach(arr, i, v) {
		long at = find(nm, json_integer_value(json_object_get(v, "NodeID")));

		/* Patches for unknown IDs are ignored (map.go does the same). */
		if (at >= 0 && (ret = hs_node_patch(&nm->peers[at], v, err, errlen)))
			return ret;
	}
	/* OnlineChange: node id -> bool (Headscale does not send it; cheap to honour). */
	{
		const char *k;

		json_object_foreach(json_object_get(msg, "OnlineChange"), k, v) {
			long at = find(nm, strtoll(k, NULL, 10));

			if (at >= 0 && json_is_boolean(v))
				nm->peers[at].online = json_is_true(v);
		}
	}
	return 0;
}

/* PacketFilter replaces chunk "base"; PacketFilters sets/deletes chunks, "*": null clears all. */
static bool apply_filters(struct hs_netmap *nm, const json_t *msg)
{
	json_t *pf = json_object_get(msg, "PacketFilter"), *pfs = json_object_get(msg, "PacketFilters"), *v;
	const char *k;
	bool changed = false;

	if (pf && !json_is_null(pf)) {
		json_object_set(nm->filters, "base", pf);
		changed = true;
	}
	if (!json_is_object(pfs))
		return changed;
	if (json_object_get(pfs, "*") && json_is_null(json_object_get(pfs, "*")))
		json_object_clear(nm->filters);
	json_object_foreach(pfs, k, v) {
		if (!strcmp(k, "*"))
			continue;
		if (json_is_null(v))
			json_object_del(nm->filters, k);
		else
			json_object_set(nm->filters, k, v);
	}
	return true;
}

/* Regions: null keeps the previous set; a region whose value is null is dropped. */
static bool apply_derp(struct hs_netmap *nm, const json_t *msg)
{
	json_t *dm = json_object_get(msg, "DERPMap"), *regions, *v;
	const char *k;

	if (!json_is_object(dm) || !json_is_object(regions = json_object_get(dm, "Regions")))
		return false;
	json_decref(nm->derp_regions);
	nm->derp_regions = json_object();
	json_object_foreach(regions, k, v)
		if (json_is_object(v))
			json_object_set(nm->derp_regions, k, v);
	return true;
}

static void read_ping(const json_t *msg, struct hs_map_events *ev)
{
	json_t *pr = json_object_get(msg, "PingRequest");
	const char *types = json_string_value(json_object_get(pr, "Types"));
	const char *url = json_string_value(json_object_get(pr, "URL"));

	/* Only the HEAD form (empty Types) is ours; disco/TSMP/ICMP pings need the data path. */
	if (!url || (types && *types))
		return;
	ev->ping = true;
	ev->ping_is_noise = json_is_true(json_object_get(pr, "URLIsNoise"));
	snprintf(ev->ping_url, sizeof(ev->ping_url), "%s", url);
}

static int apply_self(struct hs_netmap *nm, const json_t *node, char *err, size_t errlen)
{
	struct hs_node n;
	int ret = hs_node_parse(&n, node, err, errlen);

	if (ret)
		return ret;
	nm->n_bad_names += n.name_malformed;
	if (nm->has_self)
		hs_node_free(&nm->self);
	nm->self = n;
	nm->has_self = true;
	return 0;
}

int hs_netmap_apply(struct hs_netmap *nm, const char *json, size_t len, int64_t now,
		    struct hs_map_events *ev, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *msg = json_loadb(json, len, 0, &jerr), *v;
	uint64_t bad_before = nm->n_bad_names;
	int64_t ctime;
	int ret = 0;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(msg)) {
		snprintf(err, errlen, "MapResponse: %s", msg ? "not an object" : jerr.text);
		json_decref(msg);
		return -EINVAL;
	}
	read_ping(msg, ev);
	if (json_is_true(json_object_get(msg, "KeepAlive")) && json_object_size(msg) == 1) {
		ev->keepalive = true;
		goto out;
	}
	v = json_object_get(msg, "Node");
	if (!nm->has_self && !json_is_object(v) && !ev->ping) {
		snprintf(err, errlen, "MapResponse: first map without Node");
		ret = -EPROTO;
		goto out;
	}
	if (json_is_object(v)) {
		if ((ret = apply_self(nm, v, err, errlen)))
			goto out;
		ev->self_changed = true;
	}
	v = json_object_get(msg, "ControlTime");
	if (json_is_string(v) && !hs_time_parse(json_string_value(v), &ctime) && ctime)
		nm->clock_delta = ctime - now;
	v = json_object_get(msg, "Peers");
	if (json_is_array(v) && json_array_size(v))
		ret = replace_peers(nm, v, err, errlen);
	else
		ret = apply_deltas(nm, msg, err, errlen);
	if (ret)
		goto out;
	ev->peers_changed = json_object_get(msg, "Peers") || json_object_get(msg, "PeersChanged") ||
			    json_object_get(msg, "PeersRemoved") || json_object_get(msg, "PeersChangedPatch") ||
			    json_object_get(msg, "OnlineChange");
	ev->filter_changed = apply_filters(nm, msg);
	ev->derp_changed = apply_derp(nm, msg);
	nm->n_maps++;
out:
	ev->bad_names = (unsigned)(nm->n_bad_names - bad_before);
	json_decref(msg);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *hs_netmap_filter(const struct hs_netmap *nm)
{
	json_t *all = json_array(), *v;
	const char **keys;
	const char *k;
	size_t n = 0, i;

	keys = calloc(json_object_size(nm->filters) + 1, sizeof(*keys));
	if (!keys)
		return all;
	json_object_foreach(nm->filters, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++)
		json_array_extend(all, json_object_get(nm->filters, keys[i]));
	free(keys);
	return all;
}
