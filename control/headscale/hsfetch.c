// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsfetch.c - one-shot HTTP/1.1 client: the request goes out once the connection is up; the
 * response is read until it is complete (hshttp.c: Content-Length, chunked, or the server
 * closing, which we asked for). A redirect closes the connection and starts over at Location.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hsfetch.h"
#include "hshttp.h"

int hs_url_parse(const char *url, bool *tls, char *host, size_t hostlen, uint16_t *port, char *path, size_t pathlen)
{
	const char *p, *hend, *pstart;
	size_t n;

	if (!strncmp(url, "https://", 8)) {
		*tls = true;
		p = url + 8;
	} else if (!strncmp(url, "http://", 7)) {
		*tls = false;
		p = url + 7;
	} else {
		return -EINVAL;
	}
	pstart = p + strcspn(p, "/?");
	if (*p == '[') {
		hend = memchr(p, ']', (size_t)(pstart - p));
		if (!hend)
			return -EINVAL;
		n = (size_t)(hend - p - 1);
		p++;
		hend++;
	} else {
		hend = memchr(p, ':', (size_t)(pstart - p));
		if (!hend)
			hend = pstart;
		n = (size_t)(hend - p);
	}
	if (!n || n >= hostlen)
		return -EINVAL;
	memcpy(host, p, n);
	host[n] = '\0';
	*port = *tls ? 443 : 80;
	if (*hend == ':') {
		char *end;
		unsigned long v = strtoul(hend + 1, &end, 10);

		if (end != pstart || !v || v > 65535)
			return -EINVAL;
		*port = (uint16_t)v;
	} else if (hend != pstart) {
		return -EINVAL;
	}
	snprintf(path, pathlen, "%s%s", *pstart == '/' ? "" : "/", pstart);
	return 0;
}

static void finish(struct hs_fetch *f, int status, const char *body, size_t blen, const char *why)
{
	if (f->done)
		return;
	f->done = true;
	hs_tcp_mute(&f->tcp);
	f->cb(f->arg, f, status, body, blen, why);
}

static void on_tcp(void *arg, enum hs_tcp_event ev);
static int open_url(struct hs_fetch *f);

/* Follows a redirect: a new connection to Location (resolved against the current URL). We are
 * inside the old connection's callback, which returns right after us without touching it. */
static void redirect(struct hs_fetch *f, const struct hs_http_resp *r)
{
	char next[sizeof(f->url)];
	int ret;

	if (f->redirects++ >= HS_FETCH_REDIRECTS_MAX)
		return finish(f, -ELOOP, NULL, 0, "stopped after 10 redirects");
	if (!r->location[0] || hs_http_resolve(f->url, r->location, next, sizeof(next)))
		return finish(f, -EPROTO, NULL, 0, "redirect without a usable Location");
	memcpy(f->url, next, sizeof(next));
	hs_tcp_close(&f->tcp);
	f->len = 0;
	ret = open_url(f);
	if (ret)
		finish(f, ret, NULL, 0, ret == -EPROTONOSUPPORT ? "redirect to https without TLS" : strerror(-ret));
}

static void on_tcp(void *arg, enum hs_tcp_event ev)
{
	struct hs_fetch *f = arg;

	if (f->done)
		return;
	if (ev == HS_TCP_ERROR)
		return finish(f, -EIO, NULL, 0, f->tcp.errtext);
	if (ev == HS_TCP_OPEN) {
		if (hs_tcp_write(&f->tcp, f->req, f->req_len))
			finish(f, -EIO, NULL, 0, f->tcp.errtext);
		return;
	}
	for (;;) {
		struct hs_http_resp r;
		ssize_t n;
		int st;

		if (!f->buf && !(f->buf = malloc(HS_FETCH_MAX + 1)))
			return finish(f, -ENOMEM, NULL, 0, "out of memory");
		if (f->len >= HS_FETCH_MAX)
			return finish(f, -EMSGSIZE, NULL, 0, "response too large");
		n = hs_tcp_read(&f->tcp, f->buf + f->len, HS_FETCH_MAX - f->len);
		if (n == -EAGAIN)
			return;
		if (n < 0)
			return finish(f, (int)n, NULL, 0, f->tcp.errtext);
		f->len += (size_t)n;
		f->buf[f->len] = '\0';
		st = hs_http_parse(f->buf, f->len, f->head, n == 0, &r);
		if (st < 0)
			return finish(f, st, NULL, 0, "malformed HTTP response");
		if (st > 0 && hs_http_is_redirect(r.status))
			return redirect(f, &r);
		if (st > 0)
			return finish(f, r.status, r.body, r.body_len, NULL);
	}
}

/* Connects to f->url and queues the request for it. 0 or -errno. */
static int open_url(struct hs_fetch *f)
{
	char host[256], path[512], hostport[300];
	uint16_t port;
	bool tls;
	int n;

	if (hs_url_parse(f->url, &tls, host, sizeof(host), &port, path, sizeof(path)))
		return -EINVAL;
	if (tls && !f->ctx)
		return -EPROTONOSUPPORT;
	n = snprintf(hostport, sizeof(hostport), strchr(host, ':') ? "[%s]" : "%s", host);
	if (port != (tls ? 443 : 80))
		snprintf(hostport + n, sizeof(hostport) - (size_t)n, ":%u", port);
	n = snprintf(f->req, sizeof(f->req), "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: meshgate\r\n"
		     "Connection: close\r\n\r\n", f->method, path, hostport);
	if (n < 0 || (size_t)n >= sizeof(f->req))
		return -ENAMETOOLONG;
	f->req_len = (size_t)n;
	return hs_tcp_open(&f->tcp, f->epfd, host, port, tls ? f->ctx : NULL, on_tcp, f);
}

int hs_fetch_start(struct hs_fetch *f, int epfd, SSL_CTX *ctx, const char *method, const char *url,
		   hs_fetch_cb cb, void *arg)
{
	memset(f, 0, sizeof(*f));
	f->tcp.fd = f->tcp.watch_fd = -1;
	if (strlen(url) >= sizeof(f->url) || strlen(method) >= sizeof(f->method))
		return -ENAMETOOLONG;
	f->epfd = epfd;
	f->ctx = ctx;
	f->cb = cb;
	f->arg = arg;
	f->head = !strcmp(method, "HEAD");
	snprintf(f->method, sizeof(f->method), "%s", method);
	snprintf(f->url, sizeof(f->url), "%s", url);
	return open_url(f);
}

void hs_fetch_free(struct hs_fetch *f)
{
	hs_tcp_close(&f->tcp);
	free(f->buf);
	f->buf = NULL;
}
