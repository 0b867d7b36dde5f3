// SPDX-License-Identifier: GPL-2.0-only
/*
 * overlap-bench - how much of a worker's scalar per-packet work this CPU can hide under the
 * AEAD's vector work, by where the scalar work sits in the instruction stream.
 *
 * The worker runs its stages one after the other over a batch: classify every frame (scalar),
 * then the AEAD over the batch (vector), then the packets' way on (scalar). An out-of-order core
 * overlaps two stages only across the few hundred instructions its window holds at their
 * boundary, so the batch costs about the sum of the two. Integer and vector instructions run on
 * separate pipes, though: placed close together in the stream they could run at the same time.
 * This measures that bound with stand-ins for both, so that a change to the worker's structure
 * can be judged before it is made:
 *
 *   vector  ChaCha20's 20 rounds over one state per lane (16 lanes in zmm registers with
 *           AVX-512F, 8 in ymm with AVX2): the bulk of the AEAD's vector work at 64-128 B;
 *   scalar  a stand-in for a packet's classification: an address-pair load, a hashed memo slot
 *           with two compares, a length test, an incremental checksum update, a 16-byte header
 *           template copy, a store to a batch slot (about 50 instructions);
 *   after   per block, the vector rounds, then all of the block's scalar steps (the batch's
 *           structure: the overlap is the window's);
 *   inline  steps/20 scalar steps after every half double-round, inlined;
 *   direct  the same through a direct call to a function of this file that the compiler keeps
 *           out of line (it sees which registers the callee uses, and spills only the part
 *           of the state that shares them: two registers of sixteen with GCC 12);
 *   call    the same through a function pointer (the vector state is spilled and reloaded
 *           around every call, as a hook called from a separately compiled AEAD would have it);
 *   gprcall the same through a function pointer to a general-regs-only function, called with
 *           only general registers declared clobbered (gpr_call): what a separately compiled
 *           AEAD could call without spilling its state.
 *
 * Cycles are the time-stamp counter's, the best of --trials runs (a micro-benchmark of code
 * that touches only L1: the best run is the one the neighbours disturbed least). "hidden" is the
 * share of the scalar work's own time that the combination did not add: (scalar + vector -
 * combined) / scalar. Every combined run must leave the same vector state and scalar result as
 * the separate runs (checked: exit 1 otherwise), so each measures the same work.
 *
 * usage: overlap-bench [--blocks N] [--trials N] [--steps 1,2,4] [--isa avx512|avx2]
 * (--steps: scalar steps per half double-round, each a row; the table gives them per block)
 */
#include <getopt.h>
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#define SLOTS 256u
#define FRAMES 256u
#define FRAME_LEN 128u
#define OUT_SLOTS 1024u

/* The scalar stand-in's state: a memo of address pairs, frames, a batch of slots. */
struct memo_ent {
	uint64_t addrs, epoch;
	uint32_t hit, miss;
	uint8_t hdr[16];
};
struct scalar_state {
	struct memo_ent memo[SLOTS];
	uint8_t frame[FRAMES][FRAME_LEN];
	uint64_t out[OUT_SLOTS];
	uint64_t acc;
	uint32_t i;
};

/* One packet's classification, as far as a stand-in goes (see the header); defined twice, for
 * the default target and for general-regs-only callers (a function cannot be inlined into one
 * of another target: hence __builtin_memcpy, which _FORTIFY_SOURCE does not wrap in an inline
 * function of the default target). */
#define SCALAR_STEP(name, attrs)                                                           \
	static inline __attribute__((always_inline)) attrs void name(struct scalar_state *s) \
	{                                                                                  \
		uint8_t *f = s->frame[s->i % FRAMES];                                      \
		uint64_t addrs;                                                            \
		struct memo_ent *e;                                                        \
		uint32_t tot, sum;                                                         \
                                                                                           \
		__builtin_memcpy(&addrs, f + 26, 8);                                                 \
		e = &s->memo[(addrs * 0x9e3779b97f4a7c15ull) >> 56];                       \
		tot = (uint32_t)f[16] << 8 | f[17];                                        \
		if (e->addrs == addrs && e->epoch == (s->acc & 1))                         \
			s->acc += e->hit;                                                  \
		else                                                                       \
			s->acc ^= e->miss;                                                 \
		if (tot < 20 || tot > FRAME_LEN - 14)                                      \
			s->acc++;                                                          \
		sum = ((uint32_t)f[24] << 8 | f[25]) + 0x100u;                             \
		sum = (sum & 0xffff) + (sum >> 16);                                        \
		f[24] = (uint8_t)(sum >> 8);                                               \
		f[25] = (uint8_t)sum;                                                      \
		__builtin_memcpy(f, e->hdr, 8);   /* two words: no memcpy call, even instrumented */ \
		__builtin_memcpy(f + 8, e->hdr + 8, 8);                                           \
		s->out[s->i % OUT_SLOTS] = s->acc + tot;                                   \
		s->acc = s->acc * 3 + addrs;                                               \
		s->i++;                                                                    \
	}
SCALAR_STEP(scalar_step, )
/*
 * What gpr_call's callee may be: no vector register and no call. A sanitizer's
 * instrumentation would add calls (its checks, its memcpy) that use vector registers, so the
 * callee is built without it.
 */
#define GPR_CALLEE \
	__attribute__((target("general-regs-only"), no_sanitize_address, no_sanitize_thread, \
		       no_sanitize_undefined, no_sanitize_coverage))
SCALAR_STEP(scalar_step_gpr, GPR_CALLEE)

static __attribute__((noinline)) void scalar_steps(struct scalar_state *s, unsigned n)
{
	for (unsigned j = 0; j < n; j++)
		scalar_step(s);
}

/* What a hook into the AEAD would be: reached through a pointer the compiler cannot see
 * through. */
static void (*volatile scalar_hook)(struct scalar_state *, unsigned) = scalar_steps;

/*
 * The same steps for a caller that keeps its vector registers live across the call: compiled
 * without vector registers (general-regs-only, and it calls nothing), so that a caller may call
 * it declaring only the general registers the ABI lets it clobber (gpr_call below). GCC's own
 * no_caller_saved_registers attribute would not do: GCC still spills the vector registers
 * around such a call.
 */
static __attribute__((noinline)) GPR_CALLEE void scalar_steps_gpr(struct scalar_state *s, unsigned n)
{
	for (unsigned j = 0; j < n; j++)
		scalar_step_gpr(s);
}

static void (*volatile scalar_hook_gpr)(struct scalar_state *, unsigned) = scalar_steps_gpr;

/* A call to fn(s, k), fn a general-regs-only function: below the red zone, on a 16-byte aligned
 * stack, with the registers the ABI lets fn clobber declared clobbered, and no vector register
 * among them. */
static inline __attribute__((always_inline)) void gpr_call(void (*fn)(struct scalar_state *, unsigned),
							   struct scalar_state *s, unsigned k)
{
	register struct scalar_state *rdi __asm__("rdi") = s;
	register unsigned long rsi __asm__("rsi") = k;

	__asm__ volatile("mov %%rsp, %%rbx\n\t"
			 "sub $128, %%rsp\n\t"
			 "and $-16, %%rsp\n\t"
			 "call *%[fn]\n\t"
			 "mov %%rbx, %%rsp"
			 : "+r"(rdi), "+r"(rsi)
			 : [fn] "r"(fn)
			 : "rax", "rbx", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
}

enum mode { M_VECTOR, M_SCALAR, M_AFTER, M_INLINE, M_DIRECT, M_CALL, M_GPR, M_COUNT };
static const char *const mode_name[M_COUNT] = { "vector", "scalar", "after", "inline", "direct", "call",
						 "gprcall" };

/*
 * The vector rounds, written once for both widths: V is the vector type, ADD/XOR/ROL its
 * operations. Between the two halves of each double round (columns, diagonals) the mode puts
 * its scalar steps; M_AFTER puts them after the block's 20 rounds.
 */
#define QR(a, b, c, d) \
	a = ADD(a, b); d = XOR(d, a); d = ROL(d, 16); \
	c = ADD(c, d); b = XOR(b, c); b = ROL(b, 12); \
	a = ADD(a, b); d = XOR(d, a); d = ROL(d, 8);  \
	c = ADD(c, d); b = XOR(b, c); b = ROL(b, 7);

#define HALF_STEPS()                                                        \
	do {                                                                \
		if (mode == M_INLINE)                                       \
			for (unsigned j = 0; j < k; j++)                    \
				scalar_step(s);                             \
		else if (mode == M_DIRECT)                                  \
			scalar_steps(s, k);                                 \
		else if (mode == M_CALL)                                    \
			scalar_hook(s, k);                                  \
		else if (mode == M_GPR)                                     \
			gpr_call(scalar_hook_gpr, s, k);                    \
	} while (0)

#define ROUNDS_BODY(V)                                                                         \
	V x0 = st[0], x1 = st[1], x2 = st[2], x3 = st[3], x4 = st[4], x5 = st[5], x6 = st[6],    \
	  x7 = st[7], x8 = st[8], x9 = st[9], x10 = st[10], x11 = st[11], x12 = st[12],         \
	  x13 = st[13], x14 = st[14], x15 = st[15];                                              \
	for (unsigned b = 0; b < blocks; b++) {                                                  \
		for (int r = 0; r < 10; r++) {                                                   \
			QR(x0, x4, x8, x12) QR(x1, x5, x9, x13)                                  \
			QR(x2, x6, x10, x14) QR(x3, x7, x11, x15)                                \
			HALF_STEPS();                                                            \
			QR(x0, x5, x10, x15) QR(x1, x6, x11, x12)                                \
			QR(x2, x7, x8, x13) QR(x3, x4, x9, x14)                                  \
			HALF_STEPS();                                                            \
		}                                                                                \
		if (mode == M_AFTER)                                                             \
			for (unsigned j = 0; j < 20 * k; j++)                                    \
				scalar_step(s);                                                  \
	}                                                                                        \
	st[0] = x0; st[1] = x1; st[2] = x2; st[3] = x3; st[4] = x4; st[5] = x5; st[6] = x6;       \
	st[7] = x7; st[8] = x8; st[9] = x9; st[10] = x10; st[11] = x11; st[12] = x12;            \
	st[13] = x13; st[14] = x14; st[15] = x15;

/* Each mode its own function (the mode constant in it), so that no test of the mode is left in
 * the rounds of another; KERNELS makes one per mode for an instruction set. */
#define KERNEL(name, isa_, V, mode_)                                                              \
	static __attribute__((noinline, target(isa_))) void name(void *stv, unsigned blocks,      \
								   struct scalar_state *s, unsigned k) \
	{                                                                                         \
		const enum mode mode = mode_;                                                     \
		V *st = stv;                                                                      \
		ROUNDS_BODY(V)                                                                    \
	}
#define KERNELS(p, isa_, V)                         \
	KERNEL(p##_vector, isa_, V, M_VECTOR)       \
	KERNEL(p##_after, isa_, V, M_AFTER)         \
	KERNEL(p##_inline, isa_, V, M_INLINE)       \
	KERNEL(p##_direct, isa_, V, M_DIRECT)       \
	KERNEL(p##_call, isa_, V, M_CALL)           \
	KERNEL(p##_gpr, isa_, V, M_GPR)
/* The run table's entries for KERNELS(p, ...), in enum mode's order. */
#define RUNS(p) { p##_vector, run_scalar, p##_after, p##_inline, p##_direct, p##_call, p##_gpr }

#define ADD _mm512_add_epi32
#define XOR _mm512_xor_si512
#define ROL _mm512_rol_epi32
KERNELS(z, "avx512f", __m512i)
#undef ADD
#undef XOR
#undef ROL

/* AVX2 has no rotate: two shifts and an or (byte shuffles for 16 and 8 would be cheaper; the
 * stand-in needs the pipes busy, not the fastest ChaCha20). */
#define ADD _mm256_add_epi32
#define XOR _mm256_xor_si256
#define ROL(x, n) _mm256_or_si256(_mm256_slli_epi32(x, n), _mm256_srli_epi32(x, 32 - (n)))
KERNELS(y, "avx2", __m256i)
#undef ADD
#undef XOR
#undef ROL

struct isa {
	const char *name;
	unsigned lanes;
	size_t vsize;                    /* bytes of one vector register */
	void (*run[M_COUNT])(void *st, unsigned blocks, struct scalar_state *s, unsigned k);
};

static void run_scalar(void *st, unsigned blocks, struct scalar_state *s, unsigned k)
{
	(void)st;
	scalar_steps(s, blocks * 20 * k);
}

static const struct isa isas[] = {
	{ "avx512", 16, 64, RUNS(z) },
	{ "avx2", 8, 32, RUNS(y) },
};

static bool isa_usable(const struct isa *isa)
{
	return !strcmp(isa->name, "avx512") ? __builtin_cpu_supports("avx512f") :
					      __builtin_cpu_supports("avx2");
}

static void state_init(uint8_t st[16 * 64], struct scalar_state *s)
{
	for (unsigned i = 0; i < 16 * 64; i++)
		st[i] = (uint8_t)(i * 131 + 7);
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < SLOTS; i++) {
		s->memo[i].addrs = i % 3 ? 0 : ((uint64_t)i * 0x0101010101010101ull);
		s->memo[i].hit = i;
		s->memo[i].miss = i * 7 + 1;
		memset(s->memo[i].hdr, (int)i, sizeof(s->memo[i].hdr));
	}
	for (unsigned f = 0; f < FRAMES; f++)
		for (unsigned b = 0; b < FRAME_LEN; b++)
			s->frame[f][b] = (uint8_t)(f * 17 + b * 29);
	s->acc = 1;
}

/* One timed run of mode from the initial state; its end state is left in st and s. */
static uint64_t timed(const struct isa *isa, enum mode m, unsigned blocks, unsigned k,
		      uint8_t *st, struct scalar_state *s)
{
	uint64_t t0;

	state_init(st, s);
	t0 = __rdtsc();
	isa->run[m](st, blocks, s, k);
	return __rdtsc() - t0;
}

static uint64_t best_of(const struct isa *isa, enum mode m, unsigned blocks, unsigned k,
			unsigned trials, uint8_t *st, struct scalar_state *s)
{
	uint64_t best = UINT64_MAX;

	for (unsigned t = 0; t < trials; t++) {
		uint64_t c = timed(isa, m, blocks, k, st, s);

		if (c < best)
			best = c;
	}
	return best;
}

/* The separate runs' end states (vector from M_VECTOR, scalar from M_SCALAR) against a
 * combined mode's: the same work done, in another order. */
static bool same_work(const struct isa *isa, enum mode m, unsigned blocks, unsigned k)
{
	static _Alignas(64) uint8_t v[16 * 64], x[16 * 64], c[16 * 64];
	static struct scalar_state sv, sx, sc;

	timed(isa, M_VECTOR, blocks, k, v, &sv);  /* v: the vector end state */
	timed(isa, M_SCALAR, blocks, k, x, &sx);  /* sx: the scalar end state */
	timed(isa, m, blocks, k, c, &sc);
	return !memcmp(c, v, 16 * isa->vsize) && sc.acc == sx.acc && sc.i == sx.i &&
	       !memcmp(sc.out, sx.out, sizeof(sc.out)) && !memcmp(sc.frame, sx.frame, sizeof(sc.frame));
}

static unsigned parse_list(const char *arg, unsigned *out, unsigned max)
{
	unsigned n = 0;
	char *end;

	while (n < max) {
		unsigned long v = strtoul(arg, &end, 10);

		if (end == arg || !v || v > 64)
			return 0;
		out[n++] = (unsigned)v;
		if (*end != ',')
			break;
		arg = end + 1;
	}
	return *end ? 0 : n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "blocks", required_argument, NULL, 'b' }, { "trials", required_argument, NULL, 't' },
		{ "steps", required_argument, NULL, 's' }, { "isa", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	static _Alignas(64) uint8_t st[16 * 64];
	static struct scalar_state s;
	unsigned blocks = 2000, trials = 15, steps[8] = { 1, 2, 4 }, nsteps = 3;
	const char *only = NULL;
	int o, failed = 0;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'b': blocks = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': trials = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': nsteps = parse_list(optarg, steps, 8); break;
		case 'i': only = optarg; break;
		default: nsteps = 0; break;
		}
	}
	if (!blocks || !trials || !nsteps || optind != argc ||
	    (only && strcmp(only, "avx512") && strcmp(only, "avx2"))) {
		fprintf(stderr, "usage: overlap-bench [--blocks N] [--trials N] [--steps 1,2,4] [--isa avx512|avx2]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(isas) / sizeof(isas[0]); i++) {
		const struct isa *isa = &isas[i];
		uint64_t tv, t1;

		if (only && strcmp(only, isa->name))
			continue;
		if (!isa_usable(isa)) {
			printf("%s: not run, this CPU does not have it\n", isa->name);
			continue;
		}
		tv = best_of(isa, M_VECTOR, blocks, 1, trials, st, &s);
		t1 = best_of(isa, M_SCALAR, blocks, 1, trials, st, &s);
		printf("%s: ChaCha20 rounds over %u lanes, %.1f cycles per block of lanes (%.1f per lane);"
		       " one scalar step %.1f cycles (time-stamp counter, best of %u)\n",
		       isa->name, isa->lanes, (double)tv / blocks, (double)tv / blocks / isa->lanes,
		       (double)t1 / (20.0 * blocks), trials);
		printf("%-7s %6s %8s %8s", "isa", "steps", "scalar", "vector");
		for (enum mode m = M_AFTER; m < M_COUNT; m++)
			printf(" %8s %7s", mode_name[m], "hidden");
		printf("\n");
		for (unsigned j = 0; j < nsteps; j++) {
			unsigned k = steps[j];
			uint64_t ts = best_of(isa, M_SCALAR, blocks, k, trials, st, &s), t[M_COUNT];

			printf("%-7s %6u %8.1f %8.1f", isa->name, 20 * k, (double)ts / blocks, (double)tv / blocks);
			for (enum mode m = M_AFTER; m < M_COUNT; m++) {
				if (!same_work(isa, m, blocks < 64 ? blocks : 64, k)) {
					printf("\n%s: %s with %u steps per block did not do the separate runs' work\n",
					       isa->name, mode_name[m], 20 * k);
					failed = 1;
					continue;
				}
				t[m] = best_of(isa, m, blocks, k, trials, st, &s);
				printf(" %8.1f %6.0f%%", (double)t[m] / blocks,
				       100.0 * ((double)ts + (double)tv - (double)t[m]) / (double)ts);
			}
			printf("\n");
		}
	}
	printf("(cycles per block of lanes; steps: scalar steps per block; hidden: (scalar + vector -"
	       " combined) / scalar)\n");
	return failed;
}
