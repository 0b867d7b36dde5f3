// SPDX-License-Identifier: GPL-2.0-only
/*
 * Known answers for every backend and every CPU feature subset:
 * RFC 8439 ciphertexts (sections 2.4.2, A.2 #2) with their tags, the empty
 * message under the RFC 8439 section 2.6.2 key, and must-fail variants of
 * each (tag, ciphertext and counter tampered).
 */
#include "aead_test.h"

struct kat {
	const char *name;
	const char *key, *pt, *ct; /* hex; ct includes the 16-byte tag */
	uint64_t counter;
};

static const struct kat kats[] = {
#include "kat.inc"
};

/*
 * Each vector runs as a burst of COPIES identical messages, so backends
 * that hand tiny bursts elsewhere still run it through their own lanes,
 * and as bursts of one and two (the avx2 backend's within-message path).
 */
#define COPIES 5

struct kat_buf {
	uint8_t key[32], pt[512], ct[512 + 16];
	uint8_t buf[COPIES][512 + 16];
	struct aead_op ops[COPIES];
	size_t len;
};

static const unsigned bursts[] = { COPIES, 1, 2 };

static void kat_load(struct kat_buf *b, const struct kat *k)
{
	size_t ctlen;

	b->len = hex_decode(b->pt, k->pt);
	ctlen = hex_decode(b->ct, k->ct);
	hex_decode(b->key, k->key);
	CHECK(ctlen == b->len + AEAD_TAG_LEN, "%s: vector lengths", k->name);
	for (int i = 0; i < COPIES; i++)
		b->ops[i] = (struct aead_op){ .key = b->key, .counter = k->counter,
					      .src = b->pt, .dst = b->buf[i], .len = (uint32_t)b->len };
}

static void kat_seal_open(const struct kat *k, unsigned n)
{
	struct kat_buf b;

	/* out of place seal, then in place open */
	kat_load(&b, k);
	memset(b.buf, 0xa5, sizeof(b.buf));
	aead_seal_burst(b.ops, n);
	for (unsigned i = 0; i < n; i++) {
		CHECK(!memcmp(b.buf[i], b.ct, b.len + AEAD_TAG_LEN), "%s: seal #%u of %u", k->name,
		      i, n);
		b.ops[i].src = b.buf[i];
	}
	CHECK(aead_open_burst(b.ops, n) == (1u << n) - 1, "%s: open (burst %u)", k->name, n);
	for (unsigned i = 0; i < n; i++)
		CHECK(!memcmp(b.buf[i], b.pt, b.len), "%s: open plaintext #%u of %u", k->name, i, n);

	/* in place seal */
	for (unsigned i = 0; i < n; i++)
		memcpy(b.buf[i], b.pt, b.len);
	aead_seal_burst(b.ops, n);
	for (unsigned i = 0; i < n; i++)
		CHECK(!memcmp(b.buf[i], b.ct, b.len + AEAD_TAG_LEN), "%s: in-place seal #%u of %u",
		      k->name, i, n);
}

/* Flip one bit at byte `at` (or change the counter when at < 0) of copy
 * t (the last one of a burst of one or two, else copy 2): copy t alone
 * must fail and leave no plaintext in its dst. */
static void kat_must_fail(const struct kat *k, long at, unsigned n)
{
	struct kat_buf b;
	uint8_t src[COPIES][512 + 16];
	unsigned t = n > 2 ? 2 : n - 1;

	kat_load(&b, k);
	for (unsigned i = 0; i < n; i++) {
		memcpy(src[i], b.ct, b.len + AEAD_TAG_LEN);
		b.ops[i].src = src[i];
	}
	if (at >= 0)
		src[t][at] ^= 0x01;
	else
		b.ops[t].counter ^= 1;
	memset(b.buf, 0, sizeof(b.buf));
	CHECK(aead_open_burst(b.ops, n) == ((1u << n) - 1) - (1u << t),
	      "%s: tampered at %ld (burst %u): wrong verdicts", k->name, at, n);
	CHECK(b.len == 0 || memcmp(b.buf[t], b.pt, b.len < 16 ? b.len : 16),
	      "%s: plaintext of a forged message released (burst %u)", k->name, n);
	if (t)
		CHECK(!memcmp(b.buf[0], b.pt, b.len), "%s: neighbour of a forged message", k->name);
}

static void run(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(kats); i++) {
		const struct kat *k = &kats[i];
		long len = (long)strlen(k->pt) / 2;

		for (size_t j = 0; j < ARRAY_SIZE(bursts); j++) {
			unsigned n = bursts[j];

			kat_seal_open(k, n);
			kat_must_fail(k, len, n);                    /* first tag byte */
			kat_must_fail(k, len + AEAD_TAG_LEN - 1, n); /* last tag byte */
			kat_must_fail(k, -1, n);                     /* wrong nonce */
			if (len)
				kat_must_fail(k, len - 1, n);        /* last ciphertext byte */
		}
	}
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	test_args(argc, argv);
	if (test_only) {
		CHECK(for_each_backend(run) >= 1, "%s did not run", test_only);
		return test_exit("aead-kat");
	}
	CHECK(aead_init("nonsense") == -EINVAL, "unknown backend name accepted");
	/* the feature mask really limits what a backend may use */
	CHECK(aead_init_features("avx2", 0) == -ENOTSUP, "avx2 without AVX2");
	CHECK(aead_init("avx2") == ((aead_cpu_features() & AEAD_CPU_AVX2) ? 0 : -ENOTSUP),
	      "avx2 availability does not follow CPUID");
	CHECK(aead_init_features("auto", 0) == 0 && strcmp(aead_backend_name(), "avx2"),
	      "auto without features picked %s", aead_backend_name());
	/* avx512 follows CPUID; without AVX-512, naming it fails and says why
	 * (the message main.c prints) */
	CHECK(aead_init("avx512") == ((aead_cpu_features() & AEAD_CPU_AVX512F) ? 0 : -ENOTSUP),
	      "avx512 availability does not follow CPUID");
	CHECK(aead_init_features("avx512", AEAD_CPU_AVX2) == -ENOTSUP, "avx512 without AVX-512");
	CHECK(strstr(aead_strerror("avx512", -ENOTSUP), "lacks AVX-512") ||
	      (aead_cpu_features() & AEAD_CPU_AVX512F),
	      "avx512 error text: %s", aead_strerror("avx512", -ENOTSUP));
	CHECK(strstr(aead_strerror("fast", -EINVAL), "not a crypto backend"), "unknown name text");
	/* auto without AVX2: the calibration only chose among what may run */
	CHECK(aead_init_features("auto", AEAD_CPU_AVX512F) == 0, "auto without AVX2");
	for (unsigned s = 0; s < AEAD_SIZE_CLASSES; s++)
		for (unsigned b = 0; b < AEAD_BURST_CLASSES; b++) {
			const char *c = aead_auto_choice_burst(s, b);

			CHECK(c && strcmp(c, "avx2") && ((aead_cpu_features() & AEAD_CPU_AVX512F) ||
							 strcmp(c, "avx512")),
			      "auto without AVX2 chose %s", c ? c : "NULL");
		}
	CHECK(aead_init("auto") == 0 && !strcmp(aead_backend_name(), "auto"), "auto init");
	for (unsigned s = 0; s < AEAD_SIZE_CLASSES; s++) {
		const char *c = aead_auto_choice(s);
		bool known = false;

		for (const char *const *name = aead_backend_names; c && *name; name++)
			known |= !strcmp(c, *name);
		CHECK(known, "auto choice for size class %u: %s", s, c ? c : "NULL");
		printf("# auto, %u B, full bursts: %s\n", aead_size_class_bytes(s), c);
	}
	CHECK(!aead_auto_choice(AEAD_SIZE_CLASSES) && !aead_size_class_bytes(AEAD_SIZE_CLASSES),
	      "size class out of range");
	run();
	CHECK(aead_init("avx2") != 0 || !strcmp(aead_auto_choice(0), "avx2"),
	      "a fixed backend's choice is its name");
	CHECK(for_each_backend(run) >= 2, "too few backends ran");
	return test_exit("aead-kat");
}
