// SPDX-License-Identifier: GPL-2.0-only
/*
 * config.c - the config file parser. Like wg(8): sections [Interface] and [Peer] (any number,
 * case-insensitive), "Key = Value" lines with case-insensitive keys, '#' comments, blank lines,
 * comma-separated lists. Unlike wg(8), spaces inside a value are kept (paths, URLs) and every
 * error names FILE:LINE and the key. Values are checked here so that `meshgate check` catches
 * everything a start would trip over, except I/O at run time.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mg.h"
#include "config.h"
#include "addrfmt.h"
#include "devconf_edit.h"
#include "keyfmt.h"
#include "text.h"

#define CONFIG_MAX_SIZE (16u << 20)   /* 130,560 AllowedIPs fit in ~3 MiB */

enum section { SEC_NONE, SEC_INTERFACE, SEC_PEER };

struct parser {
	struct mg_config *cfg;
	const char *file;
	unsigned int line;
	char *err;
	size_t errlen;
	enum section sec;
	struct mg_peer_conf *peer;      /* the [Peer] being read; NULL in [Interface] */
	unsigned int peer_line;         /* its header line, for "no PublicKey" */
	bool peer_has_key;
	const char *psk_key, *pk_key;   /* which of Key / KeyFile set the secret, for exclusivity */
	unsigned int mtu_line;          /* 0 = MTU left at its default */
};

struct key_def {
	const char *name;
	int (*fn)(struct parser *p, const struct key_def *k, char *val);
	size_t off;                     /* field in struct mg_config, for the generic setters */
	size_t size;
};

__attribute__((format(printf, 3, 4)))
static int perr(struct parser *p, const char *key, const char *fmt, ...)
{
	size_t n;
	va_list ap;
	int r;

	r = snprintf(p->err, p->errlen, "%s:%u: %s: ", p->file, p->line, key);
	n = r < 0 ? 0 : (size_t)r;
	if (n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Digits only (base 10, or base 16 after "0x" when @hex), value <= max. */
static bool parse_uint(const char *s, bool hex, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned int d, base = 10;

	if (hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2]) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			d = (unsigned int)(*s - '0');
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = (unsigned int)(tolower((unsigned char)*s) - 'a' + 10);
		else
			return false;
		if (v > (max - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static void *field(struct parser *p, const struct key_def *k)
{
	return (char *)p->cfg + k->off;
}

/* Calls @fn on each comma-separated item; "Key =" with nothing is an empty list. */
static int for_each_item(struct parser *p, const struct key_def *k, char *val,
			 int (*fn)(struct parser *p, const struct key_def *k, char *item))
{
	char *item, *next;

	if (!*val)
		return 0;
	for (item = val; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		item = text_trim(item);
		if (!*item)
			return perr(p, k->name, "empty item in list");
		if (fn(p, k, item))
			return -1;
	}
	return 0;
}

static bool valid_ifname(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return false;
	return true;
}

static int set_name(struct parser *p, const struct key_def *k, char *val)
{
	if (!valid_ifname(val))
		return perr(p, k->name, "\"%.64s\" is not an interface name (1-15 characters, no '/', ':' or spaces)", val);
	strcpy(p->cfg->name, val);
	return 0;
}

static int set_bool(struct parser *p, const struct key_def *k, char *val)
{
	static const char *const yes[] = { "true", "yes", "on", "1" }, *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(val, yes[i]) || !strcasecmp(val, no[i])) {
			*(bool *)field(p, k) = !strcasecmp(val, yes[i]);
			return 0;
		}
	}
	return perr(p, k->name, "\"%.64s\" is not a boolean (true/false, yes/no, on/off, 1/0)", val);
}

static int set_string(struct parser *p, const struct key_def *k, char *val)
{
	if (!*val)
		return perr(p, k->name, "empty value");
	if (strlen(val) >= k->size)
		return perr(p, k->name, "value is too long (at most %zu characters)", k->size - 1);
	strcpy(field(p, k), val);
	return 0;
}

static int set_abs_path(struct parser *p, const struct key_def *k, char *val)
{
	if (val[0] != '/')
		return perr(p, k->name, "\"%.64s\" is not an absolute path", val);
	return set_string(p, k, val);
}

/*
 * A secret in a regular file that group or others may read is already leaked, and one they may
 * write can be swapped for an attacker's key: refuse both, naming the fix. Only regular files
 * are checked: pipes and character devices (`PrivateKeyFile = /dev/stdin`, process
 * substitution) carry their own access rules, and systemd credentials are 0400 files anyway.
 * fstat on the open fd, not stat on the path, so the file checked is the file read.
 */
static int check_key_file_mode(struct parser *p, const char *key, const char *path, int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return perr(p, key, "%.256s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return 0;
	if (st.st_mode & (S_IRGRP | S_IROTH))
		return perr(p, key, "%.256s is readable by others (mode %04o); chmod 600 it",
			    path, (unsigned int)(st.st_mode & 07777));
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return perr(p, key, "%.256s is writable by others (mode %04o); chmod 600 it",
			    path, (unsigned int)(st.st_mode & 07777));
	return 0;
}

/* Reads a key file as wg(8) does: one base64 key, surrounding whitespace ignored. */
static int read_key_file(struct parser *p, const char *key, const char *path, uint8_t out[32])
{
	int fd, ret;

	if (!*path)
		return perr(p, key, "empty value");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return perr(p, key, "%.256s: %s", path, strerror(errno));
	if (check_key_file_mode(p, key, path, fd)) {
		close(fd);
		return -1;
	}
	ret = keyfmt_read_fd(out, fd);
	close(fd);
	if (ret == -EINVAL)
		return perr(p, key, "%.256s does not hold a base64 key (44 characters ending in '=')", path);
	if (ret)
		return perr(p, key, "%.256s: %s", path, strerror(-ret));
	return 0;
}

/* PrivateKey / PrivateKeyFile and PresharedKey / PresharedKeyFile: one of each pair. */
static int set_secret(struct parser *p, const struct key_def *k, const char *val, bool from_file,
		      const char **which, uint8_t out[32])
{
	if (*which && strcasecmp(*which, k->name))
		return perr(p, k->name, "%s is already set; use one of the two", *which);
	*which = k->name;
	if (from_file)
		return read_key_file(p, k->name, val, out);
	if (keyfmt_base64_decode(out, val))
		return perr(p, k->name, "not a base64 key (44 characters ending in '=')");
	return 0;
}

static int set_private_key(struct parser *p, const struct key_def *k, char *val)
{
	bool file = !strcasecmp(k->name, "PrivateKeyFile");

	if (set_secret(p, k, val, file, &p->pk_key, p->cfg->private_key))
		return -1;
	p->cfg->has_private_key = true;
	return 0;
}

static int set_listen_port(struct parser *p, const struct key_def *k, char *val)
{
	unsigned long long v;

	if (!parse_uint(val, false, 65535, &v))
		return perr(p, k->name, "\"%.64s\" is not a port (0-65535)", val);
	p->cfg->listen_port = (int32_t)v;
	return 0;
}

static int set_fwmark(struct parser *p, const struct key_def *k, char *val)
{
	unsigned long long v = 0;

	if (strcasecmp(val, "off") && !parse_uint(val, true, UINT32_MAX, &v))
		return perr(p, k->name, "\"%.64s\" is not a fwmark (0-4294967295, 0x hex, or off)", val);
	p->cfg->fwmark = (uint32_t)v;
	p->cfg->wg.fwmark = (int64_t)v;
	return 0;
}

static int set_mtu(struct parser *p, const struct key_def *k, char *val)
{
	unsigned long long v;

	if (!parse_uint(val, false, 9000, &v) || v < 576)
		return perr(p, k->name, "\"%.64s\" is not an MTU (576-9000)", val);
	p->cfg->mtu = (uint32_t)v;
	p->mtu_line = p->line;
	return 0;
}

static int set_queues(struct parser *p, const struct key_def *k, char *val)
{
	unsigned long long v;

	if (!parse_uint(val, false, 64, &v) || v < 1)
		return perr(p, k->name, "\"%.64s\" is not a queue count (1-64)", val);
	p->cfg->queues = (uint32_t)v;
	return 0;
}

/* One item of a CPUs list: "N" or "N-M" (N <= M). */
static int add_cpus(struct parser *p, const struct key_def *k, char *item)
{
	unsigned long long lo, hi;
	char buf[64], *dash;

	snprintf(buf, sizeof(buf), "%s", item);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (strlen(item) >= sizeof(buf) || !parse_uint(text_trim(buf), false, MG_CPU_MAX, &lo) ||
	    !parse_uint(dash ? text_trim(dash + 1) : buf, false, MG_CPU_MAX, &hi) || hi < lo)
		return perr(p, k->name, "\"%.64s\" is not a CPU or range (0-%u, as 2 or 2-3)", item, MG_CPU_MAX);
	for (unsigned long long c = lo; c <= hi; c++) {
		for (uint32_t i = 0; i < p->cfg->n_cpus; i++)
			if (p->cfg->cpus[i] == c)
				return perr(p, k->name, "CPU %llu is listed twice", c);
		if (p->cfg->n_cpus == MG_MAX_CPUS)
			return perr(p, k->name, "more than %u CPUs", MG_MAX_CPUS);
		p->cfg->cpus[p->cfg->n_cpus++] = (uint16_t)c;
	}
	return 0;
}

/* CPUs = 2,3 or 2-3 (or a mix): where the workers run, in order; later lines add to the list. */
static int set_cpus(struct parser *p, const struct key_def *k, char *val)
{
	return for_each_item(p, k, val, add_cpus);
}

static int set_seconds(struct parser *p, const struct key_def *k, char *val)
{
	unsigned long long v;

	if (!parse_uint(val, false, UINT32_MAX, &v))
		return perr(p, k->name, "\"%.64s\" is not a number of seconds", val);
	*(uint32_t *)field(p, k) = (uint32_t)v;
	return 0;
}

/*
 * Poll = adaptive [SPIN_US] | busy. Adaptive (the default, 50 us) busy-polls while packets come
 * and for SPIN_US after the last one, then sleeps in the backend until frames arrive (at most
 * 1 ms); busy never sleeps: the lowest latency, one core per queue burnt even when idle.
 */
static int set_poll(struct parser *p, const struct key_def *k, char *val)
{
	unsigned long long us = MG_POLL_SPIN_DEFAULT_US;
	char *arg = val + strcspn(val, " \t");

	if (*arg)
		*arg++ = '\0';
	arg += strspn(arg, " \t");
	if (!strcasecmp(val, "busy") && !*arg) {
		p->cfg->poll_spin_us = MG_POLL_BUSY;
		return 0;
	}
	if (strcasecmp(val, "adaptive") || (*arg && !parse_uint(arg, false, 1000000, &us)))
		return perr(p, k->name, "\"%.64s%s%.64s\" is not a poll policy (adaptive [SPIN_US 0-1000000], busy)",
			    val, *arg ? " " : "", arg);
	p->cfg->poll_spin_us = (uint32_t)us;
	return 0;
}

static int set_backend(struct parser *p, const struct key_def *k, char *val)
{
	if (!strcasecmp(val, "xdp"))
		p->cfg->backend = MG_BACKEND_XDP;
	else if (!strcasecmp(val, "dpdk"))
		p->cfg->backend = MG_BACKEND_DPDK;
	else
		return perr(p, k->name, "\"%.64s\" is not a backend (xdp, dpdk)", val);
	return 0;
}

static int set_crypto(struct parser *p, const struct key_def *k, char *val)
{
	static const char *const names[] = { "auto", "avx512", "avx2", "ipsecmb", "sodium", "generic" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcasecmp(val, names[i])) {
			strcpy(p->cfg->crypto, names[i]);
			return 0;
		}
	}
	return perr(p, k->name, "\"%.64s\" is not a crypto backend (auto, avx512, avx2, ipsecmb, sodium, generic)", val);
}

static int set_login_server(struct parser *p, const struct key_def *k, char *val)
{
	if (strncasecmp(val, "https://", 8) && strncasecmp(val, "http://", 7))
		return perr(p, k->name, "\"%.64s\" is not an http:// or https:// URL", val);
	return set_string(p, k, val);
}

static int set_metrics_listen(struct parser *p, const struct key_def *k, char *val)
{
	const char *colon = strrchr(val, ':');
	unsigned long long port;

	if (!strcasecmp(val, "off")) {
		p->cfg->metrics_listen[0] = '\0';
		return 0;
	}
	/* host may be a name, "a.b.c.d" or "[v6]"; the metrics module resolves it at bind time. */
	if (!colon || colon == val || !parse_uint(colon + 1, false, 65535, &port) ||
	    (val[0] == '[' && colon[-1] != ']') || (val[0] != '[' && memchr(val, ':', (size_t)(colon - val))))
		return perr(p, k->name, "\"%.64s\" is not host:port or off", val);
	return set_string(p, k, val);
}

/* Appends to a (pointer, count) pair of struct mg_config. */
static int push(struct parser *p, const struct key_def *k, void **arr, size_t *n, size_t size, const void *item)
{
	if (devconf_grow(arr, *n, size))
		return perr(p, k->name, "out of memory");
	memcpy((char *)*arr + *n * size, item, size);
	(*n)++;
	return 0;
}

static int parse_prefix_item(struct parser *p, const struct key_def *k, const char *item, struct mg_ipprefix *out)
{
	if (addrfmt_parse_prefix(out, item))
		return perr(p, k->name, "\"%.64s\" is not an IP prefix (address[/length])", item);
	return 0;
}

static int add_address(struct parser *p, const struct key_def *k, char *item)
{
	struct mg_ipprefix pf;

	if (parse_prefix_item(p, k, item, &pf))
		return -1;
	return push(p, k, (void **)&p->cfg->addresses, &p->cfg->n_addresses, sizeof(pf), &pf);
}

static int add_route(struct parser *p, const struct key_def *k, char *item)
{
	struct mg_ipprefix pf;

	if (parse_prefix_item(p, k, item, &pf))
		return -1;
	return push(p, k, (void **)&p->cfg->advertise_routes, &p->cfg->n_routes, sizeof(pf), &pf);
}

static int add_device(struct parser *p, const struct key_def *k, char *item)
{
	char name[64] = "";


	/* A netdev name, or with Backend = dpdk a PCI address / vdev string (may contain ':'). */
	if (strlen(item) >= sizeof(name) || strpbrk(item, " \t/"))
		return perr(p, k->name, "\"%.64s\" is not a device name (1-63 characters, no '/' or spaces)", item);
	/* One meshgate serves one LAN interface (its XDP program, queues and kernel mirror). */
	if (p->cfg->n_devices)
		return perr(p, k->name, "one device only (\"%.64s\" is a second one, after \"%.64s\"); "
			    "run one meshgate per LAN interface", item, p->cfg->devices[0]);
	strcpy(name, item);
	return push(p, k, (void **)&p->cfg->devices, &p->cfg->n_devices, sizeof(name), name);
}

static int set_list(struct parser *p, const struct key_def *k, char *val)
{
	if (!strcasecmp(k->name, "Address"))
		return for_each_item(p, k, val, add_address);
	if (!strcasecmp(k->name, "AdvertiseRoutes"))
		return for_each_item(p, k, val, add_route);
	return for_each_item(p, k, val, add_device);
}

static int add_public_endpoint(struct parser *p, const struct key_def *k, char *item)
{
	struct mg_config *c = p->cfg;

	if (c->n_public_endpoints >= sizeof(c->public_endpoints) / sizeof(c->public_endpoints[0]))
		return perr(p, k->name, "at most 4 endpoints");
	if (addrfmt_parse_endpoint(&c->public_endpoints[c->n_public_endpoints], item, false) ||
	    !c->public_endpoints[c->n_public_endpoints].port)
		return perr(p, k->name, "\"%.64s\" is not an endpoint (a.b.c.d:port or [v6]:port)", item);
	c->n_public_endpoints++;
	return 0;
}

static int set_public_endpoints(struct parser *p, const struct key_def *k, char *val)
{
	return for_each_item(p, k, val, add_public_endpoint);
}

static int set_forwarded_port(struct parser *p, const struct key_def *k, char *val)
{
	unsigned long long v;

	if (!parse_uint(val, false, 65535, &v))
		return perr(p, k->name, "\"%.64s\" is not a port (0-65535)", val);
	p->cfg->forwarded_port = (uint16_t)v;
	return 0;
}

static int set_public_key(struct parser *p, const struct key_def *k, char *val)
{
	uint8_t key[32];
	size_t i;

	if (keyfmt_base64_decode(key, val))
		return perr(p, k->name, "\"%.64s\" is not a base64 key (44 characters ending in '=')", val);
	/* Public data: plain memcmp is fine. Quadratic, but bounded by the 16 MiB file cap. */
	for (i = 0; i + 1 < p->cfg->wg.n_peers; i++)
		if (!memcmp(p->cfg->wg.peers[i].public_key, key, 32))
			return perr(p, k->name, "duplicate peer %s", val);
	if (p->peer_has_key && memcmp(p->peer->public_key, key, 32))
		return perr(p, k->name, "this [Peer] already has a PublicKey");
	memcpy(p->peer->public_key, key, 32);
	p->peer_has_key = true;
	return 0;
}

static int set_preshared_key(struct parser *p, const struct key_def *k, char *val)
{
	bool file = !strcasecmp(k->name, "PresharedKeyFile");

	if (set_secret(p, k, val, file, &p->psk_key, p->peer->preshared_key))
		return -1;
	p->peer->has_preshared_key = true;
	return 0;
}

static int set_endpoint(struct parser *p, const struct key_def *k, char *val)
{
	int r = addrfmt_parse_endpoint(&p->peer->endpoint, val, true);

	if (r == -EADDRNOTAVAIL)
		return perr(p, k->name, "cannot resolve \"%.128s\"", val);
	if (r || p->peer->endpoint.port == 0)
		return perr(p, k->name, "\"%.64s\" is not an endpoint (a.b.c.d:port, [v6]:port or host:port, port 1-65535)", val);
	p->peer->has_endpoint = true;
	return 0;
}

static int add_allowed_ip(struct parser *p, const struct key_def *k, char *item)
{
	struct mg_ipprefix pf;

	if (parse_prefix_item(p, k, item, &pf))
		return -1;
	if (devconf_allowed_ip_append(p->peer, &pf, false))
		return perr(p, k->name, "out of memory");
	return 0;
}

static int set_allowed_ips(struct parser *p, const struct key_def *k, char *val)
{
	return for_each_item(p, k, val, add_allowed_ip);
}

static int set_keepalive(struct parser *p, const struct key_def *k, char *val)
{
	unsigned long long v = 0;

	if (strcasecmp(val, "off") && !parse_uint(val, false, 65535, &v))
		return perr(p, k->name, "\"%.64s\" is not a keepalive interval (0-65535 seconds, or off)", val);
	p->peer->persistent_keepalive = (int32_t)v;
	return 0;
}

#define CFG(f) offsetof(struct mg_config, f), sizeof(((struct mg_config *)0)->f)

static const struct key_def interface_keys[] = {
	{ "Name", set_name, 0, 0 },
	{ "PrivateKey", set_private_key, 0, 0 },
	{ "PrivateKeyFile", set_private_key, 0, 0 },
	{ "ListenPort", set_listen_port, 0, 0 },
	{ "FwMark", set_fwmark, 0, 0 },
	{ "Address", set_list, 0, 0 },
	{ "MTU", set_mtu, 0, 0 },
	{ "Device", set_list, 0, 0 },
	{ "Backend", set_backend, 0, 0 },
	{ "DPDKArgs", set_string, CFG(dpdk_args) },
	{ "Queues", set_queues, 0, 0 },
	{ "SetChannels", set_bool, CFG(set_channels) },
	{ "CPUs", set_cpus, 0, 0 },
	{ "Poll", set_poll, 0, 0 },
	{ "Crypto", set_crypto, 0, 0 },
	{ "SNAT", set_bool, CFG(snat) },
	{ "AdvertiseRoutes", set_list, 0, 0 },
	{ "AdvertiseExitNode", set_bool, CFG(advertise_exit_node) },
	{ "AcceptRoutes", set_bool, CFG(accept_routes) },
	{ "LoginServer", set_login_server, CFG(login_server) },
	{ "AuthKeyFile", set_string, CFG(auth_key_file) },
	{ "StateDir", set_abs_path, CFG(state_dir) },
	{ "PublicEndpoint", set_public_endpoints, 0, 0 },
	{ "ForwardedPort", set_forwarded_port, 0, 0 },
	{ "FilterFile", set_abs_path, CFG(filter_file) },
	{ "DERPCAFile", set_abs_path, CFG(derp_ca_file) },
	{ "MetricsListen", set_metrics_listen, CFG(metrics_listen) },
	{ "User", set_string, CFG(user) },
	{ "TestRekeyAfterTime", set_seconds, CFG(test_rekey_after_time_s) },
};

static const struct key_def peer_keys[] = {
	{ "PublicKey", set_public_key, 0, 0 },
	{ "PresharedKey", set_preshared_key, 0, 0 },
	{ "PresharedKeyFile", set_preshared_key, 0, 0 },
	{ "Endpoint", set_endpoint, 0, 0 },
	{ "AllowedIPs", set_allowed_ips, 0, 0 },
	{ "PersistentKeepalive", set_keepalive, 0, 0 },
};

static const struct key_def *find_key(const struct key_def *defs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(defs[i].name, name))
			return &defs[i];
	return NULL;
}

/* Closes the [Peer] being read: it must have named its PublicKey. */
static int end_peer(struct parser *p)
{
	if (!p->peer || p->peer_has_key)
		return 0;
	p->line = p->peer_line;
	return perr(p, "PublicKey", "[Peer] has no PublicKey");
}

static int begin_section(struct parser *p, char *hdr)
{
	char *name;
	static const uint8_t zero[32];

	if (hdr[strlen(hdr) - 1] != ']')
		return perr(p, hdr, "section header without closing ']'");
	hdr[strlen(hdr) - 1] = '\0';
	name = text_trim(hdr + 1);
	if (end_peer(p))
		return -1;
	p->peer = NULL;
	if (!strcasecmp(name, "Interface")) {
		p->sec = SEC_INTERFACE;
		return 0;
	}
	if (strcasecmp(name, "Peer")) {
		char sec[80];

		snprintf(sec, sizeof(sec), "[%.64s]", name);
		return perr(p, sec, "unknown section (expected [Interface] or [Peer])");
	}
	p->sec = SEC_PEER;
	p->peer = devconf_peer_append(&p->cfg->wg, zero);
	if (!p->peer)
		return perr(p, "[Peer]", "out of memory");
	p->peer->replace_allowed_ips = true;
	p->peer->persistent_keepalive = 0;
	p->peer_line = p->line;
	p->peer_has_key = false;
	p->psk_key = NULL;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	const struct key_def *k;
	char *hash = strchr(line, '#'), *eq, *key, *val;

	if (hash)
		*hash = '\0';
	line = text_trim(line);
	if (!*line)
		return 0;
	if (*line == '[')
		return begin_section(p, line);
	eq = strchr(line, '=');
	if (!eq)
		return perr(p, line, "not a \"Key = Value\" line");
	*eq = '\0';
	key = text_trim(line);
	val = text_trim(eq + 1);
	if (p->sec == SEC_NONE)
		return perr(p, key, "key outside [Interface] or [Peer]");
	if (p->sec == SEC_INTERFACE)
		k = find_key(interface_keys, ARRAY_SIZE(interface_keys), key);
	else
		k = find_key(peer_keys, ARRAY_SIZE(peer_keys), key);
	if (!k)
		return perr(p, *key ? key : "=", "unknown key in [%s]", p->sec == SEC_INTERFACE ? "Interface" : "Peer");
	return k->fn(p, k, val);
}

/* Rules across keys, checked once the whole file is read. */
static int finish(struct parser *p)
{
	struct mg_config *c = p->cfg;
	size_t i;

	if (end_peer(p))
		return -1;
	for (i = 0; i < c->n_addresses && p->mtu_line; i++) {
		if (c->addresses[i].family == AF_INET6 && c->mtu < 1280) {
			p->line = p->mtu_line;
			return perr(p, "MTU", "%u is below 1280, the minimum with an IPv6 Address", c->mtu);
		}
	}
	c->wg.has_private_key = c->has_private_key;
	memcpy(c->wg.private_key, c->private_key, 32);
	c->wg.listen_port = c->listen_port;
	c->wg.replace_peers = true;
	return 0;
}

static void set_defaults(struct mg_config *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", name);
	strcpy(c->name, "meshgate0");
	c->listen_port = -1;
	c->mtu = 1280;
	c->backend = MG_BACKEND_XDP;
	c->queues = 1;
	c->poll_spin_us = MG_POLL_SPIN_DEFAULT_US;
	strcpy(c->crypto, "auto");
	c->snat = true;
	strcpy(c->state_dir, "/var/lib/meshgate");
	strcpy(c->metrics_listen, "127.0.0.1:9586");
	c->wg.listen_port = -1;
	c->wg.fwmark = -1;
}

int config_load_string(struct mg_config *cfg, const char *name, const char *text, char *err, size_t errlen)
{
	struct parser p = { .cfg = cfg, .file = name, .err = err, .errlen = errlen };
	size_t len = strlen(text);
	char *buf, *line, *nl;
	int ret = 0;

	set_defaults(cfg, name);
	if (errlen)
		err[0] = '\0';
	buf = malloc(len + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
		return -1;
	}
	memcpy(buf, text, len + 1);
	for (line = buf; line && !ret; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		p.line++;
		ret = parse_line(&p, line);
	}
	if (!ret)
		ret = finish(&p);
	explicit_bzero(buf, len);   /* the text may hold a PrivateKey */
	free(buf);
	if (ret)
		config_free(cfg);
	return ret;
}

/* Reads the whole file (at most CONFIG_MAX_SIZE); NUL bytes are an error at their line. */
static char *slurp(const char *path, char *err, size_t errlen)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1), *nul, *tmp;
	unsigned int line = 1;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !buf) {
		snprintf(err, errlen, "%s: %s", path, strerror(buf ? errno : ENOMEM));
		goto err_close;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= CONFIG_MAX_SIZE) {
				snprintf(err, errlen, "%s: larger than %u bytes", path, CONFIG_MAX_SIZE);
				goto err_close;
			}
			tmp = realloc(buf, cap * 2 + 1);
			if (!tmp) {
				snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
				goto err_close;
			}
			buf = tmp;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto err_close;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	nul = memchr(buf, '\0', len);
	if (!nul)
		return buf;
	for (tmp = buf; tmp < nul; tmp++)
		line += *tmp == '\n';
	snprintf(err, errlen, "%s:%u: NUL byte in the file", path, line);
	fd = -1;
err_close:
	if (fd >= 0)
		close(fd);
	if (buf)
		explicit_bzero(buf, len);
	free(buf);
	return NULL;
}

int config_load(struct mg_config *cfg, const char *path, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int ret;

	if (strlen(path) >= sizeof(cfg->path)) {
		memset(cfg, 0, sizeof(*cfg));
		snprintf(err, errlen, "%.64s...: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	text = slurp(path, err, errlen);
	if (!text) {
		memset(cfg, 0, sizeof(*cfg));
		return -1;
	}
	len = strlen(text);
	ret = config_load_string(cfg, path, text, err, errlen);
	explicit_bzero(text, len);
	free(text);
	return ret;
}

void config_free(struct mg_config *cfg)
{
	free(cfg->addresses);
	free(cfg->devices);
	free(cfg->advertise_routes);
	devconf_update_free(&cfg->wg);
	explicit_bzero(cfg, sizeof(*cfg));
}
