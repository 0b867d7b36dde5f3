/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsfetch.h - a one-shot HTTP/1.1 request over hstcp with "Connection: close": GET /key?v=N
 * (the trust anchor for ts2021, so TLS is verified) and the HEAD that answers a
 * PingRequest (§3.7). The body is capped (64 KiB, like tailscaled's /key read limit). It may
 * come chunked, and redirects are followed (at most HS_FETCH_REDIRECTS_MAX), as Go's
 * http.Client, which tailscaled fetches /key with, does.
 */
#ifndef MG_HSFETCH_H
#define MG_HSFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include "hstcp.h"

#define HS_FETCH_MAX (64u << 10)
#define HS_FETCH_REDIRECTS_MAX 10        /* Go's http.Client default */

struct hs_fetch;
/* status > 0 with the body, or status < 0 (-errno) with @why. Called once; then free the fetch. */
typedef void (*hs_fetch_cb)(void *arg, struct hs_fetch *f, int status, const char *body, size_t len, const char *why);

struct hs_fetch {
	struct hs_tcp tcp;
	int epfd;
	SSL_CTX *ctx;                    /* borrowed; NULL = http:// only */
	char method[8];
	char url[1024];                  /* the current one, after redirects */
	int redirects;
	char req[1024];
	size_t req_len;
	char *buf;
	size_t len;
	bool head, done;
	hs_fetch_cb cb;
	void *arg;
};

/* Parses "http[s]://host[:port][/path]" into parts; @path gets "/" if none. 0 or -EINVAL. */
int hs_url_parse(const char *url, bool *tls, char *host, size_t hostlen, uint16_t *port, char *path, size_t pathlen);
/* Starts @method ("GET"/"HEAD") on @url; TLS through @ctx for https (also when a redirect leads
 * there). 0 or -errno. */
int hs_fetch_start(struct hs_fetch *f, int epfd, SSL_CTX *ctx, const char *method, const char *url,
		   hs_fetch_cb cb, void *arg);
void hs_fetch_free(struct hs_fetch *f);

#endif
