// SPDX-License-Identifier: GPL-2.0-only
/*
 * nlmirror.c - keeps nltables in step with the kernel and publishes snapshots to workers.
 *
 * Two sockets: evsock is subscribed to the change groups and read non-blocking from the epoll
 * loop; req carries our own dumps and requests, so a dump's replies never interleave with
 * events. Subscribing before dumping means nothing is missed: a change that lands during the
 * dump is both in the dump and queued on evsock, and applying it twice is harmless because
 * every update is an idempotent upsert or delete, applied in kernel order.
 *
 * Coalescing: one wakeup drains evsock (bounded), then rebuilds and publishes at most once.
 * Lost events (ENOBUFS on evsock) and changes the kernel does not announce (IPv4 drops routes
 * silently when a device goes down or loses an address) are repaired by re-dumping.
 */
#define _LGPL_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <linux/neighbour.h>
#include <libmnl/libmnl.h>
#include "rcu.h"

#include "mg.h"
#include "evsource.h"
#include "netlink/nlmirror.h"
#include "netlink/nlsock.h"
#include "netlink/nltables.h"
#include "netlink/nl_snapshot.h"

#define NLM_RESOLVE_SLOTS     256      /* direct-mapped: a collision only costs an extra probe */
#define NLM_RESOLVE_INTERVAL  (100 * NSEC_PER_MSEC)
#define NLM_MAX_RECV_PER_WAKE 256      /* then yield to the loop; level-triggered epoll returns */
#define NLM_RCVBUF            (4 << 20)

struct nlm_resolve_slot {
	uint64_t last_ns;
	uint8_t family;
	uint8_t addr[16];
};

struct nlmirror {
	struct evsource ev;              /* control thread: epoll hook for evsock */
	int epfd;
	struct mnl_socket *evsock;       /* subscribed to changes, non-blocking */
	struct mnl_socket *req;          /* blocking dumps and requests */
	struct nltables t;               /* owned by the control thread */
	struct nl_snapshot *snap;        /* written by control, published with RCU */
	unsigned int pending;            /* NLT_* bits gathered in the current wakeup */
	bool need_full_resync;           /* events were lost */
	unsigned long resyncs;           /* full re-dumps done (diagnostics) */
	void (*notify)(void *ctx);
	void *notify_ctx;
	struct nlm_resolve_slot resolve[NLM_RESOLVE_SLOTS];   /* control thread only */
};

static uint64_t nlm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int nlm_apply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlmirror *m = data;
	int ret = nltables_apply(&m->t, nlh);

	if (ret < 0) {
		errno = -ret;
		return MNL_CB_ERROR;
	}
	m->pending |= (unsigned int)ret;
	return MNL_CB_OK;
}

static void nlm_restart_routes(void *data)
{
	nltables_clear_routes(&((struct nlmirror *)data)->t);
}

static void nlm_restart_all(void *data)
{
	nltables_clear_all(&((struct nlmirror *)data)->t);
}

/* family AF_UNSPEC dumps both address families; the header size matches each message type so
 * kernels with strict checking accept it. */
static int nlm_dump(struct nlmirror *m, uint16_t type, size_t hdrlen, void (*restart)(void *))
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	mnl_nlmsg_put_extra_header(nlh, hdrlen);   /* zeroed: family AF_UNSPEC, no filters */
	return nlsock_dump(m->req, nlh, nlm_apply_cb, m, restart);
}

static int nlm_dump_routes(struct nlmirror *m)
{
	nltables_clear_routes(&m->t);
	return nlm_dump(m, RTM_GETROUTE, sizeof(struct rtmsg), nlm_restart_routes);
}

/* Link first (it says whether ifindex exists), then addresses (routes' source choice). An
 * interrupted dump of any table restarts from a clean slate via nlm_restart_all. */
static int nlm_dump_all(struct nlmirror *m)
{
	int ret;

	nltables_clear_all(&m->t);
	ret = nlm_dump(m, RTM_GETLINK, sizeof(struct ifinfomsg), nlm_restart_all);
	if (!ret && !m->t.present)
		ret = -ENODEV;
	if (!ret)
		ret = nlm_dump(m, RTM_GETADDR, sizeof(struct ifaddrmsg), NULL);
	if (!ret)
		ret = nlm_dump(m, RTM_GETROUTE, sizeof(struct rtmsg), nlm_restart_routes);
	if (!ret)
		ret = nlm_dump(m, RTM_GETNEIGH, sizeof(struct ndmsg), NULL);
	return ret;
}

/* Builds aside, publishes, and frees the old one after every reader passed a quiescent state. */
static int nlm_publish(struct nlmirror *m)
{
	struct nl_snapshot *s = nl_snapshot_build(&m->t), *old = m->snap;

	if (!s)
		return -ENOMEM;
	mg_rcu_assign_pointer(m->snap, s);
	if (old)
		nl_snapshot_retire(old);
	if (m->notify)
		m->notify(m->notify_ctx);
	return 0;
}

/* Reads what is queued on evsock, bounded so a flood cannot starve the rest of the loop. */
static void nlm_drain(struct nlmirror *m)
{
	char buf[NLSOCK_BUFSZ] __attribute__((aligned(4)));
	int fd = mnl_socket_get_fd(m->evsock), i;

	for (i = 0; i < NLM_MAX_RECV_PER_WAKE; i++) {
		struct sockaddr_nl from = { 0 };
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {      /* the kernel dropped events for us */
				m->need_full_resync = true;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fprintf(stderr, "nlmirror: recv: %s\n", strerror(errno));
			return;
		}
		if (from.nl_pid != 0)
			continue;        /* only the kernel speaks for the kernel's tables */
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			int ret = nltables_apply(&m->t, nlh);

			if (ret < 0)
				m->need_full_resync = true;   /* an update was lost to ENOMEM */
			else
				m->pending |= (unsigned int)ret;
		}
	}
}

/* Repairs what events cannot tell us, then publishes once if anything changed. */
static void nlm_settle(struct nlmirror *m)
{
	int ret = 0;

	if (m->need_full_resync) {
		m->need_full_resync = false;
		m->resyncs++;
		ret = nlm_dump_all(m);
		m->pending = NLT_CHANGED;
	} else if (m->pending & NLT_RESYNC_ROUTES) {
		ret = nlm_dump_routes(m);
		m->pending |= NLT_CHANGED;
	}
	if (ret && ret != -ENODEV) {
		fprintf(stderr, "nlmirror: resync failed: %s\n", strerror(-ret));
		m->need_full_resync = true;   /* try again on the next wakeup */
	}
	if ((m->pending & NLT_CHANGED) && nlm_publish(m)) {
		fprintf(stderr, "nlmirror: out of memory, keeping the previous snapshot\n");
		return;                       /* pending kept: retried on the next wakeup */
	}
	m->pending = 0;
}

static void nlm_event(struct evsource *src, uint32_t events)
{
	struct nlmirror *m = container_of(src, struct nlmirror, ev);

	(void)events;
	nlm_drain(m);
	nlm_settle(m);
}

static struct mnl_socket *nlm_open_evsock(void)
{
	static const unsigned int groups[] = {
		RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
		RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
	};
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int rcvbuf = NLM_RCVBUF, fd, err;
	size_t i;

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	for (i = 0; i < ARRAY_SIZE(groups); i++)
		if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, (void *)&groups[i],
					  sizeof(groups[i])) < 0)
			goto err;
	/* A big queue makes ENOBUFS (and the full re-dump it forces) rare; FORCE needs
	 * CAP_NET_ADMIN, which meshgate has, so the plain option is only a fallback. */
	fd = mnl_socket_get_fd(nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return nl;
err:
	err = errno;
	mnl_socket_close(nl);
	errno = err;
	return NULL;
}

int nlmirror_init(struct nlmirror **out, int ifindex, int epfd)
{
	struct nlmirror *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return -ENOMEM;
	m->epfd = epfd;
	m->ev.cb = nlm_event;
	nltables_init(&m->t, ifindex);
	m->evsock = nlm_open_evsock();          /* subscribe first, then dump: see the top */
	if (!m->evsock) {
		ret = -errno;
		goto err_free;
	}
	m->req = nlsock_open();
	if (!m->req) {
		ret = -errno;
		goto err_evsock;
	}
	ret = nlm_dump_all(m);
	if (ret)
		goto err_req;
	ret = nlm_publish(m);
	if (ret)
		goto err_req;
	m->pending = 0;
	if (evsource_add(epfd, mnl_socket_get_fd(m->evsock), EPOLLIN, &m->ev)) {
		ret = -errno;
		goto err_snap;
	}
	*out = m;
	return 0;
err_snap:
	nl_snapshot_free(m->snap);   /* never visible to anyone else yet */
err_req:
	mnl_socket_close(m->req);
err_evsock:
	mnl_socket_close(m->evsock);
err_free:
	nltables_free(&m->t);
	free(m);
	return ret;
}

void nlmirror_uninit(struct nlmirror *m)
{
	struct nl_snapshot *old;

	if (!m)
		return;
	evsource_del(m->epfd, mnl_socket_get_fd(m->evsock));
	old = m->snap;
	mg_rcu_assign_pointer(m->snap, NULL);
	mg_synchronize_rcu();
	nl_snapshot_free(old);
	mg_rcu_barrier();               /* snapshots retired earlier (nl_snapshot_retire) */
	mnl_socket_close(m->req);
	mnl_socket_close(m->evsock);
	nltables_free(&m->t);
	free(m);
}

const struct nl_snapshot *nlmirror_current(const struct nlmirror *m)
{
	return mg_rcu_dereference(m->snap);
}

void nlmirror_set_notify(struct nlmirror *m, void (*cb)(void *ctx), void *ctx)
{
	m->notify = cb;
	m->notify_ctx = ctx;
}

static bool nlm_resolve_ratelimited(struct nlmirror *m, int family, const uint8_t addr[16])
{
	uint32_t h = 2166136261u;
	struct nlm_resolve_slot *slot;
	uint64_t now = nlm_now_ns();
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	slot = &m->resolve[(h ^ (uint32_t)family) % NLM_RESOLVE_SLOTS];
	if (slot->family == family && !memcmp(slot->addr, addr, 16) &&
	    now - slot->last_ns < NLM_RESOLVE_INTERVAL)
		return true;
	slot->family = (uint8_t)family;
	memcpy(slot->addr, addr, 16);
	slot->last_ns = now;
	return false;
}

int nlmirror_resolve(struct nlmirror *m, int family, const uint8_t *addr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int alen = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	uint8_t key[16] = { 0 };
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	if (!alen)
		return -EAFNOSUPPORT;
	memcpy(key, addr, alen);
	if (nlm_resolve_ratelimited(m, family, key))
		return -EALREADY;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = m->t.ifindex;
	/* NTF_USE: create the entry if missing and kick neighbour resolution as if a packet were
	 * waiting for it, without touching state or lladdr of an existing entry. */
	ndm->ndm_flags = NTF_USE;
	ndm->ndm_state = NUD_NONE;
	mnl_attr_put(nlh, NDA_DST, alen, key);
	return nlsock_request(m->req, nlh);
}

int nlmirror_debug_event_fd(const struct nlmirror *m)
{
	return mnl_socket_get_fd(m->evsock);
}

unsigned long nlmirror_debug_resyncs(const struct nlmirror *m)
{
	return m->resyncs;
}
