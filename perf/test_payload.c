// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_payload.c - the receiver bookkeeping wggen and wgsink share (payload.h) and the token
 * bucket (rate.h), on hand-built sequences with known answers.
 */
#include <stdio.h>
#include <string.h>

#include "payload.h"
#include "rate.h"

static int fails;

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); fails++; } } while (0)

static void test_sequence(void)
{
	/* seq 0..7 sent, 4 lost, 2 and 3 swapped, 6 corrupted, one packet of run 8, one foreign */
	static const unsigned order[] = { 0, 1, 3, 2, 5, 6, 7 };
	struct payload_stats st = { 0 };
	uint8_t p[100];

	for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		payload_fill(p, sizeof(p), 9, order[i]);
		if (order[i] == 6)
			p[60] ^= 1;
		payload_account(&st, p, sizeof(p), 9, 128);
	}
	payload_fill(p, sizeof(p), 8, 100);
	CHECK(!payload_account(&st, p, sizeof(p), 9, 128));
	memset(p, 0, sizeof(p));
	CHECK(!payload_account(&st, p, sizeof(p), 9, 128));

	CHECK(st.rx == 6);
	CHECK(st.rx_bytes == 6 * 128);
	CHECK(st.reordered == 1);     /* 2 after 3 */
	CHECK(st.corrupt == 1);       /* 6 */
	CHECK(st.stale == 1);
	CHECK(st.foreign == 1);
	CHECK(st.next == 8);
	CHECK(payload_lost(&st) == 2); /* 4 never came, 6 came corrupt */
}

static void test_short_and_minimal(void)
{
	struct payload_stats st = { 0 };
	uint8_t p[PAYLOAD_MIN];

	payload_fill(p, sizeof(p), 1, 0);                  /* no pattern bytes at all */
	CHECK(payload_account(&st, p, sizeof(p), 1, 44));
	CHECK(!payload_account(&st, p, 12, 1, 40));        /* magic and run, but cut short */
	CHECK(st.rx == 1 && st.corrupt == 1);
}

static void test_rate(void)
{
	struct rate r;
	uint64_t t = 1000000000ull;
	unsigned total = 0;

	rate_init(&r, 10000, 64, t);                       /* 10 kpps: bursts of 10 a ms */
	CHECK(r.burst == 10);
	for (unsigned ms = 0; ms < 1000; ms++, t += 1000000) {
		unsigned n = rate_allowed(&r, t);

		rate_spend(&r, n);
		total += n;
	}
	CHECK(total >= 9990 && total <= 10010);            /* one second's worth, plus the first burst */
	/* a sender asleep for a second gets two bursts, not a second's worth */
	t += 1000000000ull;
	CHECK(rate_allowed(&r, t) == 10);
	CHECK(r.tokens <= 20);
	rate_init(&r, 0, 64, t);                           /* unlimited */
	CHECK(rate_allowed(&r, t) == 64 && rate_wait_ns(&r) == 0);
}

int main(void)
{
	test_sequence();
	test_short_and_minimal();
	test_rate();
	if (fails)
		return 1;
	printf("test_payload: ok\n");
	return 0;
}
