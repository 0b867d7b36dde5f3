// SPDX-License-Identifier: GPL-2.0-only
/* addrfmt.c - prefix and endpoint text forms (see addrfmt.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addrfmt.h"

/* Decimal digits only (no sign, no spaces), value <= max. */
static int parse_decimal(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	*out = v;
	return 0;
}

int addrfmt_parse_prefix(struct mg_ipprefix *out, const char *s)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long cidr;

	memset(out, 0, sizeof(*out));
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, host, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	cidr = out->family == AF_INET ? 32 : 128;
	if (slash && parse_decimal(slash + 1, cidr, &cidr))
		return -EINVAL;
	out->cidr = (uint8_t)cidr;
	return 0;
}

static int resolve_host(struct mg_endpoint *out, const char *host)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res = NULL, *ai;
	int ret = -EADDRNOTAVAIL;

	if (getaddrinfo(host, NULL, &hints, &res))
		return -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			memcpy(out->addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			memcpy(out->addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		out->family = (uint8_t)ai->ai_family;
		ret = 0;
		break;
	}
	freeaddrinfo(res);
	return ret;
}

/* Letters, digits, '-', '.', '_' (and ':' inside brackets): nothing else reaches the resolver. */
static bool is_hostname(const char *s)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:";

	return s[strspn(s, ok)] == '\0';
}

int addrfmt_parse_endpoint(struct mg_endpoint *out, const char *s, bool resolve)
{
	char host[256];
	const char *hs = s, *he, *colon;
	unsigned long port;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (*s == '[') {
		hs = s + 1;
		he = strchr(hs, ']');
		if (!he || he[1] != ':')
			return -EINVAL;
		colon = he + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		he = colon;
		if (memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;    /* a bare IPv6 address needs brackets */
	}
	hlen = (size_t)(he - hs);
	if (hlen == 0 || hlen >= sizeof(host) || parse_decimal(colon + 1, 65535, &port))
		return -EINVAL;
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	out->port = (uint16_t)port;
	if (*s != '[' && inet_pton(AF_INET, host, out->addr) == 1)
		out->family = AF_INET;
	else if (*s == '[' && inet_pton(AF_INET6, host, out->addr) == 1)
		out->family = AF_INET6;
	else if (resolve && is_hostname(host))
		return resolve_host(out, host);
	else
		return -EINVAL;
	return 0;
}

/* snprintf's answer -> ours: a truncated string is no answer at all. */
static int fit(char *buf, size_t len, int n)
{
	if (n >= 0 && (size_t)n < len)
		return n;
	if (len)
		buf[0] = '\0';
	return -ENOSPC;
}

int addrfmt_format_prefix(char *buf, size_t len, const struct mg_ipprefix *p)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (len)
		buf[0] = '\0';
	if ((p->family != AF_INET && p->family != AF_INET6) || !inet_ntop(p->family, p->addr, a, sizeof(a)))
		return -EAFNOSUPPORT;
	n = snprintf(buf, len, "%s/%u", a, p->cidr);
	return fit(buf, len, n);
}

int addrfmt_format_endpoint(char *buf, size_t len, const struct mg_endpoint *e)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (len)
		buf[0] = '\0';
	if ((e->family != AF_INET && e->family != AF_INET6) || !inet_ntop(e->family, e->addr, a, sizeof(a)))
		return -EAFNOSUPPORT;
	if (e->family == AF_INET6)
		n = snprintf(buf, len, "[%s]:%u", a, e->port);
	else
		n = snprintf(buf, len, "%s:%u", a, e->port);
	return fit(buf, len, n);
}
