// SPDX-License-Identifier: GPL-2.0-only
/*
 * Differential tests of every backend (and every CPU feature subset)
 * against libsodium called directly:
 *  1. every length 0..2048, out of place and in place, seal and open, alone
 *     and beside a second message (the avx2 wide path for bursts of one
 *     and two), and in bursts of eight consecutive lengths (the SIMD lane
 *     paths);
 *  2. bursts of 1..64 with mixed lengths, keys and counters, some in place
 *     and some not, equal to one-at-a-time reference results, including
 *     bursts where one or two messages are much longer than the rest (their
 *     Poly1305 leaves the lanes for the wide path, their ChaCha20 is cut
 *     across lanes);
 *  3. tampered messages inside a burst fail alone and release no plaintext;
 *  3a. long messages up to 64 KiB, alone (the wide paths), in place and
 *     not, and beside short ones in a burst (ChaCha20 cut across lanes);
 *  4. no one-time Poly1305 key or keystream is left on the stack, after a
 *     lane burst, one-message bursts (long and short) and a burst with a
 *     long straggler.
 * Usage: test_aead_diff [--backend NAME] [seed]
 */
#include "aead_test.h"

#define MAXLEN 2048
#define BUFSZ (MAXLEN + AEAD_TAG_LEN)

static uint64_t seed = 0x6d65736867617465ull;

static uint8_t pt[AEAD_BURST_MAX][BUFSZ], ref[AEAD_BURST_MAX][BUFSZ];
static uint8_t buf[AEAD_BURST_MAX][BUFSZ], out[AEAD_BURST_MAX][BUFSZ];
static uint8_t keys[AEAD_BURST_MAX][32];

static void every_length(void)
{
	uint8_t key[32];

	for (uint32_t len = 0; len <= MAXLEN; len++) {
		uint64_t ctr = test_rand(&seed);
		struct aead_op op = { .key = key, .counter = ctr, .src = pt[0],
				      .dst = buf[0], .len = len };

		test_fill(key, 32, &seed);
		test_fill(pt[0], len, &seed);
		ref_seal(ref[0], pt[0], len, key, ctr);
		aead_seal_burst(&op, 1);
		CHECK(!memcmp(buf[0], ref[0], len + AEAD_TAG_LEN), "seal len %u", len);

		op.src = buf[0];
		op.dst = out[0];
		CHECK(aead_open_burst(&op, 1) == 1, "open len %u", len);
		CHECK(!memcmp(out[0], pt[0], len), "open plaintext len %u", len);

		/* in place both ways */
		memcpy(buf[0], pt[0], len);
		op.src = op.dst = buf[0];
		aead_seal_burst(&op, 1);
		CHECK(!memcmp(buf[0], ref[0], len + AEAD_TAG_LEN), "in-place seal len %u", len);
		CHECK(aead_open_burst(&op, 1) == 1, "in-place open len %u", len);
		CHECK(!memcmp(buf[0], pt[0], len), "in-place open plaintext len %u", len);
	}
}

/* Every length as the first of a burst of two, the second of length
 * 2048 - len; in place for odd lengths. */
static void every_length_pair(void)
{
	struct aead_op ops[2];

	for (uint32_t len = 0; len <= MAXLEN; len++) {
		bool inplace = len & 1;

		for (int i = 0; i < 2; i++) {
			ops[i] = (struct aead_op){ .key = keys[i], .counter = test_rand(&seed),
						   .src = pt[i], .len = i ? MAXLEN - len : len };
			test_fill(keys[i], 32, &seed);
			test_fill(pt[i], ops[i].len, &seed);
			ref_seal(ref[i], pt[i], ops[i].len, keys[i], ops[i].counter);
			memcpy(buf[i], pt[i], ops[i].len);
			ops[i].src = buf[i];
			ops[i].dst = inplace ? buf[i] : out[i];
		}
		aead_seal_burst(ops, 2);
		for (int i = 0; i < 2; i++) {
			CHECK(!memcmp(ops[i].dst, ref[i], ops[i].len + AEAD_TAG_LEN),
			      "pair seal len %u (#%d)", ops[i].len, i);
			memcpy(buf[i], ref[i], ops[i].len + AEAD_TAG_LEN);
			ops[i].src = buf[i];
		}
		/* the second one tampered every third time: it alone fails */
		if (len % 3 == 0)
			buf[1][test_rand(&seed) % (ops[1].len + AEAD_TAG_LEN)] ^= 0x80;
		CHECK(aead_open_burst(ops, 2) == (len % 3 ? 3u : 1u), "pair open len %u", len);
		CHECK(!memcmp(ops[0].dst, pt[0], len), "pair open plaintext len %u", len);
		if (len % 3)
			CHECK(!memcmp(ops[1].dst, pt[1], ops[1].len), "pair open plaintext len %u",
			      ops[1].len);
		else
			CHECK(ops[1].len < 8 || memcmp(ops[1].dst, pt[1], ops[1].len),
			      "pair: plaintext of forged message released (len %u)", ops[1].len);
	}
}

/* Every length again, eight consecutive lengths per burst, so that the
 * cross-packet lanes see each length beside its neighbours. */
static void every_length_burst(void)
{
	struct aead_op ops[8];

	for (uint32_t base = 0; base <= MAXLEN; base += 8) {
		unsigned n = 0;

		for (uint32_t len = base; len < base + 8 && len <= MAXLEN; len++, n++) {
			ops[n] = (struct aead_op){ .key = keys[n], .counter = test_rand(&seed),
						   .src = pt[n], .dst = buf[n], .len = len };
			test_fill(keys[n], 32, &seed);
			test_fill(pt[n], len, &seed);
			ref_seal(ref[n], pt[n], len, keys[n], ops[n].counter);
		}
		aead_seal_burst(ops, n);
		for (unsigned i = 0; i < n; i++) {
			CHECK(!memcmp(buf[i], ref[i], ops[i].len + AEAD_TAG_LEN),
			      "burst seal len %u", ops[i].len);
			ops[i].src = buf[i];
			ops[i].dst = out[i];
		}
		CHECK(aead_open_burst(ops, n) == (1ull << n) - 1, "burst open base %u", base);
		for (unsigned i = 0; i < n; i++)
			CHECK(!memcmp(out[i], pt[i], ops[i].len), "burst open len %u", ops[i].len);
	}
}

/* Lengths that exercise block and lane edges, then random ones. */
static uint32_t pick_len(unsigned i, unsigned shape)
{
	static const uint32_t edges[] = { 0, 1, 15, 16, 17, 63, 64, 65, 127, 128,
					  255, 256, 257, 511, 512, 1024, 1279, 1280,
					  1420, 1436, 2047, 2048 };

	switch (shape) {
	case 0: return (uint32_t)(test_rand(&seed) % (MAXLEN + 1));
	case 1: return edges[test_rand(&seed) % ARRAY_SIZE(edges)];
	case 2: return 64;        /* homogeneous small */
	case 3: return 1420;      /* homogeneous MTU-size */
	case 4: return i * 31 % 700; /* staircase */
	/* stragglers: one or two long messages among short ones */
	case 5: return i == 2 ? 1280 + (uint32_t)(test_rand(&seed) % 769)
			      : (uint32_t)(test_rand(&seed) % 129);
	default: return i % 7 == 1 ? 600 + (uint32_t)(test_rand(&seed) % 1449)
				   : (uint32_t)(test_rand(&seed) % 200);
	}
}

/* Fill a burst: lengths by shape, a few keys shared, half in place. */
static void make_burst(struct aead_op *ops, unsigned n, unsigned shape, bool seal)
{
	for (unsigned i = 0; i < n; i++) {
		struct aead_op *op = &ops[i];
		unsigned k = (test_rand(&seed) % 4 == 0 && i) ? i - 1 : i;
		bool inplace = test_rand(&seed) & 1;

		test_fill(keys[i], 32, &seed);
		if (k != i)
			memcpy(keys[i], keys[k], 32);
		op->key = keys[i];
		op->counter = test_rand(&seed) >> (test_rand(&seed) % 64);
		op->len = pick_len(i, shape);
		test_fill(pt[i], op->len, &seed);
		ref_seal(ref[i], pt[i], op->len, keys[i], op->counter);
		if (seal) {
			memcpy(buf[i], pt[i], op->len);
			op->src = buf[i];
		} else {
			memcpy(buf[i], ref[i], op->len + AEAD_TAG_LEN);
			op->src = buf[i];
		}
		op->dst = inplace ? buf[i] : out[i];
	}
}

static void burst_once(unsigned n, unsigned shape)
{
	struct aead_op ops[AEAD_BURST_MAX];
	uint64_t all = n == 64 ? ~0ull : (1ull << n) - 1, bad = 0, got;

	make_burst(ops, n, shape, true);
	aead_seal_burst(ops, n);
	for (unsigned i = 0; i < n; i++)
		CHECK(!memcmp(ops[i].dst, ref[i], ops[i].len + AEAD_TAG_LEN),
		      "burst %u shape %u: seal %u (len %u)", n, shape, i, ops[i].len);

	make_burst(ops, n, shape, false);
	CHECK(aead_open_burst(ops, n) == all, "burst %u shape %u: open", n, shape);
	for (unsigned i = 0; i < n; i++)
		CHECK(!memcmp(ops[i].dst, pt[i], ops[i].len),
		      "burst %u shape %u: open %u (len %u)", n, shape, i, ops[i].len);

	/* Tamper with about one in five messages: exactly those must fail. */
	make_burst(ops, n, shape, false);
	for (unsigned i = 0; i < n; i++) {
		if (test_rand(&seed) % 5)
			continue;
		buf[i][test_rand(&seed) % (ops[i].len + AEAD_TAG_LEN)] ^=
			(uint8_t)(1u << (test_rand(&seed) % 8));
		bad |= 1ull << i;
	}
	got = aead_open_burst(ops, n);
	CHECK(got == (all & ~bad), "burst %u shape %u: open verdicts %#llx want %#llx",
	      n, shape, (unsigned long long)got, (unsigned long long)(all & ~bad));
	for (unsigned i = 0; i < n; i++) {
		if (bad & (1ull << i))
			CHECK(ops[i].len < 8 || memcmp(ops[i].dst, pt[i], ops[i].len),
			      "burst %u: plaintext of forged message %u released", n, i);
		else
			CHECK(!memcmp(ops[i].dst, pt[i], ops[i].len),
			      "burst %u shape %u: tampered neighbour broke %u", n, shape, i);
	}
}

static void bursts(void)
{
	struct aead_op none[1] = { { 0 } };

	aead_seal_burst(none, 0);
	CHECK(aead_open_burst(none, 0) == 0, "empty burst");

	for (unsigned n = 1; n <= AEAD_BURST_MAX; n++)
		for (unsigned shape = 0; shape < 7; shape++)
			burst_once(n, shape);
}

#define LONGMAX 65536

static uint8_t lpt[3][LONGMAX + AEAD_TAG_LEN], lref[3][LONGMAX + AEAD_TAG_LEN];
static uint8_t lbuf[3][LONGMAX + AEAD_TAG_LEN], lout[3][LONGMAX + AEAD_TAG_LEN];

/* One long message (lens[0]) alone, then beside two others, sealed and
 * opened against the reference, in place or not; a flipped bit in the long
 * one fails it alone and releases no plaintext, and it opens once repaired. */
static void long_once(const uint32_t lens[3], bool inplace)
{
	struct aead_op ops[3];
	uint32_t at;

	for (unsigned n = 1; n <= 3; n += 2) {
		for (unsigned i = 0; i < n; i++) {
			ops[i] = (struct aead_op){ .key = keys[i], .counter = test_rand(&seed),
						   .src = lbuf[i], .len = lens[i],
						   .dst = inplace ? lbuf[i] : lout[i] };
			test_fill(keys[i], 32, &seed);
			test_fill(lpt[i], lens[i], &seed);
			ref_seal(lref[i], lpt[i], lens[i], keys[i], ops[i].counter);
			memcpy(lbuf[i], lpt[i], lens[i]);
		}
		aead_seal_burst(ops, n);
		for (unsigned i = 0; i < n; i++) {
			CHECK(!memcmp(ops[i].dst, lref[i], lens[i] + AEAD_TAG_LEN),
			      "long seal len %u (burst %u, in place %d)", lens[i], n, inplace);
			memcpy(lbuf[i], lref[i], lens[i] + AEAD_TAG_LEN);
		}
		at = (uint32_t)(test_rand(&seed) % (lens[0] + AEAD_TAG_LEN));
		lbuf[0][at] ^= 0x10;
		CHECK(aead_open_burst(ops, n) == ((1ull << n) - 2), "long open len %u (burst %u)",
		      lens[0], n);
		for (unsigned i = 1; i < n; i++)
			CHECK(!memcmp(ops[i].dst, lpt[i], lens[i]), "long open len %u beside %u",
			      lens[i], lens[0]);
		CHECK(lens[0] < 8 || memcmp(ops[0].dst, lpt[0], lens[0]),
		      "long: plaintext of forged message released (len %u)", lens[0]);
		memcpy(lbuf[0], lref[0], lens[0] + AEAD_TAG_LEN);
		CHECK(aead_open_burst(ops, 1) == 1 && !memcmp(ops[0].dst, lpt[0], lens[0]),
		      "long open len %u alone (in place %d)", lens[0], inplace);
	}
}

static void long_lengths(void)
{
	static const uint32_t lens[][3] = {
		{ 2049, 64, 1420 }, { 4095, 0, 64 }, { 4096, 1, 16 }, { 9000, 128, 1500 },
		{ 16400, 64, 64 }, { 32768, 2048, 1 }, { 65535, 300, 64 }, { 65536, 1420, 1420 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		long_once(lens[i], false);
		long_once(lens[i], true);
	}
}

/*
 * Seal one message with a known key from a fixed stack depth, then look for
 * its one-time Poly1305 key and first keystream block in the stack memory
 * the call used. noinline + volatile keep the compiler from folding this.
 */
static __attribute__((noinline)) void stack_seal(struct aead_op *op, unsigned how)
{
	volatile uint8_t pad[256];
	struct aead_op ops[12];
	unsigned n = how == 1 || how == 3 ? 1 : how == 2 ? 12 : 4;

	/* how 0: a burst of four, so that backends use their lanes and not a
	 * one-message path; 1: the message alone (avx2: the wide path; for
	 * 64 bytes, its two-block steps);
	 * 2: the message of length 1420 as a straggler among eleven short ones
	 * (avx2: lanes, its tag on the wide path) */
	for (unsigned i = 0; i < n; i++) {
		ops[i] = *op;
		ops[i].dst = buf[i];
		if (how == 2 && i)
			ops[i].len = 16;
	}
	pad[0] = 0;
	aead_seal_burst(ops, n);
	(void)pad[0];
}

static __attribute__((noinline)) bool stack_has(const uint8_t *needle, size_t n)
{
	volatile uint8_t probe[32768];
	bool found = false;

	/* Reads memory the previous call left behind: deliberate. */
	__asm__ volatile("" : : "r"(probe) : "memory");
	for (size_t i = 0; i + n <= sizeof(probe); i++) {
		size_t j = 0;

		while (j < n && probe[i + j] == needle[j])
			j++;
		found |= j == n;
	}
	return found;
}

/* Zeroes the stack below the caller's frame, deeper than stack_has looks: what the test's own
 * libsodium calls left there (they keep the key and keystream in their frames, unscrubbed) must
 * not be taken for the backend's. */
static __attribute__((noinline)) void stack_clear(void)
{
	volatile uint8_t area[49152];

	for (size_t i = 0; i < sizeof(area); i++)
		area[i] = 0;
	__asm__ volatile("" : : "r"(area) : "memory");
}

/*
 * Needles are single 32-bit words: SIMD engines keep state transposed (one
 * word of each lane per row), so whole keys never appear contiguously.
 * A random 32-bit word turns up by chance in 32 KiB of stack with
 * probability about 2^-17, and the seed is fixed.
 */
static void secrets_wiped(void)
{
	static const uint8_t zero[1420];
	uint8_t key[32], otk[64], ks[64], nonce[12] = { 0 };
	struct aead_op op = { .key = key, .counter = 7, .src = zero, .len = 64 };
	static const struct {
		const char *what;
		int off;
	} needles[] = { { "key", 0 }, { "one-time key", 32 }, { "keystream", 64 } };
	uint8_t secret[96];

	test_fill(key, 32, &seed);
	nonce[4] = 7;
	crypto_stream_chacha20_ietf_xor_ic(otk, zero, 64, nonce, 0, key);
	crypto_stream_chacha20_ietf_xor_ic(ks, zero, 64, nonce, 1, key);
	memcpy(secret, key, 32);
	memcpy(secret + 32, otk, 32);
	memcpy(secret + 64, ks, 32);
	stack_clear();
	for (unsigned how = 0; how < 4; how++) {
		op.len = how == 1 || how == 2 ? 1420 : 64;
		for (size_t i = 0; i < ARRAY_SIZE(needles); i++)
			for (int w = 0; w < 8; w++) {
				stack_seal(&op, how);
				CHECK(!stack_has(secret + needles[i].off + 4 * w, 4),
				      "%s word %d left on the stack (burst shape %u)",
				      needles[i].what, w, how);
			}
	}
}

static void run(void)
{
	every_length();
	every_length_pair();
	every_length_burst();
	bursts();
	long_lengths();
	/* auto may hand a shape to a library, which does not scrub its stack */
	if (strcmp(aead_backend_name(), "sodium") && strcmp(aead_backend_name(), "ipsecmb") &&
	    strcmp(aead_backend_name(), "auto"))
		secrets_wiped();
}

int main(int argc, char **argv)
{
	int arg;

	if (sodium_init() < 0)
		return 1;
	arg = test_args(argc, argv);
	if (argc > arg)
		seed = strtoull(argv[arg], NULL, 0) | 1;
	printf("# seed %#llx\n", (unsigned long long)seed);
	CHECK(for_each_backend(run) >= (test_only ? 1 : 2), "too few backends ran");
	if (!test_only) {
		/* auto: every burst through the backend calibrated for its shape */
		CHECK(aead_init("auto") == 0, "auto init");
		printf("# backend auto\n");
		run();
	}
	return test_exit("aead-diff");
}
