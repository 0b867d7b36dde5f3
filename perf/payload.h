/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * payload.h - the test payload that wggen and wgsink put inside UDP datagrams, and the
 * receiver's bookkeeping of it (shared by both tools, header-only).
 *
 * Layout of a UDP payload of len >= PAYLOAD_MIN bytes:
 *   0..3   magic "MGPF"
 *   4..7   le32 run id: a receiver counts only its own run's packets; stray packets of an
 *          earlier run are counted apart (stale)
 *   8..15  le64 sequence number, 0, 1, 2, ... per run
 *   16..   pattern: byte i = (uint8_t)(seq * 131 + i * 7), so a flipped or shifted byte
 *          anywhere is caught, and two packets of one run differ
 */
#ifndef MG_PERF_PAYLOAD_H
#define MG_PERF_PAYLOAD_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define PAYLOAD_MAGIC "MGPF"
#define PAYLOAD_MIN 16

static inline void payload_fill(uint8_t *p, uint32_t len, uint32_t run, uint64_t seq)
{
	uint32_t run_le = htole32(run);
	uint64_t seq_le = htole64(seq);
	uint8_t b = (uint8_t)(seq * 131 + PAYLOAD_MIN * 7);

	memcpy(p, PAYLOAD_MAGIC, 4);
	memcpy(p + 4, &run_le, 4);
	memcpy(p + 8, &seq_le, 8);
	for (uint32_t i = PAYLOAD_MIN; i < len; i++, b += 7)
		p[i] = b;
}

/* What a receiver saw. lost is derived at the end: sequence numbers below the highest one
 * seen that never arrived (so a tail lost after the last arrival is not counted here; the
 * tools compare with the sender's count for that). */
struct payload_stats {
	uint64_t rx, rx_bytes;       /* good packets of this run */
	uint64_t reordered;          /* good, but below the highest sequence seen */
	uint64_t corrupt;            /* right magic and run, wrong pattern or length < MIN */
	uint64_t stale;              /* another run's packets (an earlier run's tail) */
	uint64_t foreign;            /* not our payload at all */
	uint64_t next;               /* highest sequence seen + 1 */
};

/* Check one payload (len bytes) and count it; wire_bytes is what the caller counts as the
 * packet's size (e.g. the inner IP packet). Returns true for a good packet of this run. */
static inline bool payload_account(struct payload_stats *st, const uint8_t *p, uint32_t len,
				   uint32_t run, uint32_t wire_bytes)
{
	uint32_t run_le;
	uint64_t seq_le, seq;
	uint8_t b;

	if (len < 8 || memcmp(p, PAYLOAD_MAGIC, 4)) {
		st->foreign++;
		return false;
	}
	memcpy(&run_le, p + 4, 4);
	if (le32toh(run_le) != run) {
		st->stale++;
		return false;
	}
	if (len < PAYLOAD_MIN) {
		st->corrupt++;
		return false;
	}
	memcpy(&seq_le, p + 8, 8);
	seq = le64toh(seq_le);
	b = (uint8_t)(seq * 131 + PAYLOAD_MIN * 7);
	for (uint32_t i = PAYLOAD_MIN; i < len; i++, b += 7) {
		if (p[i] != b) {
			st->corrupt++;
			return false;
		}
	}
	st->rx++;
	st->rx_bytes += wire_bytes;
	if (seq + 1 <= st->next)
		st->reordered++;
	else
		st->next = seq + 1;
	return true;
}

/* Gaps below the highest sequence seen (duplicates would hide gaps; WireGuard's replay window
 * and plain UDP over a LAN make them rare enough for a benchmark). */
static inline uint64_t payload_lost(const struct payload_stats *st)
{
	return st->next > st->rx ? st->next - st->rx : 0;
}

#endif
