// SPDX-License-Identifier: GPL-2.0-only
/*
 * crypto-bench - per-core ChaCha20-Poly1305 throughput of every batch AEAD
 * backend beside OpenSSL EVP and libsodium one message at a time, in the
 * same run, on the same buffers.
 *
 * Bursts of 64 (a loaded worker), 2 and 1 (light load: the single-message
 * wide path of the avx2 backend) by default; --batch picks others.
 * Every message of a burst has its own key and counter (the worst case for
 * a batch engine; the data path groups by keypair but need not). Seal runs
 * in place, as the data path does; open runs out of place so the ciphertext
 * stays valid across repetitions. Each figure is the median of --runs timed
 * runs of at least --ms milliseconds after one untimed warm-up run; the runs
 * of all contenders are interleaved so that a noisy neighbour hits them
 * alike. Time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID): figures
 * are per core even when the machine is shared; --wall uses wall time.
 *
 * "auto" is Crypto = auto: calibrated once at start (aead.c), then each
 * burst runs on the backend chosen for its shape; the tables name that
 * choice and --json carries it ("chosen"). The last table is the ratio of
 * every own backend and of auto to the best library (OpenSSL EVP,
 * libsodium, ipsec-mb) per size, seal/open, for each burst size.
 *
 * --mixed adds bursts of mixed lengths (one 1420-byte message among 64-byte
 * ones), where a batch engine must not let one long message idle its lanes
 * (a table only, not in --json).
 *
 * Usage: crypto-bench [--json] [--ms N] [--runs N] [--cpu N] [--backend NAME] [--wall]
 *                     [--batch N[,N...]] [--mixed]
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "aead.h"
#include "mg.h"

#define BATCH 64 /* the largest burst */
#define MAXBATCHES 8
#define MAXLEN 1420
#define MAXRUNS 31

static const uint32_t sizes[] = { 64, 128, 256, 512, 1280, 1420 };

struct bench_buf {
	uint8_t keys[BATCH][32];
	uint8_t pt[BATCH][MAXLEN + AEAD_TAG_LEN];  /* sealed in place */
	uint8_t ct[BATCH][MAXLEN + AEAD_TAG_LEN];  /* valid ciphertexts for open */
	uint8_t out[BATCH][MAXLEN + AEAD_TAG_LEN]; /* open destination */
	struct aead_op seal[BATCH], open[BATCH];
	uint32_t len;
	unsigned batch;        /* messages per burst of this run */
};

/* One contender: runs one burst of b->batch messages in one direction. */
struct contender {
	const char *name;
	bool own;              /* ours (a batch backend) or a library peer */
	void (*burst)(struct bench_buf *b, bool open);
	EVP_CIPHER_CTX *evp;
};

static struct contender *cur;
static unsigned long long bad_opens;

static void burst_batch(struct bench_buf *b, bool open)
{
	uint64_t all = b->batch == 64 ? ~0ull : (1ull << b->batch) - 1;

	if (open) {
		if (aead_open_burst(b->open, b->batch) != all)
			bad_opens++;
	} else {
		aead_seal_burst(b->seal, b->batch);
	}
}

static void nonce_of(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	memcpy(nonce + 4, &counter, 8); /* little endian host */
}

static void burst_sodium(struct bench_buf *b, bool open)
{
	uint8_t nonce[12];

	for (unsigned i = 0; i < b->batch; i++) {
		struct aead_op *op = open ? &b->open[i] : &b->seal[i];

		nonce_of(nonce, op->counter);
		if (!open)
			crypto_aead_chacha20poly1305_ietf_encrypt_detached(op->dst,
				op->dst + op->len, NULL, op->src, op->len, NULL, 0, NULL, nonce, op->key);
		else if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(op->dst, NULL,
				op->src, op->len, op->src + op->len, NULL, 0, nonce, op->key))
			bad_opens++;
	}
}

static void burst_evp(struct bench_buf *b, bool open)
{
	EVP_CIPHER_CTX *ctx = cur->evp;
	uint8_t nonce[12];
	int n;

	for (unsigned i = 0; i < b->batch; i++) {
		struct aead_op *op = open ? &b->open[i] : &b->seal[i];

		nonce_of(nonce, op->counter);
		if (!open) {
			EVP_EncryptInit_ex(ctx, NULL, NULL, op->key, nonce);
			EVP_EncryptUpdate(ctx, op->dst, &n, op->src, (int)op->len);
			EVP_EncryptFinal_ex(ctx, op->dst + n, &n);
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, op->dst + op->len);
		} else {
			EVP_DecryptInit_ex(ctx, NULL, NULL, op->key, nonce);
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(op->src + op->len));
			EVP_DecryptUpdate(ctx, op->dst, &n, op->src, (int)op->len);
			if (EVP_DecryptFinal_ex(ctx, op->dst + n, &n) != 1)
				bad_opens++;
		}
	}
}

/* Every message len bytes, except message 1 of length long_len when set. */
static void setup_buf(struct bench_buf *b, uint32_t len, uint32_t long_len)
{
	b->len = len;
	randombytes_buf(b->keys, sizeof(b->keys));
	randombytes_buf(b->pt, sizeof(b->pt));
	for (unsigned i = 0; i < BATCH; i++) {
		uint8_t nonce[12];
		uint64_t counter = 1000 + i;
		uint32_t l = i == 1 && long_len ? long_len : len;

		b->seal[i] = (struct aead_op){ .key = b->keys[i], .counter = counter,
					       .src = b->pt[i], .dst = b->pt[i], .len = l };
		b->open[i] = (struct aead_op){ .key = b->keys[i], .counter = counter,
					       .src = b->ct[i], .dst = b->out[i], .len = l };
		nonce_of(nonce, counter);
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(b->ct[i], b->ct[i] + l,
			NULL, b->pt[i], l, NULL, 0, NULL, nonce, b->keys[i]);
	}
}

static clockid_t bench_clock = CLOCK_THREAD_CPUTIME_ID;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(bench_clock, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Packets per second of one timed run of at least ms milliseconds. */
static double run_once(struct bench_buf *b, bool open, unsigned ms)
{
	double t0 = now_s(), t;
	unsigned long long bursts = 0;

	do {
		for (int i = 0; i < 16; i++)
			cur->burst(b, open);
		bursts += 16;
		t = now_s();
	} while (t - t0 < ms * 1e-3);
	return (double)bursts * b->batch / (t - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return v[n / 2];
}

#define MAXCONT 12

static struct contender conts[MAXCONT];
static unsigned ncont;
static double pps[MAXBATCHES][MAXCONT][ARRAY_SIZE(sizes)][2];
static unsigned batches[MAXBATCHES] = { 64, 2, 1 }, nbatch = 3;

static void add_contenders(const char *only)
{
	for (const char *const *name = aead_backend_names; *name; name++) {
		if ((only && strcmp(only, *name)) || aead_init(*name))
			continue;
		conts[ncont++] = (struct contender){
			.name = *name, .burst = burst_batch,
			.own = strcmp(*name, "sodium") && strcmp(*name, "ipsecmb"),
		};
	}
	if ((!only || !strcmp(only, "auto")) && !aead_init("auto"))
		conts[ncont++] = (struct contender){ .name = "auto", .burst = burst_batch };
	if (only)
		return;
	conts[ncont] = (struct contender){ .name = "openssl-evp", .burst = burst_evp,
					   .evp = EVP_CIPHER_CTX_new() };
	EVP_CipherInit_ex(conts[ncont].evp, EVP_chacha20_poly1305(), NULL, NULL, NULL, 1);
	ncont++;
	conts[ncont++] = (struct contender){ .name = "libsodium-1x", .burst = burst_sodium };
}

static bool is_library_peer(const struct contender *c)
{
	return !strcmp(c->name, "openssl-evp") || !strcmp(c->name, "ipsecmb") ||
	       !strcmp(c->name, "libsodium-1x") || !strcmp(c->name, "sodium");
}

/* What auto ran for this burst size and message length. */
static const char *auto_choice(unsigned batch, uint32_t len)
{
	if (aead_init("auto"))
		return "-";
	return aead_auto_choice_burst(aead_size_class(len), aead_burst_class(batch));
}

static void print_table(unsigned bi, unsigned ms, unsigned runs)
{
	double (*pp)[ARRAY_SIZE(sizes)][2] = pps[bi];

	printf("crypto-bench: batch %u, median of %u runs x %u ms %s time, one core; GB/s of plaintext\n",
	       batches[bi], runs, ms, bench_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU");
	printf("%5s  %-13s %10s %10s %10s %10s\n", "size", "contender",
	       "seal Mpps", "seal GB/s", "open Mpps", "open GB/s");
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		for (unsigned c = 0; c < ncont; c++)
			printf("%5u  %-13s %10.2f %10.2f %10.2f %10.2f\n", sizes[s], conts[c].name,
			       pp[c][s][0] / 1e6, pp[c][s][0] * sizes[s] / 1e9,
			       pp[c][s][1] / 1e6, pp[c][s][1] * sizes[s] / 1e9);
		putchar('\n');
	}
	putchar('\n');
}

static double best_library(unsigned bi, size_t s, int d)
{
	double lib = 0;

	for (unsigned c = 0; c < ncont; c++)
		if (is_library_peer(&conts[c]) && pps[bi][c][s][d] > lib)
			lib = pps[bi][c][s][d];
	return lib;
}

/* The final table: each own backend and auto against the best library,
 * seal/open, per burst size and message size. */
static void print_ratios(void)
{
	printf("crypto-bench: ratio to the best library (OpenSSL EVP, libsodium, ipsec-mb), seal/open\n");
	for (unsigned bi = 0; bi < nbatch; bi++) {
		printf("batch %-3u %-11s", batches[bi], "best lib");
		for (unsigned c = 0; c < ncont; c++)
			if (conts[c].own || !strcmp(conts[c].name, "auto"))
				printf(" %-11s", conts[c].name);
		printf(" %s\n", "auto ran");
		for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
			double lib[2] = { best_library(bi, s, 0), best_library(bi, s, 1) };

			printf("%5u B   %-11s", sizes[s], "1.00/1.00");
			for (unsigned c = 0; c < ncont; c++) {
				char cell[32];

				if (!conts[c].own && strcmp(conts[c].name, "auto"))
					continue;
				snprintf(cell, sizeof(cell), "%.2f/%.2f",
					 lib[0] ? pps[bi][c][s][0] / lib[0] : 0,
					 lib[1] ? pps[bi][c][s][1] / lib[1] : 0);
				printf(" %-11s", cell);
			}
			printf(" %s\n", auto_choice(batches[bi], sizes[s]));
		}
		putchar('\n');
	}
}

static void print_json(void)
{
	bool first = true;

	printf("[\n");
	for (unsigned bi = 0; bi < nbatch; bi++)
		for (unsigned c = 0; c < ncont; c++)
			for (size_t s = 0; s < ARRAY_SIZE(sizes); s++)
				for (int d = 0; d < 2; d++) {
					printf("%s  {\"backend\": \"%s\", \"size\": %u, \"direction\": \"%s\", "
					       "\"batch\": %u, \"mpps\": %.4f, \"gbps\": %.4f, "
					       "\"vs_best_library\": %.3f, \"chosen\": \"%s\"}",
					       first ? "" : ",\n", conts[c].name, sizes[s],
					       d ? "open" : "seal", batches[bi], pps[bi][c][s][d] / 1e6,
					       pps[bi][c][s][d] * sizes[s] / 1e9,
					       best_library(bi, s, d) ? pps[bi][c][s][d] / best_library(bi, s, d) : 0,
					       strcmp(conts[c].name, "auto") ? conts[c].name :
					       auto_choice(batches[bi], sizes[s]));
					first = false;
				}
	printf("\n]\n");
}

static void use_contender(unsigned c)
{
	cur = &conts[c];
	if (cur->burst == burst_batch)
		aead_init(cur->name);
}

/* All contenders at one size, runs interleaved; run 0 is the warm-up. */
static void bench_size(struct bench_buf *b, unsigned bi, size_t s, unsigned ms, unsigned runs)
{
	static double v[MAXCONT][2][MAXRUNS];

	setup_buf(b, sizes[s], 0);
	b->batch = batches[bi];
	for (unsigned r = 0; r <= runs; r++)
		for (unsigned c = 0; c < ncont; c++) {
			use_contender(c);
			for (int d = 0; d < 2; d++) {
				double x = run_once(b, d, ms);

				if (r)
					v[c][d][r - 1] = x;
			}
		}
	for (unsigned c = 0; c < ncont; c++)
		for (int d = 0; d < 2; d++)
			pps[bi][c][s][d] = median(v[c][d], runs);
}

/* "64,2,1": burst sizes 1..64, at most MAXBATCHES of them. */
static int parse_batches(const char *arg)
{
	char *end;

	nbatch = 0;
	do {
		unsigned long v = strtoul(arg, &end, 10);

		if (end == arg || v < 1 || v > BATCH || nbatch == MAXBATCHES) {
			fprintf(stderr, "crypto-bench: --batch: 1..%d, at most %d sizes\n", BATCH,
				MAXBATCHES);
			return -1;
		}
		batches[nbatch++] = (unsigned)v;
		arg = end + (*end == ',');
	} while (*end);
	return 0;
}

/*
 * --mixed: bursts of 8 and 64 with one 1420-byte message, the others 64
 * bytes; packets per second, median of runs as above.
 */
static void bench_mixed(struct bench_buf *b, unsigned ms, unsigned runs)
{
	static const unsigned mixed[] = { 8, 64 };
	static double v[MAXCONT][2][MAXRUNS];

	printf("crypto-bench: mixed bursts (one 1420-byte message, the others 64 bytes), Mpps\n");
	printf("%5s  %-13s %10s %10s\n", "burst", "contender", "seal Mpps", "open Mpps");
	for (size_t m = 0; m < ARRAY_SIZE(mixed); m++) {
		setup_buf(b, 64, 1420);
		b->batch = mixed[m];
		for (unsigned r = 0; r <= runs; r++)
			for (unsigned c = 0; c < ncont; c++) {
				use_contender(c);
				for (int d = 0; d < 2; d++) {
					double x = run_once(b, d, ms);

					if (r)
						v[c][d][r - 1] = x;
				}
			}
		for (unsigned c = 0; c < ncont; c++)
			printf("%5u  %-13s %10.2f %10.2f\n", mixed[m], conts[c].name,
			       median(v[c][0], runs) / 1e6, median(v[c][1], runs) / 1e6);
		putchar('\n');
	}
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("sched_setaffinity");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "ms", required_argument, NULL, 'm' },
		{ "runs", required_argument, NULL, 'r' }, { "cpu", required_argument, NULL, 'c' },
		{ "backend", required_argument, NULL, 'b' }, { "wall", no_argument, NULL, 'w' },
		{ "batch", required_argument, NULL, 'n' }, { "mixed", no_argument, NULL, 'x' },
		{ 0 },
	};
	unsigned ms = 30, runs = 5;
	const char *only = NULL;
	bool json = false, mixed = false;
	struct bench_buf *b;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'j': json = true; break;
		case 'm': ms = (unsigned)atoi(optarg); break;
		case 'r': runs = (unsigned)atoi(optarg); break;
		case 'c': pin_cpu(atoi(optarg)); break;
		case 'b': only = optarg; break;
		case 'w': bench_clock = CLOCK_MONOTONIC; break;
		case 'x': mixed = true; break;
		case 'n':
			if (parse_batches(optarg))
				return 2;
			break;
		default:
			fprintf(stderr, "usage: %s [--json] [--ms N] [--runs N] [--cpu N] [--backend NAME] [--wall]"
				" [--batch N[,N...]] [--mixed]\n", argv[0]);
			return 2;
		}
	}
	if (runs < 1 || runs > MAXRUNS || ms < 1 || sodium_init() < 0)
		return 2;
	b = aligned_alloc(64, (sizeof(*b) + 63) & ~(size_t)63);   /* C11: size a multiple of the alignment */
	if (!b)
		return 1;
	add_contenders(only);
	for (unsigned bi = 0; bi < nbatch; bi++)
		for (size_t s = 0; s < ARRAY_SIZE(sizes); s++)
			bench_size(b, bi, s, ms, runs);
	if (bad_opens)
		fprintf(stderr, "crypto-bench: %llu bursts failed to open\n", bad_opens);
	if (json)
		print_json();
	else
		for (unsigned bi = 0; bi < nbatch; bi++)
			print_table(bi, ms, runs);
	if (!json)
		print_ratios();
	if (mixed && !json)
		bench_mixed(b, ms, runs);
	free(b);
	return bad_opens ? 1 : 0;
}
