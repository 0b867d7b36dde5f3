/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hstcp.h - one non-blocking client connection for the control thread: name resolution off the
 * thread (getaddrinfo_a), connect, optional TLS (certificate and host name verified, SNI, no
 * ALPN: the ts2021 upgrade is HTTP/1.1), and a write queue flushed on EPOLLOUT.
 * Nothing here blocks; progress happens in epoll callbacks.
 */
#ifndef MG_HSTCP_H
#define MG_HSTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <openssl/ssl.h>
#include "evsource.h"

enum hs_tcp_event {
	HS_TCP_OPEN = 1,            /* connected (and TLS done): start writing */
	HS_TCP_READABLE,            /* call hs_tcp_read until -EAGAIN */
	HS_TCP_ERROR,               /* t->errtext says why; the owner closes */
};

enum hs_tcp_state { HS_TCP_IDLE, HS_TCP_RESOLVING, HS_TCP_CONNECTING, HS_TCP_TLS, HS_TCP_UP, HS_TCP_FAILED };

struct hs_resolve;
typedef void (*hs_tcp_cb)(void *arg, enum hs_tcp_event ev);

struct hs_tcp {
	enum hs_tcp_state state;
	int epfd, fd;
	struct evsource src;             /* the socket, or the resolver's eventfd while resolving */
	int watch_fd;                    /* fd currently registered with epoll; -1 = none */
	struct hs_resolve *res;
	struct addrinfo *ai, *ai_next;   /* candidates, tried in order */
	SSL_CTX *ctx;                    /* borrowed; NULL = plain TCP */
	SSL *ssl;
	char host[256];
	uint16_t port;
	uint8_t *wbuf;                   /* queued output */
	size_t wlen, wcap;
	bool want_write;                 /* EPOLLOUT registered */
	hs_tcp_cb cb;
	void *arg;
	char errtext[320];
};

/* A TLS client context that verifies against the system store (or @ca_file if not NULL). */
SSL_CTX *hs_tls_ctx_new(const char *ca_file);

/* Starts connecting; events arrive through @cb. 0 or -errno (nothing to close then). */
int hs_tcp_open(struct hs_tcp *t, int epfd, const char *host, uint16_t port, SSL_CTX *ctx, hs_tcp_cb cb, void *arg);
/* Bytes read (> 0), 0 at EOF, -EAGAIN, or -errno (errtext set). */
ssize_t hs_tcp_read(struct hs_tcp *t, void *buf, size_t len);
/* Queues and tries to flush. 0, or -errno (errtext set). */
int hs_tcp_write(struct hs_tcp *t, const void *buf, size_t len);
size_t hs_tcp_pending(const struct hs_tcp *t);
/* Stops epoll reporting for this connection (a dead one waiting for its owner to close it). */
void hs_tcp_mute(struct hs_tcp *t);
/* Closes everything; safe on an idle or already closed connection. */
void hs_tcp_close(struct hs_tcp *t);

#endif
