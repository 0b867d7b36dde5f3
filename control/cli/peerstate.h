/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * peerstate.h - one rule for "active / idle / offline", shared by /metrics (meshgate_peers,
 * tailscale_peers_direct) and `meshgate status`, so the dashboard and the CLI never disagree.
 *
 * WireGuard has a session only while data flows: a keypair is refreshed every REKEY_AFTER_TIME
 * (120 s) of traffic and is useless after REJECT_AFTER_TIME (180 s). So "handshake younger than
 * 180 s" is the same as "exchanged traffic recently" and can be judged from what the UAPI
 * reports (last_handshake_time), without a second clock. A peer without a session but with a
 * known endpoint is reachable on demand (idle); without an endpoint nobody can start a session
 * from our side, and none came from theirs (offline).
 */
#ifndef MG_CONTROL_PEERSTATE_H
#define MG_CONTROL_PEERSTATE_H

#include <stdbool.h>
#include <stdint.h>

#define PEERSTATE_ACTIVE_NS (180ull * 1000000000ull)   /* REJECT_AFTER_TIME */

enum peerstate { PEER_ACTIVE, PEER_IDLE, PEER_OFFLINE, PEER_NSTATES };

static inline const char *peerstate_label(enum peerstate s)
{
	return s == PEER_ACTIVE ? "active" : s == PEER_IDLE ? "idle" : "offline";
}

/* @hs_real_ns: UNIX time of the last handshake (0 = never); @now_real_ns: UNIX time now. */
static inline enum peerstate peerstate_of(uint64_t hs_real_ns, bool has_endpoint, uint64_t now_real_ns)
{
	/* A handshake "in the future" (clock stepped back) still proves a recent session. */
	if (hs_real_ns && (hs_real_ns > now_real_ns || now_real_ns - hs_real_ns < PEERSTATE_ACTIVE_NS))
		return PEER_ACTIVE;
	return has_endpoint ? PEER_IDLE : PEER_OFFLINE;
}

#endif
