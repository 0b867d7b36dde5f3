/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flowtrack.h - the flows the LAN side (or the router's host) started toward the tailnet: UDP,
 * SCTP and TCP by their ports, ICMP and ICMPv6 echo by identifier. Two readers:
 * - the packet filter lets their replies in although no ACL rule allows peer -> LAN for that
 *   port: a DNS, NTP or QUIC client on the LAN gets its answers. This is tailscaled's filter
 *   state (wgengine/filter: outgoing UDP/SCTP tuples are recorded by RunOut, and RunIn accepts a
 *   packet whose tuple is one of them before it looks at the rules). For TCP the filter judges
 *   only SYN without ACK, so a SYN-ACK and the rest of a connection the LAN opened pass anyway.
 * - SNAT leaves their replies untranslated (nat.h): a reply must come from the address the LAN
 *   host sent to, as a kernel's conntrack does it (NAT applies to the packets of flows the
 *   tailnet starts, never to the replies of flows the LAN starts).
 *
 * Size and age: tailscaled keeps the last 512 flows of the node in an LRU with no time limit. A
 * lock-free table cannot keep an LRU order, so here each worker owns FLOWTRACK_SLOTS entries
 * (4-way buckets) and an entry lives FLOWTRACK_TIMEOUT_NS after the last outgoing packet of its
 * flow (RFC 4787's minimum UDP mapping lifetime, the same as the SNAT table's). A bucket whose
 * four entries are all alive loses the one that expires first, counted as flows_evicted.
 *
 * Threads: a worker records only in its own table (single writer, no lock); a reply may arrive on
 * any worker, so lookups read every worker's table, each entry under a sequence count (the
 * writer makes it odd while it rewrites the entry; a reader that saw it odd or changed treats
 * the entry as a miss).
 */
#ifndef MG_FLOWTRACK_H
#define MG_FLOWTRACK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define FLOWTRACK_WAYS 4u
#define FLOWTRACK_BUCKETS 1024u                       /* per worker; a power of two */
#define FLOWTRACK_SLOTS (FLOWTRACK_WAYS * FLOWTRACK_BUCKETS)
#define FLOWTRACK_TIMEOUT_NS (120ULL * 1000000000ULL)
#define FLOWTRACK_REFRESH_NS (1ULL * 1000000000ULL)   /* a live entry's expiry moves in steps of 1 s */

struct flowtrack_ent {
	_Atomic uint32_t seq;            /* odd while the owner rewrites key and expiry */
	uint32_t pad;
	_Atomic uint64_t expires;        /* monotonic ns; 0 = empty; refreshed without seq */
	_Atomic uint64_t key[5];         /* the reply's tuple (struct flowtrack_key) */
} __attribute__((aligned(64)));

struct flowtrack {
	struct flowtrack_ent **tables;   /* [worker] -> FLOWTRACK_SLOTS entries, written by that worker */
	unsigned n;
	uint64_t seed;                   /* keys the bucket hash: a LAN host cannot aim at one bucket */
};

int flowtrack_init(struct flowtrack *ft, unsigned nworkers);
void flowtrack_uninit(struct flowtrack *ft);

enum flowtrack_note { FLOWTRACK_NONE, FLOWTRACK_NEW, FLOWTRACK_EVICTED };

/*
 * Worker @worker: the IP packet at l3 (validated, @len bytes) leaves for the tunnel from the LAN
 * or the host. A UDP, SCTP or TCP first fragment or an ICMP/ICMPv6 echo request is remembered
 * (or its entry's life extended): FLOWTRACK_NEW, or FLOWTRACK_EVICTED if a live flow made room
 * for it; anything else: NONE.
 */
enum flowtrack_note flowtrack_note_out(struct flowtrack *ft, unsigned worker, const uint8_t *l3,
				       uint32_t len, int family, uint64_t now);
/* Any worker: is the packet at l3 (out of the tunnel) a reply to a flow some worker remembers?
 * (For ICMP: an echo reply to a remembered echo request.) */
bool flowtrack_is_reply(const struct flowtrack *ft, const uint8_t *l3, uint32_t len, int family, uint64_t now);

#endif
