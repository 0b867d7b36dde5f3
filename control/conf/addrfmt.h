/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * addrfmt.h - text forms of prefixes ("10.0.0.0/8", "fd00::/64") and endpoints ("1.2.3.4:51820",
 * "[fd00::1]:51820", and in config files "host.example:51820"), shared by config.c and uapi.c.
 */
#ifndef MG_CONF_ADDRFMT_H
#define MG_CONF_ADDRFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

#include "devconf.h"

#define ADDRFMT_PREFIX_MAX (INET6_ADDRSTRLEN + 4)     /* "addr/128" + NUL */
#define ADDRFMT_ENDPOINT_MAX (INET6_ADDRSTRLEN + 8)   /* "[addr]:65535" + NUL */

/*
 * "addr/cidr" or a bare "addr" (= host prefix, like wg(8)). Host bits are kept: an interface
 * Address needs them, and the allowed-IPs table masks its own keys. remove is set false.
 * 0 or -EINVAL.
 */
int addrfmt_parse_prefix(struct mg_ipprefix *out, const char *s);
/*
 * "a.b.c.d:port" or "[v6]:port"; with @resolve, also "host:port" / "[host]:port" through
 * getaddrinfo (first result). 0, -EINVAL (syntax, bad port) or -EADDRNOTAVAIL (name not resolved).
 */
int addrfmt_parse_endpoint(struct mg_endpoint *out, const char *s, bool resolve);
/* Both return the string length, or -ENOSPC / -EAFNOSUPPORT; @buf is always NUL-terminated. */
int addrfmt_format_prefix(char *buf, size_t len, const struct mg_ipprefix *p);
int addrfmt_format_endpoint(char *buf, size_t len, const struct mg_endpoint *e);

#endif
