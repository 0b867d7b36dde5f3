/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsconn.h - one ts2021 control connection: POST /ts2021 upgrade carrying the
 * Noise initiation, the Noise response, transport records, the early payload, then HTTP/2 with
 * prior knowledge (nghttp2) over the decrypted stream. Requests are multiplexed as streams.
 */
#ifndef MG_HSCONN_H
#define MG_HSCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <nghttp2/nghttp2.h>
#include "hsframe.h"
#include "hsnoise.h"
#include "hstcp.h"

struct hs_conn_ops {
	void (*ready)(void *arg);                                   /* HTTP/2 usable */
	void (*failed)(void *arg, const char *why);                 /* the connection is dead: close it */
	void (*response)(void *arg, int32_t stream, int status);    /* response headers complete */
	void (*data)(void *arg, int32_t stream, const uint8_t *data, size_t len);
	void (*closed)(void *arg, int32_t stream, uint32_t h2_error);
};

struct hs_body;

enum hs_conn_state { HS_CONN_IDLE, HS_CONN_UPGRADE, HS_CONN_NOISE, HS_CONN_RECORDS, HS_CONN_DEAD };

struct hs_conn {
	enum hs_conn_state state;
	struct hs_tcp tcp;
	struct hs_noise_hs hs;
	struct hs_transport tr;
	struct hs_early early;
	nghttp2_session *h2;
	bool h2_ready;
	struct hs_body *bodies;          /* request bodies not yet sent */
	uint8_t *in;                     /* raw bytes not yet parsed (headers, records) */
	size_t in_len, in_cap;
	char authority[300];
	const struct hs_conn_ops *ops;
	void *arg;
	char why[256];
};

/*
 * Connects to @host:@port (TLS if @ctx) and starts the upgrade with protocol version @capver,
 * machine key @machine_priv and server Noise key @server_pub. 0 or -errno.
 */
int hs_conn_open(struct hs_conn *c, int epfd, const char *host, uint16_t port, SSL_CTX *ctx, uint16_t capver,
		 const uint8_t machine_priv[32], const uint8_t server_pub[32], const struct hs_conn_ops *ops, void *arg);
/* Submits a request (body copied; NULL for none). Stream id > 0, or -errno. Only after ready. */
int32_t hs_conn_request(struct hs_conn *c, const char *method, const char *path, const char *body, size_t len);
/* Resets one stream (e.g. the map long-poll). */
void hs_conn_cancel(struct hs_conn *c, int32_t stream);
void hs_conn_close(struct hs_conn *c);

#endif
