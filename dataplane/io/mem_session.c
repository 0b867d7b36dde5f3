// SPDX-License-Identifier: GPL-2.0-only
/*
 * mem_session.c - see mem_session.h. Both ends run noise.c, so the session is exactly what a
 * peer's handshake makes; only the transport (a function call instead of the NIC) differs.
 */
#include <string.h>
#include <sodium.h>
#include "io/mem_session.h"
#include "wireguard/hash.h"
#include "wireguard/messages.h"
#include "wireguard/replay.h"

struct lookup {
	struct noise_handshake *far;     /* the far end's one handshake */
	struct peer *p;                  /* the device's peer */
};

static struct noise_handshake *lookup_far(void *ctx, const uint8_t key[32])
{
	(void)key;
	return ((struct lookup *)ctx)->far;
}

static struct noise_handshake *lookup_dev(void *ctx, uint32_t index)
{
	struct peer *p = ((struct lookup *)ctx)->p;

	return p->hs_entry.index == index ? &p->hs : NULL;
}

int mem_session_establish(struct mg_device *dev, struct peer *p, const uint8_t far_priv[32],
			  uint32_t far_index, struct noise_keypair *far_kp)
{
	struct noise_static_identity far_id;
	struct noise_handshake far_hs;
	struct lookup lk = { .far = &far_hs, .p = p };
	struct msg_initiation init;
	struct msg_response resp;
	struct keypair *kp = NULL;
	uint64_t now = mg_now();
	uint8_t ts[12];
	int ret = -1;

	noise_static_identity_set(&far_id, far_priv);
	noise_handshake_init(&far_hs, &far_id, dev->identity.static_public, NULL);
	tai64n_now(ts);
	if (!noise_create_initiation(&dev->identity, &p->hs, &init, p->hs_entry.index, ts) ||
	    noise_consume_initiation(&far_id, &init, lookup_far, &lk, now) != &far_hs ||
	    !noise_create_response(&far_hs, &resp, far_index) || !noise_derive_keypair(&far_hs, far_kp, now) ||
	    noise_consume_response(&dev->identity, &resp, lookup_dev, &lk) != &p->hs)
		goto out;
	kp = keypair_new();
	if (!kp || !noise_derive_keypair(&p->hs, &kp->nk, now))
		goto out;
	replay_init(&kp->nk.replay);
	kp->entry.peer = p;
	index_replace(&dev->index, &p->hs_entry, &kp->entry);
	peer_install_keypair(&dev->index, p, kp);
	kp = NULL;
	if (rcu_dereference(p->cur)->nk.remote_index == far_index &&
	    !memcmp(rcu_dereference(p->cur)->nk.send_key, far_kp->recv_key, 32) &&
	    !memcmp(rcu_dereference(p->cur)->nk.recv_key, far_kp->send_key, 32))
		ret = 0;
out:
	free(kp);
	sodium_memzero(&far_id, sizeof(far_id));
	sodium_memzero(&far_hs, sizeof(far_hs));
	return ret;
}
