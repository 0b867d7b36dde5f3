/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mem_session.h - a live WireGuard session between a device and an in-process far end, for the
 * users of the memory port (perf/engine-bench, the worker fuzzer): what a handshake over the NIC
 * and the control thread would leave behind, without either.
 */
#ifndef MG_MEM_SESSION_H
#define MG_MEM_SESSION_H

#include "device.h"

/*
 * A real Noise IK handshake, @dev initiating towards @p (whose hs must be initialised for the far
 * end's public key and in dev->index), the far end answering with @far_priv and @far_index. The
 * device's keypair is installed as current, as control installs it; the far end's goes to @far_kp.
 * 0, or -1 if any step fails or the two ends disagree.
 */
int mem_session_establish(struct mg_device *dev, struct peer *p, const uint8_t far_priv[32],
			  uint32_t far_index, struct noise_keypair *far_kp);

#endif
