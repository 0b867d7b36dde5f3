/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derp_tls.h - TLS for DERP connections: one OpenSSL client context (TLS 1.2+, no
 * ALPN, the system store plus an optional CA file) and, per connection, the name check the DERP
 * map asks for: CertName (or HostName) as DNS name or IP address, a "sha256-raw:<hex>" pin of the
 * leaf certificate, or no check at all for InsecureForTests.
 */
#ifndef MG_DERP_TLS_H
#define MG_DERP_TLS_H

#include <stdbool.h>
#include <openssl/ssl.h>
#include "derp_types.h"

/* NULL if the context cannot be made or @ca_file (optional) cannot be loaded. */
SSL_CTX *derp_tls_ctx_new(const char *ca_file);
/* A client SSL on @fd for node @n: SNI = HostName (unless an IP), verification per the map. */
SSL *derp_tls_new(SSL_CTX *ctx, int fd, const struct derp_node *n);
/* After the handshake: true unless CertName is a sha256-raw pin the leaf does not match. */
bool derp_tls_pin_ok(SSL *ssl, const struct derp_node *n);

#endif
