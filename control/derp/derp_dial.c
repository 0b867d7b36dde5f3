// SPDX-License-Identifier: GPL-2.0-only
/*
 * derp_dial.c - a DERP connection from IDLE to the HTTP upgrade: the node's address
 * (forced IPv4/IPv6 or a numeric HostName; other names resolved off the thread with
 * getaddrinfo_a, polled from the tick), a non-blocking TCP connect, the TLS handshake
 * (derp_tls.c: CA file, CertName, sha256-raw pin, InsecureForTests) and the GET /derp request.
 * Failures go to derp_conn_fail (backoff, next node). Control thread only.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "derp_dial.h"
#include "derp_tls.h"
#include "sockmark.h"
#include "mg.h"
#include "hsresolve.h"

/* The address to dial when it needs no DNS: the forced IPv4, else the forced IPv6, else a
 * numeric HostName. -EAGAIN: HostName must be looked up (off the thread, ST_RESOLVE). */
static int node_addr(const struct derp_node *n, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;
	const char *host = n->host;
	char port[8];

	if (n->ipv4[0] && strcmp(n->ipv4, "none"))
		host = n->ipv4;
	else if (n->ipv6[0] && strcmp(n->ipv6, "none"))
		host = n->ipv6;
	snprintf(port, sizeof(port), "%u", n->derp_port ? n->derp_port : 443);
	if (getaddrinfo(host, port, &hints, &ai) || !ai)
		return host == n->host ? -EAGAIN : -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void conn_connect(struct derp_conn *c, const struct sockaddr_storage *ss, socklen_t sl, uint64_t now)
{
	int one = 1;

	derp_conn_set_state(c, ST_TCP, now);
	c->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return derp_conn_fail(c, strerror(errno), now);
	if (sockmark_apply(c->fd))
		return derp_conn_fail(c, "FwMark (SO_MARK) not set", now);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)ss, sl) && errno != EINPROGRESS)
		return derp_conn_fail(c, strerror(errno), now);
	c->ep_events = EPOLLIN | EPOLLOUT;
	if (evsource_add(c->d->cfg.epfd, c->fd, c->ep_events, &c->src))
		return derp_conn_fail(c, "epoll", now);
}

void derp_dial_start(struct derp_conn *c, uint64_t now)
{
	const struct derp_node *n = derp_conn_node(c);
	char names[1][256];
	uint16_t port = n->derp_port ? n->derp_port : 443;
	struct sockaddr_storage ss;
	socklen_t sl;
	int ret;

	c->st.connects++;
	derp_conn_set_state(c, ST_RESOLVE, now);
	if (!c->d->has_key)
		return derp_conn_fail(c, "no node key yet", now);
	ret = node_addr(n, &ss, &sl);
	if (!ret)
		return conn_connect(c, &ss, sl, now);
	if (ret != -EAGAIN)
		return derp_conn_fail(c, "bad IPv4/IPv6 in the DERP map", now);
	snprintf(names[0], sizeof(names[0]), "%s", n->host);
	if (hs_resolve_start(&c->res, (const char (*)[256])names, &port, 1))
		return derp_conn_fail(c, "cannot start resolving", now);
}

/* ST_RESOLVE, from the tick: the first IPv4 answer (IPv6 if the map disables IPv4 or has none). */
void derp_dial_resolve_poll(struct derp_conn *c, uint64_t now)
{
	const struct derp_node *n = derp_conn_node(c);
	struct mg_endpoint eps[2], *pick = NULL;
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	size_t k = 0;

	if (!hs_resolve_poll(c->res, eps, 2, &k))
		return;
	hs_resolve_free(c->res);
	c->res = NULL;
	for (size_t i = 0; i < k && !pick; i++)
		if (eps[i].family == AF_INET && strcmp(n->ipv4, "none"))
			pick = &eps[i];
	for (size_t i = 0; i < k && !pick; i++)
		if (eps[i].family == AF_INET6 && strcmp(n->ipv6, "none"))
			pick = &eps[i];
	if (!pick)
		return derp_conn_fail(c, "cannot resolve", now);
	if (pick->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(pick->port);
		memcpy(&sin->sin_addr, pick->addr, 4);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(pick->port);
		memcpy(&sin6->sin6_addr, pick->addr, 16);
		sl = sizeof(*sin6);
	}
	conn_connect(c, &ss, sl, now);
}

static void send_upgrade(struct derp_conn *c, uint64_t now)
{
	const struct derp_node *n = derp_conn_node(c);
	char req[512];
	int len;

	/* Host carries the port only when it is not the default (RFC 9110 §7.2). */
	if (n->derp_port && n->derp_port != 443)
		len = snprintf(req, sizeof(req), "GET /derp HTTP/1.1\r\nHost: %s:%u\r\n", n->host, n->derp_port);
	else
		len = snprintf(req, sizeof(req), "GET /derp HTTP/1.1\r\nHost: %s\r\n", n->host);
	if (c->node_idx % c->region.n_nodes)
		len += snprintf(req + len, sizeof(req) - (size_t)len, "Ideal-Node: %s\r\n", c->region.nodes[0].name);
	len += snprintf(req + len, sizeof(req) - (size_t)len, "Upgrade: DERP\r\nConnection: Upgrade\r\n\r\n");
	c->in_len = 0;
	c->skip = 0;
	derp_conn_put(c, req, (size_t)len);
	derp_conn_set_state(c, ST_HTTP, now);
}

void derp_dial_tls_step(struct derp_conn *c, uint64_t now)
{
	int ret = SSL_connect(c->ssl), err;
	char msg[160];

	c->tls_wants_write = false;
	if (ret == 1) {
		if (!derp_tls_pin_ok(c->ssl, derp_conn_node(c)))
			return derp_conn_fail(c, "certificate does not match the CertName pin", now);
		send_upgrade(c, now);
		return derp_conn_io(c, now);
	}
	err = SSL_get_error(c->ssl, ret);
	if (err == SSL_ERROR_WANT_READ)
		return derp_conn_set_events(c);
	if (err == SSL_ERROR_WANT_WRITE) {
		c->tls_wants_write = true;
		return derp_conn_set_events(c);
	}
	snprintf(msg, sizeof(msg), "TLS: %s",
		 SSL_get_verify_result(c->ssl) != X509_V_OK ?
		 X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)) :
		 ERR_reason_error_string(ERR_peek_last_error()) ?: "handshake failed");
	ERR_clear_error();
	derp_conn_fail(c, msg, now);
}
