// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_metrics.c - metrics_render() on a hand-built device: two workers with known counters,
 * three peers (active, idle, offline), stubbed AF_XDP and XDP-program statistics. Checks exact
 * sample lines (sums across workers, histogram cumulation, peer states, label escaping), the
 * format rules promtool also enforces (one HELP and one TYPE per family, before its samples, a
 * final newline), and, when meson found promtool (argv[1]), `promtool check metrics` itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "ctldev.h"
#include "metrics.h"
#include "check.h"
#include "crypto/aead.h"
#include "keyfmt.h"

/* ---- what the renderer reads from outside control/ (stubbed with known answers) --------------- */

const char *const mg_drop_label[MG_DROP_MAX] = {
#define X(n, l, h) [MG_DROP_##n] = l,
	MG_DROP_REASONS(X)
#undef X
};

int io_port_stats(const struct io_port *p, uint64_t out[6])
{
	(void)p;
	for (int k = 0; k < 6; k++)
		out[k] = 100 + k;
	return 0;
}

int steer_prog_stats(struct steer_prog *sp, uint64_t out[STEER_NSTATS])
{
	(void)sp;
	out[0] = 7, out[1] = 8, out[2] = 9, out[3] = 10;
	out[STEER_FRAG_FIRST] = 11, out[STEER_FRAG_LATER] = 12, out[STEER_ST_NOSOCK] = 13;
	return 0;
}

#ifdef MG_HAVE_DPDK
/* Backend = dpdk: no XDP program; the DPDK steering's counters (other values than XDP's). */
int dpdk_steer_stats(uint64_t out[STEER_NSTATS])
{
	for (int k = 0; k < STEER_NSTATS; k++)
		out[k] = 0;
	out[2] = 90, out[STEER_FRAG_FIRST] = 21, out[STEER_FRAG_LATER] = 22;
	return 0;
}
#endif

void peer_endpoint_get(struct peer *p, struct mg_endpoint *out)
{
	*out = p->ep;
}

/* ---- the device ---------------------------------------------------------------------------- */

static struct peer *add_peer(struct mg_ctl *dev, uint8_t fill, uint64_t hs_real, bool endpoint, uint8_t ip4)
{
	/* Cache-line aligned, as peer_new allocates it (calloc would not be). */
	struct peer *p = aligned_alloc(_Alignof(struct peer), sizeof(*p));
	uint8_t a[4] = { 100, 64, 0, ip4 };

	memset(p, 0, sizeof(*p));
	memset(p->public_key, fill, sizeof(p->public_key));
	atomic_store(&p->last_handshake_real_ns, hs_real);
	if (endpoint) {
		p->ep.family = AF_INET;
		p->ep.port = 51820;
		memcpy(p->ep.addr, (uint8_t[4]){ 198, 51, 100, ip4 }, 4);
	}
	allowedips_insert(&dev->dp.allowedips, AF_INET, a, 32, p);
	cds_list_add_tail(&p->node, &dev->peers);
	dev->npeers++;
	return p;
}

/* The test's device is built by hand (no RCU grace periods needed): free it the same way. */
static void free_device(struct mg_ctl *dev)
{
	struct peer *p;

	peer_list_for_each_safe(p, &dev->peers) {
		allowedips_remove_by_peer(&dev->dp.allowedips, p);
		cds_list_del(&p->node);
		free(p);
	}
	allowedips_uninit(&dev->dp.allowedips);
	free(dev->dp.workers);
	free(dev->dp.routes);
	free(dev);
}

static struct mg_ctl *make_device(void)
{
	struct mg_ctl *dev = calloc(1, sizeof(*dev));
	uint64_t now_real = mg_realtime();
	struct peer *a;

	snprintf(dev->dp.name, sizeof(dev->dp.name), "mg\"x\\0");   /* label escaping: mg\"x\\0 */
	dev->identity.has_identity = true;
	CDS_INIT_LIST_HEAD(&dev->peers);
	allowedips_init(&dev->dp.allowedips);
	dev->dp.routes = mg_routeset_new((const struct mg_ipprefix[]){ { .family = AF_INET, .cidr = 24 },
								   { .family = AF_INET, .cidr = 16 } }, 2, false);
	dev->dp.nworkers = 2;
	dev->dp.workers = calloc(2, sizeof(*dev->dp.workers));
	for (unsigned i = 0; i < 2; i++)
		dev->dp.workers[i].started = true;
	dev->dp.workers[0].ctr.decap_packets = 10, dev->dp.workers[0].ctr.decap_bytes = 1280;
	dev->dp.workers[1].ctr.decap_packets = 5, dev->dp.workers[1].ctr.decap_bytes = 640;
	dev->dp.workers[0].ctr.encap_packets = 3, dev->dp.workers[1].ctr.encap_bytes = 96;
	dev->dp.workers[0].ctr.rx_packets = 11, dev->dp.workers[1].ctr.rx_packets = 22;
	dev->dp.workers[0].ctr.drops[MG_DROP_REPLAY] = 3, dev->dp.workers[1].ctr.drops[MG_DROP_REPLAY] = 4;
	dev->dp.workers[1].ctr.drops[MG_DROP_TX_FULL] = 1;
	dev->dp.workers[0].ctr.batch_hist[0] = 2, dev->dp.workers[0].ctr.batch_hist[2] = 1;
	dev->dp.workers[1].ctr.batch_hist[6] = 3;
	dev->dp.workers[0].ctr.batch_sum = 2 + 3, dev->dp.workers[1].ctr.batch_sum = 3 * 64;
	dev->handshakes[1][0] = 4, dev->handshakes[2][1] = 4, dev->handshakes[3][1] = 1;
	dev->under_load_until_ns = mg_now() + NSEC_PER_SEC * 60;
	dev->steer.prog = (struct xdp_program *)1;   /* "attached": the stub answers */
	a = add_peer(dev, 0xaa, now_real - 10 * NSEC_PER_SEC, true, 2);   /* active */
	atomic_store(&a->rx_bytes, 4242);
	atomic_store(&a->tx_bytes, 2424);
	add_peer(dev, 0xbb, now_real - 600 * NSEC_PER_SEC, true, 3);      /* idle: stale session */
	add_peer(dev, 0xcc, 0, false, 4);                                  /* offline */
	return dev;
}

/* ---- checks -------------------------------------------------------------------------------- */

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define CHECK_LINE(text, line) do { \
	if (!has_line(text, line)) { \
		fprintf(stderr, "%s:%d: missing line: %s\n", __FILE__, __LINE__, line); \
		check_failures++; \
	} \
} while (0)

/* The format rules: each family's HELP and TYPE exactly once and before its first sample;
 * samples of one family contiguous; text ends with '\n'. */
static void check_format(const char *text)
{
	char seen[128][96], cur[96] = "";
	unsigned nseen = 0;
	char *copy = strdup(text), *save, *line;

	CHECK(text[strlen(text) - 1] == '\n');
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[96];

		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%95s", name);
			for (unsigned i = 0; i < nseen; i++)
				CHECK(strcmp(seen[i], name));    /* a family written twice */
			snprintf(seen[nseen++ % 128], sizeof(seen[0]), "%s", name);
			snprintf(cur, sizeof(cur), "%s", name);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			sscanf(line + 7, "%95s", name);
			CHECK_STR(name, cur);                    /* TYPE right after its HELP */
			continue;
		}
		sscanf(line, "%95[^{ ]", name);
		if (strncmp(name, cur, strlen(cur)) || (name[strlen(cur)] && strcmp(name + strlen(cur), "_bucket") &&
		    strcmp(name + strlen(cur), "_sum") && strcmp(name + strlen(cur), "_count"))) {
			fprintf(stderr, "sample %s outside its family (current %s)\n", name, cur);
			check_failures++;
		}
	}
	free(copy);
}

static void check_values(const char *t)
{
	char key[KEYFMT_BASE64_LEN + 1], line[256];
	uint8_t k[32];

	CHECK_LINE(t, "tailscale_up 1");
	CHECK_LINE(t, "tailscale_backend_running 1");
	CHECK_LINE(t, "tailscale_peers 3");
	CHECK_LINE(t, "tailscale_peers_direct 1");
	CHECK_LINE(t, "tailscale_peers_relay 0");
	CHECK_LINE(t, "meshgate_peers{state=\"active\"} 1");
	CHECK_LINE(t, "meshgate_peers{state=\"idle\"} 1");
	CHECK_LINE(t, "meshgate_peers{state=\"offline\"} 1");
	CHECK_LINE(t, "meshgate_inbound_packets_total{path=\"direct_ipv4\"} 15");
	CHECK_LINE(t, "meshgate_inbound_bytes_total{path=\"direct_ipv4\"} 1920");
	CHECK_LINE(t, "meshgate_inbound_packets_total{path=\"derp\"} 0");
	CHECK_LINE(t, "meshgate_outbound_packets_total{path=\"direct_ipv4\"} 3");
	CHECK_LINE(t, "meshgate_outbound_bytes_total{path=\"direct_ipv4\"} 96");
	CHECK_LINE(t, "meshgate_nic_received_packets_total{queue=\"0\"} 11");
	CHECK_LINE(t, "meshgate_nic_received_packets_total{queue=\"1\"} 22");
	CHECK_LINE(t, "meshgate_inbound_dropped_packets_total{reason=\"replay\"} 7");
	CHECK_LINE(t, "meshgate_inbound_dropped_packets_total{reason=\"tx_full\"} 1");
	CHECK_LINE(t, "meshgate_inbound_dropped_packets_total{reason=\"decrypt_failed\"} 0");
	CHECK_LINE(t, "meshgate_xsk_rx_dropped_total{queue=\"1\"} 100");
	CHECK_LINE(t, "meshgate_xsk_rx_ring_full_total{queue=\"0\"} 103");
	CHECK_LINE(t, "meshgate_xsk_tx_ring_empty_descs_total{queue=\"1\"} 105");
	CHECK_LINE(t, "meshgate_xdp_steered_packets_total{action=\"pass\"} 9");
	CHECK_LINE(t, "meshgate_xdp_lost_packets_total{reason=\"no_socket\"} 13");
	CHECK_LINE(t, "meshgate_xdp_lost_packets_total{reason=\"fragment_first\"} 11");
	CHECK_LINE(t, "meshgate_xdp_lost_packets_total{reason=\"fragment_later\"} 12");
	/* Buckets are cumulative: sizes 1,1 (le=1), 3 (le=4), 64,64,64 (le=64). */
	CHECK_LINE(t, "meshgate_crypto_batch_size_bucket{le=\"1\"} 2");
	CHECK_LINE(t, "meshgate_crypto_batch_size_bucket{le=\"2\"} 2");
	CHECK_LINE(t, "meshgate_crypto_batch_size_bucket{le=\"4\"} 3");
	CHECK_LINE(t, "meshgate_crypto_batch_size_bucket{le=\"32\"} 3");
	CHECK_LINE(t, "meshgate_crypto_batch_size_bucket{le=\"64\"} 6");
	CHECK_LINE(t, "meshgate_crypto_batch_size_bucket{le=\"+Inf\"} 6");
	CHECK_LINE(t, "meshgate_crypto_batch_size_sum 197");
	CHECK_LINE(t, "meshgate_crypto_batch_size_count 6");
	CHECK_LINE(t, "meshgate_handshakes_total{message=\"initiation\",direction=\"rx\"} 4");
	CHECK_LINE(t, "meshgate_handshakes_total{message=\"response\",direction=\"tx\"} 4");
	CHECK_LINE(t, "meshgate_handshakes_total{message=\"cookie\",direction=\"tx\"} 1");
	CHECK_LINE(t, "meshgate_under_load 1");
	CHECK_LINE(t, "meshgate_health_messages{type=\"warning\"} 1");
	CHECK_LINE(t, "meshgate_advertised_routes 2");
	memset(k, 0xaa, 32);
	keyfmt_base64_encode(key, k);
	snprintf(line, sizeof(line), "wireguard_peer_receive_bytes_total{device=\"mg\\\"x\\\\0\",public_key=\"%s\"} 4242", key);
	CHECK_LINE(t, line);
	snprintf(line, sizeof(line), "wireguard_peer_transmit_bytes_total{device=\"mg\\\"x\\\\0\",public_key=\"%s\"} 2424", key);
	CHECK_LINE(t, line);
	snprintf(line, sizeof(line),
		 "wireguard_peer_info{device=\"mg\\\"x\\\\0\",endpoint=\"198.51.100.2:51820\",name=\"\",public_key=\"%s\"} 1", key);
	CHECK_LINE(t, line);
	snprintf(line, sizeof(line),
		 "wireguard_peer_allowed_ips_info{allowed_ips=\"100.64.0.2/32\",device=\"mg\\\"x\\\\0\",public_key=\"%s\"} 1", key);
	CHECK_LINE(t, line);
}

static void check_promtool(const char *promtool, const char *text, size_t len)
{
	char cmd[1024];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' check metrics", promtool);
	f = popen(cmd, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(fwrite(text, 1, len, f) == len);
	CHECK_INT(WEXITSTATUS(pclose(f)), 0);
}

int main(int argc, char **argv)
{
	struct metrics_control ctl = { .connected = true, .last_map_update_real_ns = 1795611527500000000ull,
				       .map_updates = 12, .errors = 3, .malformed_names = 2 };
	struct mg_ctl *dev;
	char *text, *plain;
	size_t len, plen;

	mg_rcu_register_thread();
	CHECK(aead_init("sodium") == 0);                 /* a fixed backend: every class names it */
	dev = make_device();
	text = metrics_render(dev, &ctl, METRICS_PEERS, &len);
	plain = metrics_render(dev, NULL, 0, &plen);
	CHECK(text && plain);
	if (!text || !plain)
		return 1;
	CHECK_INT(strlen(text), len);
	check_format(text);
	check_values(text);
	CHECK(!strstr(plain, "wireguard_"));             /* per-peer series are opt-in */
	CHECK_LINE(text, "meshgate_crypto_backend_info{size=\"64\",burst=\"1\",backend=\"sodium\"} 1");
	CHECK_LINE(text, "meshgate_crypto_backend_info{size=\"1420\",burst=\"16-64\",backend=\"sodium\"} 1");
	CHECK_LINE(text, "meshgate_control_connected 1");
	CHECK_LINE(text, "meshgate_control_last_map_update_timestamp_seconds 1795611527.500");
	CHECK_LINE(text, "meshgate_control_map_updates_total 12");
	CHECK_LINE(text, "meshgate_control_errors_total 3");
	CHECK_LINE(text, "meshgate_control_malformed_names_total 2");
	CHECK_LINE(plain, "meshgate_control_connected 0");  /* no control server: no map series */
	CHECK(!strstr(plain, "meshgate_control_last_map_update"));
	CHECK(strstr(plain, "tailscale_peers 3\n") != NULL);
	/* A stopped worker: the data path is down, and its socket statistics are not read. */
	dev->dp.workers[1].started = false;
	free(plain);
	plain = metrics_render(dev, NULL, 0, &plen);
	CHECK_LINE(plain, "tailscale_backend_running 0");
	CHECK_LINE(plain, "tailscale_up 0");
	CHECK(!strstr(plain, "meshgate_xsk_rx_dropped_total{queue=\"1\"}"));
#ifdef MG_HAVE_DPDK
	/* No XDP program (Backend = dpdk): the fragment counters come from the DPDK steering. */
	dev->steer.prog = NULL;
	free(plain);
	plain = metrics_render(dev, NULL, 0, &plen);
	CHECK_LINE(plain, "meshgate_xdp_steered_packets_total{action=\"pass\"} 90");
	CHECK_LINE(plain, "meshgate_xdp_lost_packets_total{reason=\"fragment_first\"} 21");
	CHECK_LINE(plain, "meshgate_xdp_lost_packets_total{reason=\"fragment_later\"} 22");
	CHECK_LINE(plain, "meshgate_xdp_lost_packets_total{reason=\"no_socket\"} 0");
	dev->steer.prog = (struct xdp_program *)1;
#endif
	if (argc > 1) {
		check_promtool(argv[1], text, len);
		check_promtool(argv[1], plain, plen);
	} else {
		printf("test_metrics: promtool not found, exposition checked by the built-in rules only\n");
	}
	free(text);
	free(plain);
	free_device(dev);
	return check_done("test_metrics");
}
