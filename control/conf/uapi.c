// SPDX-License-Identifier: GPL-2.0-only
/*
 * uapi.c - the WireGuard UAPI socket (wireguard-go ipc/uapi_unix.go and
 * device/uapi.go are the reference server, wireguard-tools ipc-uapi.h the reference client).
 *
 * Wire format: an operation is "get=1\n\n" or "set=1\n" + "key=value\n" lines + "\n". Replies are
 * key=value lines ending in "errno=N\n\n", N negative as in wireguard-go. A connection may carry
 * several operations. Every socket is non-blocking: input is buffered per connection until a
 * whole operation is there (capped at UAPI_MAX_REQUEST), replies are buffered and flushed on
 * EPOLLOUT, and input is not read while a reply is pending, so a slow reader costs one reply.
 * A whole set is parsed before anything is applied, so a bad line changes nothing (wireguard-go
 * applies up to the bad line).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "uapi.h"
#include "evsource.h"
#include "mg.h"
#include "addrfmt.h"
#include "devconf_edit.h"
#include "keyfmt.h"
#include "nodename.h"

struct uapi_conn {
	struct evsource ev;
	struct uapi *u;
	struct uapi_conn *next;
	int fd;
	bool closing;          /* close once the pending reply is out */
	bool eof;              /* the peer shut down its sending side */
	uint32_t events;       /* what the fd is registered for */
	char *in;
	size_t in_len, in_cap;
	size_t scan;           /* where the search for the blank line resumes */
	char *out;
	size_t out_len, out_off;
};

struct uapi {
	struct evsource ev;
	int epfd, fd;
	ino_t ino;             /* of our socket file, so uninit never unlinks a successor's */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct uapi_ops *ops;
	void *ctx;
	struct uapi_conn *conns;
	size_t n_conns;
};

/* ---- growable output text ---- */

struct strbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t need;
	char *np;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	need = b->len + (size_t)n + 1;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < need)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* ---- get ---- */

static void format_peer(struct strbuf *b, const struct uapi_peer_view *p)
{
	char hex[KEYFMT_HEX_LEN + 1], txt[ADDRFMT_ENDPOINT_MAX];
	size_t i;

	keyfmt_hex_encode(hex, p->public_key);
	sb_printf(b, "public_key=%s\n", hex);
	keyfmt_hex_encode(hex, p->preshared_key);
	sb_printf(b, "preshared_key=%s\nprotocol_version=1\n", hex);
	explicit_bzero(hex, sizeof(hex));
	if (p->endpoint.family && addrfmt_format_endpoint(txt, sizeof(txt), &p->endpoint) > 0)
		sb_printf(b, "endpoint=%s\n", txt);
	sb_printf(b, "last_handshake_time_sec=%llu\nlast_handshake_time_nsec=%llu\n",
		  (unsigned long long)p->last_handshake_sec, (unsigned long long)p->last_handshake_nsec);
	sb_printf(b, "tx_bytes=%llu\nrx_bytes=%llu\npersistent_keepalive_interval=%u\n",
		  (unsigned long long)p->tx_bytes, (unsigned long long)p->rx_bytes, p->persistent_keepalive);
	for (i = 0; i < p->n_allowed_ips; i++)
		if (addrfmt_format_prefix(txt, sizeof(txt), &p->allowed_ips[i]) > 0)
			sb_printf(b, "allowed_ip=%s\n", txt);
	if (p->name && nodename_valid(p->name))
		sb_printf(b, "meshgate_name=%s\n", p->name);
	for (i = 0; i < p->n_addresses; i++)
		if (addrfmt_format_prefix(txt, sizeof(txt), &p->addresses[i]) > 0)
			sb_printf(b, "meshgate_address=%s\n", txt);
}

int uapi_format_get(const struct uapi_device_view *v, char **out, size_t *outlen)
{
	struct strbuf b = { 0 };
	char hex[KEYFMT_HEX_LEN + 1];
	size_t i;

	/* wg(8) derives the public key from private_key; there is no public key line. */
	if (v->has_private_key && !keyfmt_is_zero(v->private_key)) {
		keyfmt_hex_encode(hex, v->private_key);
		sb_printf(&b, "private_key=%s\n", hex);
		explicit_bzero(hex, sizeof(hex));
	}
	if (v->listen_port)
		sb_printf(&b, "listen_port=%u\n", v->listen_port);
	if (v->fwmark)
		sb_printf(&b, "fwmark=%u\n", v->fwmark);
	if (v->name && nodename_valid(v->name))
		sb_printf(&b, "meshgate_name=%s\n", v->name);
	for (i = 0; i < v->n_peers; i++)
		format_peer(&b, &v->peers[i]);
	sb_printf(&b, "errno=0\n\n");
	if (b.oom) {
		if (b.p)
			explicit_bzero(b.p, b.len);
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

/* ---- set ---- */

struct set_state {
	struct mg_device_update *u;
	ssize_t peer;          /* index of the peer being configured, -1 in the device section */
};

/* strconv.ParseUint(s, 10, bits) as wireguard-go uses it: digits only. */
static bool parse_u(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (unsigned long long)(*s - '0')) / 10)
			return false;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	*out = v;
	return true;
}

static int set_device_key(struct set_state *st, const char *key, const char *val)
{
	struct mg_device_update *u = st->u;
	unsigned long long n;

	if (!strcmp(key, "private_key")) {
		if (keyfmt_hex_decode(u->private_key, val))
			return -EINVAL;
		u->has_private_key = true;
	} else if (!strcmp(key, "listen_port")) {
		if (!parse_u(val, UINT16_MAX, &n))
			return -EINVAL;
		u->listen_port = (int32_t)n;
	} else if (!strcmp(key, "fwmark")) {
		if (!parse_u(val, UINT32_MAX, &n))
			return -EINVAL;
		u->fwmark = (int64_t)n;
	} else if (!strcmp(key, "replace_peers")) {
		if (strcmp(val, "true"))
			return -EINVAL;
		u->replace_peers = true;
	} else {
		return -EINVAL;
	}
	return 0;
}

static int set_allowed_ip(struct mg_peer_conf *p, const char *val)
{
	struct mg_ipprefix pf;
	bool remove = val[0] == '-';

	/* "-prefix" removes one prefix (wireguard-go 0.0.20250522+, wg v1.0.20250521+). */
	if (addrfmt_parse_prefix(&pf, val + remove) || !strchr(val, '/'))
		return -EINVAL;
	return devconf_allowed_ip_append(p, &pf, remove);
}

static int set_peer_key(struct mg_peer_conf *p, const char *key, const char *val)
{
	unsigned long long n;

	if (!strcmp(key, "remove") || !strcmp(key, "update_only") || !strcmp(key, "replace_allowed_ips")) {
		if (strcmp(val, "true"))
			return -EINVAL;
		if (!strcmp(key, "remove"))
			p->remove = true;
		else if (!strcmp(key, "update_only"))
			p->update_only = true;
		else
			p->replace_allowed_ips = true;
	} else if (!strcmp(key, "preshared_key")) {
		if (keyfmt_hex_decode(p->preshared_key, val))
			return -EINVAL;
		p->has_preshared_key = true;
	} else if (!strcmp(key, "endpoint")) {
		if (addrfmt_parse_endpoint(&p->endpoint, val, false))
			return -EINVAL;
		p->has_endpoint = true;
	} else if (!strcmp(key, "persistent_keepalive_interval")) {
		if (!parse_u(val, UINT16_MAX, &n))
			return -EINVAL;
		p->persistent_keepalive = (int32_t)n;
	} else if (!strcmp(key, "allowed_ip")) {
		return set_allowed_ip(p, val);
	} else if (!strcmp(key, "protocol_version")) {
		if (strcmp(val, "1"))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return 0;
}

static int set_line(struct set_state *st, char *line)
{
	char *eq = strchr(line, '=');
	uint8_t pub[32];

	if (!eq)
		return -EPROTO;
	*eq = '\0';
	if (!strcmp(line, "public_key")) {
		/* Starts (or re-selects) a peer; ends the device section for good. */
		if (keyfmt_hex_decode(pub, eq + 1))
			return -EINVAL;
		if (!devconf_peer_append(st->u, pub))
			return -ENOMEM;
		st->peer = (ssize_t)st->u->n_peers - 1;
		return 0;
	}
	if (st->peer < 0)
		return set_device_key(st, line, eq + 1);
	return set_peer_key(&st->u->peers[st->peer], line, eq + 1);
}

int uapi_parse_set(const char *body, size_t len, struct mg_device_update *out)
{
	struct set_state st = { .u = out, .peer = -1 };
	const char *end = body + len, *nl;
	char line[256];
	size_t n;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->listen_port = -1;
	out->fwmark = -1;
	while (body < end && !ret) {
		nl = memchr(body, '\n', (size_t)(end - body));
		n = (size_t)((nl ? nl : end) - body);
		/* The longest valid line is a hex key (~80 bytes); NUL or blank lines are framing errors. */
		if (n == 0 || memchr(body, '\0', n))
			ret = -EPROTO;
		else if (n >= sizeof(line))
			ret = memchr(body, '=', n) ? -EINVAL : -EPROTO;
		else {
			memcpy(line, body, n);
			line[n] = '\0';
			ret = set_line(&st, line);
		}
		if (!nl)
			break;
		body = nl + 1;
	}
	explicit_bzero(line, sizeof(line));
	if (ret)
		devconf_update_free(out);
	return ret;
}

/* ---- connections ---- */

static void conn_close(struct uapi_conn *c)
{
	struct uapi *u = c->u;
	struct uapi_conn **pp;

	for (pp = &u->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	u->n_conns--;
	evsource_del(u->epfd, c->fd);
	close(c->fd);
	if (c->in)
		explicit_bzero(c->in, c->in_len);   /* set requests carry keys */
	if (c->out)
		explicit_bzero(c->out, c->out_len); /* get replies too */
	free(c->in);
	free(c->out);
	free(c);
}

static int conn_queue(struct uapi_conn *c, const char *data, size_t len)
{
	char *np;

	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
	}
	np = realloc(c->out, c->out_len + len);
	if (!np)
		return -ENOMEM;
	c->out = np;
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return 0;
}

static int conn_reply_errno(struct uapi_conn *c, int err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "errno=%d\n\n", err);

	return conn_queue(c, buf, (size_t)n);
}

static int do_get(struct uapi_conn *c)
{
	struct uapi_device_view v;
	size_t len;
	char *txt;
	int ret;

	memset(&v, 0, sizeof(v));
	ret = c->u->ops->get(c->u->ctx, &v);
	if (ret < 0)
		return conn_reply_errno(c, ret);
	ret = uapi_format_get(&v, &txt, &len);
	c->u->ops->get_release(c->u->ctx, &v);
	if (ret < 0)
		return conn_reply_errno(c, ret);
	ret = conn_queue(c, txt, len);
	explicit_bzero(txt, len);
	free(txt);
	return ret;
}

static int do_set(struct uapi_conn *c, const char *body, size_t len)
{
	struct mg_device_update upd;
	int ret;

	ret = uapi_parse_set(body, len, &upd);
	if (!ret) {
		ret = c->u->ops->set(c->u->ctx, &upd);
		devconf_update_free(&upd);
	}
	return conn_reply_errno(c, ret > 0 ? -ret : ret);
}

/*
 * Runs the next whole operation at the head of the input, if there is one.
 * 1 = ran one, 0 = need more input, -1 = close the connection (after flushing).
 */
static int conn_next_op(struct uapi_conn *c)
{
	static const char get[] = "get=1\n", set[] = "set=1\n";
	size_t n = c->in_len < 6 ? c->in_len : 6, i, used;
	int ret;

	if (c->in_len == 0)
		return 0;
	if (memcmp(c->in, get, n) && memcmp(c->in, set, n))
		return -1;             /* not an operation: wireguard-go hangs up too */
	if (c->in_len < 7)
		return 0;
	if (c->in[0] == 'g') {
		if (c->in[6] != '\n') {
			conn_reply_errno(c, -EINVAL);
			return -1;
		}
		used = 7;
		ret = do_get(c);
	} else {
		/* The body ends at the first "\n\n" at or after the '\n' of "set=1\n". */
		for (i = c->scan > 5 ? c->scan : 5; i + 1 < c->in_len; i++)
			if (c->in[i] == '\n' && c->in[i + 1] == '\n')
				break;
		if (i + 1 >= c->in_len) {
			c->scan = i;
			return 0;
		}
		used = i + 2;
		ret = do_set(c, c->in + 6, i + 1 - 6);
	}
	explicit_bzero(c->in, used);
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	c->scan = 0;
	return ret ? -1 : 1;
}

/* 1 = nothing left to send, 0 = the socket is full, -1 = error. */
static int conn_flush(struct uapi_conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		c->out_off += (size_t)n;
	}
	return 1;
}

/* One read into the input buffer. 1 = progress (data or EOF), 0 = nothing yet, -1 = close. */
static int conn_fill(struct uapi_conn *c)
{
	size_t cap;
	ssize_t n;
	char *np;

	if (c->in_len == c->in_cap) {
		if (c->in_cap >= UAPI_MAX_REQUEST)
			return -1;     /* no operation this large is legal */
		cap = c->in_cap ? c->in_cap * 2 : 4096;
		np = realloc(c->in, cap);
		if (!np)
			return -1;
		c->in = np;
		c->in_cap = cap;
	}
	n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	if (n == 0)
		c->eof = true;
	c->in_len += (size_t)n;
	return 1;
}

static int conn_want(struct uapi_conn *c, uint32_t events)
{
	if (c->events == events)
		return 0;
	c->events = events;
	return evsource_mod(c->u->epfd, c->fd, events, &c->ev);
}

/* Alternates flush -> run one operation -> read until it has to wait for the socket. */
static void conn_run(struct uapi_conn *c)
{
	int r;

	for (;;) {
		r = conn_flush(c);
		if (r < 0)
			break;
		if (r == 0) {
			if (conn_want(c, EPOLLOUT))
				break;
			return;
		}
		if (c->closing)
			break;
		r = conn_next_op(c);
		if (r < 0)
			c->closing = true;
		if (r != 0)
			continue;
		if (c->eof)
			break;
		r = conn_fill(c);
		if (r < 0)
			break;
		if (r == 0) {
			if (conn_want(c, EPOLLIN))
				break;
			return;
		}
	}
	conn_close(c);
}

static void conn_cb(struct evsource *src, uint32_t events)
{
	struct uapi_conn *c = container_of(src, struct uapi_conn, ev);

	if (events & EPOLLERR) {
		conn_close(c);
		return;
	}
	conn_run(c);
}

static void listen_cb(struct evsource *src, uint32_t events)
{
	struct uapi *u = container_of(src, struct uapi, ev);
	struct uapi_conn *c;
	int fd;

	(void)events;
	for (;;) {
		fd = accept4(u->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;    /* EAGAIN, or EMFILE & co: try again on the next wakeup */
		c = u->n_conns < UAPI_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(fd);
			continue;
		}
		c->ev.cb = conn_cb;
		c->u = u;
		c->fd = fd;
		c->events = EPOLLIN;
		if (evsource_add(u->epfd, fd, EPOLLIN, &c->ev)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = u->conns;
		u->conns = c;
		u->n_conns++;
	}
}

/* ---- the listening socket ---- */

static bool valid_name(const char *s)
{
	size_t len = strlen(s);

	/* wg(8) rejects '/' in names; the length keeps the socket path short and ifname-sized. */
	return len > 0 && len < 16 && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* A socket file nobody accepts on is left over from a crash: wg(8) and wireguard-go unlink it. */
static int remove_stale(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int r;

	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	r = r ? errno : 0;
	close(fd);
	if (r != ECONNREFUSED)
		return -EADDRINUSE;    /* live (or busy) daemon: not ours to take over */
	return unlink(sa->sun_path) && errno != ENOENT ? -errno : 0;
}

static int bind_socket(struct uapi *u)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int r, tries;

	if (mkdir(UAPI_SOCKET_DIR, 0755) && errno != EEXIST)
		return -errno;
	memcpy(sa.sun_path, u->path, sizeof(sa.sun_path));
	u->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (u->fd < 0)
		return -errno;
	for (tries = 0; tries < 2; tries++) {
		/* srwx------ (umask 0077) like wireguard-go: the socket hands out private keys. The
		 * umask is process-wide: call uapi_init at startup, before threads create files. */
		old = umask(0077);
		r = bind(u->fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
		umask(old);
		if (r != -EADDRINUSE)
			break;
		r = remove_stale(&sa);
		if (r)
			break;
	}
	if (!r && stat(u->path, &st))
		r = -errno;
	if (!r && listen(u->fd, 16))
		r = -errno;
	if (r) {
		close(u->fd);
		u->fd = -1;
		return r;
	}
	u->ino = st.st_ino;
	return 0;
}

int uapi_init(struct uapi **out, const char *ifname, int epfd, const struct uapi_ops *ops, void *ctx)
{
	struct uapi *u;
	int r;

	if (!valid_name(ifname))
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	snprintf(u->path, sizeof(u->path), "%s/%s.sock", UAPI_SOCKET_DIR, ifname);
	u->ev.cb = listen_cb;
	u->epfd = epfd;
	u->ops = ops;
	u->ctx = ctx;
	r = bind_socket(u);
	if (r)
		goto err_free;
	if (evsource_add(epfd, u->fd, EPOLLIN, &u->ev)) {
		r = -errno;
		goto err_unlink;
	}
	*out = u;
	return 0;

err_unlink:
	unlink(u->path);
	close(u->fd);
err_free:
	free(u);
	return r;
}

void uapi_uninit(struct uapi *u)
{
	struct stat st;

	if (!u)
		return;
	while (u->conns)
		conn_close(u->conns);
	evsource_del(u->epfd, u->fd);
	close(u->fd);
	if (!stat(u->path, &st) && st.st_ino == u->ino)
		unlink(u->path);
	free(u);
}
