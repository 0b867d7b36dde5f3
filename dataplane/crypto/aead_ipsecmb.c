// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead_ipsecmb.c - Intel ipsec-mb's job API as a backend: every message of
 * the burst is submitted as one CHACHA20_POLY1305 AEAD job, then the
 * manager is flushed. The library vectorises inside a message; it is here
 * as a peer to measure against and as a fallback.
 *
 * ipsec-mb decrypts and computes the tag in one job, so for open the
 * plaintext exists before the verdict: dst of a message whose tag does not
 * match is wiped before returning (aead.h: no plaintext of a failed message
 * is usable).
 *
 * A manager is not thread-safe: each thread gets its own, created on its
 * first burst with the architecture chosen at aead_init().
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "aead_backend.h"
#include "memzero.h"
#include "mg.h"
#include "mg_config.h"

/* the emulated test build leaves the library out: its own AVX-512 code
 * would run on CPUs without AVX-512 there */
#if defined(MG_HAVE_IPSECMB) && !defined(MG_SIMD_EMULATED)
#include <intel-ipsec-mb.h>

/* Written by setup() before workers start. */
static void (*mgr_init)(IMB_MGR *mgr);
static unsigned mgr_generation;

struct thread_mgr {
	IMB_MGR *mgr;
	unsigned generation;  /* mgr built for this aead_init() */
};
static __thread struct thread_mgr tmgr;
/* A thread's manager is freed when the thread ends (a worker stopping), by this key's destructor. */
static pthread_key_t mgr_key;
static pthread_once_t mgr_key_once = PTHREAD_ONCE_INIT;

static void mgr_free(void *mgr)
{
	free_mb_mgr(mgr);
}

static void mgr_key_create(void)
{
	pthread_key_create(&mgr_key, mgr_free);
}

static IMB_MGR *thread_mgr(void)
{
	if (unlikely(!tmgr.mgr || tmgr.generation != mgr_generation)) {
		if (!tmgr.mgr) {
			tmgr.mgr = alloc_mb_mgr(0);
			if (!tmgr.mgr)
				return NULL;
			pthread_once(&mgr_key_once, mgr_key_create);
			pthread_setspecific(mgr_key, tmgr.mgr);
		}
		mgr_init(tmgr.mgr);
		tmgr.generation = mgr_generation;
	}
	return tmgr.mgr;
}

static void job_fill(IMB_JOB *job, struct aead_op *op, bool seal, uint8_t nonce[12],
		     uint8_t *tag, unsigned i)
{
	aead_nonce(nonce, op->counter);
	job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
	job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
	job->cipher_direction = seal ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = seal ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->enc_keys = op->key;
	job->dec_keys = op->key;
	job->key_len_in_bytes = IMB_KEY_256_BYTES;
	job->src = op->src;
	job->dst = op->dst;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = op->len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = op->len;
	job->iv = nonce;
	job->iv_len_in_bytes = 12;
	job->u.CHACHA20_POLY1305.aad = NULL;
	job->u.CHACHA20_POLY1305.aad_len_in_bytes = 0;
	job->auth_tag_output = tag;
	job->auth_tag_output_len_in_bytes = AEAD_TAG_LEN;
	job->user_data = (void *)(uintptr_t)i;
}

/* Runs the burst; done bit i = job i completed. Tags go to tags[i]. */
static uint64_t ipsecmb_run(struct aead_op *ops, unsigned n, bool seal,
			    uint8_t (*tags)[AEAD_TAG_LEN])
{
	uint8_t nonce[AEAD_BURST_MAX][12];
	IMB_MGR *mgr = thread_mgr();
	uint64_t done = 0;
	IMB_JOB *job;

	if (unlikely(!mgr))
		return 0;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *tag = seal ? ops[i].dst + ops[i].len : tags[i];

		job = IMB_GET_NEXT_JOB(mgr);
		job_fill(job, &ops[i], seal, nonce[i], tag, i);
		for (job = IMB_SUBMIT_JOB(mgr); job; job = IMB_GET_COMPLETED_JOB(mgr))
			if (job->status == IMB_STATUS_COMPLETED)
				done |= 1ull << (uintptr_t)job->user_data;
	}
	while ((job = IMB_FLUSH_JOB(mgr)))
		if (job->status == IMB_STATUS_COMPLETED)
			done |= 1ull << (uintptr_t)job->user_data;
	return done;
}

static void ipsecmb_seal(struct aead_op *ops, unsigned n)
{
	ipsecmb_run(ops, n, true, NULL);
}

static uint64_t ipsecmb_open(struct aead_op *ops, unsigned n)
{
	uint8_t tags[AEAD_BURST_MAX][AEAD_TAG_LEN];
	uint64_t done = ipsecmb_run(ops, n, false, tags), ok = 0;

	for (unsigned i = 0; i < n; i++) {
		if ((done >> i & 1) && aead_tag_equal(tags[i], ops[i].src + ops[i].len))
			ok |= 1ull << i;
		else
			memzero_explicit(ops[i].dst, ops[i].len);
	}
	memzero_explicit(tags, n * sizeof(tags[0]));   /* a forged message's computed tag is a forgery */
	return ok;
}

static int ipsecmb_setup(unsigned features)
{
	/* AVX2 when allowed, else SSE; ipsec-mb's AVX-512 ChaCha20-Poly1305 is
	 * taken only with the whole AVX-512 set */
	if (features & AEAD_CPU_AVX512F)
		mgr_init = init_mb_mgr_avx512;
	else if (features & AEAD_CPU_AVX2)
		mgr_init = init_mb_mgr_avx2;
	else
		mgr_init = init_mb_mgr_sse;
	mgr_generation++;
	return thread_mgr() ? 0 : -ENOMEM;
}

const struct aead_backend aead_ipsecmb_backend = {
	.name = "ipsecmb",
	.library = true,
	.setup = ipsecmb_setup,
	.seal = ipsecmb_seal,
	.open = ipsecmb_open,
};

#else /* !MG_HAVE_IPSECMB: the name exists, aead_init() answers -ENOTSUP */

const struct aead_backend aead_ipsecmb_backend = { .name = "ipsecmb" };

#endif
