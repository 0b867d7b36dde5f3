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

static void kat_seal_open(const struct kat *k)
{
	uint8_t key[32], pt[512], ct[512 + 16], buf[512 + 16];
	size_t len = hex_decode(pt, k->pt);
	size_t ctlen = hex_decode(ct, k->ct);
	struct aead_op op = { .key = key, .counter = k->counter, .len = (uint32_t)len };

	hex_decode(key, k->key);
	CHECK(ctlen == len + AEAD_TAG_LEN, "%s: vector lengths", k->name);

	/* Out of place seal, then in place open. */
	memset(buf, 0xa5, sizeof(buf));
	op.src = pt;
	op.dst = buf;
	aead_seal_burst(&op, 1);
	CHECK(!memcmp(buf, ct, ctlen), "%s: seal", k->name);
	op.src = op.dst = buf;
	CHECK(aead_open_burst(&op, 1) == 1, "%s: open", k->name);
	CHECK(!memcmp(buf, pt, len), "%s: open plaintext", k->name);

	/* In place seal. */
	memcpy(buf, pt, len);
	aead_seal_burst(&op, 1);
	CHECK(!memcmp(buf, ct, ctlen), "%s: in-place seal", k->name);
}

/* Flip one bit at byte `at` (or change the counter when at < 0): must fail
 * and leave no plaintext in dst. */
static void kat_must_fail(const struct kat *k, long at)
{
	uint8_t key[32], pt[512], ct[512 + 16], out[512];
	size_t len = hex_decode(pt, k->pt);
	size_t ctlen = hex_decode(ct, k->ct);
	struct aead_op op = { .key = key, .counter = k->counter, .src = ct,
			      .dst = out, .len = (uint32_t)len };

	hex_decode(key, k->key);
	if (at >= 0)
		ct[at] ^= 0x01;
	else
		op.counter ^= 1;
	memset(out, 0, sizeof(out));
	CHECK(aead_open_burst(&op, 1) == 0, "%s: tampered at %ld accepted", k->name, at);
	CHECK(len == 0 || memcmp(out, pt, len < 16 ? len : 16),
	      "%s: plaintext of a forged message released", k->name);
	(void)ctlen;
}

static void run(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(kats); i++) {
		const struct kat *k = &kats[i];
		long len = (long)strlen(k->pt) / 2;

		kat_seal_open(k);
		kat_must_fail(k, len);                      /* first tag byte */
		kat_must_fail(k, len + AEAD_TAG_LEN - 1);   /* last tag byte */
		kat_must_fail(k, -1);                       /* wrong nonce */
		if (len)
			kat_must_fail(k, len - 1);          /* last ciphertext byte */
	}
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	CHECK(aead_init("nonsense") == -EINVAL, "unknown backend name accepted");
	CHECK(aead_init("auto") == 0, "auto init");
	printf("# auto picks %s\n", aead_backend_name());
	CHECK(for_each_backend(run) >= 2, "too few backends ran");
	return test_exit("aead-kat");
}
