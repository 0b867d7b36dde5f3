/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derp_bucket.h - the send limit a DERP server asks for in ServerInfo
 * (TokenBucketBytesPerSecond / TokenBucketBytesBurst). A token bucket in bytes, as tailscaled's
 * client applies it (tailscale/tailscale derp/derp_client.go: a golang.org/x/time/rate limiter
 * that starts full; each SendPacket frame costs its whole size, header and key included; a
 * frame the bucket cannot pay for is dropped, never delayed).
 */
#ifndef MG_DERP_BUCKET_H
#define MG_DERP_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct derp_bucket {
	uint64_t rate;                   /* bytes per second; 0 = no limit */
	uint64_t burst;                  /* bucket size in bytes */
	double tokens;
	uint64_t last_ns;
};

/* rate 0 turns the limit off (ServerInfo without the fields). The bucket starts full. */
void derp_bucket_set(struct derp_bucket *b, uint64_t rate, uint64_t burst, uint64_t now);
/* Takes @bytes if the bucket holds them (always true without a limit). A frame larger than the
 * burst never passes, as with the Go limiter. */
bool derp_bucket_take(struct derp_bucket *b, uint64_t bytes, uint64_t now);

#endif
