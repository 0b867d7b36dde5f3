// SPDX-License-Identifier: GPL-2.0-only
/*
 * dpdk_steer.c - the facts bpf/steer_decide.h asks for, as the DPDK backend knows them: our
 * addresses from the netlink snapshot, the tunnel routes from the allowed IPs (the XDP loader
 * installs the same prefixes into its LPM maps), the listen port and SNAT flag from the device.
 */
#include <sys/socket.h>
#include "io/dpdk_steer.h"
#include "device.h"
#include "netlink/nlmirror.h"

_Static_assert(STEER_NAT_PORT_MIN == NAT_PORT_MIN && STEER_NAT_PORT_MAX == NAT_PORT_MAX,
	       "the steering NAT range must be the NAT table's");

struct steer_env {
	struct mg_device *dev;
	const struct nl_snapshot *nl;
};

static int af_of(int family)
{
	return family == STEER_FAMILY_V4 ? AF_INET : AF_INET6;
}

static bool steer_env_local(const struct steer_env *env, int family, const __u8 *addr)
{
	return nl_snapshot_is_local(env->nl, af_of(family), addr);
}

static bool steer_env_routed(const struct steer_env *env, int family, const __u8 *addr)
{
	return allowedips_lookup(&env->dev->allowedips, af_of(family), addr) != NULL;
}

static bool steer_env_bcast4(const struct steer_env *env, const __u8 *addr)
{
	return nl_snapshot_is_bcast4(env->nl, addr);
}

static __u16 steer_env_port(const struct steer_env *env)
{
	return atomic_load_explicit(&env->dev->listen_port, memory_order_relaxed);
}

static bool steer_env_nat(const struct steer_env *env)
{
	return env->dev->snat;
}

#include "../bpf/steer_decide.h"

enum steer_verdict dpdk_steer_verdict(struct mg_device *dev, const struct nl_snapshot *nl,
				      const uint8_t *frame, uint32_t len)
{
	const struct steer_env env = { .dev = dev, .nl = nl };

	return steer_decide(&env, frame, frame + len);
}
