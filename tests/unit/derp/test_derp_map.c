// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_derp_map.c - DERPMap JSON -> regions: tailscale's documented example map, defaults
 * (DERPPort 0 -> 443, STUNPort 0 -> 3478, -1 = none), node order kept, regions sorted by id,
 * invalid ids and node-less regions skipped; and the home-region rule of derp_set_map (lowest
 * id that may be home: not NoMeasureNoHome, not only STUN nodes). A map of 41 regions with its
 * keys in Go's order ("1", "10", "11", ..., "2", ..., "999"): the 32 kept are the lowest ids, or
 * the ones to keep (home, peers' homes) and then the lowest, never the first in the JSON; the
 * rest is counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include "derp.h"
#include "derpmap.h"
#include "devconf.h"

static int failures, checks;
#define CHECK(c) do { checks++; if (!(c)) { failures++; fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c); } } while (0)

/* The example of plus a second region and edge cases. */
static const char *map_json =
	"{\"999\":{\"RegionID\":999,\"RegionCode\":\"headscale\",\"RegionName\":\"Headscale Embedded DERP\","
	"  \"Nodes\":[{\"Name\":\"999\",\"RegionID\":999,\"HostName\":\"hs.example.com\",\"IPv4\":\"198.51.100.1\","
	"             \"IPv6\":\"2001:db8::1\",\"STUNPort\":3478,\"DERPPort\":443}]},"
	" \"902\":{\"RegionID\":902,\"RegionCode\":\"test\",\"NoMeasureNoHome\":true,"
	"  \"Nodes\":[{\"Name\":\"902a\",\"HostName\":\"a.test\",\"DERPPort\":0,\"STUNPort\":0,\"CertName\":\"sha256-raw:00ff\"},"
	"           {\"Name\":\"902b\",\"HostName\":\"b.test\",\"DERPPort\":8443,\"STUNPort\":-1,\"InsecureForTests\":true,\"IPv4\":\"none\"}]},"
	" \"903\":{\"RegionID\":903,\"Nodes\":[{\"Name\":\"s\",\"HostName\":\"stun.test\",\"STUNOnly\":true}]},"
	" \"904\":{\"RegionID\":904,\"Nodes\":[{\"Name\":\"x\",\"HostName\":\"x.test\"}]},"
	" \"0\":{\"RegionID\":0,\"Nodes\":[{\"HostName\":\"bad.test\"}]},"
	" \"905\":{\"RegionID\":905,\"Nodes\":[]}}";

static void noop(void *a, int r, const uint8_t s[32], const uint8_t *p, size_t l)
{
	(void)a, (void)r, (void)s, (void)p, (void)l;
}

/* Regions 1..40 and 999, keys in the order Go's encoding/json writes a map: as strings. */
static json_t *big_map(void)
{
	json_t *m = json_object();
	char keys[41][8];
	int ids[41], i, j;

	for (i = 0; i < 40; i++)
		ids[i] = i + 1;
	ids[40] = 999;
	for (i = 0; i < 41; i++)
		snprintf(keys[i], sizeof(keys[i]), "%d", ids[i]);
	for (i = 1; i < 41; i++)                         /* insertion sort by string */
		for (j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
			char t[8];

			memcpy(t, keys[j], 8), memcpy(keys[j], keys[j - 1], 8), memcpy(keys[j - 1], t, 8);
		}
	for (i = 0; i < 41; i++)
		json_object_set_new(m, keys[i], json_pack("{s:i, s:[{s:s, s:s}]}", "RegionID", atoi(keys[i]),
							  "Nodes", "Name", keys[i], "HostName", "derp.test"));
	return m;
}

/* The StateDir copy: saved, loaded back equal; the other shapes it reads; what it refuses. */
static void test_save_load(void)
{
	char dir[] = "/tmp/test_derp_map.XXXXXX", path[128], err[256];
	json_t *m = json_loads(map_json, 0, NULL), *back;
	struct derp_region r[DERP_REGIONS_MAX];
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, DERPMAP_FILE);
	CHECK(derp_map_load(path, err, sizeof(err)) == NULL && strstr(err, "No such file"));
	CHECK(derp_map_save(m, dir) == 0);
	back = derp_map_load(path, err, sizeof(err));
	CHECK(back && json_equal(back, m));
	CHECK(back && derp_map_parse(back, r, DERP_REGIONS_MAX) == 4 && !strcmp(r[3].name, "Headscale Embedded DERP"));
	json_decref(back);
	/* A bare Regions object and a MapResponse are read too. */
	f = fopen(path, "w");
	fprintf(f, "%s", map_json);
	fclose(f);
	back = derp_map_load(path, err, sizeof(err));
	CHECK(back && json_equal(back, m));
	json_decref(back);
	f = fopen(path, "w");
	fprintf(f, "{\"DERPMap\":{\"Regions\":%s}}", map_json);
	fclose(f);
	back = derp_map_load(path, err, sizeof(err));
	CHECK(back && json_equal(back, m));
	json_decref(back);
	/* Not JSON, or JSON without regions: NULL, the file named. */
	f = fopen(path, "w");
	fprintf(f, "{\"Regions\": [1, 2");
	fclose(f);
	CHECK(derp_map_load(path, err, sizeof(err)) == NULL && strstr(err, "not JSON") && strstr(err, path));
	f = fopen(path, "w");
	fprintf(f, "{\"something\": 1}");
	fclose(f);
	CHECK(derp_map_load(path, err, sizeof(err)) == NULL && strstr(err, "no \"Regions\""));
	back = json_array();
	CHECK(derp_map_save(back, dir) == -EINVAL);
	json_decref(back);
	unlink(path);
	rmdir(dir);
	json_decref(m);
}

static void test_many_regions(void)
{
	struct derp_region r[DERP_REGIONS_MAX];
	static const int keep[] = { 999, 40, 7, 12345 };
	json_t *m = big_map();
	size_t n, dropped = 0, i;
	bool lowest = true, ok = true;

	CHECK(DERP_REGIONS_MAX == 32);
	n = derp_map_parse(m, r, DERP_REGIONS_MAX);
	for (i = 0; i < n; i++)
		lowest = lowest && r[i].id == (int)i + 1;
	CHECK(n == 32 && lowest);                       /* 1..32, not "1".."36" with "4" in between */
	n = derp_map_parse_keep(m, r, DERP_REGIONS_MAX, keep, 4, &dropped);
	CHECK(n == 32 && dropped == 9);
	/* 7, 40 and 999 kept (12345 is not in the map), then the lowest: 1..30 (7 among them). */
	for (i = 0; i < 30; i++)
		ok = ok && r[i].id == (int)i + 1;
	CHECK(ok && r[30].id == 40 && r[31].id == 999);
	n = derp_map_parse_keep(m, r, 64 > DERP_REGIONS_MAX ? DERP_REGIONS_MAX : 64, NULL, 0, &dropped);
	CHECK(n == 32 && dropped == 9);
	n = derp_map_parse_keep(m, r, 3, keep, 1, &dropped);
	CHECK(n == 3 && dropped == 38 && r[0].id == 1 && r[1].id == 2 && r[2].id == 999);
	json_decref(m);
}

int main(void)
{
	struct derp_region r[DERP_REGIONS_MAX];
	json_error_t err;
	json_t *j = json_loads(map_json, 0, &err);
	struct derp *d;
	struct derp_cfg cfg = { .recv = noop };
	size_t n;

	CHECK(j != NULL);
	n = derp_map_parse(j, r, DERP_REGIONS_MAX);
	CHECK(n == 4);                                   /* 0 and node-less 905 skipped */
	CHECK(r[0].id == 902 && r[1].id == 903 && r[2].id == 904 && r[3].id == 999);
	/* 1: the documented example region. */
	CHECK(!strcmp(r[3].code, "headscale") && r[3].n_nodes == 1 && !r[3].no_home);
	CHECK(!strcmp(r[3].nodes[0].host, "hs.example.com") && !strcmp(r[3].nodes[0].ipv4, "198.51.100.1"));
	CHECK(!strcmp(r[3].nodes[0].ipv6, "2001:db8::1") && r[3].nodes[0].derp_port == 443);
	CHECK(r[3].nodes[0].stun_port == 3478 && !r[3].nodes[0].insecure && !r[3].nodes[0].cert_name[0]);
	/* 2: defaults and order. */
	CHECK(r[0].no_home && r[0].n_nodes == 2);
	CHECK(!strcmp(r[0].nodes[0].name, "902a") && !strcmp(r[0].nodes[1].name, "902b"));
	CHECK(r[0].nodes[0].derp_port == 443 && r[0].nodes[0].stun_port == 3478);
	CHECK(!strcmp(r[0].nodes[0].cert_name, "sha256-raw:00ff"));
	CHECK(r[0].nodes[1].derp_port == 8443 && r[0].nodes[1].stun_port == -1);
	CHECK(r[0].nodes[1].insecure && !strcmp(r[0].nodes[1].ipv4, "none"));
	CHECK(r[1].nodes[0].stun_only);
	/* 3: not an object -> nothing. */
	json_t *arr = json_array();

	CHECK(derp_map_parse(arr, r, DERP_REGIONS_MAX) == 0);
	json_decref(arr);
	CHECK(derp_map_parse(j, r, 2) == 2);

	/* 4: home = lowest id that may be home: 902 (NoMeasureNoHome) and 903 (STUN only) may not. */
	n = derp_map_parse(j, r, DERP_REGIONS_MAX);
	cfg.epfd = epoll_create1(0);
	CHECK(derp_init(&d, &cfg) == 0);
	derp_set_map(d, r, n, 1);              /* no key yet: nothing is dialled */
	CHECK(derp_home(d) == 904);
	CHECK(derp_region_known(d, 999) && derp_region_known(d, 902) && !derp_region_known(d, 905));
	CHECK(!derp_region_up(d, 904));
	/* 5: STUN answers map to regions by the node's numeric address and STUNPort; the first answer
	 * moves home off the lowest id to the region that answered (904 is named by DNS only). */
	struct mg_endpoint v4 = { .family = AF_INET, .port = 3478, .addr = { 198, 51, 100, 1 } };
	struct mg_endpoint v6 = { .family = AF_INET6, .port = 3478,
				  .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	struct mg_endpoint other_port = v4, other_ip = v4;

	other_port.port = 3479;
	other_ip.addr[3] = 2;
	CHECK(derp_node_is_stun_server(&r[3].nodes[0], &v4) && derp_node_is_stun_server(&r[3].nodes[0], &v6));
	CHECK(!derp_node_is_stun_server(&r[3].nodes[0], &other_port));
	CHECK(!derp_node_is_stun_server(&r[3].nodes[0], &other_ip));
	CHECK(!derp_node_is_stun_server(&r[0].nodes[1], &v4));          /* STUNPort -1 */
	CHECK(!derp_note_stun(d, &other_ip, 1000000, 3));
	CHECK(derp_home(d) == 904);
	struct timespec ts;                      /* derp_get_status ages samples by the real clock */

	clock_gettime(CLOCK_MONOTONIC, &ts);
	CHECK(derp_note_stun(d, &v6, 20000000, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec));
	CHECK(derp_home(d) == 999);
	struct derp_region_status st[DERP_REGIONS_MAX];
	size_t k = derp_get_status(d, st, DERP_REGIONS_MAX), seen = 0;

	for (size_t i = 0; i < k; i++)
		if (st[i].id == 999)
			seen = st[i].home && st[i].best_latency_ns == 20000000;
	CHECK(seen);
	/* A map without 904 moves home to 999. */
	derp_set_map(d, &r[3], 1, 2);
	CHECK(derp_home(d) == 999 && !derp_region_known(d, 904));
	derp_uninit(d);
	close(cfg.epfd);
	json_decref(j);
	test_many_regions();
	test_save_load();
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
