// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_netmap.c - table-driven MapResponse fixtures (fixtures/NN-*.json, shaped like the * and Headscale's output). Each fixture is a sequence of steps; after each MapResponse the test
 * compares: the events, the wanted peer table (key, allowed IPs, endpoint), the device update
 * the sort-merge diff produces against the previous step, and optionally the effective packet
 * filter, the self addresses and the DERP regions. Usage: test_netmap FIXTURE...
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include "addrfmt.h"
#include "devconf.h"
#include "hskey.h"
#include "hswant_file.h"
#include "t.h"

static const char *cur;
static int cur_step;

#define FCHECK(cond) do { \
		bool ok_ = (cond); \
		if (!ok_) fprintf(stderr, "%s step %d:\n", cur, cur_step); \
		CHECK(ok_); \
	} while (0)

static bool prefixes_match(const json_t *want, const struct mg_ipprefix *got, size_t n)
{
	char buf[ADDRFMT_PREFIX_MAX];
	size_t i;

	if (json_array_size(want) != n)
		return false;
	for (i = 0; i < n; i++) {
		addrfmt_format_prefix(buf, sizeof(buf), &got[i]);
		if (strcmp(buf, json_string_value(json_array_get(want, i)))) {
			fprintf(stderr, "  prefix %zu: got %s want %s\n", i, buf, json_string_value(json_array_get(want, i)));
			return false;
		}
	}
	return true;
}

/* An update from the netmap only adds prefixes: no "-prefix" removal. */
static bool allowed_match(const json_t *want, const struct mg_allowed_ip *got, size_t n)
{
	size_t i;

	if (json_array_size(want) != n)
		return false;
	for (i = 0; i < n; i++) {
		json_t *one = json_array();
		bool ok = !got[i].remove;

		json_array_append(one, json_array_get(want, i));
		ok = ok && prefixes_match(one, &got[i].p, 1);
		json_decref(one);
		if (!ok)
			return false;
	}
	return true;
}

static bool endpoint_match(const json_t *want, bool has, const struct mg_endpoint *e)
{
	char buf[ADDRFMT_ENDPOINT_MAX];

	if (!want)
		return !has;
	if (!has)
		return false;
	addrfmt_format_endpoint(buf, sizeof(buf), e);
	return !strcmp(buf, json_string_value(want));
}

static void check_want(const json_t *exp, const struct hs_want *w)
{
	size_t i;
	json_t *p;
	uint8_t key[32];

	FCHECK(json_array_size(exp) == w->n);
	json_array_foreach(exp, i, p) {
		if (i >= w->n)
			break;
		FCHECK(!hskey_parse(key, "nodekey:", json_string_value(json_object_get(p, "key"))));
		FCHECK(!memcmp(key, w->peers[i].key, 32));
		FCHECK(prefixes_match(json_object_get(p, "allowed"), w->peers[i].allowed, w->peers[i].n_allowed));
		FCHECK(endpoint_match(json_object_get(p, "endpoint"), w->peers[i].has_endpoint, &w->peers[i].endpoint));
		if (json_object_get(p, "name"))
			FCHECK(!strcmp(w->peers[i].name, json_string_value(json_object_get(p, "name"))));
		if (json_object_get(p, "own"))
			FCHECK(w->peers[i].n_own == (size_t)json_integer_value(json_object_get(p, "own")));
	}
}

static void check_update(const json_t *exp, const struct mg_device_update *u)
{
	size_t i;
	json_t *p;
	uint8_t key[32];

	FCHECK(!u->replace_peers && !u->has_private_key && u->listen_port == -1 && u->fwmark == -1);
	FCHECK(json_array_size(exp) == u->n_peers);
	json_array_foreach(exp, i, p) {
		const struct mg_peer_conf *pc = &u->peers[i];

		if (i >= u->n_peers)
			break;
		FCHECK(!hskey_parse(key, "nodekey:", json_string_value(json_object_get(p, "key"))));
		FCHECK(!memcmp(key, pc->public_key, 32));
		FCHECK(pc->remove == json_is_true(json_object_get(p, "remove")));
		FCHECK(!pc->has_preshared_key && pc->persistent_keepalive == -1 && !pc->update_only);
		if (pc->remove)
			continue;
		FCHECK(pc->replace_allowed_ips);
		FCHECK(allowed_match(json_object_get(p, "allowed"), pc->allowed_ips, pc->n_allowed_ips));
		FCHECK(endpoint_match(json_object_get(p, "endpoint"), pc->has_endpoint, &pc->endpoint));
	}
}

static void check_events(const json_t *exp, const struct hs_map_events *ev)
{
	if (!exp)
		return;
	FCHECK(ev->keepalive == json_is_true(json_object_get(exp, "keepalive")));
	FCHECK(ev->peers_changed == json_is_true(json_object_get(exp, "peers_changed")));
	FCHECK(ev->self_changed == json_is_true(json_object_get(exp, "self_changed")));
	FCHECK(ev->filter_changed == json_is_true(json_object_get(exp, "filter_changed")));
	FCHECK(ev->derp_changed == json_is_true(json_object_get(exp, "derp_changed")));
	FCHECK(ev->ping == !!json_object_get(exp, "ping"));
	FCHECK(ev->bad_names == json_integer_value(json_object_get(exp, "bad_names")));
	if (ev->ping)
		FCHECK(!strcmp(ev->ping_url, json_string_value(json_object_get(exp, "ping"))));
}

static void check_extras(const json_t *step, const struct hs_netmap *nm)
{
	json_t *v;

	if ((v = json_object_get(step, "filter"))) {
		json_t *f = hs_netmap_filter(nm);

		FCHECK(json_equal(f, v));
		if (!json_equal(f, v)) {
			char *s = json_dumps(f, JSON_COMPACT);

			fprintf(stderr, "  filter: %s\n", s);
			free(s);
		}
		json_decref(f);
	}
	if ((v = json_object_get(step, "self_name")))
		FCHECK(nm->has_self && !strcmp(nm->self.name, json_string_value(v)));
	if ((v = json_object_get(step, "bad_names")))
		FCHECK(nm->n_bad_names == (uint64_t)json_integer_value(v));
	if ((v = json_object_get(step, "self_addresses")))
		FCHECK(nm->has_self && prefixes_match(v, nm->self.addresses, nm->self.n_addresses));
	if ((v = json_object_get(step, "derp_regions"))) {
		size_t i;
		json_t *r;

		FCHECK(json_object_size(nm->derp_regions) == json_array_size(v));
		json_array_foreach(v, i, r)
			FCHECK(json_object_get(nm->derp_regions, json_string_value(r)) != NULL);
	}
	if ((v = json_object_get(step, "peer_derp"))) {
		const char *k;
		json_t *d;

		json_object_foreach(v, k, d) {
			const struct hs_node *n = hs_netmap_peer(nm, strtoll(k, NULL, 10));

			FCHECK(n && n->home_derp == json_integer_value(d));
		}
	}
}

/* StateDir/netmap.json round trip: what is loaded back diffs to nothing against what was saved,
 * and our own addresses (self Node.Addresses) and the packet filter come back too; a file that
 * never held a filter gives none (the router then admits nothing until Headscale sends one). */
static unsigned disco_roundtrips;    /* saved peers with a disco key and a DERP home, all fixtures */
static unsigned name_roundtrips;     /* saved peers with a name, all fixtures */

static void check_save_load(const struct hs_want *w)
{
	char dir[] = "/tmp/hs-netmap-XXXXXX", cmd[64];
	json_t *rules = json_loads("[{\"SrcIPs\":[\"100.64.0.2\"],\"DstPorts\":[{\"IP\":\"192.168.8.80\","
				   "\"Ports\":{\"First\":22,\"Last\":22}}],\"IPProto\":[6]}]", 0, NULL);
	json_t *filter;
	struct hs_want back;
	struct mg_device_update u;
	FILE *f;

	FCHECK(mkdtemp(dir) != NULL);
	FCHECK(!hs_want_save(w, NULL, dir, "nofilter.json"));
	FCHECK(!hs_want_load(&back, &filter, dir, "nofilter.json") && back.n == w->n && !filter);
	hs_want_free(&back);
	FCHECK(!hs_want_save(w, rules, dir, "netmap.json"));
	FCHECK(!hs_want_load(&back, &filter, dir, "netmap.json"));
	FCHECK(filter && json_equal(filter, rules));
	json_decref(filter);
	json_decref(rules);
	FCHECK(back.n == w->n);
	FCHECK(back.n_self == w->n_self);
	for (size_t i = 0; i < w->n_self && i < back.n_self; i++)
		FCHECK(back.self[i].family == w->self[i].family && back.self[i].cidr == w->self[i].cidr &&
		       !memcmp(back.self[i].addr, w->self[i].addr, 16));
	FCHECK(!hs_want_diff(&back, w, &u) && u.n_peers == 0);
	devconf_update_free(&u);
	/* Disco keys and DERP homes come back too (a restart with the server down still answers the
	 * peers' disco pings); the fixtures' peers have both. */
	for (size_t i = 0; i < w->n && i < back.n; i++) {
		FCHECK(!memcmp(back.peers[i].disco, w->peers[i].disco, 32) &&
		       back.peers[i].home_derp == w->peers[i].home_derp);
		disco_roundtrips += !sodium_is_zero(w->peers[i].disco, 32) && w->peers[i].home_derp;
		/* ...and the names and own-address counts `meshgate status` shows after a restart. */
		FCHECK(!strcmp(back.peers[i].name, w->peers[i].name) && back.peers[i].n_own == w->peers[i].n_own);
		name_roundtrips += w->peers[i].name[0] != '\0';
	}
	FCHECK(!strcmp(back.self_name, w->self_name));
	hs_want_free(&back);
	FCHECK(!hs_want_load(&back, &filter, dir, "absent.json") && back.n == 0 && !filter);
	/* The older form: a bare array of peers, no addresses. */
	snprintf(cmd, sizeof(cmd), "%s/old.json", dir);
	f = fopen(cmd, "w");
	FCHECK(f && fputs("[{\"key\":\"nodekey:abababababababababababababababababababababababababababababababab\","
			  "\"allowed\":[\"100.64.0.7/32\"]}]", f) >= 0);
	if (f)
		fclose(f);
	FCHECK(!hs_want_load(&back, &filter, dir, "old.json") && back.n == 1 && back.n_self == 0 && !filter);
	FCHECK(back.n == 1 && !back.peers[0].name[0] && !back.peers[0].n_own && !back.self_name[0]);
	hs_want_free(&back);
	/* Names the parser would refuse, an "own" beyond "allowed": the peers load, unnamed. */
	snprintf(cmd, sizeof(cmd), "%s/badnames.json", dir);
	f = fopen(cmd, "w");
	FCHECK(f && fputs("{\"self\":[],\"name\":\"a b\",\"peers\":["
			  "{\"key\":\"nodekey:abababababababababababababababababababababababababababababababab\","
			  "\"allowed\":[\"100.64.0.7/32\"],\"name\":5,\"own\":2},"
			  "{\"key\":\"nodekey:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\","
			  "\"allowed\":[\"100.64.0.8/32\"],\"name\":\"x\\nmeshgate_name=y\",\"own\":-1},"
			  "{\"key\":\"nodekey:efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef\","
			  "\"allowed\":[\"100.64.0.9/32\"],\"name\":\"ok.tail.example.\",\"own\":1}]}", f) >= 0);
	if (f)
		fclose(f);
	FCHECK(!hs_want_load(&back, &filter, dir, "badnames.json") && back.n == 3 && !back.self_name[0]);
	if (back.n == 3) {
		FCHECK(!back.peers[0].name[0] && back.peers[0].n_own == 0);
		FCHECK(!back.peers[1].name[0] && back.peers[1].n_own == 0);
		FCHECK(!strcmp(back.peers[2].name, "ok.tail.example.") && back.peers[2].n_own == 1);
	}
	hs_want_free(&back);
	snprintf(cmd, sizeof(cmd), "%s/bad.json", dir);
	f = fopen(cmd, "w");
	FCHECK(f && fputs("{\"self\":[\"100.64.0.5/99\"],\"peers\":[]}", f) >= 0);
	if (f)
		fclose(f);
	FCHECK(hs_want_load(&back, &filter, dir, "bad.json") == -EINVAL && !filter);
	snprintf(cmd, sizeof(cmd), "%s/badfilter.json", dir);
	f = fopen(cmd, "w");
	FCHECK(f && fputs("{\"self\":[],\"peers\":[],\"filter\":{}}", f) >= 0);
	if (f)
		fclose(f);
	FCHECK(hs_want_load(&back, &filter, dir, "badfilter.json") == -EINVAL && !filter);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	FCHECK(system(cmd) == 0);
}

static void run_fixture(const char *path)
{
	json_error_t jerr;
	json_t *fx = json_load_file(path, 0, &jerr), *steps, *step, *o;
	struct hs_route_opts opts = { 0 };
	struct hs_netmap nm;
	struct hs_want prev = { 0 };
	int64_t now = 0;
	size_t i;

	cur = path;
	cur_step = -1;
	FCHECK(fx != NULL);
	if (!fx) {
		fprintf(stderr, "%s:%d: %s\n", path, jerr.line, jerr.text);
		return;
	}
	o = json_object_get(fx, "opts");
	opts.accept_routes = json_is_true(json_object_get(o, "accept_routes"));
	if (json_object_get(o, "exit_node")) {
		opts.has_exit_node = true;
		FCHECK(!hskey_parse(opts.exit_node, "nodekey:", json_string_value(json_object_get(o, "exit_node"))));
	}
	FCHECK(!hs_time_parse(json_string_value(json_object_get(fx, "now")), &now));
	hs_netmap_init(&nm);
	steps = json_object_get(fx, "steps");
	json_array_foreach(steps, i, step) {
		struct hs_map_events ev;
		struct hs_want next;
		struct mg_device_update u;
		char err[256] = "", *text = json_dumps(json_object_get(step, "map"), JSON_COMPACT);
		int ret;

		cur_step = (int)i;
		ret = hs_netmap_apply(&nm, text, strlen(text), now, &ev, err, sizeof(err));
		free(text);
		if (json_object_get(step, "error")) {
			FCHECK(ret < 0 && strstr(err, json_string_value(json_object_get(step, "error"))));
			continue;
		}
		FCHECK(ret == 0);
		if (ret)
			fprintf(stderr, "  %s\n", err);
		check_events(json_object_get(step, "events"), &ev);
		FCHECK(!hs_want_build(&next, &nm, &opts, now));
		check_want(json_object_get(step, "want"), &next);
		FCHECK(!hs_want_diff(&prev, &next, &u));
		check_update(json_object_get(step, "update"), &u);
		check_extras(step, &nm);
		devconf_update_free(&u);
		check_save_load(&next);
		hs_want_free(&prev);
		prev = next;
	}
	hs_want_free(&prev);
	hs_netmap_free(&nm);
	json_decref(fx);
}

int main(int argc, char **argv)
{
	int i;

	if (sodium_init() < 0 || argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		run_fixture(argv[i]);
	FCHECK(disco_roundtrips > 0);        /* the fixtures did exercise the disco/DERP fields */
	FCHECK(name_roundtrips > 0);         /* ...and the names */
	return t_done("test_netmap");
}
