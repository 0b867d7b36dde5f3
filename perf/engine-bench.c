// SPDX-License-Identifier: GPL-2.0-only
/*
 * engine-bench - the packet rate of meshgate's worker with the NIC replaced by memory: the cost
 * of everything but I/O (classify, index and key-age checks, open, replay window, source check,
 * routing and the SNAT/forward decision, next-hop lookup, Ethernet rewrite; the other way:
 * allowed-IPs lookup, keypair, counter, padding, seal, outer Ethernet/IP/UDP).
 *
 * What runs is the real worker: wk_poll() of dataplane/worker.c over an io/mem.c port, on a
 * device built by io/mem_router.c with one or more peers. Each peer's session comes from a real
 * Noise IK handshake between the device's identity (initiator, so its keypair is current at once)
 * and a second, in-process identity playing the client (responder), both through
 * dataplane/wireguard/noise.c. The routing table the worker reads is an nl_snapshot built from
 * hand-made netlink tables (router 192.168.77.1/24 with a default gateway, one LAN host).
 *
 * Directions, each at inner IP packet sizes 64, 512, 1280, 1420 (UDP inside):
 *   tunnel->LAN  the client's sealed data messages with fresh counters arrive as frames for our
 *                listen port; the worker opens and forwards them to the LAN host.
 *   LAN->tunnel  plaintext frames from the LAN host to a peer's tailnet address; the worker
 *                seals them and sends them to the peer's endpoint.
 * Frames are prepared (and sealed, for tunnel->LAN) in chunks of --chunk (default 256) outside
 * the timed section; only the worker's passes and taking transmitted frames off the memory port
 * are timed. Every output
 * frame is checked afterwards (headers, and the client opens every sealed message): the run
 * fails on any drop or mismatch.
 *
 * In the same run, the batch AEAD API of the same backend seals and opens 64-message batches of
 * the same size (one key, as one peer's burst) and the engine is reported as a fraction of it
 * (open for tunnel->LAN, seal for LAN->tunnel). Time is the thread's CPU time (figures per core
 * even on a shared machine); each figure is the median of --runs runs. The paired fraction is
 * the same ratio taken chunk by chunk: each chunk of the worker's run against the reference
 * over as many messages right after it (engine_run), so that a neighbour's load that moves
 * whole runs slows both halves of each ratio alike.
 *
 * The AEAD reference's 64 buffers stay hot in L2 and are 1536 bytes apart; the engine's frames are
 * IO_FRAME_SIZE (4 KiB) apart, so the 8 lanes of the AVX2 engine would read and write addresses
 * equal modulo 4 KiB ("4K aliasing" of loads against earlier stores): measured here, that alone
 * costs the AEAD itself 10-15% at 1280 bytes (the reference over a 4096-byte stride). Frames are
 * therefore filled at io_rx_offset(), the DPDK backend's layout (a 64-byte colour per frame).
 *
 * --workers N (N > 1) measures scaling instead: N workers on N threads pinned to CPUs --cpu,
 * --cpu+1, ... (0, 1, ... without --cpu). Without --shared each has its own mem_router (device,
 * peers, NAT table: nothing shared); with --shared all N serve one device as the daemon's workers
 * do (one peer table, allowed-IPs trie, NAT and flow tables, the peers' keypairs, nonce counters,
 * byte counts and timers; each worker its own port, pass state and counters): LAN->tunnel, every
 * worker seals for every peer (LAN flows spread over the queues); tunnel->LAN, peer p's messages
 * reach worker p mod N only (a peer's outer flow hashes to one queue), so --peers must be at
 * least N. Each size is run by worker 0 alone, then by all N at once (a barrier starts every
 * run); the aggregate is the sum of the workers' rates in thread CPU time, so it shows what the
 * workers cost each other in caches, memory and shared lines, not what the scheduler takes.
 *
 * --snat translates what the tailnet sends to the LAN, and LAN->tunnel then carries the LAN's
 * replies to those flows (snat_prime). --filter installs a packet filter as a tailnet policy
 * would (the peers' tailnet addresses may reach the LAN's prefix, TCP, UDP and ICMP, any port):
 * every packet from a peer is judged by it, and flows the LAN starts are remembered for their
 * replies. Both together are what a deployed subnet router runs.
 *
 * --no-ref drops the warm-up run and the AEAD reference, so exactly --packets x --runs packets go
 * through wk_poll(): perf/engine-cost.sh counts instructions that way under callgrind.
 *
 * Usage: engine-bench [--json] [--packets N] [--runs N] [--ms N] [--peers N] [--snat] [--filter]
 *                     [--crypto NAME] [--cpu N] [--sizes 64,512,...] [--chunk N]
 *                     [--direction open|seal|both] [--no-ref] [--workers N [--shared]]
 *                     (open = tunnel->LAN, seal = LAN->tunnel)
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sodium.h>

#include "worker.h"
#include "pkt.h"
#include "filter.h"
#include "io/mem.h"
#include "io/mem_router.h"
#include "netlink/nl_snapshot.h"
#include "wireguard/hash.h"
#include "wireguard/messages.h"

#define CHUNK_MAX 4096u             /* frames prepared, then pushed through, per timed section */
#define MAX_RUNS 31
#define CHUNK_PAIRS 4096u           /* chunks of a run paired with the AEAD reference (the first) */

#define MAX_SIZES 8
#define MAX_WORKERS 8

#define INNER_SPORT 40000
#define INNER_DPORT 9

enum dir { TUN_TO_LAN, LAN_TO_TUN };
static const char *const dir_name[] = { "tunnel->LAN", "LAN->tunnel" };

struct bench {
	struct mem_router *r;           /* the device: own, or worker 0's with --shared */
	struct mem_router own;
	struct worker *w;               /* the worker this bench drives, and its pass state */
	struct wctx *c;
	struct mem_far *cl;             /* the far ends of all peers (shared with --shared) */
	unsigned npeers;
	unsigned first, step;           /* tunnel->LAN: the peers sending to this worker */
	struct io_desc *out;            /* frames the worker transmitted in one chunk */
	unsigned nout;
	uint64_t seq;                   /* packet number written into every payload */
	uint16_t *natport;              /* --snat: each peer's flow's NAT port (snat_prime) */
	double chunk_cyc;               /* the last chunk's time-stamp counter cycles per packet */
};

static struct {
	bool json, snat, filter, noref, shared, stages;
	unsigned dirs;                  /* bit d: run direction d */
	unsigned packets, runs, ms, peers, chunk, workers;
	int cpu;
	const char *crypto;
	unsigned sizes[MAX_SIZES], nsizes;
} opt = { .dirs = 3, .packets = 32768, .chunk = 256, .workers = 1, .runs = 7, .ms = 20, .peers = 1, .cpu = -1, .crypto = "auto",
	  .sizes = { 64, 512, 1280, 1420 }, .nsizes = 4 };

static void die(const char *what)
{
	fprintf(stderr, "engine-bench: %s\n", what);
	exit(1);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* ---- the device: routes, neighbours, peers --------------------------------------------------- */

/* --filter: the tailnet (100.64.0.0/10) may reach the LAN's prefix, TCP, UDP and ICMP, any port. */
static void filter_install(struct mg_device *dev)
{
	const struct mg_ipprefix tailnet = { .family = AF_INET, .cidr = 10, .addr = { 100, 64 } };
	struct mg_ipprefix lan = { .family = AF_INET, .cidr = 24 };
	struct filter *f = filter_new();
	struct filter_rule *r = f ? filter_rule_add(f) : NULL;

	memcpy(lan.addr, mem_lan.host_ip, 3);
	if (!r || filter_rule_src(r, &tailnet) || filter_rule_dst(r, &lan, 0, 65535))
		die("building the packet filter");
	filter_rule_proto(r, IPPROTO_TCP);
	filter_rule_proto(r, IPPROTO_UDP);
	filter_rule_proto(r, IPPROTO_ICMP);
	rcu_assign_pointer(dev->filter, f);
}

/* A device of its own with `workers` workers (this bench drives worker 0), and the peers. */
static void bench_init(struct bench *b, unsigned workers)
{
	b->r = &b->own;
	if (mem_router_init_workers(b->r, "bench0", 1420, workers))
		die("building the in-memory router");
	b->w = &b->r->w[0];
	b->c = b->r->cs[0];
	b->r->dev->snat = opt.snat;
	if (opt.filter)
		filter_install(b->r->dev);
	b->npeers = opt.peers;
	b->first = 0;
	b->step = 1;
	b->cl = aligned_alloc(_Alignof(struct mem_far), b->npeers * sizeof(*b->cl));  /* keypairs: lines */
	b->out = calloc(CHUNK_MAX, sizeof(*b->out));
	if (!b->cl || !b->out)
		die("out of memory");
	memset(b->cl, 0, b->npeers * sizeof(*b->cl));
	for (unsigned i = 0; i < b->npeers; i++)
		if (mem_router_add_peer(b->r, i, true, &b->cl[i]))
			die("peer and session");
}

/*
 * Worker i of the device of b0 (--shared): every peer's plaintext from the LAN reaches every
 * worker (LAN flows spread over the queues), but a peer's tunnel traffic reaches one worker (its
 * outer flow hashes to one queue): worker i receives from peers i, i + n, i + 2n, ...
 */
static void bench_share(struct bench *b, struct bench *b0, unsigned i, unsigned n)
{
	b->r = b0->r;
	b->w = &b->r->w[i];
	b->c = b->r->cs[i];
	b->cl = b0->cl;
	b->npeers = b0->npeers;
	b->natport = b0->natport;
	b->out = calloc(CHUNK_MAX, sizeof(*b->out));
	if (!b->out)
		die("out of memory");
	b0->step = b->step = n;
	b->first = i;
}

static void bench_uninit(struct bench *b)
{
	if (b->r == &b->own) {
		filter_free(b->r->dev->filter);   /* no worker runs any more */
		b->r->dev->filter = NULL;
		if (mem_router_free(b->r))
			die("frames leaked");
		for (unsigned i = 0; i < b->npeers; i++)
			sodium_memzero(&b->cl[i].kp, sizeof(b->cl[i].kp));
		free(b->cl);
		free(b->natport);
	}
	free(b->out);
}

/* ---- frames ---------------------------------------------------------------------------------- */

/* The UDP checksum over ip's pseudo-header and datagram as they are: 0 if it verifies. */
static uint16_t udp4_csum(const uint8_t *ip, uint32_t len)
{
	uint32_t sum = csum_add(0, ip + 12, 8) + IPPROTO_UDP + (len - IP4_HLEN);

	return csum_fold(csum_add(sum, ip + IP4_HLEN, len - IP4_HLEN));
}

/* Inner IPv4/UDP packet of len bytes from src:sport to dst:dport, with a UDP checksum (as a
 * host's stack sends it, so that SNAT has one to update); the payload starts with the packet
 * number. */
static void inner_build(uint8_t *ip, uint32_t len, const uint8_t src[4], uint16_t sport, const uint8_t dst[4],
			uint16_t dport, uint64_t seq)
{
	struct mg_endpoint to = { .family = AF_INET, .port = dport };
	uint8_t *pl = ip + IP4_HLEN + UDP_HLEN;
	uint32_t plen = len - IP4_HLEN - UDP_HLEN;
	struct udphdr *udp = (void *)(ip + IP4_HLEN);

	memcpy(to.addr, dst, 4);
	ipudp_build(ip, &to, src, sport, plen);
	for (uint32_t i = 0; i < plen; i++)
		pl[i] = (uint8_t)(seq * 7 + i);
	memcpy(pl, &seq, plen < 8 ? plen : 8);
	udp->check = htons(udp4_csum(ip, len));
	if (!udp->check)
		udp->check = 0xffff;
}

/* True if ip is what inner_build made, to dst:dport: TTL one less, header and UDP checksums
 * right (the source may have been translated). */
static bool inner_check(const uint8_t *ip, uint32_t len, const uint8_t dst[4], uint16_t dport, uint64_t *seq)
{
	const struct iphdr *h = (const void *)ip;
	const struct udphdr *udp = (const void *)(ip + IP4_HLEN);
	const uint8_t *pl = ip + IP4_HLEN + UDP_HLEN;
	uint32_t plen = len - IP4_HLEN - UDP_HLEN;

	if (h->version != 4 || ntohs(h->tot_len) != len || h->ttl != 63 || memcmp(&h->daddr, dst, 4) ||
	    ip4_header_csum(h) != 0 ||      /* summed over a valid header: zero */
	    ntohs(udp->dest) != dport || udp4_csum(ip, len) != 0)
		return false;
	*seq = 0;
	memcpy(seq, pl, plen < 8 ? plen : 8);
	for (uint32_t i = 8; i < plen; i++)
		if (pl[i] != (uint8_t)(*seq * 7 + i))
			return false;
	return true;
}

static uint32_t padded(uint32_t len, uint32_t mtu)
{
	uint32_t plen = (len + MESSAGE_PADDING_MULTIPLE - 1) & ~(MESSAGE_PADDING_MULTIPLE - 1);

	return plen > mtu ? (len > mtu ? len : mtu) : plen;
}

/* One chunk of frames into the memory port's receive queue; every frame from the pool. */
static unsigned chunk_prepare(struct bench *b, enum dir d, uint32_t size, unsigned n)
{
	struct io_port *port = &b->w->port;
	struct aead_op ops[AEAD_BURST_MAX];
	struct io_desc descs[AEAD_BURST_MAX];
	uint32_t plen = padded(size, b->r->dev->mtu);
	unsigned k = 0, total = 0;

	for (unsigned i = 0; i < n; i++) {
		struct mem_far *cl = d == LAN_TO_TUN ? &b->cl[b->seq % b->npeers] :
				     &b->cl[b->first + b->step * (b->seq % ((b->npeers - b->first + b->step - 1) / b->step))];
		uint64_t base = io_frame_get(port);
		uint8_t *eth, *ip;

		if (base == UINT64_MAX)
			die("frame pool empty");
		uint64_t off = io_rx_offset(base);      /* the DPDK backend's layout */

		eth = io_port_data(port, base + off);
		ip = eth + ETH_HLEN_;
		if (d == LAN_TO_TUN) {
			eth_build(eth, mem_lan.router_mac, mem_lan.host_mac, AF_INET);
			/* With SNAT, what the LAN sends to the tailnet is replies to translated flows. */
			if (b->natport)
				inner_build(ip, size, mem_lan.host_ip, INNER_DPORT, mem_lan.router_ip,
					    b->natport[cl - b->cl], b->seq++);
			else
				inner_build(ip, size, mem_lan.host_ip, INNER_DPORT, cl->tun_ip, INNER_SPORT, b->seq++);
			if (!io_mem_rx_push(port, base + off, ETH_HLEN_ + size))
				die("rx queue full");
			total++;
			continue;
		}
		/* tunnel->LAN: Ethernet / IPv4 / UDP to our port / WireGuard data (client's counter). */
		struct mg_endpoint us = { .family = AF_INET, .port = MEM_LISTEN_PORT };
		struct msg_data *hdr = (void *)(ip + IP4_HLEN + UDP_HLEN);
		uint32_t mlen = sizeof(*hdr) + plen + AEAD_TAG_LEN;

		memcpy(us.addr, mem_lan.router_ip, 4);
		eth_build(eth, mem_lan.router_mac, mem_lan.gw_mac, AF_INET);
		ipudp_build(ip, &us, cl->ep_ip, MEM_FAR_PORT, mlen);
		hdr->header.type = htole32(MESSAGE_DATA);
		hdr->receiver_index = htole32(cl->kp.remote_index);
		hdr->counter = htole64(cl->send_counter);
		inner_build(hdr->encrypted_data, size, cl->tun_ip, INNER_SPORT, mem_lan.host_ip, INNER_DPORT, b->seq++);
		memset(hdr->encrypted_data + size, 0, plen - size);
		ops[k] = (struct aead_op){ .key = cl->kp.send_key, .counter = cl->send_counter++,
					   .src = hdr->encrypted_data, .dst = hdr->encrypted_data, .len = plen };
		descs[k++] = (struct io_desc){ .addr = base + off,
					       .len = ETH_HLEN_ + IP4_HLEN + UDP_HLEN + mlen };
		if (k == AEAD_BURST_MAX || i == n - 1) {
			aead_seal_burst(ops, k);
			for (unsigned j = 0; j < k; j++)
				if (!io_mem_rx_push(port, descs[j].addr, descs[j].len))
					die("rx queue full");
			total += k;
			k = 0;
		}
	}
	return total;
}

/* ---- the AEAD reference: 64-message batches of the same size, same backend ------------------ */

struct aead_ref {
	uint8_t key[32];
	uint8_t (*buf)[1536], (*ct)[1536];
	struct aead_op seal[AEAD_BURST_MAX], open[AEAD_BURST_MAX];
};

static void aead_ref_burst(struct aead_ref *r, bool open)
{
	if (!open)
		aead_seal_burst(r->seal, AEAD_BURST_MAX);
	else if (aead_open_burst(r->open, AEAD_BURST_MAX) != ~0ull)
		die("AEAD reference: open failed");
}

/* Time-stamp counter cycles per message of as many batches as a chunk holds packets, after one
 * untimed batch: the worker's chunk has just pushed the reference's buffers out of L1, and the
 * reference is the AEAD's rate on hot buffers, as aead_run measures it. */
static double aead_ref_chunk(struct aead_ref *r, bool open)
{
	const unsigned bursts = (opt.chunk + AEAD_BURST_MAX - 1) / AEAD_BURST_MAX;
	uint64_t c0;

	aead_ref_burst(r, open);
	c0 = wk_cycles();
	for (unsigned k = 0; k < bursts; k++)
		aead_ref_burst(r, open);
	return (double)(wk_cycles() - c0) / (bursts * AEAD_BURST_MAX);
}

/* The timed part: worker passes until the receive queue is empty; transmitted frames collected.
 * With a stage profile on, its clock starts here: the harness between chunks is not charged. */
static uint64_t chunk_run(struct bench *b)
{
	struct io_port *port = &b->w->port;
	struct wk_prof *prof = b->c->prof;
	unsigned pushed = io_mem_rx_pending(port);
	uint64_t t0 = cpu_ns(), c0 = wk_cycles();

	if (prof) {
		prof->last = wk_cycles();
		prof->stage = WK_PROF_OTHER;
	}
	b->nout = 0;
	while (io_mem_rx_pending(port)) {
		wk_poll(b->c);
		rcu_quiescent_state();
		b->nout += io_mem_tx_pop(port, b->out + b->nout, CHUNK_MAX - b->nout);
	}
	wk_prof_to(prof, WK_PROF_OTHER);
	b->chunk_cyc = pushed ? (double)(wk_cycles() - c0) / pushed : 0;
	return cpu_ns() - t0;
}

/* Every transmitted frame is right, and goes back to the pool. */
static void chunk_check(struct bench *b, enum dir d, uint32_t size, unsigned n)
{
	struct io_port *port = &b->w->port;
	uint32_t plen = padded(size, b->r->dev->mtu);
	uint64_t drops = 0, seq;

	for (unsigned r = 0; r < MG_DROP_MAX; r++)
		drops += b->w->ctr.drops[r];
	if (drops || b->nout != n) {
		fprintf(stderr, "engine-bench: %s %u B: %u of %u frames sent, %lu dropped:", dir_name[d], size,
			b->nout, n, drops);
		for (unsigned r = 0; r < MG_DROP_MAX; r++)
			if (b->w->ctr.drops[r])
				fprintf(stderr, " %s=%lu", mg_drop_label[r], b->w->ctr.drops[r]);
		fprintf(stderr, "\n");
		exit(1);
	}
	for (unsigned i = 0; i < b->nout; i++) {
		uint8_t *eth = io_port_data(port, b->out[i].addr);
		uint8_t *ip = eth + ETH_HLEN_;
		bool ok;

		if (d == TUN_TO_LAN) {
			ok = b->out[i].len == ETH_HLEN_ + size && !memcmp(eth, mem_lan.host_mac, 6) &&
			     !memcmp(eth + 6, mem_lan.router_mac, 6) && inner_check(ip, size, mem_lan.host_ip, INNER_DPORT, &seq);
			if (ok && b->r->dev->snat)
				ok = !memcmp(ip + 12, mem_lan.router_ip, 4);
		} else {
			const struct iphdr *h = (const void *)ip;
			struct msg_data *hdr = (void *)(ip + IP4_HLEN + UDP_HLEN);
			uint32_t mlen = sizeof(*hdr) + plen + AEAD_TAG_LEN;
			struct mem_far *cl = NULL;
			struct aead_op op;

			for (unsigned k = 0; k < b->npeers && !cl; k++)
				if (!memcmp(&h->daddr, b->cl[k].ep_ip, 4))
					cl = &b->cl[k];
			const struct udphdr *udp = (const void *)(ip + IP4_HLEN);

			/* The outer header as a receiver's stack checks it: lengths and header checksum. */
			ok = cl && b->out[i].len == ETH_HLEN_ + IP4_HLEN + UDP_HLEN + mlen &&
			     !memcmp(eth, mem_lan.gw_mac, 6) && !memcmp(eth + 6, mem_lan.router_mac, 6) &&
			     h->version == 4 && h->ihl == 5 && ntohs(h->tot_len) == IP4_HLEN + UDP_HLEN + mlen &&
			     ip4_header_csum(h) == 0 && h->protocol == IPPROTO_UDP && h->ttl == 64 &&
			     !memcmp(&h->saddr, mem_lan.router_ip, 4) && ntohs(udp->len) == UDP_HLEN + mlen &&
			     ntohs(udp->source) == MEM_LISTEN_PORT && ntohs(udp->dest) == MEM_FAR_PORT &&
			     le32toh(hdr->receiver_index) == cl->kp.local_index;
			if (ok) {
				op = (struct aead_op){ .key = cl->kp.recv_key, .counter = le64toh(hdr->counter),
						       .src = hdr->encrypted_data, .dst = hdr->encrypted_data,
						       .len = plen };
				ok = aead_open_burst(&op, 1) == 1 &&
				     inner_check(hdr->encrypted_data, size, cl->tun_ip, INNER_SPORT, &seq);
			}
		}
		if (!ok) {
			fprintf(stderr, "engine-bench: %s %u B: output frame %u is wrong\n", dir_name[d], size, i);
			exit(1);
		}
		io_frame_put(port, b->out[i].addr);
	}
}

static double median(double *v, unsigned n);

/*
 * Mpps of one run of opt.packets packets. With ref (else NULL), each chunk is followed by the
 * AEAD reference over as many messages, both timed by the time-stamp counter, and *paired is the
 * median over the chunks of reference cycles / engine cycles: the two are measured tens of
 * microseconds apart, so a neighbour's load that comes and goes over milliseconds or seconds
 * (what moves the run-level rates here) slows both alike.
 */
static double engine_run(struct bench *b, enum dir d, uint32_t size, struct aead_ref *ref, double *paired)
{
	static double ratio[CHUNK_PAIRS];
	unsigned nr = 0;
	uint64_t ns = 0;

	for (unsigned done = 0; done < opt.packets;) {
		unsigned n = opt.packets - done < opt.chunk ? opt.packets - done : opt.chunk;

		n = chunk_prepare(b, d, size, n);
		ns += chunk_run(b);
		if (ref && nr < CHUNK_PAIRS && b->chunk_cyc > 0)
			ratio[nr++] = aead_ref_chunk(ref, d == TUN_TO_LAN) / b->chunk_cyc;
		chunk_check(b, d, size, n);
		done += n;
	}
	if (paired)
		*paired = nr ? median(ratio, nr) : 0;
	return ns ? opt.packets * 1e3 / ns : 0;
}

/*
 * --snat: one packet from each peer's client to the LAN host opens that peer's flow, and the
 * port it leaves with is where the host's replies go: LAN->tunnel then measures what a SNAT
 * router forwards that way, replies translated back (nat_in), not flows the LAN starts.
 */
static void snat_prime(struct bench *b)
{
	struct io_port *port = &b->w->port;

	b->natport = calloc(b->npeers, sizeof(*b->natport));
	if (!b->natport)
		die("out of memory");
	for (unsigned k = 0; k < b->npeers; k++) {
		const uint8_t *ip;

		b->first = k;                   /* chunk_prepare's choice of peer: k alone */
		b->step = b->npeers;
		if (chunk_prepare(b, TUN_TO_LAN, 64, 1) != 1 || (chunk_run(b), b->nout != 1))
			die("--snat: a peer's first packet was not forwarded");
		ip = io_port_data(port, b->out[0].addr) + ETH_HLEN_;
		if (memcmp(ip + 12, mem_lan.router_ip, 4))
			die("--snat: a peer's first packet left untranslated");
		b->natport[k] = (uint16_t)(ip[IP4_HLEN] << 8 | ip[IP4_HLEN + 1]);
		io_frame_put(port, b->out[0].addr);
	}
	b->first = 0;
	b->step = 1;
}

static int cmp_double(const void *a, const void *b);

/* One run with the stage profile on: cycles per packet by stage into out[WK_PROF_MAX]; returns
 * the profile's boundaries per packet. */
static double engine_run_stages(struct bench *b, enum dir d, uint32_t size, double *out)
{
	struct wk_prof prof = { 0 };

	b->c->prof = &prof;
	engine_run(b, d, size, NULL, NULL);
	b->c->prof = NULL;
	for (unsigned k = 0; k < WK_PROF_MAX; k++)
		out[k] = (double)prof.cycles[k] / opt.packets;
	return (double)prof.boundaries / opt.packets;
}

/* What one boundary of the profile costs (its counter read and bookkeeping), in cycles: the
 * median of 9 rounds of 4096 boundaries in a row. */
static double prof_boundary_cycles(void)
{
	double v[9];

	for (unsigned r = 0; r < 9; r++) {
		struct wk_prof prof = { .last = wk_cycles() };
		uint64_t c0 = wk_cycles();

		for (unsigned i = 0; i < 4096; i++)
			wk_prof_to(&prof, i & 1);
		v[r] = (double)(wk_cycles() - c0) / 4096;
	}
	return median(v, 9);
}

/* Mpps of sealing or opening `packets` messages in 64-message batches (at least --ms long);
 * *cycles: time-stamp counter cycles per message (NULL: not wanted). */
static double aead_run(struct aead_ref *r, bool open, unsigned packets, double *cycles)
{
	uint64_t t0 = cpu_ns(), c0 = wk_cycles(), ns, bursts = 0, want = (packets + AEAD_BURST_MAX - 1) / AEAD_BURST_MAX;

	do {
		for (unsigned k = 0; k < 16; k++, bursts++)
			aead_ref_burst(r, open);
		ns = cpu_ns() - t0;
	} while (bursts < want || ns < opt.ms * NSEC_PER_MSEC);
	if (cycles)
		*cycles = (double)(wk_cycles() - c0) / (bursts * AEAD_BURST_MAX);
	return bursts * AEAD_BURST_MAX * 1e3 / ns;
}

static void aead_ref_setup(struct aead_ref *r, uint32_t len)
{
	randombytes_buf(r->key, sizeof(r->key));
	for (unsigned i = 0; i < AEAD_BURST_MAX; i++) {
		randombytes_buf(r->buf[i], len);
		r->seal[i] = (struct aead_op){ .key = r->key, .counter = i, .src = r->buf[i], .dst = r->buf[i], .len = len };
		memcpy(r->ct[i], r->buf[i], len);
		r->open[i] = (struct aead_op){ .key = r->key, .counter = i, .src = r->ct[i], .dst = r->buf[i], .len = len };
	}
	for (unsigned i = 0; i < AEAD_BURST_MAX; i++) {
		struct aead_op op = { .key = r->key, .counter = i, .src = r->ct[i], .dst = r->ct[i], .len = len };

		aead_seal_burst(&op, 1);
	}
}

/* ---- cycles by stage (--stages) ------------------------------------------------------------ */

/*
 * Where the time goes, in time-stamp counter cycles per packet: --runs more runs of the worker
 * with its stage profile on (wctx.h, struct wk_prof), each followed by a run of the AEAD
 * reference timed by the same counter. The profile reads the counter about 12 times per pass
 * (of up to 64 packets), which the rates above do not pay. The stage columns are those of one
 * run, the one with the median total, so that they add up to it; ref is the median of its own
 * runs. "rest" is everything but the two AEAD calls; rest / ref is what the worker adds to the
 * AEAD's own time (at 80% of the AEAD rate it is 25%).
 */
struct stage_row {
	enum dir d;
	uint32_t size;
	double stage[WK_PROF_MAX], total, aead, rest, ref, overhead;
};

static const char *const stage_name[WK_PROF_MAX] = {
	[WK_PROF_OTHER] = "other", [WK_PROF_RX] = "rx", [WK_PROF_OPEN_AEAD] = "open_aead",
	[WK_PROF_OPEN_AFTER] = "open_after", [WK_PROF_SEAL_BEFORE] = "seal_before",
	[WK_PROF_SEAL_AEAD] = "seal_aead", [WK_PROF_SEAL_AFTER] = "seal_after", [WK_PROF_TX] = "tx",
};

static void stages_measure(struct bench *b, struct aead_ref *ref, enum dir d, uint32_t size, struct stage_row *row)
{
	double v[MAX_RUNS][WK_PROF_MAX], total[MAX_RUNS], sorted[MAX_RUNS], refc[MAX_RUNS];
	double bounds = 0, mid;
	unsigned r, k, pick = 0;

	for (r = 0; r < opt.runs; r++) {
		bounds = engine_run_stages(b, d, size, v[r]);
		for (total[r] = 0, k = 0; k < WK_PROF_MAX; k++)
			total[r] += v[r][k];
		refc[r] = 0;
		if (!opt.noref)
			aead_run(ref, d == TUN_TO_LAN, opt.packets, &refc[r]);
	}
	/* The stages of the run whose total is the median (the lower one of an even count), whole:
	 * medians taken column by column would not add up to any run's total once a preemption
	 * lands in one column of one run and in another column of the next. */
	memcpy(sorted, total, opt.runs * sizeof(*total));
	qsort(sorted, opt.runs, sizeof(*sorted), cmp_double);
	mid = sorted[(opt.runs - 1) / 2];
	while (total[pick] != mid)
		pick++;
	row->d = d;
	row->size = size;
	memcpy(row->stage, v[pick], sizeof(row->stage));
	row->total = total[pick];
	row->aead = v[pick][WK_PROF_OPEN_AEAD] + v[pick][WK_PROF_SEAL_AEAD];
	row->rest = row->total - row->aead;
	row->ref = median(refc, opt.runs);
	row->overhead = bounds * prof_boundary_cycles();
}

static void stages_print(const struct stage_row *st, unsigned n)
{
	printf("\ncycles per packet by stage (time-stamp counter; the profiled run with the median total of "
	       "%u; ref = the AEAD batch alone, median):\n"
	       "%-12s %5s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s %9s\n", opt.runs, "direction", "size",
	       "total", "AEAD", "rest", "rx", "o_after", "s_before", "s_after", "tx", "other", "ref", "fraction",
	       "rest/ref");
	for (unsigned i = 0; i < n; i++) {
		const struct stage_row *r = &st[i];

		printf("%-12s %5u %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %6.1f%% %8.1f%%\n",
		       dir_name[r->d], r->size, r->total, r->aead, r->rest, r->stage[WK_PROF_RX],
		       r->stage[WK_PROF_OPEN_AFTER], r->stage[WK_PROF_SEAL_BEFORE], r->stage[WK_PROF_SEAL_AFTER],
		       r->stage[WK_PROF_TX], r->stage[WK_PROF_OTHER], r->ref, r->ref && r->total ? 100 * r->ref / r->total : 0,
		       r->ref ? 100 * r->rest / r->ref : 0);
	}
	for (unsigned i = 0; i < n; i++)
		printf("%s%s %u B: %.1f", i ? ", " : "the profile's own counter reads, included above: ",
		       st[i].d == TUN_TO_LAN ? "open" : "seal", st[i].size, st[i].overhead);
	printf(" cycles per packet\n");
}

static void stages_json(const struct stage_row *r)
{
	printf(", \"cycles\": {\"total\": %.1f, \"aead\": %.1f, \"rest\": %.1f, \"ref\": %.1f, "
	       "\"profile_overhead\": %.1f", r->total, r->aead, r->rest, r->ref, r->overhead);
	for (unsigned k = 0; k < WK_PROF_MAX; k++)
		printf(", \"%s\": %.1f", stage_name[k], r->stage[k]);
	printf("}");
}

/* ---- scaling: N workers on N threads -------------------------------------------------------- */

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("engine-bench: sched_setaffinity");
}

static struct {
	struct bench b[MAX_WORKERS];
	pthread_barrier_t start, done;
	enum dir d;
	uint32_t size;
	bool quit;
	double mpps[MAX_WORKERS];
} mw;

/* Worker i's thread: one engine run per round, all workers starting together. Offline (QSBR)
 * while it waits, so that a worker's grace periods never wait on an idle one. */
static void *mw_thread(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;

	pin((opt.cpu >= 0 ? opt.cpu : 0) + (int)i);
	rcu_register_thread();
	for (;;) {
		rcu_thread_offline();
		pthread_barrier_wait(&mw.start);
		rcu_thread_online();
		if (mw.quit)
			break;
		mw.mpps[i] = engine_run(&mw.b[i], mw.d, mw.size, NULL, NULL);
		pthread_barrier_wait(&mw.done);
	}
	rcu_unregister_thread();
	return NULL;
}

/* One size and direction: median Mpps of worker 0 alone and of the N workers' sum, and the
 * median of the per-run ratios (each N-worker run against the one-worker run just before it,
 * which saw the same load). */
static void mw_size(enum dir d, uint32_t size, double *one, double *all, double *ratio)
{
	double v1[MAX_RUNS], vn[MAX_RUNS], vr[MAX_RUNS];

	mw.d = d;
	mw.size = size;
	engine_run(&mw.b[0], d, size, NULL, NULL);        /* warm-up */
	for (unsigned r = 0; r < opt.runs; r++) {
		v1[r] = engine_run(&mw.b[0], d, size, NULL, NULL);
		rcu_thread_offline();
		pthread_barrier_wait(&mw.start);
		pthread_barrier_wait(&mw.done);
		rcu_thread_online();
		vn[r] = 0;
		for (unsigned i = 0; i < opt.workers; i++)
			vn[r] += mw.mpps[i];
		vr[r] = v1[r] > 0 ? vn[r] / v1[r] : 0;
	}
	*one = median(v1, opt.runs);
	*all = median(vn, opt.runs);
	*ratio = median(vr, opt.runs);
}

static void multi_worker(void)
{
	pthread_t t[MAX_WORKERS];

	if (opt.shared) {
		bench_init(&mw.b[0], opt.workers);
		if (opt.snat)
			snat_prime(&mw.b[0]);
		for (unsigned i = 1; i < opt.workers; i++)
			bench_share(&mw.b[i], &mw.b[0], i, opt.workers);
	} else {
		for (unsigned i = 0; i < opt.workers; i++) {
			bench_init(&mw.b[i], 1);
			if (opt.snat)
				snat_prime(&mw.b[i]);
		}
	}
	if (pthread_barrier_init(&mw.start, NULL, opt.workers + 1) ||
	    pthread_barrier_init(&mw.done, NULL, opt.workers + 1))
		die("pthread_barrier_init");
	for (unsigned i = 0; i < opt.workers; i++)
		if (pthread_create(&t[i], NULL, mw_thread, (void *)(uintptr_t)i))
			die("pthread_create");
	printf("engine-bench: %u workers (%s), crypto %s, %u peer%s, "
	       "%u packets x %u runs, thread CPU time, median (ratio: of the per-run ratios)\n"
	       "%-12s %5s %9s %9s %7s\n", opt.workers,
	       opt.shared ? "one device: shared peers, allowed IPs, NAT and flow tables; tunnel->LAN: "
			    "each peer to one worker" : "one device each, no shared state",
	       aead_backend_name(), opt.peers, opt.peers == 1 ? "" : "s", opt.packets, opt.runs,
	       "direction", "size", "1 Mpps", "N Mpps", "ratio");
	for (unsigned d = 0; d < 2; d++) {
		if (!(opt.dirs >> d & 1))
			continue;
		for (unsigned s = 0; s < opt.nsizes; s++) {
			double one, all, ratio;

			mw_size(d, opt.sizes[s], &one, &all, &ratio);
			printf("%-12s %5u %9.3f %9.3f %6.2fx\n", dir_name[d], opt.sizes[s], one, all, ratio);
			fflush(stdout);
		}
	}
	mw.quit = true;
	rcu_thread_offline();
	pthread_barrier_wait(&mw.start);
	for (unsigned i = 0; i < opt.workers; i++)
		pthread_join(t[i], NULL);
	rcu_thread_online();
	for (unsigned i = 0; i < opt.workers; i++)
		bench_uninit(&mw.b[i]);
	pthread_barrier_destroy(&mw.start);
	pthread_barrier_destroy(&mw.done);
}

/* ---- main ------------------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void parse_sizes(const char *s)
{
	char *end;

	opt.nsizes = 0;
	while (*s && opt.nsizes < MAX_SIZES) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v < IP4_HLEN + UDP_HLEN + 8 || v > 1420)
			die("--sizes: each size 36..1420");
		opt.sizes[opt.nsizes++] = (unsigned)v;
		s = *end == ',' ? end + 1 : end;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: engine-bench [--json] [--packets N] [--runs N] [--ms N] [--peers N] [--snat] [--filter]\n"
			"                    [--crypto NAME] [--cpu N] [--sizes 64,512,1280,1420] [--chunk N]\n"
			"                    [--direction open|seal|both] [--no-ref] [--stages] [--workers N [--shared]]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' }, { "packets", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' }, { "ms", required_argument, NULL, 'm' },
		{ "peers", required_argument, NULL, 'p' }, { "snat", no_argument, NULL, 's' },
		{ "filter", no_argument, NULL, 'F' },
		{ "crypto", required_argument, NULL, 'c' }, { "cpu", required_argument, NULL, 'C' },
		{ "sizes", required_argument, NULL, 'S' }, { "chunk", required_argument, NULL, 'k' },
		{ "direction", required_argument, NULL, 'd' }, { "no-ref", no_argument, NULL, 'R' },
		{ "workers", required_argument, NULL, 'w' }, { "shared", no_argument, NULL, 'H' },
		{ "stages", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'j': opt.json = true; break;
		case 'n': opt.packets = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': opt.runs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': opt.ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': opt.peers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': opt.snat = true; break;
		case 'F': opt.filter = true; break;
		case 'c': opt.crypto = optarg; break;
		case 'C': opt.cpu = atoi(optarg); break;
		case 'S': parse_sizes(optarg); break;
		case 'R': opt.noref = true; break;
		case 'w': opt.workers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'H': opt.shared = true; break;
		case 'T': opt.stages = true; break;
		case 'k': opt.chunk = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd':
			opt.dirs = !strcmp(optarg, "open") ? 1u << TUN_TO_LAN : !strcmp(optarg, "seal") ?
				   1u << LAN_TO_TUN : !strcmp(optarg, "both") ? 3u : 0;
			break;
		default: usage();
		}
	}
	if (!opt.packets || !opt.runs || opt.runs > MAX_RUNS || !opt.peers || opt.peers > 1000 || !opt.ms ||
	    opt.chunk < BURST || opt.chunk > CHUNK_MAX || !opt.dirs ||
	    !opt.workers || opt.workers > MAX_WORKERS)
		usage();
	if (opt.shared && (opt.workers < 2 || ((opt.dirs & 1u << TUN_TO_LAN) && opt.peers < opt.workers)))
		die("--shared needs --workers 2 or more, and for tunnel->LAN --peers at least --workers "
		    "(a peer's tunnel traffic reaches one worker)");
}

int main(int argc, char **argv)
{
	struct aead_ref ref = { 0 };
	struct bench b = { 0 };
	struct stage_row st[2 * MAX_SIZES];
	unsigned nst = 0;
	bool first = true;
	int ret;

	parse_args(argc, argv);
	if (sodium_init() < 0)
		die("sodium_init");
	if (opt.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(opt.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			perror("engine-bench: sched_setaffinity");
	}
	ret = aead_init(opt.crypto);
	if (ret) {
		fprintf(stderr, "engine-bench: Crypto = %s: %s\n", opt.crypto, strerror(-ret));
		return 1;
	}
	ref.buf = aligned_alloc(64, AEAD_BURST_MAX * sizeof(*ref.buf));
	ref.ct = aligned_alloc(64, AEAD_BURST_MAX * sizeof(*ref.ct));
	if (!ref.buf || !ref.ct)
		die("out of memory");
	rcu_register_thread();
	if (opt.workers > 1) {
		multi_worker();
		rcu_unregister_thread();
		free(ref.buf);
		free(ref.ct);
		return 0;
	}
	bench_init(&b, 1);
	if (opt.snat)
		snat_prime(&b);

	if (opt.json)
		printf("[");
	else
		printf("engine-bench: worker over a memory port, crypto %s, %u peer%s%s, %u packets x %u runs, "
		       "CPU time, median\n(instructions per packet by stage, AEAD and the rest: "
		       "perf/engine-cost.sh, callgrind; paired: each chunk of %u packets against the AEAD over as\n"
		       "many messages right after it, the median ratio)\n"
		       "%-12s %5s %9s %9s %14s %9s %9s\n", aead_backend_name(), opt.peers,
		       opt.peers == 1 ? "" : "s", opt.snat ? (opt.filter ? ", SNAT, filter" : ", SNAT") : opt.filter ? ", filter" : "", opt.packets, opt.runs,
		       opt.chunk, "direction", "size", "Mpps", "Gbit/s", "AEAD batch", "fraction", "paired");
	for (unsigned d = 0; d < 2; d++) {
		if (!(opt.dirs >> d & 1))
			continue;
		for (unsigned s = 0; s < opt.nsizes; s++) {
			uint32_t size = opt.sizes[s], plen = padded(size, b.r->dev->mtu);
			double eng[MAX_RUNS], aead[MAX_RUNS], frac[MAX_RUNS], fpair[MAX_RUNS], e, a, f, fp;

			aead_ref_setup(&ref, plen);
			if (!opt.noref)
				engine_run(&b, d, size, NULL, NULL);      /* warm-up */
			/* Engine and AEAD runs alternate so that a noisy neighbour hits both alike; the
			 * fraction is the median of the per-run ratios. */
			for (unsigned r = 0; r < opt.runs; r++) {
				eng[r] = engine_run(&b, d, size, opt.noref ? NULL : &ref, &fpair[r]);
				aead[r] = opt.noref ? 0 : aead_run(&ref, d == TUN_TO_LAN, opt.packets, NULL);
				frac[r] = opt.noref ? 0 : eng[r] / aead[r];     /* --no-ref: no reference */
			}
			e = median(eng, opt.runs);
			a = median(aead, opt.runs);
			f = median(frac, opt.runs);
			fp = median(fpair, opt.runs);
			if (opt.stages)
				stages_measure(&b, &ref, d, size, &st[nst++]);
			if (opt.json)
				printf("%s\n {\"direction\": \"%s\", \"size\": %u, \"peers\": %u, \"snat\": %s, \"filter\": %s, "
				       "\"crypto\": \"%s\", \"engine_mpps\": %.4f, \"engine_gbps\": %.4f, "
				       "\"aead_op\": \"%s\", \"aead_batch_mpps\": %.4f, \"fraction\": %.4f, "
				       "\"fraction_paired\": %.4f",
				       first ? "" : ",", d == TUN_TO_LAN ? "tunnel_to_lan" : "lan_to_tunnel", size,
				       opt.peers, opt.snat ? "true" : "false", opt.filter ? "true" : "false", aead_backend_name(), e,
				       e * size * 8 / 1e3, d == TUN_TO_LAN ? "open" : "seal", a, f, fp);
			else
				printf("%-12s %5u %9.3f %9.3f %9.3f %-4s %8.1f%% %8.1f%%\n", dir_name[d], size, e,
				       e * size * 8 / 1e3, a, d == TUN_TO_LAN ? "open" : "seal", 100 * f, 100 * fp);
			if (opt.json && opt.stages)
				stages_json(&st[nst - 1]);
			if (opt.json)
				printf("}");
			fflush(stdout);
			first = false;
		}
	}
	if (opt.json)
		printf("\n]\n");
	else if (opt.stages)
		stages_print(st, nst);
	bench_uninit(&b);
	rcu_unregister_thread();
	free(ref.buf);
	free(ref.ct);
	return 0;
}
