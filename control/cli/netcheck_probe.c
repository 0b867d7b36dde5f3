// SPDX-License-Identifier: GPL-2.0-only
/*
 * netcheck_probe.c - STUN and TCP probes of every DERP region, in one poll loop. STUN requests go
 * out at 0, 0.3, 0.8 and 1.5 s to the targets that have not answered (a new TxID each time, so a
 * late answer to an earlier one still counts through the STUN client's pending table); TCP
 * connects are non-blocking and timed to the moment the socket becomes writable.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "netcheck_probe.h"
#include "stun.h"

#define MS(x) ((uint64_t)(x) * 1000000ull)

static const uint64_t resend_at[] = { 0, MS(300), MS(800), MS(1500) };

struct target {
	size_t ri;                       /* region index */
	struct mg_endpoint ep;
	bool answered;
};

struct tcp_probe {
	size_t ri;
	struct mg_endpoint ep;
	int fd;                          /* -1 = done */
	uint64_t start;
};

struct lookup {                      /* one host name's answer per family, asked once */
	char host[DERP_HOST_MAX];
	int family;
	bool ok;
	uint8_t addr[16];
};

struct probe {
	struct nc_report *r;
	int fd4, fd6;
	struct target t[NC_TARGETS_MAX];
	size_t n_t;
	struct tcp_probe tcp[NC_REGIONS_MAX];
	size_t n_tcp;
	struct lookup names[2 * NC_REGIONS_MAX];
	size_t n_names;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static socklen_t to_sockaddr(const struct mg_endpoint *ep, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(ep->port);
		memcpy(&s->sin_addr, ep->addr, 4);
		return sizeof(*s);
	}
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

	s->sin6_family = AF_INET6;
	s->sin6_port = htons(ep->port);
	memcpy(&s->sin6_addr, ep->addr, 16);
	return sizeof(*s);
}

/* @host's first address of @family, looked up once per run (a name in many regions, or in the
 * STUN and the TCP probe, costs one lookup). */
static bool lookup(struct probe *p, const char *host, int family, uint8_t *addr)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_DGRAM }, *ai;
	struct lookup *l;

	for (size_t i = 0; i < p->n_names; i++) {
		l = &p->names[i];
		if (l->family == family && !strcmp(l->host, host)) {
			memcpy(addr, l->addr, 16);
			return l->ok;
		}
	}
	bool ok = !getaddrinfo(host, NULL, &hints, &ai);

	memset(addr, 0, 16);
	if (ok && family == AF_INET)
		memcpy(addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
	else if (ok)
		memcpy(addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
	if (ok)
		freeaddrinfo(ai);
	if (p->n_names < sizeof(p->names) / sizeof(p->names[0])) {
		l = &p->names[p->n_names++];
		*l = (struct lookup){ .family = family, .ok = ok };
		snprintf(l->host, sizeof(l->host), "%s", host);
		memcpy(l->addr, addr, 16);
	}
	return ok;
}

/* One address of @family for a node: the literal the map gives, else its HostName (a literal or
 * a name to look up), unless the map says "none". */
static bool node_addr(struct probe *p, const struct derp_node *n, int family, uint16_t port, struct mg_endpoint *ep)
{
	const char *lit = family == AF_INET ? n->ipv4 : n->ipv6;

	memset(ep, 0, sizeof(*ep));
	ep->family = (uint8_t)family;
	ep->port = port;
	if (!strcmp(lit, "none"))
		return false;
	if (*lit)
		return inet_pton(family, lit, ep->addr) == 1;
	if (!*n->host)
		return false;
	if (inet_pton(family, n->host, ep->addr) == 1)
		return true;
	return lookup(p, n->host, family, ep->addr);
}

static void add_targets(struct probe *p, size_t ri, const struct derp_region *reg, const struct nc_probe_opts *o)
{
	size_t nodes = 0;

	for (size_t k = 0; k < reg->n_nodes && nodes < NC_NODES_PER_REGION; k++) {
		const struct derp_node *n = &reg->nodes[k];
		bool any = false;

		if (n->stun_port < 0)
			continue;
		for (int fam = AF_INET; fam; fam = fam == AF_INET ? AF_INET6 : 0) {
			struct mg_endpoint ep;
			int fd = fam == AF_INET ? p->fd4 : p->fd6;

			if (fd < 0 || (fam == AF_INET ? o->no_ipv4 : o->no_ipv6) || p->n_t == NC_TARGETS_MAX ||
			    !node_addr(p, n, fam, (uint16_t)n->stun_port, &ep))
				continue;
			p->t[p->n_t].ri = ri;
			p->t[p->n_t].ep = ep;
			p->t[p->n_t++].answered = false;
			p->r->ipv6_targets += fam == AF_INET6;
			any = true;
		}
		nodes += any;
	}
}

/* The first DERP-capable node, by IPv4 if it has one, else IPv6 (connected later, by tcp_start,
 * so that no name lookup falls inside a timed connect). */
static void add_tcp(struct probe *p, size_t ri, const struct derp_region *reg, const struct nc_probe_opts *o)
{
	for (size_t k = 0; k < reg->n_nodes; k++) {
		const struct derp_node *n = &reg->nodes[k];
		struct mg_endpoint ep;

		if (n->stun_only)
			continue;
		if (!(!o->no_ipv4 && node_addr(p, n, AF_INET, n->derp_port, &ep)) &&
		    !(!o->no_ipv6 && node_addr(p, n, AF_INET6, n->derp_port, &ep)))
			return;
		p->tcp[p->n_tcp].ri = ri;
		p->tcp[p->n_tcp].fd = -1;
		p->tcp[p->n_tcp++].ep = ep;
		return;
	}
}

static void tcp_start(struct probe *p)
{
	for (size_t i = 0; i < p->n_tcp; i++) {
		struct tcp_probe *t = &p->tcp[i];
		struct sockaddr_storage ss;
		socklen_t len = to_sockaddr(&t->ep, &ss);

		t->fd = socket(t->ep.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (t->fd < 0)
			continue;
		t->start = now_ns();
		if (connect(t->fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS) {
			close(t->fd);
			t->fd = -1;
		}
	}
}

static bool send_udp(void *arg, const struct mg_endpoint *dst, const void *pkt, uint16_t len)
{
	struct probe *p = arg;
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(dst, &ss);
	int fd = dst->family == AF_INET ? p->fd4 : p->fd6;

	if (fd < 0 || sendto(fd, pkt, len, 0, (struct sockaddr *)&ss, sl) != len)
		return false;
	if (dst->family == AF_INET6)
		p->r->ipv6_tried = true;
	return true;
}

static void on_answer(void *arg, const struct mg_endpoint *server, const struct mg_endpoint *mapped,
		      uint64_t rtt_ns, uint64_t now)
{
	struct probe *p = arg;

	(void)now;
	for (size_t i = 0; i < p->n_t; i++) {
		if (!mg_endpoint_equal(&p->t[i].ep, server))
			continue;
		p->t[i].answered = true;
		nc_note_stun(p->r, p->t[i].ri, server, mapped, rtt_ns);
		return;
	}
}

static bool all_done(const struct probe *p)
{
	for (size_t i = 0; i < p->n_t; i++)
		if (!p->t[i].answered)
			return false;
	for (size_t i = 0; i < p->n_tcp; i++)
		if (p->tcp[i].fd >= 0)
			return false;
	return true;
}

static void tcp_done(struct probe *p, struct tcp_probe *t, uint64_t now)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (!getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &el) && !err)
		nc_note_tcp(p->r, t->ri, now - t->start);
	close(t->fd);
	t->fd = -1;
}

static void drain(struct stun *s, int fd)
{
	uint8_t buf[1500];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0)
		if (stun_looks_like(buf, (size_t)n))
			stun_receive(s, buf, (size_t)n, now_ns());
}

static void loop(struct probe *p, struct stun *s, uint64_t timeout_ns)
{
	uint64_t start = now_ns(), end = start + timeout_ns;
	size_t round = 0;

	for (;;) {
		struct pollfd pf[2 + NC_REGIONS_MAX];
		struct tcp_probe *owner[2 + NC_REGIONS_MAX] = { 0 };
		uint64_t now = now_ns(), wake = end;
		nfds_t n = 0;

		while (round < sizeof(resend_at) / sizeof(resend_at[0]) && now >= start + resend_at[round]) {
			for (size_t i = 0; i < p->n_t; i++)
				if (!p->t[i].answered)
					stun_query(s, &p->t[i].ep, now);
			round++;
		}
		if (all_done(p) || now >= end)
			break;
		if (round < sizeof(resend_at) / sizeof(resend_at[0]) && start + resend_at[round] < wake)
			wake = start + resend_at[round];
		if (p->fd4 >= 0)
			pf[n++] = (struct pollfd){ .fd = p->fd4, .events = POLLIN };
		if (p->fd6 >= 0)
			pf[n++] = (struct pollfd){ .fd = p->fd6, .events = POLLIN };
		for (size_t i = 0; i < p->n_tcp; i++) {
			if (p->tcp[i].fd < 0)
				continue;
			owner[n] = &p->tcp[i];
			pf[n++] = (struct pollfd){ .fd = p->tcp[i].fd, .events = POLLOUT };
		}
		if (poll(pf, n, (int)((wake - now + 999999) / 1000000)) < 0 && errno != EINTR)
			break;
		now = now_ns();
		for (nfds_t i = 0; i < n; i++) {
			if (!pf[i].revents)
				continue;
			if (owner[i])
				tcp_done(p, owner[i], now);
			else
				drain(s, pf[i].fd);
		}
	}
	for (size_t i = 0; i < p->n_tcp; i++)
		if (p->tcp[i].fd >= 0)
			close(p->tcp[i].fd);
}

static int udp_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd >= 0 && family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	return fd;
}

int nc_probe(struct nc_report *r, const struct nc_probe_opts *o)
{
	struct probe *p = calloc(1, sizeof(*p));
	struct stun *s;
	int ret;

	if (!p)
		return -ENOMEM;
	p->r = r;
	p->fd4 = o->no_ipv4 ? -1 : udp_socket(AF_INET);
	p->fd6 = udp_socket(AF_INET6);
	r->os_has_ipv6 = p->fd6 >= 0;
	if (o->no_ipv6 && p->fd6 >= 0) {
		close(p->fd6);
		p->fd6 = -1;
	}
	if (p->fd4 < 0 && p->fd6 < 0) {
		ret = -errno;
		free(p);
		return ret ? ret : -EAFNOSUPPORT;
	}
	ret = stun_init(&s, send_udp, p);
	if (!ret) {
		stun_set_rtt_hook(s, on_answer, p);
		for (size_t ri = 0; ri < r->n_regions; ri++) {
			if (r->regions[ri].no_home)
				continue;                /* NoMeasureNoHome: not measured, never home */
			add_targets(p, ri, &r->regions[ri], o);
			if (!o->no_tcp)
				add_tcp(p, ri, &r->regions[ri], o);
		}
		tcp_start(p);
		loop(p, s, o->timeout_ns);
		stun_uninit(s);
	}
	if (p->fd4 >= 0)
		close(p->fd4);
	if (p->fd6 >= 0)
		close(p->fd6);
	free(p);
	return ret;
}
