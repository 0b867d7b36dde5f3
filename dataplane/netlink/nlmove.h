/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nlmove.h - move an interface's IP configuration to another interface and back: its addresses,
 * the routes through it (every table) and its neighbour entries, read with rtnetlink dumps and
 * replayed with rtnetlink requests. Backend = dpdk takes the NIC's configuration over to the
 * exception TAP this way, and gives it back at exit.
 *
 * What moves:
 *   addresses   every IPv4 address; IPv6 ones except link-local (each link makes its own) and
 *               temporary (privacy) addresses, which the kernel regenerates. Lifetimes go along.
 *   routes      every route whose output interface (or one of whose nexthops) is the interface,
 *               in any table, except those the kernel makes for an address (proto kernel: the
 *               prefix route, the local and broadcast routes), which the address brings along.
 *   neighbours  every entry with a link-layer address: permanent ones stay permanent, learnt ones
 *               arrive as stale (usable at once, confirmed by the kernel on first use).
 *
 * An item whose request would not fit struct nlmove_item (a route with very many nexthops) is
 * left where it is, and said so on stderr.
 *
 * Each item is kept as the kernel's own message (header and the attributes a request may carry),
 * so it replays faithfully and serialises as bytes; the interface index in it is rewritten to the
 * target at each replay. Control thread only; each call blocks for kernel round trips.
 */
#ifndef MG_NLMOVE_H
#define MG_NLMOVE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

enum nlmove_kind { NLMOVE_ADDR, NLMOVE_ROUTE, NLMOVE_NEIGH };

struct nlmove_item {
	enum nlmove_kind kind;
	uint16_t len;
	/* struct nlmsghdr + family header + attributes; aligned as netlink messages are */
	_Alignas(struct nlmsghdr) uint8_t msg[512];
};

struct nlmove {
	struct nlmove_item *v;
	size_t n, cap;
};

/* Dumps ifindex's addresses, routes and neighbours into m (emptied first). 0 or -errno. */
int nlmove_capture(struct nlmove *m, int ifindex);

/*
 * Moves every item of m from interface `from` to interface `to`: routes, neighbours and addresses
 * are deleted from `from` (0 = skip this step, e.g. when it no longer exists; items already gone
 * are no error), then addresses, routes (gateway routes after direct ones) and neighbours are
 * added to `to` (items already there are no error). A failed item is reported on stderr with
 * what it is and the kernel's error, and the others still move. Returns the number of items
 * that could not be added to `to` (0 = all there), or -errno if `to` does not exist.
 */
int nlmove_apply(const struct nlmove *m, int from, int to);

/* One line naming an item as `ip` would ("inet 192.168.8.105/24", "route default via
 * 192.168.8.1 table main", "neigh 192.168.8.1 lladdr 02:00:00:00:00:01 permanent"). */
void nlmove_describe(const struct nlmove_item *it, char *out, size_t len);

/* Appends a copy of a message (kind from its type), checking its framing: 0, -EINVAL, -ENOMEM. */
int nlmove_add(struct nlmove *m, const uint8_t *msg, size_t len);

void nlmove_free(struct nlmove *m);

#endif
