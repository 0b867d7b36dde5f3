// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics.c - Prometheus /metrics (text format 0.0.4), served by libmicrohttpd in external-epoll
 * mode so every scrape runs on the control thread: it sums the workers' single-writer counters and
 * reads the peer list without any lock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <microhttpd.h>
#include "control.h"
#include "evsource.h"
#include "mg_config.h"

struct metrics {
	struct mg_device *dev;
	struct MHD_Daemon *mhd;
	struct evsource src;
	int fd;
};

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = (b->cap + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	b->len += n;
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_peers(struct buf *b, struct mg_device *dev)
{
	uint64_t now = mg_realtime();
	unsigned direct = 0;
	struct peer *p;

	cds_list_for_each_entry(p, &dev->peers, node) {
		uint64_t hs = atomic_load(&p->last_handshake_real_ns);

		if (hs && now - hs < 180 * NSEC_PER_SEC)
			direct++;
	}
	family(b, "tailscale_up", "gauge", "1 when the node has an identity and its data path runs.");
	put(b, "tailscale_up %d\n", dev->identity.has_identity);
	family(b, "tailscale_backend_running", "gauge", "1 while the backend runs.");
	put(b, "tailscale_backend_running 1\n");
	family(b, "tailscale_peers", "gauge", "Configured peers.");
	put(b, "tailscale_peers %zu\n", dev->npeers);
	family(b, "tailscale_peers_direct", "gauge", "Peers with a handshake in the last 180 s over a direct path.");
	put(b, "tailscale_peers_direct %u\n", direct);
	family(b, "tailscale_peers_relay", "gauge", "Peers reached through a DERP relay.");
	put(b, "tailscale_peers_relay 0\n");
}

#define SUM(field) ({ uint64_t s_ = 0;                                  \
	for (unsigned i_ = 0; i_ < dev->nworkers; i_++) {                 \
		s_ += dev->workers[i_].ctr.field;                         \
	}                                                                  \
	s_; })

static void render_packets(struct buf *b, struct mg_device *dev)
{
	family(b, "meshgate_inbound_packets_total", "counter", "WireGuard data messages authenticated, by queue.");
	for (unsigned i = 0; i < dev->nworkers; i++)
		put(b, "meshgate_inbound_packets_total{queue=\"%u\"} %lu\n", i, dev->workers[i].ctr.decap_packets);
	family(b, "meshgate_inbound_bytes_total", "counter", "Bytes of WireGuard data messages authenticated, by queue.");
	for (unsigned i = 0; i < dev->nworkers; i++)
		put(b, "meshgate_inbound_bytes_total{queue=\"%u\"} %lu\n", i, dev->workers[i].ctr.decap_bytes);
	family(b, "meshgate_outbound_packets_total", "counter", "WireGuard data messages sealed, by queue.");
	for (unsigned i = 0; i < dev->nworkers; i++)
		put(b, "meshgate_outbound_packets_total{queue=\"%u\"} %lu\n", i, dev->workers[i].ctr.encap_packets);
	family(b, "meshgate_outbound_bytes_total", "counter", "Bytes of WireGuard data messages sealed, by queue.");
	for (unsigned i = 0; i < dev->nworkers; i++)
		put(b, "meshgate_outbound_bytes_total{queue=\"%u\"} %lu\n", i, dev->workers[i].ctr.encap_bytes);
	family(b, "meshgate_nic_rx_packets_total", "counter", "Frames the workers received from the NIC.");
	put(b, "meshgate_nic_rx_packets_total %lu\n", SUM(rx_packets));
	family(b, "meshgate_nic_tx_packets_total", "counter", "Frames the workers put on the NIC.");
	put(b, "meshgate_nic_tx_packets_total %lu\n", SUM(tx_packets));
	family(b, "meshgate_local_delivered_packets_total", "counter", "Packets delivered to the TUN device.");
	put(b, "meshgate_local_delivered_packets_total %lu\n", SUM(local_delivered));
	family(b, "meshgate_keepalives_received_total", "counter", "Keepalive messages received.");
	put(b, "meshgate_keepalives_received_total %lu\n", SUM(keepalives_rx));
	family(b, "meshgate_inbound_dropped_packets_total", "counter", "Packets dropped, by reason.");
	for (unsigned r = 0; r < MG_DROP_MAX; r++)
		put(b, "meshgate_inbound_dropped_packets_total{reason=\"%s\"} %lu\n", mg_drop_label[r],
		    SUM(drops[r]));
}

static void render_control(struct buf *b, struct mg_device *dev)
{
	static const char *const msg[4] = { "", "initiation", "response", "cookie" };
	uint64_t cum = 0;

	family(b, "meshgate_handshakes_total", "counter", "Handshake messages by type and direction.");
	for (unsigned t = 1; t < 4; t++) {
		put(b, "meshgate_handshakes_total{message=\"%s\",direction=\"rx\"} %lu\n", msg[t], dev->handshakes[t][0]);
		put(b, "meshgate_handshakes_total{message=\"%s\",direction=\"tx\"} %lu\n", msg[t], dev->handshakes[t][1]);
	}
	family(b, "meshgate_handshake_dropped_total", "counter", "Handshake messages rejected or not sent.");
	put(b, "meshgate_handshake_dropped_total %lu\n", dev->handshake_drops);
	family(b, "meshgate_crypto_batch_size", "histogram", "Messages per AEAD batch call.");
	for (unsigned i = 0; i < MG_BATCH_BUCKETS; i++) {
		cum += SUM(batch_hist[i]);
		put(b, "meshgate_crypto_batch_size_bucket{le=\"%u\"} %lu\n", 1u << i, cum);
	}
	put(b, "meshgate_crypto_batch_size_bucket{le=\"+Inf\"} %lu\n", cum);
	put(b, "meshgate_crypto_batch_size_sum %lu\nmeshgate_crypto_batch_size_count %lu\n", SUM(batch_sum), cum);
	family(b, "meshgate_build_info", "gauge", "Build information.");
	put(b, "meshgate_build_info{version=\"%s\"} 1\n", MG_VERSION);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_len, void **req)
{
	struct metrics *m = cls;
	struct buf b = { .cap = 16384 };
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned code = MHD_HTTP_OK;

	(void)version, (void)upload, (void)upload_len, (void)req;
	b.p = malloc(b.cap);
	if (!b.p)
		return MHD_NO;
	if (strcmp(method, "GET") || strcmp(url, "/metrics")) {
		put(&b, "not found: try GET /metrics\n");
		code = MHD_HTTP_NOT_FOUND;
	} else {
		render_peers(&b, m->dev);
		render_packets(&b, m->dev);
		render_control(&b, m->dev);
	}
	resp = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
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

int metrics_init(struct metrics **out, struct mg_device *dev, const char *listen, int epfd)
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
				  MHD_OPTION_END);
	ret = -EADDRINUSE;
	if (!m->mhd)
		goto err;
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

void metrics_uninit(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->mhd);
	free(m);
}
