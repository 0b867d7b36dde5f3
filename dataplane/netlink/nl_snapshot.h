/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nl_snapshot.h - the immutable route/neighbour/address table workers read: built by the control
 * thread from its nltables (nlmirror.c publishes it with liburcu QSBR), answered lock-free by any
 * thread. Its layout is private to nl_snapshot.c.
 *
 * Threads: nl_snapshot_build/free/retire run on the control thread. The readers
 * (nl_snapshot_lookup/is_local/mac/mtu) are lock-free for any registered, online QSBR thread; a
 * snapshot pointer stays valid until that thread's next quiescent state.
 */
#ifndef MG_NL_SNAPSHOT_H
#define MG_NL_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

struct nl_l2hop {
	uint8_t dst_mac[6], src_mac[6];
	uint8_t src_addr[16];    /* network byte order; IPv4 in the first 4 bytes, rest zero */
	uint8_t nexthop[16];     /* gateway, or the destination itself when on-link */
	int family;              /* AF_INET or AF_INET6 */
};

/* A hop copied in three 16-byte moves: as a struct assignment GCC copies its 48 bytes with
 * `rep movsl`, whose start-up alone costs a burst for many peers more than the rest of choosing
 * the path (a copy per packet there). */
static inline void nl_l2hop_copy(struct nl_l2hop *d, const struct nl_l2hop *s)
{
	_Static_assert(sizeof(*d) == 48, "struct nl_l2hop: three 16-byte moves");
	__builtin_memcpy((uint8_t *)d, (const uint8_t *)s, 16);
	__builtin_memcpy((uint8_t *)d + 16, (const uint8_t *)s + 16, 16);
	__builtin_memcpy((uint8_t *)d + 32, (const uint8_t *)s + 32, 16);
}

struct nl_snapshot;                   /* immutable once built */
struct nltables;

/* Builds a snapshot from the control thread's tables; NULL on allocation failure. */
struct nl_snapshot *nl_snapshot_build(const struct nltables *t);
/* At once: for a snapshot no reader can see (never published, or after a grace period). */
void nl_snapshot_free(struct nl_snapshot *s);
/* After every reader passed a quiescent state (call_rcu): for one just unpublished. */
void nl_snapshot_retire(struct nl_snapshot *s);

/* Longest-prefix match over the main table as the kernel sees it (routes via other interfaces
 * and blackhole/unreachable/prohibit routes take part, so a more specific one hides ours),
 * lowest metric first among equal prefixes; then the neighbour entry of the gateway, or of dst
 * when the route is on-link.
 *   0            out fully filled
 *   -EAGAIN      route via our interface, neighbour not usable yet; out->nexthop, ->family,
 *                ->src_addr and ->src_mac are set so the caller can ask for resolution
 *   -ENETUNREACH no route, or the best route does not leave through our interface
 * src_addr: the route's prefsrc, else an address of ours in that family (IPv4: one whose subnet
 * holds the next hop, else the first primary; IPv6: a usable global one first); all zero when
 * the interface has no address in that family. Usable neighbours: REACHABLE, STALE, DELAY, PROBE,
 * PERMANENT and NOARP with a 6-byte link-layer address. */
int nl_snapshot_lookup(const struct nl_snapshot *s, int family, const uint8_t *dst, struct nl_l2hop *out);
/* One of the interface's addresses. */
bool nl_snapshot_is_local(const struct nl_snapshot *s, int family, const uint8_t *addr);
/* The broadcast address of one of the interface's IPv4 subnets (prefixes up to /30). */
bool nl_snapshot_is_bcast4(const struct nl_snapshot *s, const uint8_t addr[4]);
/* The interface's own MAC. */
void nl_snapshot_mac(const struct nl_snapshot *s, uint8_t mac[6]);
/* The interface's MTU. */
uint32_t nl_snapshot_mtu(const struct nl_snapshot *s);
/* The snapshot's number, from 1, unique in the process (a freed snapshot's is never reused):
 * what a reader keys answers on to keep them past one snapshot dereference. */
uint64_t nl_snapshot_gen(const struct nl_snapshot *s);

#endif
