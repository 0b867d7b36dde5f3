// SPDX-License-Identifier: GPL-2.0-only
/*
 * derp_tls.c - the TLS side of a DERP connection (and the map's CertName/InsecureForTests).
 * The handshake itself is driven non-blocking by derp.c; this file only sets up what is checked.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <sodium.h>
#include "derp_tls.h"

#define PIN_PREFIX "sha256-raw:"

static bool is_ip_literal(const char *s)
{
	uint8_t buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

SSL_CTX *derp_tls_ctx_new(const char *ca_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Non-blocking writes from a buffer that moves as it drains (derp.c's output queue). */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_default_verify_paths(ctx);
	if (ca_file && ca_file[0] && !SSL_CTX_load_verify_locations(ctx, ca_file, NULL)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL *derp_tls_new(SSL_CTX *ctx, int fd, const struct derp_node *n)
{
	const char *name = n->cert_name[0] ? n->cert_name : n->host;
	SSL *ssl = SSL_new(ctx);
	int ok;

	if (!ssl || !SSL_set_fd(ssl, fd))
		goto err;
	if (!is_ip_literal(n->host))
		SSL_set_tlsext_host_name(ssl, n->host);
	if (n->insecure || !strncmp(name, PIN_PREFIX, strlen(PIN_PREFIX))) {
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);   /* a pin is checked after the handshake */
		return ssl;
	}
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	if (is_ip_literal(name))
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
	else
		ok = SSL_set1_host(ssl, name);
	if (ok)
		return ssl;
err:
	SSL_free(ssl);
	return NULL;
}

bool derp_tls_pin_ok(SSL *ssl, const struct derp_node *n)
{
	uint8_t der_hash[32];
	char hex[65];
	unsigned hl = 0;
	X509 *cert;
	bool ok;

	if (n->insecure || strncmp(n->cert_name, PIN_PREFIX, strlen(PIN_PREFIX)))
		return true;
	cert = SSL_get1_peer_certificate(ssl);
	if (!cert)
		return false;
	ok = X509_digest(cert, EVP_sha256(), der_hash, &hl) && hl == 32;
	X509_free(cert);
	sodium_bin2hex(hex, sizeof(hex), der_hash, 32);
	/* A public hash: plain comparison is fine. */
	return ok && !strcasecmp(hex, n->cert_name + strlen(PIN_PREFIX));
}
