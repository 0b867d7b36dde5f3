// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_config.c - libFuzzer harness for the config parser (config_load_string) and the SIGHUP
 * diff (config_sync_update) on whatever the parser accepts. Name resolution is replaced below
 * so that Endpoint = host:port never touches the network during a run.
 */
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "config_sync.h"

/* Interposes libc's resolver: "localhost" resolves, every other name does not. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
	struct {
		struct addrinfo ai;
		struct sockaddr_in sin;
	} *r;

	(void)service;
	(void)hints;
	if (!node || strcmp(node, "localhost"))
		return EAI_NONAME;
	r = calloc(1, sizeof(*r));
	if (!r)
		return EAI_MEMORY;
	r->sin.sin_family = AF_INET;
	r->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->ai.ai_family = AF_INET;
	r->ai.ai_socktype = SOCK_DGRAM;
	r->ai.ai_addr = (struct sockaddr *)&r->sin;
	r->ai.ai_addrlen = sizeof(r->sin);
	*res = &r->ai;
	return 0;
}

void freeaddrinfo(struct addrinfo *res)
{
	free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t running[3][32] = { { 0 }, { 0x85, 0x20 }, { 0xff } };
	struct mg_device_update u;
	struct mg_config cfg;
	char err[256], *text;
	size_t i;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_string(&cfg, "fuzz.conf", text, err, sizeof(err)) == 0) {
		if (config_sync_update(&cfg, running, 3, &u) == 0) {
			/* Every running key absent from the file comes out as a removal. */
			for (i = 0; i < u.n_peers; i++)
				if (u.peers[i].remove && u.peers[i].n_allowed_ips)
					abort();
			devconf_update_free(&u);
		}
		config_free(&cfg);
	} else if (strncmp(err, "fuzz.conf:", 10)) {
		abort();   /* every parse error names FILE:LINE */
	}
	free(text);
	return 0;
}
