// SPDX-License-Identifier: GPL-2.0-only
/*
 * hshttp.c - HTTP/1.1 responses for hsfetch (see hshttp.h). Everything works on a buffer that
 * holds the response so far; a partial response is scanned again when more arrives (bodies are
 * capped at HS_FETCH_MAX, so rescanning costs little).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "hshttp.h"

/* The value of header @name (without the colon) in @head .. @end, blanks trimmed; NULL if none. */
static const char *header(const char *head, const char *end, const char *name, size_t *vlen)
{
	size_t n = strlen(name);
	const char *p = head;

	while ((p = memmem(p, (size_t)(end - p), "\r\n", 2)) && p < end) {
		const char *v, *e;

		p += 2;
		if ((size_t)(end - p) <= n || strncasecmp(p, name, n) || p[n] != ':')
			continue;
		v = p + n + 1;
		e = memmem(v, (size_t)(end - v), "\r\n", 2);
		if (!e)
			e = end;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*vlen = (size_t)(e - v);
		return v;
	}
	return NULL;
}

/*
 * Walks a chunked body at @p (@len bytes so far): chunk-size [; ext] CRLF data CRLF ... 0 CRLF
 * [trailers] CRLF. With @out, copies the data there (in place: @out <= @p). 1 = complete (@n
 * = decoded length), 0 = need more, -EPROTO.
 */
static int chunked(const char *p, size_t len, char *out, size_t *n)
{
	const char *end = p + len;

	*n = 0;
	for (;;) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2), *x;
		unsigned long long size = 0;

		if (!eol)
			return 0;
		for (x = p; x < eol && *x != ';' && *x != ' ' && *x != '\t'; x++) {
			int d = *x >= '0' && *x <= '9' ? *x - '0' : (*x | 0x20) >= 'a' && (*x | 0x20) <= 'f' ?
				(*x | 0x20) - 'a' + 10 : -1;

			if (d < 0 || size > (1ull << 32))
				return -EPROTO;
			size = size * 16 + (unsigned)d;
		}
		if (x == p)
			return -EPROTO;
		p = eol + 2;
		if (!size)
			break;
		if ((size_t)(end - p) < size + 2)
			return 0;
		if (p[size] != '\r' || p[size + 1] != '\n')
			return -EPROTO;
		if (out)
			memmove(out + *n, p, size);
		*n += size;
		p += size + 2;
	}
	/* Trailer fields, then the empty line. */
	for (;;) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);

		if (!eol)
			return 0;
		if (eol == p)
			return 1;
		p = eol + 2;
	}
}

static bool is_chunked(const char *head, const char *end)
{
	size_t n;
	const char *v = header(head, end, "Transfer-Encoding", &n);

	/* "chunked" is always the last coding applied (RFC 9112 §6.1). */
	return v && n >= 7 && !strncasecmp(v + n - 7, "chunked", 7);
}

int hs_http_parse(char *buf, size_t len, bool head, bool eof, struct hs_http_resp *r)
{
	char *end = memmem(buf, len, "\r\n\r\n", 4), *body;
	const char *v;
	size_t n, have;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!end)
		return eof ? -EPROTO : 0;
	if (sscanf(buf, "HTTP/1.%*d %3d", &r->status) != 1 || r->status < 100)
		return -EPROTO;
	if ((v = header(buf, end + 2, "Location", &n)) && n < sizeof(r->location)) {
		memcpy(r->location, v, n);
		r->location[n] = '\0';
	}
	body = end + 4;
	have = len - (size_t)(body - buf);
	r->body = body;
	if (head)
		return 1;
	if (is_chunked(buf, end + 2)) {
		ret = chunked(body, have, NULL, &n);
		if (ret == 1)
			chunked(body, have, body, &r->body_len);
		return ret == 0 && eof ? -EPROTO : ret;
	}
	if ((v = header(buf, end + 2, "Content-Length", &n))) {
		char *e;
		unsigned long long cl = strtoull(v, &e, 10);

		if (e == v || e != v + n)
			return -EPROTO;
		if (have < cl)
			return eof ? -EPROTO : 0;
		r->body_len = (size_t)cl;
		return 1;
	}
	/* Neither: the body ends with the connection (we asked for "Connection: close"). */
	r->body_len = have;
	return eof ? 1 : 0;
}

bool hs_http_is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

int hs_http_resolve(const char *base, const char *loc, char *out, size_t outlen)
{
	const char *scheme_end = strstr(base, "://"), *path, *q;
	size_t origin, dir;
	int n;

	if (!scheme_end || !*loc)
		return -EINVAL;
	if (!strncmp(loc, "http://", 7) || !strncmp(loc, "https://", 8))
		n = snprintf(out, outlen, "%s", loc);
	else if (!strncmp(loc, "//", 2))
		n = snprintf(out, outlen, "%.*s:%s", (int)(scheme_end - base), base, loc);
	else {
		path = scheme_end + 3 + strcspn(scheme_end + 3, "/?#");
		origin = (size_t)(path - base);
		if (*loc == '/') {
			n = snprintf(out, outlen, "%.*s%s", (int)origin, base, loc);
		} else {
			/* Relative path: replaces the last segment of the base's path (query dropped). */
			q = path + strcspn(path, "?#");
			dir = origin;
			for (const char *s = path; s < q; s++)
				if (*s == '/')
					dir = (size_t)(s - base) + 1;
			n = dir == origin ? snprintf(out, outlen, "%.*s/%s", (int)origin, base, loc) :
					    snprintf(out, outlen, "%.*s%s", (int)dir, base, loc);
		}
	}
	return n < 0 || (size_t)n >= outlen ? -EINVAL : 0;
}
