// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsendpoint.c - the endpoint set a lite MapRequest publishes. Order matters
 * to peers only as a hint; de-duplication keeps the first, most explicit type.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include "addrfmt.h"
#include "hsendpoint.h"
#include "mg.h"

bool hs_endpoint_eq(const struct mg_endpoint *a, const struct mg_endpoint *b)
{
	size_t alen = a->family == AF_INET ? 4 : 16;

	/* Field by field: struct padding is not initialised everywhere. */
	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, alen);
}

const char *hs_endpoint_type_name(unsigned type)
{
	static const char *const names[] = {
		[HS_EP_LOCAL] = "local", [HS_EP_STUN] = "stun", [HS_EP_PORTMAP] = "portmap",
		[HS_EP_STUN4_LOCALPORT] = "stun4localport", [HS_EP_CONFIGURED] = "configured",
	};

	return type < ARRAY_SIZE(names) && names[type] ? names[type] : "unknown";
}

bool hs_endpoints_add(struct hs_endpoints *s, const struct mg_endpoint *ep, enum hs_ep_type type)
{
	size_t i;

	if ((ep->family != AF_INET && ep->family != AF_INET6) || !ep->port || s->n >= HS_EP_MAX)
		return false;
	for (i = 0; i < s->n; i++)
		if (hs_endpoint_eq(&s->ep[i], ep))
			return false;
	memset(&s->ep[s->n], 0, sizeof(s->ep[0]));
	s->ep[s->n].family = ep->family;
	s->ep[s->n].port = ep->port;
	memcpy(s->ep[s->n].addr, ep->addr, ep->family == AF_INET ? 4 : 16);
	s->type[s->n++] = (uint8_t)type;
	return true;
}

bool hs_endpoints_equal(const struct hs_endpoints *a, const struct hs_endpoints *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->type[i] != b->type[i] || !hs_endpoint_eq(&a->ep[i], &b->ep[i]))
			return false;
	return true;
}

static bool usable(const struct sockaddr *sa, struct mg_endpoint *ep, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->port = port;
	if (sa->sa_family == AF_INET) {
		const struct in_addr *a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;

		ep->family = AF_INET;
		memcpy(ep->addr, a, 4);
		return ep->addr[0] != 127 && ep->addr[0] != 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		ep->family = AF_INET6;
		memcpy(ep->addr, a, 16);
		return !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_LINKLOCAL(a) && !IN6_IS_ADDR_UNSPECIFIED(a) &&
		       !IN6_IS_ADDR_MULTICAST(a);
	}
	return false;
}

int hs_endpoints_add_local(struct hs_endpoints *s, uint16_t port, const char *skip_if)
{
	struct ifaddrs *ifa, *i;
	struct mg_endpoint ep;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (skip_if && !strcmp(i->ifa_name, skip_if))
			continue;
		if (usable(i->ifa_addr, &ep, port))
			hs_endpoints_add(s, &ep, HS_EP_LOCAL);
	}
	freeifaddrs(ifa);
	return 0;
}

void hs_endpoints_format(char *buf, size_t len, const struct hs_endpoints *s)
{
	char e[ADDRFMT_ENDPOINT_MAX];
	size_t i, off = 0;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < s->n && off < len; i++) {
		int n;

		addrfmt_format_endpoint(e, sizeof(e), &s->ep[i]);
		n = snprintf(buf + off, len - off, "%s%s/%u", i ? "," : "", e, s->type[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
