// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead_lanes.c - the cross-packet backends' common part (aead_lanes.h;
 * the avx2 and avx512 backends are each a struct lanes_engine): ChaCha20
 * and Poly1305 each run one message per SIMD lane (chacha20_lanes.h,
 * poly1305_lanes.h); this file cuts a burst into lane jobs. Bursts of one
 * or two messages, and the Poly1305 of a message much longer than the rest
 * of its burst, take the engine's within-message wide path instead.
 *
 * Lane scheduling with mixed lengths:
 * ChaCha20: when the blocks of a burst do not fill every lane evenly, long
 *       messages are cut into runs of blocks (jobs with their own first
 *       block counter) of about the average lane load, and a lane that
 *       finishes a job takes the next one at once (chacha20_avx2.c), so no
 *       lane idles while another still has several runs to go.
 * Poly1305 cannot be cut that way (one Horner chain per message), so a
 * message with more than a quarter of the burst's blocks (and at least
 * AEAD_WIDE_POLY_MIN of them) leaves the lanes and runs four blocks per
 * group step with powers of r (the engine's wide_tag); the others share
 * the lanes.
 *
 * seal: ChaCha20 jobs write ciphertext and one-time keys, then Poly1305
 *       jobs write the tags.
 * open: ChaCha20 one-time keys only, Poly1305 tags over the ciphertext,
 *       constant-time compare, then ChaCha20 decrypts the authentic
 *       messages only: a forged message never yields plaintext, in place
 *       or not.
 * Built without SIMD flags: it only runs after aead_init() chose a backend
 * whose CPU features are present, and calls SIMD code only through the
 * engine's pointers.
 */
#include <errno.h>
#include <string.h>

#include "aead_backend.h"
#include "aead_lanes.h"
#include "aead_scrub.h"
#include "memzero.h"
#include "mg.h"
#include "poly1305.h"

#define JOBS_MAX 128

struct job_list {
	const struct lanes_engine *e;
	struct chacha20_job j[JOBS_MAX];
	unsigned n;
};

static void jobs_add(struct job_list *jl, const struct chacha20_job *j)
{
	if (jl->n == JOBS_MAX) {
		jl->e->chacha(jl->j, jl->n);
		jl->n = 0;
	}
	jl->j[jl->n++] = *j;
}

/*
 * Jobs for one message: with a full burst every lane has its own message;
 * with fewer messages than lanes, long messages are cut into runs of
 * `chunk` blocks so they spread over the idle lanes.
 */
static void jobs_message(struct job_list *jl, const struct aead_op *op, uint8_t *otk,
			 uint32_t chunk)
{
	struct chacha20_job j = { .key = op->key, .counter = op->counter, .block = 0,
				  .src = op->src, .dst = op->dst, .otk = otk };
	uint32_t off = 0, max = chunk * 64;

	if (otk) {
		j.len = op->len < max - 64 ? op->len : max - 64;
		jobs_add(jl, &j);
		off = j.len;
		j.otk = NULL;
	}
	while (off < op->len) {
		j.block = 1 + off / 64;
		j.src = op->src + off;
		j.dst = op->dst + off;
		j.len = op->len - off < max ? op->len - off : max;
		jobs_add(jl, &j);
		off += j.len;
	}
}

/* One job per message that computes its one-time key and nothing else. */
static void jobs_keys(struct job_list *jl, const struct aead_op *ops, unsigned n,
		      uint8_t (*otk)[32])
{
	for (unsigned i = 0; i < n; i++)
		jl->j[i] = (struct chacha20_job){ .key = ops[i].key, .counter = ops[i].counter,
						  .otk = otk[i] };
	jl->n = n;
}

static uint32_t chunk_for(const struct lanes_engine *e, const struct aead_op *ops, unsigned n)
{
	uint64_t blocks = 0;

	for (unsigned i = 0; i < n; i++)
		blocks += 1 + ops[i].len / 64;
	/* enough jobs for every lane, at least 4 blocks to amortise a refill;
	 * with evenly long messages the average is at least a message, and
	 * nothing is cut */
	blocks = (blocks + e->lanes - 1) / e->lanes;
	return blocks < 4 ? 4 : (uint32_t)blocks;
}

/* Poly1305 blocks of a message's tag: ciphertext, pad, lengths. */
static uint32_t poly_blocks(uint32_t len)
{
	return (len + 15) / 16 + 1;
}

/*
 * Tags of a burst: messages with more than a quarter of all blocks take the
 * wide path (in the lanes they would run on alone at the end), the rest
 * share the lanes; too few of those for the lanes go one at a time.
 * pj is not const: gcc 12 takes a const pointer to a partly filled array as
 * a read of uninitialised memory (-Wmaybe-uninitialized).
 */
static void tags(const struct lanes_engine *e, struct poly1305_job *pj, unsigned n)
{
	struct poly1305_job rest[AEAD_BURST_MAX];
	uint64_t total = 0;
	unsigned m = 0;

	for (unsigned i = 0; i < n; i++)
		total += poly_blocks(pj[i].len);
	for (unsigned i = 0; i < n; i++) {
		uint32_t b = poly_blocks(pj[i].len);

		if (b >= e->poly_wide_min + 2 && 4ull * b > total)
			e->wide_tag(pj[i].tag, pj[i].otk, pj[i].ct, pj[i].len);
		else
			rest[m++] = pj[i];
	}
	if (m >= e->poly_min) {
		e->poly(rest, m);
		return;
	}
	for (unsigned i = 0; i < m; i++)
		poly1305_aead(rest[i].tag, rest[i].otk, rest[i].ct, rest[i].len);
}

static __attribute__((noinline)) void lanes_seal_burst(const struct lanes_engine *e,
						       struct aead_op *ops, unsigned n)
{
	uint8_t otk[AEAD_BURST_MAX][32];
	struct poly1305_job pj[AEAD_BURST_MAX];
	struct job_list jl;
	uint32_t chunk;

	chunk = chunk_for(e, ops, n);
	jl.e = e;
	jl.n = 0;
	for (unsigned i = 0; i < n; i++)
		jobs_message(&jl, &ops[i], otk[i], chunk);
	e->chacha(jl.j, jl.n);
	for (unsigned i = 0; i < n; i++)
		pj[i] = (struct poly1305_job){ .otk = otk[i], .ct = ops[i].dst,
					       .len = ops[i].len, .tag = ops[i].dst + ops[i].len };
	tags(e, pj, n);
	memzero_explicit(otk, sizeof(otk));
	aead_stack_scrub(AEAD_SCRUB_LANES);
}

static __attribute__((noinline)) uint64_t lanes_open_burst(const struct lanes_engine *e,
							   struct aead_op *ops, unsigned n)
{
	uint8_t otk[AEAD_BURST_MAX][32], tag[AEAD_BURST_MAX][AEAD_TAG_LEN];
	struct poly1305_job pj[AEAD_BURST_MAX];
	struct job_list jl;
	uint32_t chunk;
	uint64_t ok = 0;

	chunk = chunk_for(e, ops, n);
	jl.e = e;
	/* one-time keys only: nothing is decrypted before its tag is checked */
	jobs_keys(&jl, ops, n, otk);
	e->chacha(jl.j, jl.n);
	for (unsigned i = 0; i < n; i++)
		pj[i] = (struct poly1305_job){ .otk = otk[i], .ct = ops[i].src,
					       .len = ops[i].len, .tag = tag[i] };
	tags(e, pj, n);
	memzero_explicit(otk, sizeof(otk));

	jl.n = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!aead_tag_equal(tag[i], ops[i].src + ops[i].len))
			continue;
		ok |= 1ull << i;
		jobs_message(&jl, &ops[i], NULL, chunk);
	}
	memzero_explicit(tag, n * sizeof(tag[0]));     /* a forged message's computed tag is a forgery */
	e->chacha(jl.j, jl.n);
	aead_stack_scrub(AEAD_SCRUB_LANES);
	return ok;
}

/*
 * Bursts of one or two messages leave most lanes empty, and the fixed cost
 * of a lane pass (job lists, state setup, wiping) is then dearer than the
 * wide path, which keeps all lanes on one message. The lane passes have
 * large frames of their own (no secrets in them but the one-time keys,
 * wiped), kept out of the one-message path.
 */
void lanes_seal(const struct lanes_engine *e, struct aead_op *ops, unsigned n)
{
	if (n >= e->burst_min) {
		lanes_seal_burst(e, ops, n);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		e->wide_seal(&ops[i]);
	aead_stack_scrub(AEAD_SCRUB_WIDE);
}

uint64_t lanes_open(const struct lanes_engine *e, struct aead_op *ops, unsigned n)
{
	uint64_t ok = 0;

	if (n >= e->burst_min)
		return lanes_open_burst(e, ops, n);
	for (unsigned i = 0; i < n; i++)
		ok |= (uint64_t)e->wide_open(&ops[i]) << i;
	aead_stack_scrub(AEAD_SCRUB_WIDE);
	return ok;
}
