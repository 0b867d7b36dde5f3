// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_tagwipe.c - no computed AEAD tag is left in the worker's own memory. The far end seals 16
 * data messages and flips a bit of each tag; the worker opens the burst and drops all 16 as
 * decrypt_failed. The tags it computed are the right ones for the attacker's ciphertexts (a
 * forgery for each), so none may remain where the worker keeps state: its loop context (struct
 * wctx: the aead_op arrays, the batch) and the frame area. Run for every AEAD backend this CPU
 * and build have.
 *
 * The stack below the caller after the burst is scanned too: our backends wipe the tags they
 * computed (asserted); libsodium, the reference backend, leaves one inside its own frames, which
 * is printed and not asserted (nothing of ours can reach it).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <urcu-qsbr.h>
#include "worker.h"
#include "io/mem.h"
#include "io/mem_router.h"
#include "crypto/aead.h"
#include "pkt.h"
#include "wireguard/messages.h"

static int failures, checks;
#define CHECK(c, ...) do { checks++; if (!(c)) { failures++; printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #c); \
	printf(__VA_ARGS__); printf("\n"); } } while (0)

static struct mem_router R;
static struct mem_far far;
#define N 16
static uint8_t good[N][16];          /* the correct tags of the messages sent with a wrong one */

/* Data message k from the far end, its tag recorded and then broken. */
static void push(unsigned k)
{
	struct mg_endpoint us = { .family = AF_INET, .port = MEM_LISTEN_PORT };
	struct mg_endpoint to = { .family = AF_INET, .port = 9, .addr = { 192, 168, 77, 10 } };
	uint64_t base = io_frame_get(&R.w->port), a = base + IO_RX_HEADROOM;
	uint8_t *f = io_port_data(&R.w->port, a);
	struct msg_data *m = (void *)(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
	uint32_t ilen = IP4_HLEN + UDP_HLEN + 32;
	struct aead_op op = { .key = far.kp.send_key, .counter = far.send_counter++,
			      .src = m->encrypted_data, .dst = m->encrypted_data, .len = ilen };
	ipudp_build(m->encrypted_data, &to, far.tun_ip, 4000, 32);
	m->header.type = htole32(MESSAGE_DATA);
	m->receiver_index = htole32(far.kp.remote_index);
	m->counter = htole64(op.counter);
	aead_seal_burst(&op, 1);
	memcpy(good[k], m->encrypted_data + ilen, 16);
	m->encrypted_data[ilen] ^= 1;
	memcpy(us.addr, mem_lan.router_ip, 4);
	eth_build(f, mem_lan.router_mac, mem_lan.gw_mac, AF_INET);
	ipudp_build(f + ETH_HLEN_, &us, far.ep_ip, MEM_FAR_PORT, sizeof(*m) + ilen + AEAD_TAG_LEN);
	io_mem_rx_push(&R.w->port, a, ETH_HLEN_ + IP4_HLEN + UDP_HLEN + sizeof(*m) + ilen + AEAD_TAG_LEN);
}

/* Occurrences of any of the correct tags in [p, p + n). Byte loads, no libc: the stack below
 * us holds dead frames that ASan keeps poisoned. */
static bool under_asan(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return true;
#endif
#endif
	return false;
}

static __attribute__((no_sanitize_address)) unsigned scan(const uint8_t *p, size_t n)
{
	unsigned hits = 0;

	for (size_t i = 0; i + 16 <= n; i++)
		for (unsigned k = 0; k < N; k++) {
			unsigned j = 0;

			while (j < 16 && p[i + j] == good[k][j])
				j++;
			hits += j == 16;
		}
	return hits;
}

/* Clears the stack below the caller, so what the scan finds there afterwards was left by the
 * worker's burst, not by the far end's sealing. */
static __attribute__((noinline)) void stack_clear(void)
{
	uint8_t area[65536 + 4096];

	explicit_bzero(area, sizeof(area));
	__asm__ volatile("" : : "r"(area) : "memory");
}

/* One burst of forged messages through the worker, then the scans. */
static __attribute__((noinline)) void run_and_scan(const char *be)
{
	uint64_t failed0 = R.c->ctr->drops[MG_DROP_DECRYPT_FAILED];
	unsigned in_ctx, in_frames, on_stack;
	uint8_t *sp;

	for (unsigned k = 0; k < N; k++)
		push(k);
	stack_clear();
	wk_poll(R.c);
	rcu_quiescent_state();
#if defined(__x86_64__)
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
#else
	sp = __builtin_frame_address(0);
#endif
	on_stack = scan(sp - 65536, 65536);
	in_ctx = scan((const uint8_t *)R.c, sizeof(*R.c));
	in_frames = scan(R.w->port.area, (size_t)IO_NUM_FRAMES * IO_FRAME_SIZE);
	printf("# %s: %u computed tags in the worker context, %u in frames; %u on the stack below\n",
	       be, in_ctx, in_frames, on_stack);
	CHECK(R.c->ctr->drops[MG_DROP_DECRYPT_FAILED] - failed0 == N, "%s: %lu dropped as decrypt_failed", be,
	      (unsigned long)(R.c->ctr->drops[MG_DROP_DECRYPT_FAILED] - failed0));
	CHECK(!in_ctx, "%s: %u computed tags left in struct wctx", be, in_ctx);
	CHECK(!in_frames, "%s: %u computed tags left in the frame area", be, in_frames);
	/* Not under ASan: its fake stacks and redzones move frames out of reach of the backends'
	 * stack scrub, so the scan would measure the sanitizer's layout, not ours. */
	if (strcmp(be, "sodium") && !under_asan())
		CHECK(!on_stack, "%s: %u computed tags left on the stack", be, on_stack);
}

int main(void)
{
	static const char *const backends[] = { "generic", "sodium", "avx2", "avx512", "ipsecmb" };
	unsigned ran = 0;

	if (sodium_init() < 0)
		return 1;
	rcu_register_thread();
	if (mem_router_init(&R, "tagwipe0", 1280) || mem_router_add_peer(&R, 0, true, &far))
		return printf("FAIL: in-memory router\n"), 1;
	for (unsigned i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (aead_init(backends[i]))
			continue;       /* not on this CPU or in this build */
		run_and_scan(backends[i]);
		ran++;
	}
	CHECK(ran >= 2, "only %u AEAD backends available", ran);
	CHECK(mem_router_free(&R) == 0, "frames lost");
	rcu_unregister_thread();
	printf("tagwipe: %u backends, %d checks, %d failures\n", ran, checks, failures);
	return failures != 0;
}
