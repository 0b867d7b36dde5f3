// SPDX-License-Identifier: GPL-2.0-only
/*
 * netcheck.c - `meshgate netcheck [-c FILE | -i NAME] [--derp-map FILE] [--json] [-4|-6]
 * [--timeout SECONDS] [--no-tcp]`.
 *
 * The DERP map: Headscale hands it out only inside a node's map stream. It has no public
 * /derpmap URL as Tailscale's control server has, and it answers a non-streaming map request
 * with no body while taking the request's endpoints and Hostinfo as the node's new ones, so a
 * fetch of our own would have to open a second map stream as the router's node and would
 * overwrite what the running daemon published. netcheck therefore reads the copy the daemon
 * keeps in StateDir/derpmap.json, refreshed with every map that changes it, whether or not the
 * daemon runs now. --derp-map FILE reads another copy (a DERPMap JSON, e.g. what Headscale's derp.urls
 * point at). StateDir is the -c FILE's, the -i NAME daemon's, the only running daemon's, or
 * /var/lib/meshgate.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include "cli.h"
#include "discover.h"
#include "netcheck.h"
#include "netcheck_probe.h"
#include "addrfmt.h"
#include "derpmap.h"

#define NC_TIMEOUT_DEFAULT_MS 3000

static int usage(void)
{
	fprintf(stderr,
		"usage: meshgate netcheck [-c FILE | -i NAME] [--derp-map FILE] [--json] [-4 | -6]\n"
		"                         [--timeout SECONDS] [--no-tcp]\n"
		"  -c FILE          StateDir from this config (default: the running daemon's, else %s)\n"
		"  -i NAME          StateDir of the running daemon of interface NAME\n"
		"  --derp-map FILE  a DERPMap JSON instead of StateDir/%s (saved by the daemon)\n"
		"  --json           the report as JSON\n"
		"  -4, -6           IPv4 only, IPv6 only\n"
		"  --timeout S      stop probing after S seconds (default %.1f; names in the map\n"
		"                   are looked up before)\n"
		"  --no-tcp         no TCP connect to the DERP servers (STUN only)\n"
		"exit status: 0 a region answered, 1 no region answered, 2 usage, 3 no DERP map,\n"
		"             4 no socket\n", CLI_DEFAULT_STATE_DIR, DERPMAP_FILE, NC_TIMEOUT_DEFAULT_MS / 1000.0);
	return NC_EXIT_USAGE;
}

static const char *ep_text(const struct mg_endpoint *ep, char *buf, size_t len)
{
	if (!ep->family || addrfmt_format_endpoint(buf, len, ep) < 0)
		snprintf(buf, len, "%s", "");
	return buf;
}

/* Latency as tailscale prints a Go duration rounded to 0.1 ms: "12.3ms". */
static void ms_text(char *out, size_t len, uint64_t ns)
{
	if (ns)
		snprintf(out, len, "%.1fms", (double)ns / 1e6);
	else
		snprintf(out, len, "%s", "");
}

static const char *region_label(const struct derp_region *g)
{
	return g->name[0] ? g->name : g->code[0] ? g->code : "";
}

static void print_text(const struct nc_report *r, const char *source)
{
	size_t order[NC_REGIONS_MAX];
	char buf[64], tbuf[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("\nReport:\n");
	printf("\t* Time: %s\n", tbuf);
	printf("\t* DERP map: %s\n", source);
	printf("\t* UDP: %s\n", r->udp ? "true" : "false");
	if (r->global_v4.family)
		printf("\t* IPv4: yes, %s\n", ep_text(&r->global_v4, buf, sizeof(buf)));
	else
		printf("\t* IPv4: (no addr found)\n");
	if (r->global_v6.family)
		printf("\t* IPv6: yes, %s\n", ep_text(&r->global_v6, buf, sizeof(buf)));
	else if (!r->os_has_ipv6)
		printf("\t* IPv6: no, unavailable in OS\n");
	else if (r->ipv6_tried)
		printf("\t* IPv6: no, but OS has support\n");
	else if (r->ipv6_targets)
		printf("\t* IPv6: no, but OS has support (no IPv6 route to the STUN servers)\n");
	else
		printf("\t* IPv6: no, but OS has support (no IPv6 STUN server probed)\n");
	printf("\t* MappingVariesByDestIP: %s\n",
	       r->mapping_varies < 0 ? "" : r->mapping_varies ? "true" : "false");
	if (!r->preferred) {
		printf("\t* Nearest DERP: unknown (no response to latency probes)\n");
		return;
	}
	for (size_t i = 0; i < r->n_regions; i++)
		if (r->regions[i].id == r->preferred)
			printf("\t* Nearest DERP: %s\n", region_label(&r->regions[i]));
	printf("\t* DERP latency:\n");
	nc_report_order(r, order);
	for (size_t k = 0; k < r->n_regions; k++) {
		const struct derp_region *g = &r->regions[order[k]];
		bool tcp;
		uint64_t l = nc_latency(r, order[k], &tcp);

		ms_text(buf, sizeof(buf), l);
		printf("\t\t- %3s: %-7s (%s)%s%s\n", g->code[0] ? g->code : "?", buf, region_label(g),
		       tcp ? " [tcp]" : "", g->no_home ? " [NoMeasureNoHome]" : "");
	}
}

static void json_latencies(const char *key, const struct nc_report *r, int which)
{
	bool first = true;

	printf(",\"%s\":{", key);
	for (size_t i = 0; i < r->n_regions; i++) {
		uint64_t v = which == 4 ? r->res[i].v4_ns : which == 6 ? r->res[i].v6_ns :
			     which == 't' ? r->res[i].tcp_ns : nc_latency(r, i, NULL);

		if (!v)
			continue;
		printf("%s\"%d\":%lu", first ? "" : ",", r->regions[i].id, (unsigned long)v);
		first = false;
	}
	printf("}");
}

/* Field names and units as `tailscale netcheck --format=json` (durations in nanoseconds), plus
 * the map's source and the TCP times. */
static void print_json(const struct nc_report *r, const char *source)
{
	char v4[64], v6[64];

	printf("{\"UDP\":%s,\"IPv4\":%s,\"GlobalV4\":\"%s\",\"IPv6\":%s,\"GlobalV6\":\"%s\",\"OSHasIPv6\":%s,"
	       "\"MappingVariesByDestIP\":%s,\"PreferredDERP\":%d",
	       r->udp ? "true" : "false", r->global_v4.family ? "true" : "false",
	       ep_text(&r->global_v4, v4, sizeof(v4)), r->global_v6.family ? "true" : "false",
	       ep_text(&r->global_v6, v6, sizeof(v6)), r->os_has_ipv6 ? "true" : "false",
	       r->mapping_varies < 0 ? "null" : r->mapping_varies ? "true" : "false", r->preferred);
	json_latencies("RegionLatency", r, 0);
	json_latencies("RegionV4Latency", r, 4);
	json_latencies("RegionV6Latency", r, 6);
	json_latencies("RegionTCPLatency", r, 't');
	printf(",\"DERPMap\":");
	{
		json_t *s = json_string(source);
		char *t = json_dumps(s, JSON_ENCODE_ANY);

		printf("%s", t ? t : "\"\"");
		free(t);
		json_decref(s);
	}
	printf("}\n");
}

int netcheck_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "config", required_argument, NULL, 'c' },
		{ "interface", required_argument, NULL, 'i' }, { "derp-map", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' }, { "no-tcp", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct nc_probe_opts po = { .timeout_ns = NC_TIMEOUT_DEFAULT_MS * 1000000ull };
	const char *config = NULL, *name = NULL, *map_file = NULL;
	struct derp_region *regions;
	char path[4200], err[512];
	struct nc_report *r;
	struct cli_target t;
	bool json = false;
	json_t *map;
	size_t n, dropped;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:i:46", opts, NULL)) != -1) {
		char *end;
		double s;

		switch (c) {
		case 'j': json = true; break;
		case 'c': config = optarg; break;
		case 'i': name = optarg; break;
		case 'm': map_file = optarg; break;
		case 'T': po.no_tcp = true; break;
		case '4': po.no_ipv6 = true; break;
		case '6': po.no_ipv4 = true; break;
		case 't':
			s = strtod(optarg, &end);
			if (*end || end == optarg || !(s > 0 && s <= 60)) {
				fprintf(stderr, "meshgate netcheck: --timeout %s: seconds between 0 and 60\n", optarg);
				return NC_EXIT_USAGE;
			}
			po.timeout_ns = (uint64_t)(s * 1e9);
			break;
		default:
			return usage();
		}
	}
	if (optind != argc || (config && name) || (po.no_ipv4 && po.no_ipv6))
		return usage();
	if (map_file) {
		snprintf(path, sizeof(path), "%s", map_file);
	} else {
		ret = cli_target_find(&t, config, name, true);
		if (ret)
			return ret == CLI_EXIT_SEVERAL ? ret : NC_EXIT_NO_MAP;
		snprintf(path, sizeof(path), "%s/%s", t.state_dir, DERPMAP_FILE);
	}
	map = derp_map_load(path, err, sizeof(err));
	if (!map) {
		fprintf(stderr, "meshgate netcheck: no DERP map: %s\n", err);
		if (!map_file)
			fprintf(stderr, "meshgate netcheck: meshgate saves the map Headscale sends in StateDir once it "
					"has joined (LoginServer); or give one with --derp-map FILE\n");
		return NC_EXIT_NO_MAP;
	}
	regions = calloc(NC_REGIONS_MAX, sizeof(*regions));
	r = calloc(1, sizeof(*r));
	if (!regions || !r) {
		json_decref(map);
		free(regions);
		free(r);
		return NC_EXIT_NO_SOCKET;
	}
	n = derp_map_parse_keep(map, regions, NC_REGIONS_MAX, NULL, 0, &dropped);
	json_decref(map);
	if (!n) {
		fprintf(stderr, "meshgate netcheck: %s: the DERP map has no usable region\n", path);
		free(regions);
		free(r);
		return NC_EXIT_NO_MAP;
	}
	if (dropped)
		fprintf(stderr, "meshgate netcheck: %zu regions past the first %d not measured\n", dropped, NC_REGIONS_MAX);
	nc_report_init(r, regions, n);
	ret = nc_probe(r, &po);
	if (ret) {
		fprintf(stderr, "meshgate netcheck: no UDP socket: %s\n", strerror(-ret));
		free(regions);
		free(r);
		return NC_EXIT_NO_SOCKET;
	}
	nc_report_finish(r);
	if (json)
		print_json(r, path);
	else
		print_text(r, path);
	ret = r->preferred ? 0 : NC_EXIT_UNREACHABLE;
	if (ret)
		fprintf(stderr, "meshgate netcheck: no DERP region answered (STUN%s) within %.1f s\n",
			po.no_tcp ? "" : " or TCP", po.timeout_ns / 1e9);
	free(regions);
	free(r);
	return ret;
}
