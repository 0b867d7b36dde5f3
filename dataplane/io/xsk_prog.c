// SPDX-License-Identifier: GPL-2.0-only
/* xsk_prog.c - loads bpf/xdp_steer.bpf.o with libxdp and keeps its maps. */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "io/xsk_prog.h"
#include "../bpf/steer_maps.h"

static int map_fd(struct xdp_program *prog, const char *name)
{
	struct bpf_object *obj = xdp_program__bpf_obj(prog);
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);

	return map ? bpf_map__fd(map) : -ENOENT;
}

/*
 * A meshgate that was killed (SIGKILL, crash) leaves its program attached. If the interface's only
 * program is a stale xdp_steer, detach it; anything else belongs to someone else and stays.
 */
static void detach_stale(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *main_prog;

	if (libxdp_get_error(mp) || !mp)
		return;
	main_prog = xdp_multiprog__main_prog(mp);
	if (xdp_multiprog__is_legacy(mp) && main_prog &&
	    !strcmp(xdp_program__name(main_prog), "xdp_steer")) {
		fprintf(stderr, "meshgate: detaching a stale xdp_steer program left by an earlier run\n");
		xdp_multiprog__detach(mp);
	}
	xdp_multiprog__close(mp);
}

int steer_prog_attach(struct steer_prog *sp, int ifindex, const char *obj_path)
{
	static const enum xdp_attach_mode modes[] = { XDP_MODE_NATIVE, XDP_MODE_SKB };
	int ret = -EINVAL;

	memset(sp, 0, sizeof(*sp));
	sp->prog = xdp_program__open_file(obj_path, "xdp", NULL);
	ret = libxdp_get_error(sp->prog);
	if (ret) {
		sp->prog = NULL;
		return ret;
	}
	detach_stale(ifindex);
	/* Native first; generic (skb) mode works everywhere, slower, and is said so in the log. */
	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ret = xdp_program__attach(sp->prog, ifindex, modes[i], 0);
		if (!ret) {
			sp->mode = modes[i];
			break;
		}
	}
	if (ret) {
		xdp_program__close(sp->prog);
		sp->prog = NULL;
		return ret;
	}
	sp->ifindex = ifindex;
	sp->xsks_fd = map_fd(sp->prog, "xsks_map");
	sp->cfg_fd = map_fd(sp->prog, "steer_cfg");
	sp->local_fd = map_fd(sp->prog, "steer_local");
	sp->routes4_fd = map_fd(sp->prog, "steer_routes4");
	sp->routes6_fd = map_fd(sp->prog, "steer_routes6");
	sp->stats_fd = map_fd(sp->prog, "steer_stats");
	if (sp->xsks_fd < 0 || sp->cfg_fd < 0 || sp->local_fd < 0 || sp->routes4_fd < 0 ||
	    sp->routes6_fd < 0 || sp->stats_fd < 0) {
		steer_prog_detach(sp);
		return -ENOENT;
	}
	return 0;
}

void steer_prog_detach(struct steer_prog *sp)
{
	if (!sp->prog)
		return;
	xdp_program__detach(sp->prog, sp->ifindex, sp->mode, 0);
	xdp_program__close(sp->prog);
	sp->prog = NULL;
}

static int cfg_update(struct steer_prog *sp, void (*change)(struct steer_cfg *, uint32_t), uint32_t v)
{
	struct steer_cfg cfg = { 0 };
	__u32 zero = 0;

	bpf_map_lookup_elem(sp->cfg_fd, &zero, &cfg);
	change(&cfg, v);
	return bpf_map_update_elem(sp->cfg_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

static void cfg_port(struct steer_cfg *cfg, uint32_t v)
{
	cfg->listen_port_be = htons((uint16_t)v);
}

static void cfg_nat(struct steer_cfg *cfg, uint32_t v)
{
	cfg->flags = v ? cfg->flags | STEER_F_NAT : cfg->flags & ~STEER_F_NAT;
}

int steer_prog_set_port(struct steer_prog *sp, uint16_t port)
{
	return cfg_update(sp, cfg_port, port);
}

int steer_prog_set_nat(struct steer_prog *sp, bool on)
{
	return cfg_update(sp, cfg_nat, on);
}

int steer_prog_local(struct steer_prog *sp, int family, const uint8_t *addr, bool add)
{
	struct steer_local key = { .family = family == AF_INET ? STEER_FAMILY_V4 : STEER_FAMILY_V6 };
	__u8 one = 1;

	memcpy(key.addr, addr, family == AF_INET ? 4 : 16);
	if (add)
		return bpf_map_update_elem(sp->local_fd, &key, &one, BPF_ANY) ? -errno : 0;
	return bpf_map_delete_elem(sp->local_fd, &key) && errno != ENOENT ? -errno : 0;
}

int steer_prog_route(struct steer_prog *sp, int family, const uint8_t *addr, uint8_t cidr, bool add)
{
	struct steer_lpm6 key6 = { .prefixlen = cidr };
	struct steer_lpm4 key4 = { .prefixlen = cidr };
	int fd = family == AF_INET ? sp->routes4_fd : sp->routes6_fd;
	void *key = family == AF_INET ? (void *)&key4 : (void *)&key6;
	__u8 one = 1;

	memcpy(family == AF_INET ? key4.addr : key6.addr, addr, family == AF_INET ? 4 : 16);
	if (add)
		return bpf_map_update_elem(fd, key, &one, BPF_ANY) ? -errno : 0;
	return bpf_map_delete_elem(fd, key) && errno != ENOENT ? -errno : 0;
}


/* The IPv4 addresses and (for prefixes up to /30) subnet broadcasts of ifname, then its IPv6 ones. */
static size_t local_keys(const char *ifname, struct steer_local *k, size_t max)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (getifaddrs(&ifa))
		return SIZE_MAX;
	for (i = ifa; i && n + 2 <= max; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			uint32_t a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
			uint32_t m = i->ifa_netmask ? ((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr : ~0u;

			k[n] = (struct steer_local){ .family = STEER_FAMILY_V4 };
			memcpy(k[n++].addr, &a, 4);
			if (ntohl(m) > 0xfffffffcu)            /* /31, /32: no broadcast address */
				continue;
			a |= ~m;
			k[n] = (struct steer_local){ .family = STEER_FAMILY_BCAST4 };
			memcpy(k[n++].addr, &a, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			k[n] = (struct steer_local){ .family = STEER_FAMILY_V6 };
			memcpy(k[n++].addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		}
	}
	freeifaddrs(ifa);
	return n;
}

static bool key_in(const struct steer_local *k, const struct steer_local *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(k, &set[i], sizeof(*k)))
			return true;
	return false;
}

/*
 * Adds the keys first, then deletes what is no longer there, so an address that stays is never
 * missing. The stale keys are gathered before any delete: deleting while walking a hash map can
 * restart the walk.
 */
int steer_prog_local_set(struct steer_prog *sp, const struct steer_local *keys, size_t n)
{
	/* zeroed: the kernel writes next, but the syscall's argument checkers read the buffers */
	struct steer_local cur = { 0 }, next = { 0 }, stale[STEER_MAX_LOCAL];
	size_t nstale = 0;
	void *prev = NULL;
	__u8 one = 1;

	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(sp->local_fd, &keys[i], &one, BPF_ANY))
			return -errno;
	while (nstale < STEER_MAX_LOCAL && !bpf_map_get_next_key(sp->local_fd, prev, &next)) {
		cur = next;
		prev = &cur;
		if (!key_in(&cur, keys, n))
			stale[nstale++] = cur;
	}
	for (size_t i = 0; i < nstale; i++)
		if (bpf_map_delete_elem(sp->local_fd, &stale[i]) && errno != ENOENT)
			return -errno;
	return 0;
}

int steer_prog_local_sync(struct steer_prog *sp, const char *ifname)
{
	struct steer_local keys[STEER_MAX_LOCAL];
	size_t n = local_keys(ifname, keys, STEER_MAX_LOCAL);

	if (n == SIZE_MAX)
		return -errno;
	return steer_prog_local_set(sp, keys, n);
}

int steer_prog_stats(struct steer_prog *sp, uint64_t out[STEER_NSTATS])
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 vals[ncpu > 0 ? ncpu : 1];

	if (ncpu <= 0)
		return -EINVAL;
	for (__u32 k = 0; k < STEER_NSTATS; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(sp->stats_fd, &k, vals))
			return -errno;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	return 0;
}
