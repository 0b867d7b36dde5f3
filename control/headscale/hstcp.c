// SPDX-License-Identifier: GPL-2.0-only
/*
 * hstcp.c - the non-blocking connection under /key, /ts2021 and ping answers.
 *
 * Resolution: numeric hosts resolve at once (AI_NUMERICHOST never blocks). Names go to glibc's
 * getaddrinfo_a, whose completion thread pokes an eventfd watched by epoll. If the owner closes
 * while a lookup is running, whoever of the two finishes second frees the request (an atomic
 * flag), so the lookup thread never touches freed memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "mg.h"
#include "hstcp.h"
#include "sockmark.h"

struct hs_resolve {
	struct gaicb req;
	struct addrinfo hints;
	char host[256], port[8];
	int efd;
	atomic_int finished;             /* 0, then 1 when the first of lookup/owner is done */
};

static void resolve_release(struct hs_resolve *r)
{
	if (atomic_fetch_add(&r->finished, 1) == 0)
		return;                  /* the other side frees */
	if (r->req.ar_result)
		freeaddrinfo(r->req.ar_result);
	close(r->efd);
	free(r);
}

static void resolve_done(union sigval sv)
{
	struct hs_resolve *r = sv.sival_ptr;
	uint64_t one = 1;

	if (write(r->efd, &one, sizeof(one)) < 0) {
		/* eventfd writes only fail on overflow; nothing to do */
	}
	resolve_release(r);
}

SSL_CTX *hs_tls_ctx_new(const char *ca_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* The write queue moves and grows between a WANT_WRITE and its retry. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int fail(struct hs_tcp *t, int err, const char *what)
{
	snprintf(t->errtext, sizeof(t->errtext), "%.200s:%u: %s: %s", t->host, t->port, what, strerror(err));
	t->state = HS_TCP_FAILED;
	return -err;
}

static void watch(struct hs_tcp *t, int fd, uint32_t events)
{
	if (t->watch_fd == fd) {
		evsource_mod(t->epfd, fd, events, &t->src);
		return;
	}
	if (t->watch_fd >= 0)
		evsource_del(t->epfd, t->watch_fd);
	t->watch_fd = fd;
	if (fd >= 0)
		evsource_add(t->epfd, fd, events, &t->src);
}

static void notify_error(struct hs_tcp *t)
{
	watch(t, -1, 0);
	t->cb(t->arg, HS_TCP_ERROR);
}

static int try_connect(struct hs_tcp *t);

static int tls_step(struct hs_tcp *t)
{
	int r = SSL_connect(t->ssl), e;

	if (r == 1) {
		t->state = HS_TCP_UP;
		watch(t, t->fd, EPOLLIN | (t->wlen ? EPOLLOUT : 0));
		t->want_write = t->wlen;
		return 0;
	}
	e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		watch(t, t->fd, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
		return -EAGAIN;
	}
	{
		long v = SSL_get_verify_result(t->ssl);
		const char *why = v != X509_V_OK ? X509_verify_cert_error_string(v) :
				  ERR_reason_error_string(ERR_peek_last_error());

		snprintf(t->errtext, sizeof(t->errtext), "%.200s:%u: TLS: %s", t->host, t->port,
			 why ? why : "handshake failed");
	}
	ERR_clear_error();
	t->state = HS_TCP_FAILED;
	return -EPROTO;
}

static bool is_ip_literal(const char *host)
{
	struct in6_addr a;

	return inet_pton(AF_INET, host, &a) == 1 || inet_pton(AF_INET6, host, &a) == 1;
}

static int start_tls(struct hs_tcp *t)
{
	t->ssl = SSL_new(t->ctx);
	if (!t->ssl || !SSL_set_fd(t->ssl, t->fd))
		return fail(t, ENOMEM, "TLS");
	/* An IP literal is checked against IP SANs and never sent as SNI (RFC 6066 section 3). */
	if (is_ip_literal(t->host)) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), t->host);
	} else {
		SSL_set_tlsext_host_name(t->ssl, t->host);
		SSL_set1_host(t->ssl, t->host);
	}
	t->state = HS_TCP_TLS;
	return tls_step(t);
}

/* The socket connected (or failed): next candidate address, TLS, or up. */
static int connected(struct hs_tcp *t)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		watch(t, -1, 0);
		close(t->fd);
		t->fd = -1;
		if (t->ai_next)
			return try_connect(t);
		return fail(t, err, "connect");
	}
	if (t->ctx)
		return start_tls(t);
	t->state = HS_TCP_UP;
	watch(t, t->fd, EPOLLIN | (t->wlen ? EPOLLOUT : 0));
	t->want_write = t->wlen;
	return 0;
}

static int try_connect(struct hs_tcp *t)
{
	struct addrinfo *ai;
	int err;

	while ((ai = t->ai_next)) {
		t->ai_next = ai->ai_next;
		t->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
		if (t->fd < 0)
			continue;
		err = sockmark_apply(t->fd);        /* unmarked it could loop through the tunnel */
		if (err) {
			close(t->fd);
			t->fd = -1;
			return fail(t, -err, "FwMark (SO_MARK)");
		}
		/* Even an immediate success is reported through EPOLLOUT, never re-entrantly. */
		if (!connect(t->fd, ai->ai_addr, ai->ai_addrlen) || errno == EINPROGRESS) {
			t->state = HS_TCP_CONNECTING;
			watch(t, t->fd, EPOLLOUT);
			return -EAGAIN;
		}
		close(t->fd);
		t->fd = -1;
	}
	return fail(t, ECONNREFUSED, "connect");
}

static void flush(struct hs_tcp *t);

static void on_event(struct evsource *src, uint32_t events)
{
	struct hs_tcp *t = container_of(src, struct hs_tcp, src);
	int ret = 0;

	switch (t->state) {
	case HS_TCP_RESOLVING: {
		struct hs_resolve *r = t->res;
		int gerr = gai_error(&r->req);

		if (gerr == EAI_INPROGRESS)
			return;
		watch(t, -1, 0);
		t->res = NULL;
		if (gerr) {
			snprintf(t->errtext, sizeof(t->errtext), "%.200s: %s", t->host, gai_strerror(gerr));
			t->state = HS_TCP_FAILED;
			resolve_release(r);
			notify_error(t);
			return;
		}
		t->ai = t->ai_next = r->req.ar_result;
		r->req.ar_result = NULL;
		resolve_release(r);
		ret = try_connect(t);
		break;
	}
	case HS_TCP_CONNECTING:
		ret = connected(t);
		break;
	case HS_TCP_TLS:
		ret = tls_step(t);
		break;
	case HS_TCP_UP:
		if (events & EPOLLOUT)
			flush(t);
		if (t->state == HS_TCP_UP && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			t->cb(t->arg, HS_TCP_READABLE);
		return;
	default:
		return;
	}
	if (ret == -EAGAIN)
		return;
	if (ret)
		notify_error(t);
	else
		t->cb(t->arg, HS_TCP_OPEN);
}

static int resolve_start(struct hs_tcp *t)
{
	struct hs_resolve *r = calloc(1, sizeof(*r));
	struct gaicb *list[1];
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = resolve_done };

	if (!r)
		return -ENOMEM;
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0) {
		free(r);
		return -errno;
	}
	snprintf(r->host, sizeof(r->host), "%s", t->host);
	snprintf(r->port, sizeof(r->port), "%u", t->port);
	r->hints.ai_socktype = SOCK_STREAM;
	r->req.ar_name = r->host;
	r->req.ar_service = r->port;
	r->req.ar_request = &r->hints;
	sev.sigev_value.sival_ptr = r;
	list[0] = &r->req;
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, &sev)) {
		close(r->efd);
		free(r);
		return -EAGAIN;
	}
	t->res = r;
	t->state = HS_TCP_RESOLVING;
	watch(t, r->efd, EPOLLIN);
	return 0;
}

int hs_tcp_open(struct hs_tcp *t, int epfd, const char *host, uint16_t port, SSL_CTX *ctx, hs_tcp_cb cb, void *arg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	char portstr[8];
	int ret;

	memset(t, 0, sizeof(*t));
	t->epfd = epfd;
	t->fd = t->watch_fd = -1;
	t->src.cb = on_event;
	t->ctx = ctx;
	t->cb = cb;
	t->arg = arg;
	t->port = port;
	snprintf(t->host, sizeof(t->host), "%s", host);
	snprintf(portstr, sizeof(portstr), "%u", port);
	if (!getaddrinfo(host, portstr, &hints, &t->ai)) {
		t->ai_next = t->ai;
		ret = try_connect(t);
		if (ret != -EAGAIN) {
			hs_tcp_close(t);
			return ret;
		}
		return 0;
	}
	return resolve_start(t);
}

static void flush(struct hs_tcp *t)
{
	while (t->wlen) {
		ssize_t n;

		if (t->ssl) {
			int r = SSL_write(t->ssl, t->wbuf, (int)(t->wlen > INT32_MAX ? INT32_MAX : t->wlen));

			if (r <= 0) {
				int e = SSL_get_error(t->ssl, r);

				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
					break;
				fail(t, EPIPE, "TLS write");
				notify_error(t);
				return;
			}
			n = r;
		} else {
			n = send(t->fd, t->wbuf, t->wlen, MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n < 0) {
				fail(t, errno, "send");
				notify_error(t);
				return;
			}
		}
		memmove(t->wbuf, t->wbuf + n, t->wlen - (size_t)n);
		t->wlen -= (size_t)n;
	}
	if (t->want_write != (t->wlen > 0)) {
		t->want_write = t->wlen > 0;
		watch(t, t->fd, EPOLLIN | (t->want_write ? EPOLLOUT : 0));
	}
}

int hs_tcp_write(struct hs_tcp *t, const void *buf, size_t len)
{
	if (t->state == HS_TCP_FAILED)
		return -EPIPE;
	if (t->wlen + len > t->wcap) {
		size_t cap = t->wcap ? t->wcap : 4096;
		uint8_t *nb;

		while (cap < t->wlen + len)
			cap *= 2;
		nb = realloc(t->wbuf, cap);
		if (!nb)
			return -ENOMEM;
		t->wbuf = nb;
		t->wcap = cap;
	}
	memcpy(t->wbuf + t->wlen, buf, len);
	t->wlen += len;
	if (t->state == HS_TCP_UP)
		flush(t);
	return t->state == HS_TCP_FAILED ? -EPIPE : 0;
}

size_t hs_tcp_pending(const struct hs_tcp *t)
{
	return t->wlen;
}

ssize_t hs_tcp_read(struct hs_tcp *t, void *buf, size_t len)
{
	ssize_t n;

	if (t->state != HS_TCP_UP)
		return -ENOTCONN;
	if (t->ssl) {
		int r = SSL_read(t->ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len)), e;

		if (r > 0)
			return r;
		e = SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return -EAGAIN;
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		ERR_clear_error();
		return fail(t, ECONNRESET, "TLS read");
	}
	n = recv(t->fd, buf, len, 0);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EINTR)
		return -EAGAIN;
	return fail(t, errno, "recv");
}

void hs_tcp_mute(struct hs_tcp *t)
{
	watch(t, -1, 0);
}

void hs_tcp_close(struct hs_tcp *t)
{
	if (t->watch_fd >= 0)
		evsource_del(t->epfd, t->watch_fd);
	t->watch_fd = -1;
	if (t->res)
		resolve_release(t->res);
	t->res = NULL;
	if (t->ssl)
		SSL_free(t->ssl);
	t->ssl = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->ai)
		freeaddrinfo(t->ai);
	t->ai = t->ai_next = NULL;
	free(t->wbuf);
	t->wbuf = NULL;
	t->wlen = t->wcap = 0;
	t->state = HS_TCP_IDLE;
}
