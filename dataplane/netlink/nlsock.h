/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nlsock.h - the small rtnetlink request helpers the mirror and the TUN code share: a blocking
 * request socket, "send one request and wait for its ACK", and "dump and feed each message to a
 * callback". Control thread only (they block for one kernel round trip).
 */
#ifndef MG_NLSOCK_H
#define MG_NLSOCK_H

#include <stdint.h>
#include <libmnl/libmnl.h>

/* Receive buffer for dumps: big enough for the kernel's largest dump skb (32 KiB with 4K pages). */
#define NLSOCK_BUFSZ 32768

/* Opens a NETLINK_ROUTE socket bound to an automatic port id; NULL with errno set. */
struct mnl_socket *nlsock_open(void);

/* Sends nlh (NLM_F_ACK is added) and waits for the kernel's answer: 0 or -errno from the ACK. */
int nlsock_request(struct mnl_socket *nl, struct nlmsghdr *nlh);

/* Sends a NLM_F_DUMP request and runs cb on every reply message; restarts the dump (calling
 * restart(data) first, if not NULL) when the kernel reports it was interrupted by a change.
 * 0 or -errno. */
int nlsock_dump(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
		void (*restart)(void *data));

/* One-shot helper for callers without a socket: opens, requests, closes. */
int nlsock_request_once(struct nlmsghdr *nlh);

#endif
