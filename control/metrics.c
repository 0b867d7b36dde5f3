// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics.c - Prometheus /metrics (text format 0.0.4): every metric family meshgate exports, and
 * the libmicrohttpd server in external-epoll mode that serves them, so every scrape runs on the
 * control thread: it sums the workers' single-writer counters and reads the peer list without
 * any lock, and never makes a worker wait.
 *
 * Naming: the five tailscale_* gauges the operators' dashboards already
 * query keep their names and meaning; everything else is meshgate_* with base units, `_total`
 * on counters and bounded labels only (path, reason, queue, message/direction, state, action).
 * Per-peer series exist only when a scrape asks for them (METRICS_PEERS), under
 * mdlayher/wireguard_exporter's names so existing WireGuard dashboards (Grafana 12177) work.
 *
 * Every family is written with HELP and TYPE even when it has no sample yet, and each family
 * exactly once: promtool (and Prometheus) reject a second TYPE line for the same name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <microhttpd.h>
#include "ctldev.h"
#include <linux/types.h>
#include "../bpf/steer_maps.h"
#include "evsource.h"
#include "metrics.h"
#include "crypto/aead.h"
#include "sockmark.h"
#include "cli/peerstate.h"
#include "mg_config.h"
#include "addrfmt.h"
#include "keyfmt.h"

#define METRICS_MAX_QUEUES 64   /* config.h: Queues = 1..64 */

struct mbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static const char *const hs_drop_label[MG_HS_DROP_MAX] = {
#define X(n, l, h) [MG_HS_DROP_##n] = l,
	MG_HS_DROP_REASONS(X)
#undef X
};

static void put(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	while (!b->oom) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
		} else if ((size_t)n < b->cap - b->len) {
			b->len += n;
			return;
		} else {
			size_t cap = (b->cap + n) * 2;
			char *p = realloc(b->p, cap);

			if (!p)
				b->oom = true;
			else
				b->p = p, b->cap = cap;
		}
	}
}

static void family(struct mbuf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \\, \" and \n escaped (exposition format 0.0.4). */
static void put_label(struct mbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			put(b, "\\%c", *s);
		else if (*s == '\n')
			put(b, "\\n");
		else
			put(b, "%c", *s);
	}
}

#define SUM(dev, field) ({ uint64_t s_ = 0;                           \
	for (unsigned i_ = 0; i_ < (dev)->dp.nworkers; i_++)          \
		s_ += (dev)->dp.workers[i_].ctr.field;                \
	s_; })

/* ---- peers: the five tailscale_* gauges and meshgate_peers{state} ---------------------------- */

static void render_peers(struct mbuf *b, struct mg_ctl *dev, uint64_t now_real)
{
	unsigned state[PEER_NSTATES] = { 0 };
	unsigned running = 0, relay = 0;
	struct peer *p;

	peer_list_for_each(p, &dev->peers) {
		struct mg_endpoint ep;

		peer_endpoint_get(p, &ep);
		enum peerstate st = peerstate_of(atomic_load(&p->last_handshake_real_ns), ep.family != 0, now_real);

		state[st]++;
		relay += st == PEER_ACTIVE && mg_endpoint_is_derp(&ep);   /* 127.3.3.40:<region> */
	}
	for (unsigned i = 0; i < dev->dp.nworkers; i++)
		running += dev->dp.workers[i].started;
	running = dev->dp.nworkers && running == dev->dp.nworkers;

	family(b, "tailscale_up", "gauge", "1 when the node has its private key and its data path runs.");
	put(b, "tailscale_up %d\n", dev->identity.has_identity && running);
	family(b, "tailscale_backend_running", "gauge", "1 while every data-path worker runs.");
	put(b, "tailscale_backend_running %u\n", running);
	family(b, "tailscale_peers", "gauge", "Peers known to this node.");
	put(b, "tailscale_peers %zu\n", dev->npeers);
	family(b, "tailscale_peers_direct", "gauge", "Active peers (session in the last 180 s) reached over a direct UDP path.");
	put(b, "tailscale_peers_direct %u\n", state[PEER_ACTIVE] - relay);
	family(b, "tailscale_peers_relay", "gauge", "Active peers reached through a DERP relay.");
	put(b, "tailscale_peers_relay %u\n", relay);
	family(b, "meshgate_peers", "gauge",
	       "Peers by state: active (handshake in the last 180 s), idle (endpoint known, no session), offline.");
	for (unsigned s = 0; s < PEER_NSTATES; s++)
		put(b, "meshgate_peers{state=\"%s\"} %u\n", peerstate_label(s), state[s]);
}

/* ---- traffic by path, NIC frames, drops ------------------------------------------------------ */

static void render_path(struct mbuf *b, const char *name, const char *help, uint64_t total, uint64_t v6,
			uint64_t derp)
{
	family(b, name, "counter", help);
	put(b, "%s{path=\"direct_ipv4\"} %lu\n", name, total - v6 - derp);
	put(b, "%s{path=\"direct_ipv6\"} %lu\n", name, v6);
	put(b, "%s{path=\"derp\"} %lu\n", name, derp);
}

/* Paths as tailscaled names them: by the outer family, and DERP for the 127.3.3.40 pseudo-endpoint. */
static void render_traffic(struct mbuf *b, struct mg_ctl *dev)
{
	render_path(b, "meshgate_inbound_packets_total", "WireGuard data messages received and authenticated, by path.",
		    SUM(dev, decap_packets), SUM(dev, decap_packets6), SUM(dev, decap_packets_derp));
	render_path(b, "meshgate_inbound_bytes_total",
		    "Bytes of WireGuard data messages received and authenticated (whole messages, as wg show transfer), by path.",
		    SUM(dev, decap_bytes), SUM(dev, decap_bytes6), SUM(dev, decap_bytes_derp));
	render_path(b, "meshgate_outbound_packets_total", "WireGuard data messages sealed and sent, by path.",
		    SUM(dev, encap_packets), SUM(dev, encap_packets6), SUM(dev, encap_packets_derp));
	render_path(b, "meshgate_outbound_bytes_total",
		    "Bytes of WireGuard data messages sealed and sent (whole messages, as wg show transfer), by path.",
		    SUM(dev, encap_bytes), SUM(dev, encap_bytes6), SUM(dev, encap_bytes_derp));
}

static void render_per_queue(struct mbuf *b, struct mg_ctl *dev, const char *name, const char *help,
			     size_t off)
{
	family(b, name, "counter", help);
	for (unsigned i = 0; i < dev->dp.nworkers; i++)
		put(b, "%s{queue=\"%u\"} %lu\n", name, i,
		    *(const uint64_t *)((const char *)&dev->dp.workers[i].ctr + off));
}

/* Per-worker counters exported as one total each: name, help, field of struct mg_counters. */
#define SUMMED(n, f, h) { "meshgate_" n, h, offsetof(struct mg_counters, f) }
static const struct { const char *name, *help; size_t off; } summed[] = {
	SUMMED("local_delivered_packets_total", local_delivered, "Packets delivered to the TUN device (the router itself)."),
	SUMMED("keepalives_received_total", keepalives_rx, "WireGuard keepalive messages received."),
	SUMMED("icmp_too_big_sent_total", icmp_sent,
	       "ICMP fragmentation-needed / packet-too-big sent to LAN senders of packets over the tunnel MTU."),
	SUMMED("mss_clamped_total", mss_clamped, "TCP SYNs whose MSS option was lowered to fit the tunnel."),
	SUMMED("resolve_requests_total", resolve_requests,
	       "Next-hop (ARP/ND) resolve requests workers handed to the control thread."),
	SUMMED("resolve_suppressed_total", resolve_suppressed,
	       "Next-hop resolve requests not sent to the control thread: one for that next hop went out within 100 ms."),
	SUMMED("tsmp_pongs_total", tsmp_pongs, "TSMP pings from peers answered with a pong."),
	SUMMED("filter_flows_tracked_total", flows_tracked,
	       "Flows from the LAN or the router to the tailnet remembered, so that their replies pass the packet filter and keep their source through SNAT."),
	SUMMED("filter_flows_evicted_total", flows_evicted,
	       "Remembered flows pushed out while alive because their table bucket was full (their replies then need an ACL rule)."),
	SUMMED("filter_flow_replies_total", flow_replies,
	       "Packets from peers let in as replies to remembered flows, which the rules alone would have dropped."),
	SUMMED("nat_lan_replies_total", nat_lan_replies,
	       "Packets from peers to the LAN left untranslated by SNAT: replies to flows the LAN started."),
	SUMMED("checksum_completed_total", csum_completed,
	       "LAN TCP/UDP packets whose partial checksum (the sender's checksum offload) meshgate completed."),
};

static uint64_t sum_at(const struct mg_ctl *dev, size_t off)
{
	uint64_t s = 0;

	for (unsigned i = 0; i < dev->dp.nworkers; i++)
		s += *(const uint64_t *)((const char *)&dev->dp.workers[i].ctr + off);
	return s;
}

static void render_nic(struct mbuf *b, struct mg_ctl *dev)
{
	render_per_queue(b, dev, "meshgate_nic_received_packets_total", "Frames the workers received from the NIC, by queue.",
			 offsetof(struct mg_counters, rx_packets));
	render_per_queue(b, dev, "meshgate_nic_received_bytes_total", "Bytes of frames received from the NIC, by queue.",
			 offsetof(struct mg_counters, rx_bytes));
	render_per_queue(b, dev, "meshgate_nic_transmitted_packets_total", "Frames the workers put on the NIC, by queue.",
			 offsetof(struct mg_counters, tx_packets));
	render_per_queue(b, dev, "meshgate_nic_transmitted_bytes_total", "Bytes of frames put on the NIC, by queue.",
			 offsetof(struct mg_counters, tx_bytes));
	render_per_queue(b, dev, "meshgate_worker_loops_total", "Poll-loop iterations, by queue.",
			 offsetof(struct mg_counters, loops));
	render_per_queue(b, dev, "meshgate_worker_idle_loops_total",
			 "Poll-loop iterations that found no work, by queue (1 - idle/loops = busy ratio).",
			 offsetof(struct mg_counters, idle_loops));
	for (size_t i = 0; i < ARRAY_SIZE(summed); i++) {
		family(b, summed[i].name, "counter", summed[i].help);
		put(b, "%s %lu\n", summed[i].name, sum_at(dev, summed[i].off));
	}
	family(b, "meshgate_nat_flows", "gauge", "SNAT flows in the table.");
	put(b, "meshgate_nat_flows %lu\n", (unsigned long)atomic_load(&dev->dp.nat.nflows));
	family(b, "meshgate_punted_packets_total", "counter", "Handshake and cookie messages handed from workers to the control thread.");
	put(b, "meshgate_punted_packets_total %lu\n", SUM(dev, punted));
	/* One list (counters.h MG_DROP_REASONS) drives the enum, these labels and the help text. */
	family(b, "meshgate_inbound_dropped_packets_total", "counter",
	       "Packets meshgate received (NIC or TUN) and dropped, by reason (see counters.h for each reason).");
	for (unsigned r = 0; r < MG_DROP_MAX; r++)
		put(b, "meshgate_inbound_dropped_packets_total{reason=\"%s\"} %lu\n", mg_drop_label[r], SUM(dev, drops[r]));
}

/* ---- AF_XDP saturation: XDP_STATISTICS per socket, XDP program verdicts ---------------------- */

static void render_xsk(struct mbuf *b, struct mg_ctl *dev)
{
	static const struct { const char *name, *help; } f[6] = {
		{ "meshgate_xsk_rx_dropped_total", "Frames the kernel dropped for this AF_XDP socket (XDP_STATISTICS rx_dropped)." },
		{ "meshgate_xsk_rx_invalid_descs_total", "Invalid RX descriptors (XDP_STATISTICS)." },
		{ "meshgate_xsk_tx_invalid_descs_total", "Invalid TX descriptors (XDP_STATISTICS)." },
		{ "meshgate_xsk_rx_ring_full_total", "Frames dropped because the RX ring was full: the worker is saturated." },
		{ "meshgate_xsk_rx_fill_ring_empty_descs_total", "Times the fill ring was empty: the worker did not refill frames fast enough." },
		{ "meshgate_xsk_tx_ring_empty_descs_total", "Times the kernel found the TX ring empty when asked to send." },
	};
	uint64_t st[METRICS_MAX_QUEUES][6];
	bool ok[METRICS_MAX_QUEUES];
	unsigned n = dev->dp.nworkers < METRICS_MAX_QUEUES ? dev->dp.nworkers : METRICS_MAX_QUEUES;
	uint64_t steer[STEER_NSTATS];
	bool have_steer;

	/* getsockopt on a worker's socket reads kernel counters; it never waits for the worker. */
	for (unsigned q = 0; q < n; q++)
		ok[q] = dev->dp.workers[q].started && !io_port_stats(&dev->dp.workers[q].port, st[q]);
	for (unsigned k = 0; k < 6; k++) {
		family(b, f[k].name, "counter", f[k].help);
		for (unsigned q = 0; q < n; q++)
			if (ok[q])
				put(b, "%s{queue=\"%u\"} %lu\n", f[k].name, q, st[q][k]);
	}
	family(b, "meshgate_io_mode", "gauge",
	       "Each queue's packet I/O (always 1; the label says how): AF_XDP zerocopy or copy, dpdk, memory.");
	for (unsigned q = 0; q < n; q++)
		if (dev->dp.workers[q].started && dev->dp.workers[q].port.mode)
			put(b, "meshgate_io_mode{queue=\"%u\",mode=\"%s\"} 1\n", q, dev->dp.workers[q].port.mode);
	family(b, "meshgate_xdp_steered_packets_total", "counter",
	       "XDP program verdicts (Backend = dpdk: the same decision in C): to a worker as WireGuard, to "
	       "a worker as routed plaintext, or passed to the kernel.");
	have_steer = dev->steer.prog && !steer_prog_stats(&dev->steer, steer);
#ifdef MG_HAVE_DPDK
	if (!dev->steer.prog)
		have_steer = !dpdk_steer_stats(steer);
#endif
	if (have_steer) {
		put(b, "meshgate_xdp_steered_packets_total{action=\"wireguard\"} %lu\n", steer[0]);
		put(b, "meshgate_xdp_steered_packets_total{action=\"route\"} %lu\n", steer[1]);
		put(b, "meshgate_xdp_steered_packets_total{action=\"pass\"} %lu\n", steer[2]);
		put(b, "meshgate_xdp_steered_packets_total{action=\"nat\"} %lu\n", steer[3]);
	}
	family(b, "meshgate_xdp_lost_packets_total", "counter",
	       "Frames for meshgate the XDP program could not hand to a worker: on an RX queue without a "
	       "worker's socket (passed to the kernel, which has no listener), first fragments of UDP to the "
	       "listen port (dropped: outer fragments are not reassembled), later IPv4 and IPv6 fragments to "
	       "our addresses (passed to the kernel; lost if they belong to such a datagram). Backend = dpdk "
	       "counts the fragments alike (no_socket stays 0 there).");
	if (have_steer) {
		put(b, "meshgate_xdp_lost_packets_total{reason=\"no_socket\"} %lu\n", steer[STEER_ST_NOSOCK]);
		put(b, "meshgate_xdp_lost_packets_total{reason=\"fragment_first\"} %lu\n", steer[STEER_FRAG_FIRST]);
		put(b, "meshgate_xdp_lost_packets_total{reason=\"fragment_later\"} %lu\n", steer[STEER_FRAG_LATER]);
	}
}

/* ---- crypto, handshakes, control plane, health ----------------------------------------------- */

/* The AEAD backend per message size and burst size: fixed by Crypto =, or what Crypto = auto's
 * start-up calibration chose. 6 sizes x 4 burst classes, a bounded label set. */
static void render_crypto_choice(struct mbuf *b)
{
	static const char *const burst[AEAD_BURST_CLASSES] = { "1", "2", "3-15", "16-64" };

	family(b, "meshgate_crypto_backend_info", "gauge",
	       "AEAD backend used for messages of about size bytes in bursts of burst messages.");
	for (unsigned s = 0; s < AEAD_SIZE_CLASSES; s++)
		for (unsigned k = 0; k < AEAD_BURST_CLASSES; k++) {
			const char *name = aead_auto_choice_burst(s, k);

			if (name)
				put(b, "meshgate_crypto_backend_info{size=\"%u\",burst=\"%s\",backend=\"%s\"} 1\n",
				    aead_size_class_bytes(s), burst[k], name);
		}
}

static void render_crypto(struct mbuf *b, struct mg_ctl *dev, uint64_t now)
{
	static const char *const msg[4] = { "", "initiation", "response", "cookie" };
	uint64_t cum = 0;

	family(b, "meshgate_crypto_batch_size", "histogram", "Messages per AEAD batch call (the batching at work).");
	for (unsigned i = 0; i < MG_BATCH_BUCKETS; i++) {
		cum += SUM(dev, batch_hist[i]);
		put(b, "meshgate_crypto_batch_size_bucket{le=\"%u\"} %lu\n", 1u << i, cum);
	}
	put(b, "meshgate_crypto_batch_size_bucket{le=\"+Inf\"} %lu\n", cum);
	put(b, "meshgate_crypto_batch_size_sum %lu\nmeshgate_crypto_batch_size_count %lu\n", SUM(dev, batch_sum), cum);
	family(b, "meshgate_handshakes_total", "counter", "Handshake messages by type and direction.");
	for (unsigned t = 1; t < 4; t++) {
		put(b, "meshgate_handshakes_total{message=\"%s\",direction=\"rx\"} %lu\n", msg[t], dev->handshakes[t][0]);
		put(b, "meshgate_handshakes_total{message=\"%s\",direction=\"tx\"} %lu\n", msg[t], dev->handshakes[t][1]);
	}
	family(b, "meshgate_handshake_dropped_total", "counter",
	       "Handshake messages rejected or not sent, by reason (counters.h MG_HS_DROP_REASONS).");
	for (unsigned r = 0; r < MG_HS_DROP_MAX; r++)
		put(b, "meshgate_handshake_dropped_total{reason=\"%s\"} %lu\n", hs_drop_label[r],
		    dev->handshake_drops[r]);
	family(b, "meshgate_under_load", "gauge", "1 while handshakes are answered with cookie replies (DoS mitigation).");
	put(b, "meshgate_under_load %d\n", dev->under_load_until_ns > now);
	render_crypto_choice(b);
}

static unsigned health_warnings(struct mg_ctl *dev, uint64_t now)
{
	return !dev->identity.has_identity + !dev->npeers + (dev->under_load_until_ns > now);
}

/* What we tell the control server about ourselves: lite map requests, endpoints, home DERP. */
static void render_publish(struct mbuf *b, const struct metrics_control *ctl)
{
	family(b, "meshgate_control_lite_maps_total", "counter",
	       "Lite map requests (endpoint, home DERP or Hostinfo changes) the control server accepted.");
	put(b, "meshgate_control_lite_maps_total %lu\n", (unsigned long)ctl->lite_maps);
	family(b, "meshgate_control_last_lite_map_timestamp_seconds", "gauge",
	       "UNIX time of the last accepted lite map request (0 = none yet).");
	put(b, "meshgate_control_last_lite_map_timestamp_seconds %.3f\n", ctl->last_lite_map_real_ns / 1e9);
	family(b, "meshgate_control_node_key_rotations_total", "counter",
	       "Node keys replaced after the control server reported the old one expired.");
	put(b, "meshgate_control_node_key_rotations_total %lu\n", (unsigned long)ctl->key_rotations);
	family(b, "meshgate_control_preferred_derp", "gauge", "Home DERP region published (0 = none).");
	put(b, "meshgate_control_preferred_derp %d\n", ctl->preferred_derp);
	family(b, "meshgate_control_endpoint", "gauge",
	       "Endpoints published to the control server (always 1; the labels carry the data).");
	for (unsigned i = 0; i < ctl->n_endpoints; i++)
		put(b, "meshgate_control_endpoint{endpoint=\"%s\",type=\"%s\"} 1\n", ctl->endpoint[i],
		    ctl->endpoint_type[i]);
}

/* Every region of the DERP map: connected or not, and the STUN round trip the home choice uses. */
static void render_derp(struct mbuf *b, const struct metrics_control *ctl)
{
	const struct metrics_derp *d = ctl->derp;
	unsigned i, n = ctl->n_derp;

	family(b, "meshgate_derp_region_connected", "gauge", "1 while the DERP client is connected to the region.");
	for (i = 0; i < n; i++)
		put(b, "meshgate_derp_region_connected{region=\"%d\"} %d\n", d[i].region, d[i].up);
	family(b, "meshgate_derp_region_latency_seconds", "gauge",
	       "Current STUN round trip to the region (the home choice's input); absent until measured.");
	for (i = 0; i < n; i++)
		if (d[i].latency_ns)
			put(b, "meshgate_derp_region_latency_seconds{region=\"%d\"} %.6f\n", d[i].region,
			    d[i].latency_ns / 1e9);
	family(b, "meshgate_derp_connects_total", "counter", "Connections made to the region's DERP server.");
	for (i = 0; i < n; i++)
		put(b, "meshgate_derp_connects_total{region=\"%d\"} %lu\n", d[i].region, (unsigned long)d[i].connects);
	family(b, "meshgate_derp_packets_total", "counter", "Packets relayed through the region, by direction.");
	for (i = 0; i < n; i++) {
		put(b, "meshgate_derp_packets_total{region=\"%d\",direction=\"tx\"} %lu\n", d[i].region,
		    (unsigned long)d[i].tx_packets);
		put(b, "meshgate_derp_packets_total{region=\"%d\",direction=\"rx\"} %lu\n", d[i].region,
		    (unsigned long)d[i].rx_packets);
	}
	family(b, "meshgate_derp_dropped_packets_total", "counter",
	       "Packets for the region not sent: over the server's rate limit, or its queue full.");
	for (i = 0; i < n; i++) {
		put(b, "meshgate_derp_dropped_packets_total{region=\"%d\",reason=\"rate_limited\"} %lu\n",
		    d[i].region, (unsigned long)d[i].rate_limited);
		put(b, "meshgate_derp_dropped_packets_total{region=\"%d\",reason=\"queue_full\"} %lu\n",
		    d[i].region, (unsigned long)d[i].tx_dropped);
	}
}

/* Disco (path discovery) and the path each disco peer's traffic takes: direct or DERP. */
static void render_paths(struct mbuf *b, const struct metrics_control *ctl)
{
	static const char *const type[] = { "ping", "pong", "call_me_maybe" };
	static const char *const why[] = { "unknown_key", "bad_box", "bad_message", "ignored_type",
					   "send_failed", "pong_unmatched" };
	const struct metrics_paths *p = &ctl->paths;

	family(b, "meshgate_disco_messages_total", "counter", "Disco messages, by type and direction.");
	for (unsigned i = 0; i < ARRAY_SIZE(type); i++) {
		put(b, "meshgate_disco_messages_total{type=\"%s\",direction=\"rx\"} %lu\n", type[i],
		    (unsigned long)p->rx[i]);
		put(b, "meshgate_disco_messages_total{type=\"%s\",direction=\"tx\"} %lu\n", type[i],
		    (unsigned long)p->tx[i]);
	}
	family(b, "meshgate_disco_dropped_total", "counter",
	       "Disco messages not taken (received: unknown key, bad box or message, ignored type, "
	       "unmatched pong; sent: send failed).");
	for (unsigned i = 0; i < ARRAY_SIZE(why); i++)
		put(b, "meshgate_disco_dropped_total{reason=\"%s\"} %lu\n", why[i], (unsigned long)p->dropped[i]);
	family(b, "meshgate_path_changes_total", "counter",
	       "Disco peers' path changes: to a direct endpoint disco proved, or to DERP.");
	put(b, "meshgate_path_changes_total{to=\"direct\"} %lu\n", (unsigned long)p->to_direct);
	put(b, "meshgate_path_changes_total{to=\"relay\"} %lu\n", (unsigned long)p->to_relay);
	family(b, "meshgate_peers_by_path", "gauge", "Disco peers whose traffic now goes direct, or through DERP.");
	put(b, "meshgate_peers_by_path{path=\"direct\"} %lu\n", (unsigned long)p->peers_direct);
	put(b, "meshgate_peers_by_path{path=\"relay\"} %lu\n", (unsigned long)p->peers_relay);
}

/* Without a control-server source (static config, or before the client starts) the node reports
 * "not connected" and no map-update series, so the NoMapUpdate alert cannot fire on it. */
static void render_control(struct mbuf *b, struct mg_ctl *dev, const struct metrics_control *ctl, uint64_t now)
{
	family(b, "meshgate_control_connected", "gauge",
	       "1 while the Headscale map stream is connected; 0 when not, or with a static config (no LoginServer).");
	put(b, "meshgate_control_connected %d\n", ctl && ctl->connected);
	if (ctl) {
		family(b, "meshgate_control_last_map_update_timestamp_seconds", "gauge",
		       "UNIX time of the last map message from the control server (0 = none yet).");
		put(b, "meshgate_control_last_map_update_timestamp_seconds %.3f\n", ctl->last_map_update_real_ns / 1e9);
		family(b, "meshgate_control_map_updates_total", "counter", "Map messages received from the control server.");
		put(b, "meshgate_control_map_updates_total %lu\n", (unsigned long)ctl->map_updates);
		family(b, "meshgate_control_errors_total", "counter", "Control-server connection and protocol errors.");
		put(b, "meshgate_control_errors_total %lu\n", (unsigned long)ctl->errors);
		family(b, "meshgate_control_malformed_names_total", "counter",
		       "Nodes received whose Name is not a usable DNS name; they route, but `meshgate status` shows them unnamed.");
		put(b, "meshgate_control_malformed_names_total %lu\n", (unsigned long)ctl->malformed_names);
		family(b, "meshgate_approved_routes", "gauge",
		       "Advertised subnet routes the control server approved (the self node's PrimaryRoutes).");
		put(b, "meshgate_approved_routes %lu\n", (unsigned long)ctl->approved_routes);
		render_publish(b, ctl);
		render_derp(b, ctl);
		render_paths(b, ctl);
	}
	family(b, "meshgate_advertised_routes", "gauge", "Subnet routes this node advertises (AdvertiseRoutes).");
	put(b, "meshgate_advertised_routes %zu\n", mg_rcu_dereference(dev->dp.routes)->n);   /* SIGHUP swaps it */
	family(b, "meshgate_health_messages", "gauge",
	       "Health warnings (no private key, no peers, under load); `meshgate status` lists them.");
	put(b, "meshgate_health_messages{type=\"warning\"} %u\n", health_warnings(dev, now));
	family(b, "meshgate_build_info", "gauge", "Build information; always 1.");
	put(b, "meshgate_build_info{version=\"%s\"} 1\n", MG_VERSION);
}

/* ---- opt-in per-peer series: mdlayher/wireguard_exporter names and labels ---------------------- */

struct ips_ctx {
	struct mbuf *b;
	const char *dev, *key;
};

static void put_allowed_ip(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct ips_ctx *c = ctx;
	struct mg_ipprefix ip = { .family = family, .cidr = cidr };
	char s[ADDRFMT_PREFIX_MAX];

	memcpy(ip.addr, addr, family == AF_INET ? 4 : 16);
	addrfmt_format_prefix(s, sizeof(s), &ip);
	put(c->b, "wireguard_peer_allowed_ips_info{allowed_ips=\"%s\",device=\"", s);
	put_label(c->b, c->dev);
	put(c->b, "\",public_key=\"%s\"} 1\n", c->key);
}

enum peer_series { PS_INFO, PS_ALLOWED_IPS, PS_RX, PS_TX, PS_HANDSHAKE };

static void render_peer_series(struct mbuf *b, struct mg_ctl *dev, const char *name, const char *type,
			       const char *help, enum peer_series what)
{
	char key[KEYFMT_BASE64_LEN + 1], ep_s[ADDRFMT_ENDPOINT_MAX];
	struct peer *p;

	family(b, name, type, help);
	peer_list_for_each(p, &dev->peers) {
		struct ips_ctx c = { b, dev->dp.name, key };
		struct mg_endpoint ep;

		keyfmt_base64_encode(key, p->public_key);
		if (what == PS_INFO) {
			peer_endpoint_get(p, &ep);
			ep_s[0] = '\0';
			if (ep.family)
				addrfmt_format_endpoint(ep_s, sizeof(ep_s), &ep);
			put(b, "%s{device=\"", name);
			put_label(b, dev->dp.name);
			put(b, "\",endpoint=\"%s\",name=\"\",public_key=\"%s\"} 1\n", ep_s, key);
			continue;
		}
		if (what == PS_ALLOWED_IPS) {
			allowedips_walk_by_peer(&dev->dp.allowedips, p, put_allowed_ip, &c);
			continue;
		}
		put(b, "%s{device=\"", name);
		put_label(b, dev->dp.name);
		if (what == PS_RX)
			put(b, "\",public_key=\"%s\"} %lu\n", key, peer_rx_bytes(p));
		else if (what == PS_TX)
			put(b, "\",public_key=\"%s\"} %lu\n", key, peer_tx_bytes(p));
		else
			put(b, "\",public_key=\"%s\"} %lu\n", key, (uint64_t)(atomic_load(&p->last_handshake_real_ns) / NSEC_PER_SEC));
	}
}

static void render_wireguard(struct mbuf *b, struct mg_ctl *dev)
{
	char key[KEYFMT_BASE64_LEN + 1];

	family(b, "wireguard_device_info", "gauge", "Metadata about a device.");
	keyfmt_base64_encode(key, dev->identity.static_public);
	put(b, "wireguard_device_info{device=\"");
	put_label(b, dev->dp.name);
	put(b, "\",public_key=\"%s\"} 1\n", dev->identity.has_identity ? key : "");
	render_peer_series(b, dev, "wireguard_peer_info", "gauge",
			   "Metadata about a peer. The public_key label is the peer's public key.", PS_INFO);
	render_peer_series(b, dev, "wireguard_peer_allowed_ips_info", "gauge",
			   "Metadata about each of a peer's allowed IP subnets.", PS_ALLOWED_IPS);
	render_peer_series(b, dev, "wireguard_peer_receive_bytes_total", "counter",
			   "Bytes received from a peer (whole WireGuard messages, as wg show transfer).", PS_RX);
	render_peer_series(b, dev, "wireguard_peer_transmit_bytes_total", "counter",
			   "Bytes transmitted to a peer (whole WireGuard messages, as wg show transfer).", PS_TX);
	render_peer_series(b, dev, "wireguard_peer_last_handshake_seconds", "gauge",
			   "UNIX timestamp of the last handshake with a peer (0 = never).", PS_HANDSHAKE);
}

char *metrics_render(struct mg_ctl *dev, const struct metrics_control *ctl, unsigned flags, size_t *len)
{
	struct mbuf b = { .cap = 16384 };
	uint64_t now = mg_now(), now_real = mg_realtime();

	b.p = malloc(b.cap);
	if (!b.p)
		return NULL;
	b.p[0] = '\0';
	render_peers(&b, dev, now_real);
	render_traffic(&b, dev);
	render_nic(&b, dev);
	render_xsk(&b, dev);
	render_crypto(&b, dev, now);
	render_control(&b, dev, ctl, now);
	if (flags & METRICS_PEERS)
		render_wireguard(&b, dev);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* ---- the HTTP server ------------------------------------------------------------------------ */

struct metrics {
	struct mg_ctl *dev;
	metrics_control_fn *ctl_get;     /* NULL: no control server */
	void *ctl_ctx;
	struct MHD_Daemon *mhd;
	struct evsource src;
	int fd;
};

/* ?peers=1 (Prometheus: `params: { peers: ["1"] }`) opts in to the per-peer wireguard_* series. */
static unsigned scrape_flags(struct MHD_Connection *conn)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "peers");

	return v && (!strcmp(v, "1") || !strcmp(v, "true")) ? METRICS_PEERS : 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, char *text, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				code == MHD_HTTP_OK ? METRICS_CONTENT_TYPE : "text/plain; charset=utf-8");
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Runs on the control thread inside MHD_run(): rendering never waits for a worker. */
static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_len, void **req)
{
	struct metrics *m = cls;
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	struct metrics_control ctl;
	char *text;
	size_t len;

	(void)version, (void)upload, (void)upload_len, (void)req;
	if (!get || strcmp(url, "/metrics")) {
		text = strdup("not found: try GET /metrics\n");
		return text ? reply(conn, MHD_HTTP_NOT_FOUND, text, strlen(text)) : MHD_NO;
	}
	if (m->ctl_get)
		m->ctl_get(m->ctl_ctx, &ctl);
	text = metrics_render(m->dev, m->ctl_get ? &ctl : NULL, scrape_flags(conn), &len);
	if (!text)
		return MHD_NO;   /* out of memory: MHD closes the connection, Prometheus records up=0 */
	return reply(conn, MHD_HTTP_OK, text, len);
}

static void on_event(struct evsource *src, uint32_t events)
{
	struct metrics *m = container_of(src, struct metrics, src);

	(void)events;
	MHD_run(m->mhd);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss)
{
	char host[128], *colon;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM }, *ai;

	snprintf(host, sizeof(host), "%s", listen);
	colon = strrchr(host, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

int metrics_init(struct metrics **out, struct mg_ctl *dev, const char *listen, int epfd)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	int ret = parse_listen(listen, &ss);

	if (!m)
		return -ENOMEM;
	if (ret)
		goto err;
	m->dev = dev;
	m->mhd = MHD_start_daemon(MHD_USE_EPOLL | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
				  answer, m, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				  MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_END);
	ret = -EADDRINUSE;
	if (!m->mhd)
		goto err;
	/* FwMark (sockmark.h): scrapes are answered with the mark, accepted connections inherit it. */
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_LISTEN_FD);
	ret = info ? sockmark_apply(info->listen_fd) : -EBADF;
	if (ret) {
		MHD_stop_daemon(m->mhd);
		goto err;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	m->fd = info->epoll_fd;
	m->src.cb = on_event;
	if (evsource_add(epfd, m->fd, EPOLLIN, &m->src)) {
		ret = -errno;
		MHD_stop_daemon(m->mhd);
		goto err;
	}
	*out = m;
	return 0;
err:
	free(m);
	return ret;
}

void metrics_set_control(struct metrics *m, metrics_control_fn *get, void *ctx)
{
	if (!m)
		return;
	m->ctl_get = get;
	m->ctl_ctx = ctx;
}

void metrics_uninit(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->mhd);
	free(m);
}
