// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_allowedips.c - the kernel selftest's static vectors, a randomized
 * differential against a linear list (v4 and v6, with removals), the
 * 130,560-prefix walk, and lock-free readers racing a writer under QSBR.
 */
#include "t.h"
#include "wireguard/allowedips.h"
#include "mg.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include "rcu.h"

static struct allowedips T;
static int peers[16];
#define a (&peers[0])
#define b (&peers[1])
#define c (&peers[2])
#define d (&peers[3])
#define e (&peers[4])
#define f (&peers[5])
#define g (&peers[6])
#define h (&peers[7])

static const uint8_t *ip4(uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	static uint8_t ip[4];

	ip[0] = x, ip[1] = y, ip[2] = z, ip[3] = w;
	return ip;
}

static const uint8_t *ip6(uint32_t x, uint32_t y, uint32_t z, uint32_t w)
{
	static uint32_t ip[4];

	ip[0] = htonl(x), ip[1] = htonl(y), ip[2] = htonl(z), ip[3] = htonl(w);
	return (const uint8_t *)ip;
}

#define insert(v, mem, A, B, C, D, cidr) \
	CHECK(allowedips_insert(&T, v == 4 ? AF_INET : AF_INET6, ip##v(A, B, C, D), cidr, mem) == 0)
#define test(v, mem, A, B, C, D) \
	CHECK(allowedips_lookup(&T, v == 4 ? AF_INET : AF_INET6, ip##v(A, B, C, D)) == (void *)(mem))
#define test_negative(v, mem, A, B, C, D) \
	CHECK(allowedips_lookup(&T, v == 4 ? AF_INET : AF_INET6, ip##v(A, B, C, D)) != (void *)(mem))

struct found {
	int count, fa, fb, fc, fd_, fe, other;
};

static void walk_cb(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct found *fd = ctx;

	fd->count++;
	if (cidr == 27 && family == AF_INET && !memcmp(addr, ip4(192, 95, 5, 64), 4))
		fd->fa++;
	else if (cidr == 128 && family == AF_INET6 &&
		 !memcmp(addr, ip6(0x26075300, 0x60006b00, 0, 0xc05f0543), 16))
		fd->fb++;
	else if (cidr == 29 && family == AF_INET && !memcmp(addr, ip4(10, 1, 0, 16), 4))
		fd->fc++;
	else if (cidr == 83 && family == AF_INET6 &&
		 !memcmp(addr, ip6(0x26075300, 0x6d8a6bf8, 0xdab1e000, 0), 16))
		fd->fd_++;
	else if (cidr == 21 && family == AF_INET6 && !memcmp(addr, ip6(0x26075000, 0, 0, 0), 16))
		fd->fe++;
	else
		fd->other++;
}

static void test_kernel_vectors(void)
{
	allowedips_init(&T);
	insert(4, a, 192, 168, 4, 0, 24);
	insert(4, b, 192, 168, 4, 4, 32);
	insert(4, c, 192, 168, 0, 0, 16);
	insert(4, d, 192, 95, 5, 64, 27);
	/* replaces previous entry, and maskself is required */
	insert(4, c, 192, 95, 5, 65, 27);
	insert(6, d, 0x26075300, 0x60006b00, 0, 0xc05f0543, 128);
	insert(6, c, 0x26075300, 0x60006b00, 0, 0, 64);
	insert(4, e, 0, 0, 0, 0, 0);
	insert(6, e, 0, 0, 0, 0, 0);
	/* replaces previous entry */
	insert(6, f, 0, 0, 0, 0, 0);
	insert(6, g, 0x24046800, 0, 0, 0, 32);
	/* maskself is required */
	insert(6, h, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef, 64);
	insert(6, a, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef, 128);
	insert(6, c, 0x24446800, 0x40e40800, 0xdeaebeef, 0xdefbeef, 128);
	insert(6, b, 0x24446800, 0xf0e40800, 0xeeaebeef, 0, 98);
	insert(4, g, 64, 15, 112, 0, 20);
	/* maskself is required */
	insert(4, h, 64, 15, 123, 211, 25);
	insert(4, a, 10, 0, 0, 0, 25);
	insert(4, b, 10, 0, 0, 128, 25);
	insert(4, a, 10, 1, 0, 0, 30);
	insert(4, b, 10, 1, 0, 4, 30);
	insert(4, c, 10, 1, 0, 8, 29);
	insert(4, d, 10, 1, 0, 16, 29);

	test(4, a, 192, 168, 4, 20);
	test(4, a, 192, 168, 4, 0);
	test(4, b, 192, 168, 4, 4);
	test(4, c, 192, 168, 200, 182);
	test(4, c, 192, 95, 5, 68);
	test(4, e, 192, 95, 5, 96);
	test(6, d, 0x26075300, 0x60006b00, 0, 0xc05f0543);
	test(6, c, 0x26075300, 0x60006b00, 0, 0xc02e01ee);
	test(6, f, 0x26075300, 0x60006b01, 0, 0);
	test(6, g, 0x24046800, 0x40040806, 0, 0x1006);
	test(6, g, 0x24046800, 0x40040806, 0x1234, 0x5678);
	test(6, f, 0x240467ff, 0x40040806, 0x1234, 0x5678);
	test(6, f, 0x24046801, 0x40040806, 0x1234, 0x5678);
	test(6, h, 0x24046800, 0x40040800, 0x1234, 0x5678);
	test(6, h, 0x24046800, 0x40040800, 0, 0);
	test(6, h, 0x24046800, 0x40040800, 0x10101010, 0x10101010);
	test(6, a, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef);
	test(4, g, 64, 15, 116, 26);
	test(4, g, 64, 15, 127, 3);
	test(4, g, 64, 15, 123, 1);
	test(4, h, 64, 15, 123, 128);
	test(4, h, 64, 15, 123, 129);
	test(4, a, 10, 0, 0, 52);
	test(4, b, 10, 0, 0, 220);
	test(4, a, 10, 1, 0, 2);
	test(4, b, 10, 1, 0, 6);
	test(4, c, 10, 1, 0, 10);
	test(4, d, 10, 1, 0, 20);

	insert(4, a, 1, 0, 0, 0, 32);
	insert(4, a, 64, 0, 0, 0, 32);
	insert(4, a, 128, 0, 0, 0, 32);
	insert(4, a, 192, 0, 0, 0, 32);
	insert(4, a, 255, 0, 0, 0, 32);
	allowedips_remove_by_peer(&T, a);
	test_negative(4, a, 1, 0, 0, 0);
	test_negative(4, a, 64, 0, 0, 0);
	test_negative(4, a, 128, 0, 0, 0);
	test_negative(4, a, 192, 0, 0, 0);
	test_negative(4, a, 255, 0, 0, 0);
	/* everything else survived */
	test(4, b, 192, 168, 4, 4);
	test(6, h, 0x24046800, 0x40040800, 0, 0);
	test(4, e, 1, 0, 0, 0);

	allowedips_uninit(&T);
	allowedips_init(&T);
	insert(4, a, 192, 168, 0, 0, 16);
	insert(4, a, 192, 168, 0, 0, 24);
	allowedips_remove_by_peer(&T, a);
	test_negative(4, a, 192, 168, 0, 1);
	CHECK(allowedips_count(&T) == 0);
	CHECK(T.root4 == NULL); /* no branch points left behind */

	/* deep v6 paths, as in the kernel's depth check */
	for (unsigned int i = 0; i < 128; ++i) {
		uint8_t ip[16];
		uint64_t part = htobe64(~(1ULL << (i % 64)));

		memset(ip, 0xff, 16);
		memcpy(ip + (i < 64) * 8, &part, 8);
		CHECK(allowedips_insert(&T, AF_INET6, ip, 128, a) == 0);
	}
	CHECK(allowedips_count(&T) == 128);
	allowedips_uninit(&T);

	allowedips_init(&T);
	insert(4, a, 192, 95, 5, 93, 27);
	insert(6, a, 0x26075300, 0x60006b00, 0, 0xc05f0543, 128);
	insert(4, a, 10, 1, 0, 20, 29);
	insert(6, a, 0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523, 83);
	insert(6, a, 0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523, 21);
	insert(4, b, 10, 1, 0, 20, 30); /* someone else's, must not show */
	struct found fd = { 0 };

	allowedips_walk_by_peer(&T, a, walk_cb, &fd);
	CHECK(fd.count == 5);
	CHECK(fd.fa == 1 && fd.fb == 1 && fd.fc == 1 && fd.fd_ == 1 && fd.fe == 1);
	CHECK(fd.other == 0);
	allowedips_uninit(&T);
}

static void test_remove_and_errors(void)
{
	allowedips_init(&T);
	insert(4, a, 10, 0, 0, 0, 8);
	insert(4, b, 10, 1, 0, 0, 16);
	insert(4, c, 10, 1, 2, 0, 24);
	insert(4, d, 10, 1, 3, 0, 24);
	CHECK(allowedips_count(&T) == 4);
	/* only the owner may remove, and only the exact prefix */
	CHECK(allowedips_remove(&T, AF_INET, ip4(10, 1, 0, 0), 16, a) == -ENOENT);
	CHECK(allowedips_remove(&T, AF_INET, ip4(10, 1, 0, 0), 17, b) == -ENOENT);
	CHECK(allowedips_remove(&T, AF_INET, ip4(10, 1, 0, 0), 15, b) == -ENOENT);
	CHECK(allowedips_remove(&T, AF_INET6, ip6(0x0a010000, 0, 0, 0), 16, b) == -ENOENT);
	test(4, b, 10, 1, 9, 9);
	/* host bits are masked on remove too */
	CHECK(allowedips_remove(&T, AF_INET, ip4(10, 1, 77, 77), 16, b) == 0);
	test(4, a, 10, 1, 9, 9);
	test(4, c, 10, 1, 2, 9);
	test(4, d, 10, 1, 3, 9);
	CHECK(allowedips_remove(&T, AF_INET, ip4(10, 1, 2, 0), 24, c) == 0);
	test(4, a, 10, 1, 2, 9);
	test(4, d, 10, 1, 3, 9);
	CHECK(allowedips_count(&T) == 2);
	/* bad arguments */
	CHECK(allowedips_insert(&T, AF_INET, ip4(1, 2, 3, 4), 33, a) == -EINVAL);
	CHECK(allowedips_insert(&T, AF_INET6, ip4(1, 2, 3, 4), 129, a) == -EINVAL);
	CHECK(allowedips_insert(&T, 99, ip4(1, 2, 3, 4), 8, a) == -EINVAL);
	CHECK(allowedips_insert(&T, AF_INET, ip4(1, 2, 3, 4), 8, NULL) == -EINVAL);
	CHECK(allowedips_lookup(&T, 99, ip4(10, 1, 3, 1)) == NULL);
	/* moving a prefix to another owner keeps the count */
	insert(4, e, 10, 1, 3, 0, 24);
	CHECK(allowedips_count(&T) == 2);
	test(4, e, 10, 1, 3, 1);
	CHECK(allowedips_remove(&T, AF_INET, ip4(10, 1, 3, 0), 24, d) == -ENOENT);
	allowedips_uninit(&T);
}

/* --- randomized differential against a linear list --- */

struct lin_entry {
	int family;
	uint8_t ip[16];
	uint8_t cidr;
	void *peer;
};

static struct lin_entry *lin;
static size_t lin_len;

static void mask_bytes(uint8_t *ip, unsigned int bits, unsigned int cidr)
{
	unsigned int i;

	for (i = 0; i < bits / 8; ++i) {
		if (cidr >= (i + 1) * 8)
			continue;
		ip[i] &= cidr > i * 8 ? (uint8_t)(0xff << (8 - (cidr - i * 8))) : 0;
	}
}

static bool prefix_contains(const struct lin_entry *en, int family, const uint8_t *ip)
{
	uint8_t tmp[16];

	if (en->family != family)
		return false;
	memcpy(tmp, ip, 16);
	mask_bytes(tmp, family == AF_INET ? 32 : 128, en->cidr);
	return !memcmp(tmp, en->ip, family == AF_INET ? 4 : 16);
}

static struct lin_entry *lin_find(int family, const uint8_t *ip, uint8_t cidr)
{
	size_t i;

	for (i = 0; i < lin_len; ++i)
		if (lin[i].family == family && lin[i].cidr == cidr &&
		    !memcmp(lin[i].ip, ip, family == AF_INET ? 4 : 16))
			return &lin[i];
	return NULL;
}

static void lin_insert(int family, const uint8_t *raw, uint8_t cidr, void *peer)
{
	uint8_t ip[16] = { 0 };
	struct lin_entry *en;

	memcpy(ip, raw, family == AF_INET ? 4 : 16);
	mask_bytes(ip, family == AF_INET ? 32 : 128, cidr);
	en = lin_find(family, ip, cidr);
	if (!en) {
		en = &lin[lin_len++];
		en->family = family;
		memcpy(en->ip, ip, 16);
		en->cidr = cidr;
	}
	en->peer = peer;
}

static void *lin_lookup(int family, const uint8_t *ip)
{
	size_t i;
	int best = -1;
	void *peer = NULL;

	for (i = 0; i < lin_len; ++i)
		if (lin[i].cidr > best && prefix_contains(&lin[i], family, ip)) {
			best = lin[i].cidr;
			peer = lin[i].peer;
		}
	return peer;
}

static void lin_remove_at(size_t i)
{
	lin[i] = lin[--lin_len];
}

static uint64_t rs = 0x243f6a8885a308d3ULL;
static uint32_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 11);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	while (n--)
		*p++ = (uint8_t)rnd();
}

struct walk_count {
	size_t n, bad;
	void *peer;
};

static void count_cb(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct walk_count *wc = ctx;
	struct lin_entry *en = lin_find(family, addr, cidr);

	wc->n++;
	if (!en || en->peer != wc->peer)
		wc->bad++;
}

static size_t lin_count_peer(void *peer)
{
	size_t i, n = 0;

	for (i = 0; i < lin_len; ++i)
		n += lin[i].peer == peer;
	return n;
}

static size_t walk_all_n, walk_all_bad;

static void walk_all_cb(void *ctx, void *peer, int family, const uint8_t *addr, uint8_t cidr)
{
	struct lin_entry *en = lin_find(family, addr, cidr);

	(void)ctx;
	walk_all_n++;
	if (!en || en->peer != peer)
		walk_all_bad++;
}

static void differential_round(int family)
{
	unsigned int bits = family == AF_INET ? 32 : 128, bytes = bits / 8;
	unsigned int i, j, mismatches = 0, walk_bad = 0;
	uint8_t ip[16] = { 0 }, mut[16] = { 0 };

	allowedips_init(&T);
	lin_len = 0;
	for (i = 0; i < 100; ++i) {
		uint8_t cidr0 = (uint8_t)(rnd() % (bits + 1));
		void *p0 = &peers[rnd() % 16];

		rnd_bytes(ip, bytes);
		lin_insert(family, ip, cidr0, p0);
		CHECK(allowedips_insert(&T, family, ip, cidr0, p0) == 0);
		/* close relatives: share a random-length prefix with ip */
		for (j = 0; j < 20; ++j) {
			unsigned int keep = rnd() % bits, k;
			uint8_t cidr = (uint8_t)(rnd() % (bits + 1));
			void *p = &peers[rnd() % 16];

			rnd_bytes(mut, bytes);
			for (k = 0; k < bytes; ++k) {
				uint8_t m = keep >= (k + 1) * 8 ? 0xff :
					    keep > k * 8 ? (uint8_t)(0xff << (8 - (keep - k * 8))) : 0;
				mut[k] = (ip[k] & m) | (mut[k] & ~m);
			}
			lin_insert(family, mut, cidr, p);
			CHECK(allowedips_insert(&T, family, mut, cidr, p) == 0);
		}
	}
	CHECK(allowedips_count(&T) == lin_len);

	for (int round = 0; round < 4; ++round) {
		for (i = 0; i < 5000; ++i) {
			if (i % 2 && lin_len) { /* near a stored prefix */
				struct lin_entry *en = &lin[rnd() % lin_len];

				rnd_bytes(ip, bytes);
				for (j = 0; j < en->cidr / 8; ++j)
					ip[j] = en->ip[j];
			} else {
				rnd_bytes(ip, bytes);
			}
			if (allowedips_lookup(&T, family, ip) != lin_lookup(family, ip))
				++mismatches;
		}
		for (j = 0; j < 16; ++j) {
			struct walk_count wc = { .peer = &peers[j] };

			allowedips_walk_by_peer(&T, &peers[j], count_cb, &wc);
			if (wc.bad || wc.n != lin_count_peer(&peers[j]))
				++walk_bad;
		}
		walk_all_n = walk_all_bad = 0;
		allowedips_walk(&T, walk_all_cb, NULL);
		CHECK(walk_all_n == lin_len && walk_all_bad == 0);
		/* remove a third of the prefixes one by one (some with the wrong
		 * owner, which must fail), then all of one peer */
		for (i = 0; i < lin_len / 3; ++i) {
			size_t at = rnd() % lin_len;
			void *owner = lin[at].peer, *who = rnd() % 4 ? owner : &peers[(rnd() % 15 + 1 +
									   (int *)owner - peers) % 16];
			int ret = allowedips_remove(&T, family, lin[at].ip, lin[at].cidr, who);

			CHECK(ret == (who == owner ? 0 : -ENOENT));
			if (who == owner)
				lin_remove_at(at);
		}
		void *victim = &peers[rnd() % 16];

		allowedips_remove_by_peer(&T, victim);
		for (i = 0; i < lin_len;)
			if (lin[i].peer == victim)
				lin_remove_at(i);
			else
				++i;
		CHECK(allowedips_count(&T) == lin_len);
	}
	CHECK(mismatches == 0);
	CHECK(walk_bad == 0);
	allowedips_uninit(&T);
}

/* --- scale: the kernel netns test's 130,560 prefixes on one peer --- */

static void big_cb(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	size_t *n = ctx;

	(void)addr;
	if ((family == AF_INET && cidr == 32) || (family == AF_INET6 && cidr == 128))
		++*n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_scale(void)
{
	uint8_t ip[16] = { 0xfd, 0 };
	size_t n = 0, i;
	double t0, t_walk;

	allowedips_init(&T);
	for (i = 0; i < 65280; ++i) { /* 255 x 256 v4 + as many v6 */
		CHECK(allowedips_insert(&T, AF_INET, ip4(10, (uint8_t)(i >> 8), (uint8_t)i, 1), 32, a) == 0);
		ip[14] = (uint8_t)(i >> 8);
		ip[15] = (uint8_t)i;
		CHECK(allowedips_insert(&T, AF_INET6, ip, 128, a) == 0);
	}
	CHECK(allowedips_count(&T) == 130560);
	t0 = now_s();
	allowedips_walk_by_peer(&T, a, big_cb, &n);
	t_walk = now_s() - t0;
	CHECK(n == 130560);
	CHECK(t_walk < 1.0);
	printf("walk of 130560 prefixes: %.1f ms\n", t_walk * 1e3);
	test(4, a, 10, 3, 4, 1);
	test(4, NULL, 10, 3, 4, 2);
	t0 = now_s();
	allowedips_remove_by_peer(&T, a);
	printf("remove_by_peer of 130560 prefixes: %.1f ms\n", (now_s() - t0) * 1e3);
	CHECK(allowedips_count(&T) == 0);
	CHECK(T.root4 == NULL && T.root6 == NULL);
	allowedips_uninit(&T);
}

/* --- readers racing a writer --- */

static atomic_bool stop;
static atomic_ulong bad_reads, reads;

static void *reader(void *arg)
{
	unsigned long n = 0, bad = 0;
	uint32_t x = (uint32_t)(uintptr_t)arg * 2654435761U + 1;

	uint8_t q4[4];

	mg_rcu_register_thread();
	while (!atomic_load(&stop)) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		/* ip4() uses a static buffer: build addresses locally here */
		/* 192.168.1.0/24 is never touched: always g */
		q4[0] = 192, q4[1] = 168, q4[2] = 1, q4[3] = (uint8_t)x;
		if (allowedips_lookup(&T, AF_INET, q4) != g) {
			if (!bad)
				fprintf(stderr, "reader: 192.168.1.x lost\n");
			++bad;
		}
		/* 10/8 churns below a stable /8 owned by h: never NULL */
		q4[0] = 10, q4[1] = (uint8_t)(x >> 8), q4[2] = (uint8_t)(x >> 16), q4[3] = (uint8_t)x;
		void *p = allowedips_lookup(&T, AF_INET, q4);

		if (!p || (p != h && ((int *)p < peers || (int *)p >= peers + 4))) {
			if (!bad)
				fprintf(stderr, "reader: 10/8 gave %p\n", p);
			++bad;
		}
		if (++n % 64 == 0)
			mg_rcu_quiescent_state();
	}
	mg_rcu_unregister_thread();
	atomic_fetch_add(&bad_reads, bad);
	atomic_fetch_add(&reads, n);
	return NULL;
}

static void test_concurrent_readers(void)
{
	pthread_t th[2];
	double end;
	unsigned long ops = 0;
	int i;

	allowedips_init(&T);
	insert(4, g, 192, 168, 1, 0, 24);
	insert(4, h, 10, 0, 0, 0, 8);
	for (i = 0; i < 2; ++i)
		pthread_create(&th[i], NULL, reader, (void *)(uintptr_t)(i + 1));
	end = now_s() + 0.7;
	while (now_s() < end) {
		uint8_t cidr = (uint8_t)(9 + rnd() % 24);
		const uint8_t *ip = ip4(10, (uint8_t)rnd(), (uint8_t)rnd(), (uint8_t)rnd());
		uint8_t copy[4];

		memcpy(copy, ip, 4);
		allowedips_insert(&T, AF_INET, copy, cidr, &peers[rnd() % 4]);
		if (rnd() % 3 == 0)
			allowedips_remove_by_peer(&T, &peers[rnd() % 4]);
		++ops;
	}
	atomic_store(&stop, true);
	for (i = 0; i < 2; ++i)
		pthread_join(th[i], NULL);
	printf("concurrent: %lu writer ops, %lu reads\n", ops, (unsigned long)atomic_load(&reads));
	CHECK(atomic_load(&bad_reads) == 0);
	CHECK(atomic_load(&reads) > 1000);
	allowedips_uninit(&T);
}

int main(void)
{
	lin = calloc(20000, sizeof(*lin));
	test_kernel_vectors();
	test_remove_and_errors();
	for (int i = 0; i < 3; ++i) {
		differential_round(AF_INET);
		differential_round(AF_INET6);
	}
	test_scale();
	test_concurrent_readers();
	free(lin);
	return t_done("allowedips");
}
