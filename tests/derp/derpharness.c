// SPDX-License-Identifier: GPL-2.0-only
/*
 * derpharness.c - meshgate's DERP client (control/derp/derp.c, control/conf/derpmap.c) alone on an epoll loop,
 * driven by tests/derp/t_local.py against the independent server tests/derp/derpd.py.
 *
 *   derpharness MAP.json PRIVHEX SECONDS [--echo] [--idle-ms N]
 * MAP.json is a DERPMap "Regions" object. DERP_CA_FILE (env) is the extra trust anchor.
 * stdin lines "SEND <region> <dst key hex> <payload hex>" send packets; "QUIT" ends the run
 * (cleanly: everything freed, so a sanitizer build checks for leaks).
 * stdout lines: "UP <region> home=<0|1>", "DOWN <region>", "RECV <region> <src hex> <payload hex>",
 * "SENT <region> <rc>", "HOME <region>". --echo sends every received packet back to its source.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <jansson.h>
#include <sodium.h>
#include "derp.h"
#include "derpmap.h"
#include "evsource.h"

static struct derp *d;
static bool echo, quit;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_recv(void *arg, int region, const uint8_t src[32], const uint8_t *pkt, size_t len)
{
	char hs[65], *hp = malloc(2 * len + 1);

	(void)arg;
	sodium_bin2hex(hs, sizeof(hs), src, 32);
	sodium_bin2hex(hp, 2 * len + 1, pkt, len);
	printf("RECV %d %s %s\n", region, hs, hp);
	fflush(stdout);
	free(hp);
	if (echo)
		derp_send(d, region, src, pkt, len, now_ns());
}

struct stdin_src {
	struct evsource src;
	char buf[8192];
	size_t len;
};

static void on_stdin(struct evsource *src, uint32_t events)
{
	struct stdin_src *s = (struct stdin_src *)src;
	ssize_t n = read(0, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
	char *nl;

	(void)events;
	if (n <= 0)
		return;
	s->len += (size_t)n;
	s->buf[s->len] = 0;
	while ((nl = strchr(s->buf, '\n'))) {
		char khex[80], phex[4096];
		uint8_t key[32], pkt[2048];
		size_t klen = 0, plen = 0;
		int region;

		*nl = 0;
		if (!strcmp(s->buf, "QUIT"))
			quit = true;
		else if (sscanf(s->buf, "SEND %d %79s %4095s", &region, khex, phex) == 3 &&
		    !sodium_hex2bin(key, 32, khex, strlen(khex), NULL, &klen, NULL) && klen == 32 &&
		    !sodium_hex2bin(pkt, sizeof(pkt), phex, strlen(phex), NULL, &plen, NULL)) {
			printf("SENT %d %d\n", region, derp_send(d, region, key, pkt, plen, now_ns()));
			fflush(stdout);
		}
		memmove(s->buf, nl + 1, s->len - (size_t)(nl + 1 - s->buf) + 1);
		s->len -= (size_t)(nl + 1 - s->buf);
	}
}

int main(int argc, char **argv)
{
	struct derp_cfg cfg = { .recv = on_recv, .ca_file = getenv("DERP_CA_FILE") };
	struct derp_region regions[DERP_REGIONS_MAX];
	struct derp_region_status st[DERP_REGIONS_MAX];
	bool was_up[DERP_REGIONS_MAX] = { false };
	struct stdin_src in = { .src.cb = on_stdin };
	uint8_t priv[32];
	size_t klen, n;
	json_error_t jerr;
	json_t *map;
	uint64_t end;
	int epfd;

	if (argc < 4 || sodium_init() < 0)
		return 2;
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--echo"))
			echo = true;
		else if (!strcmp(argv[i], "--idle-ms") && i + 1 < argc)
			cfg.idle_ns = strtoull(argv[++i], NULL, 10) * 1000000ull;
		else if (!strcmp(argv[i], "--probe-ms") && i + 1 < argc)
			cfg.probe_ns = strtoull(argv[++i], NULL, 10) * 1000000ull;
	}
	map = json_load_file(argv[1], 0, &jerr);
	if (!map || sodium_hex2bin(priv, 32, argv[2], strlen(argv[2]), NULL, &klen, NULL) || klen != 32) {
		fprintf(stderr, "derpharness: bad map or key\n");
		return 2;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	cfg.epfd = epfd;
	if (derp_init(&d, &cfg))
		return 1;
	derp_set_key(d, priv);
	n = derp_map_parse(map, regions, DERP_REGIONS_MAX);
	json_decref(map);
	derp_set_map(d, regions, n, now_ns());
	printf("HOME %d\n", derp_home(d));
	fflush(stdout);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	evsource_add(epfd, 0, EPOLLIN, &in.src);
	end = now_ns() + strtoull(argv[3], NULL, 10) * 1000000000ull;
	while (now_ns() < end && !quit) {
		struct epoll_event ev[16];
		int k = epoll_wait(epfd, ev, 16, 20);

		for (int i = 0; i < k; i++)
			((struct evsource *)ev[i].data.ptr)->cb(ev[i].data.ptr, ev[i].events);
		derp_tick(d, now_ns());
		n = derp_get_status(d, st, DERP_REGIONS_MAX);
		for (size_t i = 0; i < n; i++) {
			if (st[i].up && !was_up[i])
				printf("UP %d home=%d\n", st[i].id, st[i].home);
			else if (!st[i].up && was_up[i])
				printf("DOWN %d\n", st[i].id);
			was_up[i] = st[i].up;
		}
		fflush(stdout);
	}
	derp_uninit(d);
	close(epfd);
	return 0;
}
