/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hshttp.h - an HTTP/1.1 response as hsfetch reads it (RFC 9112): the status line, the headers
 * it needs (Content-Length, Transfer-Encoding, Location) and the body, delimited by
 * Content-Length, by chunked transfer coding (decoded in place) or by the end of the connection.
 * Also the resolution of a redirect's Location against the URL it answered (RFC 3986 §5.2, for
 * the forms servers send: absolute, scheme-relative, absolute path, relative path).
 */
#ifndef MG_HSHTTP_H
#define MG_HSHTTP_H

#include <stdbool.h>
#include <stddef.h>

struct hs_http_resp {
	int status;
	const char *body;                /* into the parsed buffer */
	size_t body_len;
	char location[1024];             /* "" if none (or too long) */
};

/*
 * Parses the response in @buf (NUL-terminated at @len) as received so far; @head: a HEAD
 * request's (no body); @eof: the server closed. Returns 1 when complete (@r filled; a chunked
 * body is decoded in place, so call it again only on a fresh buffer), 0 when more is needed,
 * -EPROTO for a malformed response or one cut short by @eof.
 */
int hs_http_parse(char *buf, size_t len, bool head, bool eof, struct hs_http_resp *r);

/* True for the redirect statuses followed: 301, 302, 303, 307, 308. */
bool hs_http_is_redirect(int status);

/* @loc resolved against @base ("http[s]://host[:port]/path?query") into @out. 0 or -EINVAL. */
int hs_http_resolve(const char *base, const char *loc, char *out, size_t outlen);

#endif
