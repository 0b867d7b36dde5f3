// SPDX-License-Identifier: GPL-2.0-only
/*
 * cli.c - what the operator commands share: which daemon (-c FILE), the UAPI `get=1` client and
 * its reply parser (wireguard.com/xplatform: key=value lines, a peer starts at public_key, the
 * reply ends with errno=N and a blank line), a tiny HTTP/1.0 GET for /metrics, and text forms.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sodium.h>
#include "cli.h"
#include "uapi.h"
#include "keyfmt.h"
#include "addrfmt.h"
#include "nodename.h"
#include "text.h"

#define CLI_TIMEOUT_S 5
#define CLI_REPLY_MAX (64u << 20)

/* ---- -c FILE ------------------------------------------------------------------------------- */

int cli_target_load(struct cli_target *t, const char *config_path)
{
	char line[1024];
	bool in_iface = false;
	FILE *f;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", CLI_DEFAULT_NAME);
	snprintf(t->metrics, sizeof(t->metrics), "%s", CLI_DEFAULT_METRICS);
	snprintf(t->state_dir, sizeof(t->state_dir), "%s", CLI_DEFAULT_STATE_DIR);
	if (!config_path)
		return 0;
	snprintf(t->config, sizeof(t->config), "%s", config_path);
	f = fopen(config_path, "re");
	if (!f) {
		fprintf(stderr, "meshgate: %s: %s\n", config_path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *eq, *key, *val;

		s[strcspn(s, "#")] = '\0';
		s = text_trim(s);
		if (*s == '[') {
			in_iface = !strcasecmp(s, "[Interface]");
			continue;
		}
		eq = strchr(s, '=');
		if (!in_iface || !eq)
			continue;
		*eq = '\0';
		key = text_trim(s), val = text_trim(eq + 1);
		if (!strcasecmp(key, "Name"))
			snprintf(t->name, sizeof(t->name), "%s", val);
		else if (!strcasecmp(key, "StateDir"))
			snprintf(t->state_dir, sizeof(t->state_dir), "%s", val);
		else if (!strcasecmp(key, "MetricsListen")) {
			snprintf(t->metrics, sizeof(t->metrics), "%s", strcasecmp(val, "off") ? val : "");
			t->metrics_from_config = true;
		}
	}
	fclose(f);
	return 0;
}

/* ---- UAPI get ------------------------------------------------------------------------------ */

static int add_ip(char (**ips)[52], size_t *n, const char *v)
{
	char (*grown)[52] = realloc(*ips, (*n + 1) * sizeof(**ips));

	if (!grown)
		return -ENOMEM;
	*ips = grown;
	snprintf(grown[(*n)++], sizeof(*grown), "%s", v);
	return 0;
}

/* meshgate_name: a name the daemon would not have sent (nodename_valid) is left out. */
static void set_name(char out[NODENAME_MAX + 1], const char *v)
{
	if (nodename_valid(v))
		snprintf(out, NODENAME_MAX + 1, "%s", v);
}

static int new_peer(struct cli_device *d, const char *hex)
{
	struct cli_peer *peers = realloc(d->peers, (d->n_peers + 1) * sizeof(*d->peers));

	if (!peers)
		return -ENOMEM;
	d->peers = peers;
	memset(&peers[d->n_peers], 0, sizeof(*peers));
	if (keyfmt_hex_decode(peers[d->n_peers].public_key, hex))
		return -EPROTO;
	d->n_peers++;
	return 0;
}

static int device_key(struct cli_device *d, const char *k, const char *v)
{
	uint8_t priv[32];

	if (!strcmp(k, "private_key")) {
		if (keyfmt_hex_decode(priv, v))
			return -EPROTO;
		d->has_private_key = !keyfmt_is_zero(priv);
		crypto_scalarmult_curve25519_base(d->public_key, priv);
		sodium_memzero(priv, sizeof(priv));
	} else if (!strcmp(k, "listen_port")) {
		d->listen_port = (uint16_t)strtoul(v, NULL, 10);
	} else if (!strcmp(k, "meshgate_name")) {
		set_name(d->name, v);
	}
	return 0;   /* fwmark and future keys: not shown */
}

static int peer_key(struct cli_peer *p, const char *k, const char *v)
{
	struct mg_ipprefix pfx;

	if (!strcmp(k, "endpoint"))
		snprintf(p->endpoint, sizeof(p->endpoint), "%s", v);
	else if (!strcmp(k, "last_handshake_time_sec"))
		p->handshake_sec = strtoull(v, NULL, 10);
	else if (!strcmp(k, "rx_bytes"))
		p->rx_bytes = strtoull(v, NULL, 10);
	else if (!strcmp(k, "tx_bytes"))
		p->tx_bytes = strtoull(v, NULL, 10);
	else if (!strcmp(k, "persistent_keepalive_interval"))
		p->persistent_keepalive = (uint16_t)strtoul(v, NULL, 10);
	else if (!strcmp(k, "allowed_ip"))
		return add_ip(&p->ips, &p->n_ips, v);
	else if (!strcmp(k, "meshgate_name"))
		set_name(p->name, v);
	else if (!strcmp(k, "meshgate_address") && !addrfmt_parse_prefix(&pfx, v))
		return add_ip(&p->addrs, &p->n_addrs, v);
	return 0;
}

int cli_uapi_parse(const char *reply, struct cli_device *out)
{
	char *text = strdup(reply), *save = NULL, *line;
	int ret = -EPROTO;

	memset(out, 0, sizeof(*out));
	if (!text)
		return -ENOMEM;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, '=');

		if (!v) {
			ret = -EPROTO;
			break;
		}
		*v++ = '\0';
		if (!strcmp(line, "errno")) {
			ret = -(int)strtol(v, NULL, 10);
			break;
		}
		if (!strcmp(line, "public_key"))
			ret = new_peer(out, v);
		else if (out->n_peers)
			ret = peer_key(&out->peers[out->n_peers - 1], line, v);
		else
			ret = device_key(out, line, v);
		if (ret)
			break;
		ret = -EPROTO;   /* until errno= is seen */
	}
	sodium_memzero(text, strlen(reply));
	free(text);
	if (ret)
		cli_device_free(out);
	return ret;
}

void cli_device_free(struct cli_device *d)
{
	for (size_t i = 0; i < d->n_peers; i++) {
		free(d->peers[i].ips);
		free(d->peers[i].addrs);
	}
	free(d->peers);
	memset(d, 0, sizeof(*d));
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = CLI_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Reads until @done(buf) or EOF. 0 or -errno; *out is NUL-terminated. */
static int read_all(int fd, char **out, size_t *outlen, bool (*done)(const char *, size_t))
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (cap - len < 4096) {
			char *b = cap < CLI_REPLY_MAX ? realloc(buf, cap * 2) : NULL;

			if (!b) {
				free(buf);
				return -ENOMEM;
			}
			buf = b, cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno == EAGAIN ? ETIMEDOUT : errno;

			free(buf);
			return -e;
		}
		len += n;
		buf[len] = '\0';
		if (!n || (done && done(buf, len)))
			break;
	}
	*out = buf, *outlen = len;
	return 0;
}

/* The reply ends with "errno=N\n\n". */
static bool uapi_done(const char *buf, size_t len)
{
	return len >= 2 && !strcmp(buf + len - 2, "\n\n") && strstr(buf, "errno=");
}

int cli_uapi_get(const char *name, struct cli_device *out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *reply = NULL;
	size_t len;
	int fd, ret;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock", UAPI_SOCKET_DIR, name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) || write(fd, "get=1\n\n", 7) != 7) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = read_all(fd, &reply, &len, uapi_done);
	close(fd);
	if (ret)
		return ret;
	ret = cli_uapi_parse(reply, out);
	sodium_memzero(reply, len);   /* it carried the private key */
	free(reply);
	return ret;
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

static int tcp_connect(const char *hostport)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai;
	char host[128], *colon;
	int fd, ret;

	snprintf(host, sizeof(host), "%s", hostport);
	colon = strrchr(host, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (host[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		set_timeouts(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			ret = -errno;
			close(fd);
			fd = ret;
		}
	} else {
		fd = -errno;
	}
	freeaddrinfo(ai);
	return fd;
}

int cli_http_get(const char *hostport, const char *path, char **body, size_t *len)
{
	char req[512], *resp, *hdr_end;
	size_t rlen;
	int fd = tcp_connect(hostport), ret, n;

	if (fd < 0)
		return fd;
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: meshgate-cli\r\n\r\n", path, hostport);
	if (write(fd, req, n) != n) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = read_all(fd, &resp, &rlen, NULL);
	close(fd);
	if (ret)
		return ret;
	hdr_end = strstr(resp, "\r\n\r\n");
	if (!hdr_end || strncmp(resp, "HTTP/1.", 7) || strncmp(resp + 8, " 200", 4)) {
		free(resp);
		return -EPROTO;
	}
	*len = rlen - (hdr_end + 4 - resp);
	memmove(resp, hdr_end + 4, *len + 1);
	*body = resp;
	return 0;
}

bool cli_metric(const char *text, const char *series, double *out)
{
	size_t n = strlen(series);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (!strncmp(l, series, n) && l[n] == ' ') {
			*out = strtod(l + n + 1, NULL);
			return true;
		}
	}
	return false;
}

/* ---- text forms ---------------------------------------------------------------------------- */

const char *cli_peer_tailnet_ip(const struct cli_peer *p)
{
	static char ip[52];

	if (p->n_addrs) {
		snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(p->addrs[0], "/"), p->addrs[0]);
		return ip;
	}
	for (size_t i = 0; i < p->n_ips; i++) {
		const char *slash = strchr(p->ips[i], '/');

		if (slash && (!strcmp(slash, "/32") || !strcmp(slash, "/128"))) {
			snprintf(ip, sizeof(ip), "%.*s", (int)(slash - p->ips[i]), p->ips[i]);
			return ip;
		}
	}
	return "-";
}

void cli_peer_name(char out[12], const uint8_t key[32])
{
	char b64[KEYFMT_BASE64_LEN + 1];

	keyfmt_base64_encode(b64, key);
	snprintf(out, 12, "%.8s", b64);
}

void cli_bytes(char *out, size_t len, uint64_t n)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = n;
	int u = -1;

	if (n < 1024) {
		snprintf(out, len, "%lu B", (unsigned long)n);
		return;
	}
	while (v >= 1024 && u < 3)
		v /= 1024, u++;
	snprintf(out, len, "%.2f %s", v, unit[u]);
}
