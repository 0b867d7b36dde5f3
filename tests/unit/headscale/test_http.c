// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_http.c - HTTP/1.1 responses as hsfetch reads them (hshttp.c) and redirect targets:
 *  1-4  Content-Length: complete, short, short at EOF, junk value
 *  5-8  chunked: every prefix of a response with an extension and a trailer is "need more"
 *       until the last byte, then the body decodes; cut at EOF; bad size; missing CRLF after data
 *  9-11 no length (ends with the connection); HEAD; header names in any case; Location
 *  12   Location resolved: absolute, scheme-relative, absolute path, relative path
 *  13   random byte flips of the chunked response never crash and never read past the buffer
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "hshttp.h"
#include "t.h"

static int parse(const char *text, size_t len, bool head, bool eof, struct hs_http_resp *r)
{
	static char buf[4096];

	memcpy(buf, text, len);
	buf[len] = '\0';
	return hs_http_parse(buf, len, head, eof, r);
}

#define P(text, head, eof, r) parse(text, strlen(text), head, eof, r)

static const char chunked[] =
	"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: gzip, Chunked\r\n\r\n"
	"7\r\n{\"a\":\"b\r\n"
	"a;ext=\"x\"\r\n0123456789\r\n"
	"3\r\n\"}X\r\n"
	"0\r\nX-Trailer: 1\r\n\r\n";

static void test_length(void)
{
	struct hs_http_resp r;

	CHECK(P("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, false, &r) == 1 &&
	      r.status == 200 && r.body_len == 5 && !memcmp(r.body, "hello", 5));
	CHECK(P("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false, false, &r) == 0);
	CHECK(P("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false, true, &r) == -EPROTO);
	CHECK(P("HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello", false, false, &r) == -EPROTO);
	CHECK(P("HTTP/1.1 200 OK\r\nContent-Len", false, false, &r) == 0);
	CHECK(P("garbage\r\n\r\n", false, false, &r) == -EPROTO);
}

static void test_chunked(void)
{
	struct hs_http_resp r;
	size_t n = strlen(chunked), i;
	bool early = false;

	for (i = 0; i < n; i++)
		if (parse(chunked, i, false, false, &r) != 0)
			early = true;
	CHECK(!early);
	CHECK(parse(chunked, n, false, false, &r) == 1 && r.status == 200 && r.body_len == 20 &&
	      !memcmp(r.body, "{\"a\":\"b0123456789\"}X", 20));
	CHECK(parse(chunked, n - 5, false, true, &r) == -EPROTO);
	CHECK(P("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n", false, false, &r) == -EPROTO);
	CHECK(P("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY0\r\n\r\n", false, false, &r) == -EPROTO);
	CHECK(P("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", false, false, &r) == -EPROTO);
	/* Chunked wins over a Content-Length (RFC 9112 §6.3). */
	CHECK(P("HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
		false, false, &r) == 1 && r.body_len == 2);
}

static void test_misc(void)
{
	struct hs_http_resp r;

	CHECK(P("HTTP/1.0 200 OK\r\n\r\nuntil close", false, false, &r) == 0);
	CHECK(P("HTTP/1.0 200 OK\r\n\r\nuntil close", false, true, &r) == 1 && r.body_len == 11);
	CHECK(P("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", true, false, &r) == 1 && r.status == 204);
	CHECK(P("HTTP/1.1 308 Permanent Redirect\r\nlocation:  /key?v=115&x=1 \r\nContent-Length: 0\r\n\r\n",
		false, false, &r) == 1 && r.status == 308 && !strcmp(r.location, "/key?v=115&x=1"));
	CHECK(hs_http_is_redirect(301) && hs_http_is_redirect(302) && hs_http_is_redirect(303) &&
	      hs_http_is_redirect(307) && hs_http_is_redirect(308) && !hs_http_is_redirect(300) &&
	      !hs_http_is_redirect(304) && !hs_http_is_redirect(200));
	/* "X-Location" is not Location. */
	CHECK(P("HTTP/1.1 302 Found\r\nX-Location: /no\r\nContent-Length: 0\r\n\r\n", false, false, &r) == 1 &&
	      !r.location[0]);
}

static void test_resolve(void)
{
	static const struct { const char *base, *loc, *want; } t[] = {
		{ "http://a.example:8080/key?v=1", "https://b.example/key?v=1", "https://b.example/key?v=1" },
		{ "https://a.example/key?v=1", "//c.example:444/k", "https://c.example:444/k" },
		{ "http://a.example:8080/key?v=1", "/key?v=1&hop=1", "http://a.example:8080/key?v=1&hop=1" },
		{ "http://[2001:db8::1]:8080/x/key?v=1", "other?v=2", "http://[2001:db8::1]:8080/x/other?v=2" },
		{ "http://a.example/key", "k2", "http://a.example/k2" },
		{ "http://a.example", "k2", "http://a.example/k2" },
		{ "http://a.example?q=/x/", "k2", "http://a.example/k2" },
	};
	char out[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK(hs_http_resolve(t[i].base, t[i].loc, out, sizeof(out)) == 0);
		if (strcmp(out, t[i].want))
			fprintf(stderr, "resolve %zu: got %s want %s\n", i, out, t[i].want);
		CHECK(!strcmp(out, t[i].want));
	}
	CHECK(hs_http_resolve("http://a.example/", "", out, sizeof(out)) == -EINVAL);
	CHECK(hs_http_resolve("nourl", "/x", out, sizeof(out)) == -EINVAL);
	CHECK(hs_http_resolve("http://a.example/", "/long", out, 10) == -EINVAL);
}

static void test_flips(void)
{
	size_t n = strlen(chunked);
	unsigned seed = 1;
	char *buf = malloc(n + 1);
	int bad = 0;

	for (int round = 0; round < 20000 && buf; round++) {
		struct hs_http_resp r;
		size_t len = (size_t)rand_r(&seed) % (n + 1);
		int ret;

		memcpy(buf, chunked, n);
		for (int k = 0; k < 3; k++)
			buf[(size_t)rand_r(&seed) % n] = (char)rand_r(&seed);
		buf[len] = '\0';                  /* exactly @len bytes handed over, as hsfetch does */
		ret = hs_http_parse(buf, len, false, round & 1, &r);
		if (ret == 1 && (r.body < buf || r.body + r.body_len > buf + len))
			bad++;
	}
	CHECK(buf && !bad);
	free(buf);
}

int main(void)
{
	test_length();
	test_chunked();
	test_misc();
	test_resolve();
	test_flips();
	return t_done("test_http");
}
