// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsfetch.c - one-shot HTTP/1.1 client: the request goes out once the connection is up; the
 * response is read until the server closes (we asked it to) or Content-Length is reached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "hsfetch.h"

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

static void finish(struct hs_fetch *f, int status, const char *why)
{
	const char *body = NULL;
	size_t blen = 0;

	if (f->done)
		return;
	f->done = true;
	hs_tcp_mute(&f->tcp);
	if (status > 0) {
		const char *end = memmem(f->buf, f->len, "\r\n\r\n", 4);

		body = end + 4;
		blen = f->len - (size_t)(body - f->buf);
	}
	f->cb(f->arg, f, status, body, blen, why);
}

/* Status once the headers and (unless HEAD) Content-Length bytes are in; 0 = need more. */
static int complete(struct hs_fetch *f, bool eof)
{
	const char *end;
	const char *cl;
	int status;

	if (!f->buf || !(end = memmem(f->buf, f->len, "\r\n\r\n", 4)))
		return eof ? -EPROTO : 0;
	if (sscanf(f->buf, "HTTP/1.%*d %d", &status) != 1)
		return -EPROTO;
	if (f->head || eof)
		return status;
	cl = strcasestr(f->buf, "\r\nContent-Length:");
	if (cl && cl < end && f->len - (size_t)(end + 4 - f->buf) >= (size_t)strtoul(cl + 17, NULL, 10))
		return status;
	return 0;
}

static void on_tcp(void *arg, enum hs_tcp_event ev)
{
	struct hs_fetch *f = arg;

	if (f->done)
		return;
	if (ev == HS_TCP_ERROR)
		return finish(f, -EIO, f->tcp.errtext);
	if (ev == HS_TCP_OPEN) {
		if (hs_tcp_write(&f->tcp, f->req, f->req_len))
			finish(f, -EIO, f->tcp.errtext);
		return;
	}
	for (;;) {
		ssize_t n;
		int st;

		if (!f->buf && !(f->buf = malloc(HS_FETCH_MAX + 1)))
			return finish(f, -ENOMEM, "out of memory");
		if (f->len >= HS_FETCH_MAX)
			return finish(f, -EMSGSIZE, "response too large");
		n = hs_tcp_read(&f->tcp, f->buf + f->len, HS_FETCH_MAX - f->len);
		if (n == -EAGAIN)
			return;
		if (n < 0)
			return finish(f, (int)n, f->tcp.errtext);
		f->len += (size_t)n;
		f->buf[f->len] = '\0';
		st = complete(f, n == 0);
		if (st < 0)
			return finish(f, st, "malformed HTTP response");
		if (st > 0)
			return finish(f, st, NULL);
	}
}

int hs_fetch_start(struct hs_fetch *f, int epfd, SSL_CTX *ctx, const char *method, const char *url,
		   hs_fetch_cb cb, void *arg)
{
	char host[256], path[512];
	uint16_t port;
	bool tls;
	int n;

	memset(f, 0, sizeof(*f));
	f->tcp.fd = f->tcp.watch_fd = -1;
	if (hs_url_parse(url, &tls, host, sizeof(host), &port, path, sizeof(path)))
		return -EINVAL;
	if (tls && !ctx)
		return -EPROTONOSUPPORT;
	f->cb = cb;
	f->arg = arg;
	f->head = !strcmp(method, "HEAD");
	n = snprintf(f->req, sizeof(f->req), "%s %s HTTP/1.1\r\nHost: %s%s%s%s\r\nUser-Agent: meshgate\r\n"
		     "Connection: close\r\n\r\n", method, path, strchr(host, ':') ? "[" : "", host,
		     strchr(host, ':') ? "]" : "", "");
	if (n < 0 || (size_t)n >= sizeof(f->req))
		return -ENAMETOOLONG;
	if (port != (tls ? 443 : 80))
		n = snprintf(f->req, sizeof(f->req), "%s %s HTTP/1.1\r\nHost: %s%s%s:%u\r\nUser-Agent: meshgate\r\n"
			     "Connection: close\r\n\r\n", method, path, strchr(host, ':') ? "[" : "", host,
			     strchr(host, ':') ? "]" : "", port);
	f->req_len = (size_t)n;
	return hs_tcp_open(&f->tcp, epfd, host, port, tls ? ctx : NULL, on_tcp, f);
}

void hs_fetch_free(struct hs_fetch *f)
{
	hs_tcp_close(&f->tcp);
	free(f->buf);
	f->buf = NULL;
}
