// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_netmap.c - libFuzzer harness for everything the control server sends us: MapResponse JSON
 * (applied on top of a fixed full map, then turned into a peer table and a device update), the
 * map stream framing, the early payload, the RegisterResponse and the /key answer; the DERPMap
 * the message leaves behind -> STUN targets and home region; the bytes as a zstd frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hsderpmap.h"
#include "hsframe.h"
#include "hsreq.h"
#include "hswant.h"
#include "hszstd.h"

static const char base[] =
	"{\"Node\":{\"ID\":1,\"Key\":\"nodekey:0101010101010101010101010101010101010101010101010101010101010101\","
	"\"Addresses\":[\"100.64.0.1/32\"]},\"Peers\":[{\"ID\":2,\"HomeDERP\":1,"
	"\"Key\":\"nodekey:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	"\"Addresses\":[\"100.64.0.2/32\"],\"AllowedIPs\":[\"100.64.0.2/32\",\"10.0.0.0/8\",\"0.0.0.0/0\"],"
	"\"Endpoints\":[\"198.51.100.2:41641\"]}],\"PacketFilters\":{\"base\":[]}}";

static void peers_of(struct hs_netmap *nm)
{
	struct hs_route_opts o = { .accept_routes = true };
	struct hs_want w, none = { 0 };
	struct mg_device_update u;
	json_t *f;

	if (!hs_want_build(&w, nm, &o, 1700000000)) {
		if (!hs_want_diff(&none, &w, &u))
			devconf_update_free(&u);
		hs_want_free(&w);
	}
	f = hs_netmap_filter(nm);
	json_decref(f);
}

static void derp_of(const struct hs_netmap *nm)
{
	struct mg_endpoint srv[8];
	struct hs_stun_names names;
	size_t n = hs_derpmap_stun_servers(nm->derp_regions, srv, 8, &names);

	if (n > 8 || (n && !srv[n - 1].family) || names.n > HS_RESOLVE_MAX ||
	    (names.n && !memchr(names.name[names.n - 1], 0, 256)))
		abort();                 /* bounded, every target has an address, names are strings */
	(void)hs_derpmap_first_region(nm->derp_regions);
}

static int on_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct hs_map_events ev;
	char err[256];

	hs_netmap_apply(arg, (const char *)msg, len, 1700000000, &ev, err, sizeof(err));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct hs_netmap nm;
	struct hs_map_events ev;
	struct hs_mapframe fr = { 0 };
	struct hs_early early = { 0 };
	struct hs_register_result rr;
	uint8_t key[32];
	char err[256], *plain;
	size_t plain_len;

	hs_netmap_init(&nm);
	hs_netmap_apply(&nm, base, strlen(base), 1700000000, &ev, err, sizeof(err));
	hs_netmap_apply(&nm, (const char *)data, len, 1700000000, &ev, err, sizeof(err));
	peers_of(&nm);
	derp_of(&nm);
	hs_netmap_free(&nm);

	hs_netmap_init(&nm);
	hs_mapframe_feed(&fr, data, len, on_msg, &nm);
	hs_mapframe_reset(&fr);
	peers_of(&nm);
	hs_netmap_free(&nm);

	hs_early_feed(&early, data, len);
	hs_req_parse_register((const char *)data, len, &rr);
	hs_req_parse_key((const char *)data, len, key, err, sizeof(err));
	if (!hs_zstd_decode(data, len, 1u << 20, &plain, &plain_len))
		free(plain);
	return 0;
}
