// SPDX-License-Identifier: GPL-2.0-only
/*
 * nlsock.c - blocking rtnetlink requests (ACKed) and dumps. Sequence numbers come from the clock
 * plus a counter so that stale replies from an earlier, abandoned request are rejected by
 * mnl_cb_run's sequence check instead of being mistaken for ours.
 */
#include <errno.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "netlink/nlsock.h"

static unsigned int nlsock_next_seq(void)
{
	static unsigned int seq;

	if (!seq)
		seq = (unsigned int)time(NULL);
	return ++seq;
}

struct mnl_socket *nlsock_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	int one = 1;

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		mnl_socket_close(nl);
		errno = err;
		return NULL;
	}
	/* Extended ACKs make errors readable in strace; failure is harmless (old kernels). */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	return nl;
}

/* Walks one buffer of replies to request seq. Returns 1 to keep receiving, 0 when the answer is
 * complete (ACK or NLMSG_DONE), -errno on an error reply or a callback failure. Messages of
 * other sequences are leftovers of an abandoned request and are skipped. *intr records
 * NLM_F_DUMP_INTR: the table changed during the dump, so the result may be inconsistent. */
static int nlsock_walk(const void *buf, int len, unsigned int seq, mnl_cb_t cb, void *data,
		       bool *intr)
{
	const struct nlmsghdr *nlh = buf;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_seq != seq)
			continue;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			*intr = true;
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 0;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return -EBADMSG;
			return e->error;     /* 0 = ACK, else -errno */
		}
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE || !cb)
			continue;
		errno = 0;
		if (cb(nlh, data) < MNL_CB_OK)
			return errno ? -errno : -EIO;
	}
	return 1;
}

static int nlsock_recv_until_done(struct mnl_socket *nl, unsigned int seq, mnl_cb_t cb, void *data,
				  bool *intr)
{
	char buf[NLSOCK_BUFSZ];
	int ret;

	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		ret = nlsock_walk(buf, (int)n, seq, cb, data, intr);
	} while (ret > 0);
	return ret;
}

int nlsock_request(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = nlsock_next_seq();
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	bool intr = false;

	return nlsock_recv_until_done(nl, nlh->nlmsg_seq, NULL, NULL, &intr);
}

int nlsock_dump(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
		void (*restart)(void *data))
{
	bool intr = true;
	int tries, ret = 0;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
	/* An interrupted dump is read to its end, then the caller resets its copy and we ask
	 * again; after a few tries the last (possibly inconsistent) result stands, and the event
	 * stream that follows repairs it. */
	for (tries = 0; tries < 4 && intr && !ret; tries++) {
		if (tries && restart)
			restart(data);
		intr = false;
		nlh->nlmsg_seq = nlsock_next_seq();
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
			return -errno;
		ret = nlsock_recv_until_done(nl, nlh->nlmsg_seq, cb, data, &intr);
	}
	return ret;
}

int nlsock_request_once(struct nlmsghdr *nlh)
{
	struct mnl_socket *nl = nlsock_open();
	int ret;

	if (!nl)
		return -errno;
	ret = nlsock_request(nl, nlh);
	mnl_socket_close(nl);
	return ret;
}
