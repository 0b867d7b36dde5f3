// SPDX-License-Identifier: GPL-2.0-only
/*
 * hswant_file.c - the last applied Headscale peer table and our own addresses on disk:
 *   {"self":["100.64.0.5/32","fd7a:115c:a1e0::5/128"],"name":"router.tail.example.",
 *    "peers":[{"key":"nodekey:<hex>","allowed":["100.64.0.7/32",...],"endpoint":"198.51.100.7:41641",
 *              "disco":"discokey:<hex>","derp":1,"name":"lap.tail.example.","own":1},...],
 *    "filter":[<FilterRule>,...]}
 * (older files hold the bare peers array). Written on every change, read once at start: a restart
 * while Headscale is down keeps forwarding, on the addresses Headscale assigned, and only what
 * the packet filter it sent last allows ("filter" absent: none was ever received).
 * "name" and "own" (how many of "allowed" are the node's own addresses) only name the peer in
 * `meshgate status`: absent (older files) or unusable, the peer loads unnamed, never refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>
#include "addrfmt.h"
#include "hskey.h"
#include "hswant_file.h"

static json_t *peer_to_json(const struct hs_want_peer *p)
{
	char k[HSKEY_TEXT_MAX], buf[ADDRFMT_ENDPOINT_MAX];
	json_t *o, *a = json_array();
	size_t i;

	hskey_format(k, "nodekey:", p->key);
	for (i = 0; i < p->n_allowed; i++) {
		addrfmt_format_prefix(buf, sizeof(buf), &p->allowed[i]);
		json_array_append_new(a, json_string(buf));
	}
	o = json_pack("{s:s, s:o}", "key", k, "allowed", a);
	if (o && p->has_endpoint) {
		addrfmt_format_endpoint(buf, sizeof(buf), &p->endpoint);
		json_object_set_new(o, "endpoint", json_string(buf));
	}
	if (o && !sodium_is_zero(p->disco, 32)) {
		hskey_format(k, "discokey:", p->disco);
		json_object_set_new(o, "disco", json_string(k));
	}
	if (o && p->home_derp)
		json_object_set_new(o, "derp", json_integer(p->home_derp));
	if (o && p->name[0])
		json_object_set_new(o, "name", json_string(p->name));
	if (o && p->n_own)
		json_object_set_new(o, "own", json_integer((json_int_t)p->n_own));
	return o;
}

int hs_want_save(const struct hs_want *w, const json_t *filter, const char *dir, const char *name)
{
	char path[4200], tmp[4210];
	json_t *arr = json_array(), *self = json_array(), *top;
	char buf[ADDRFMT_PREFIX_MAX];
	size_t i;
	int fd, ret = 0;

	for (i = 0; i < w->n; i++)
		json_array_append_new(arr, peer_to_json(&w->peers[i]));
	for (i = 0; i < w->n_self; i++) {
		addrfmt_format_prefix(buf, sizeof(buf), &w->self[i]);
		json_array_append_new(self, json_string(buf));
	}
	top = json_pack("{s:o, s:o}", "self", self, "peers", arr);
	if (top && w->self_name[0])
		json_object_set_new(top, "name", json_string(w->self_name));
	if (top && filter)
		json_object_set_new(top, "filter", json_deep_copy(filter));
	arr = top;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		json_decref(arr);
		return -errno;
	}
	if (json_dumpfd(arr, fd, JSON_INDENT(1)) || fsync(fd))
		ret = -EIO;
	close(fd);
	json_decref(arr);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* A saved name the netmap parser would have refused is dropped: the file may be old or edited. */
static void name_from_json(char out[NODENAME_MAX + 1], const json_t *v)
{
	const char *s = json_string_value(v);

	out[0] = '\0';
	if (s && json_string_length(v) == strlen(s) && nodename_valid(s))
		snprintf(out, NODENAME_MAX + 1, "%s", s);
}

static int peer_from_json(struct hs_want_peer *p, const json_t *o)
{
	json_t *a = json_object_get(o, "allowed"), *v;
	const char *ep = json_string_value(json_object_get(o, "endpoint"));
	const char *disco = json_string_value(json_object_get(o, "disco"));
	json_int_t own;
	size_t i;

	memset(p, 0, sizeof(*p));
	if (hskey_parse(p->key, "nodekey:", json_string_value(json_object_get(o, "key"))) || !json_is_array(a))
		return -EINVAL;
	if (json_array_size(a) && !(p->allowed = calloc(json_array_size(a), sizeof(*p->allowed))))
		return -ENOMEM;
	json_array_foreach(a, i, v) {
		if (addrfmt_parse_prefix(&p->allowed[i], json_string_value(v) ? json_string_value(v) : ""))
			return -EINVAL;
		p->n_allowed++;
	}
	if (ep) {
		if (addrfmt_parse_endpoint(&p->endpoint, ep, false))
			return -EINVAL;
		p->has_endpoint = true;
	}
	if (disco && hskey_parse(p->disco, "discokey:", disco))
		return -EINVAL;
	p->home_derp = (int)json_integer_value(json_object_get(o, "derp"));
	name_from_json(p->name, json_object_get(o, "name"));
	own = json_integer_value(json_object_get(o, "own"));
	p->n_own = own > 0 && (size_t)own <= p->n_allowed ? (size_t)own : 0;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(((const struct hs_want_peer *)a)->key, ((const struct hs_want_peer *)b)->key, 32);
}

int hs_want_load(struct hs_want *w, json_t **filter, const char *dir, const char *name)
{
	char path[4200];
	json_t *top, *arr, *self, *v, *rules;
	size_t i;
	int ret = 0;

	memset(w, 0, sizeof(*w));
	*filter = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, F_OK))
		return errno == ENOENT ? 0 : -errno;
	top = json_load_file(path, 0, NULL);
	arr = json_is_object(top) ? json_object_get(top, "peers") : top;
	self = json_object_get(top, "self");
	rules = json_object_get(top, "filter");
	if (!json_is_array(arr) || (self && !json_is_array(self)) || (rules && !json_is_array(rules))) {
		json_decref(top);
		return -EINVAL;
	}
	json_array_foreach(self, i, v) {
		if (w->n_self >= HS_WANT_SELF_MAX)
			break;
		if (addrfmt_parse_prefix(&w->self[w->n_self], json_string_value(v) ? json_string_value(v) : "")) {
			json_decref(top);
			memset(w, 0, sizeof(*w));
			return -EINVAL;
		}
		w->n_self++;
	}
	if (json_array_size(arr) && !(w->peers = calloc(json_array_size(arr), sizeof(*w->peers))))
		ret = -ENOMEM;
	json_array_foreach(arr, i, v) {
		if (ret)
			break;
		ret = peer_from_json(&w->peers[w->n++], v);
	}
	if (!ret && rules)
		*filter = json_incref(rules);
	if (!ret)
		name_from_json(w->self_name, json_object_get(top, "name"));
	json_decref(top);
	if (ret) {
		hs_want_free(w);
		return ret;
	}
	if (w->n > 1)
		qsort(w->peers, w->n, sizeof(*w->peers), cmp_key);
	for (i = 1; i < w->n; i++)
		if (!cmp_key(&w->peers[i], &w->peers[i - 1])) {
			hs_want_free(w);
			json_decref(*filter);
			*filter = NULL;
			return -EINVAL;
		}
	return 0;
}
