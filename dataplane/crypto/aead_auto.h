/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * aead_auto.h - the start-up calibration behind Crypto = auto
 * (aead_auto.c): every usable backend timed on every burst shape.
 * Private to dataplane/crypto/.
 */
#ifndef MG_CRYPTO_AEAD_AUTO_H
#define MG_CRYPTO_AEAD_AUTO_H

#include <stdint.h>

#include "aead_backend.h"

/* The burst size and message length each class is measured at. */
extern const unsigned aead_auto_burst[AEAD_BURST_CLASSES];
extern const uint32_t aead_auto_size[AEAD_SIZE_CLASSES];

/*
 * Times seal + open of every candidate (set up already) on every shape and
 * writes the index of the fastest into choice[burst class][size class].
 * Takes about 30 ms. 0 or -ENOMEM.
 */
int aead_auto_calibrate(const struct aead_backend *cand, unsigned ncand,
			uint8_t choice[AEAD_BURST_CLASSES][AEAD_SIZE_CLASSES]);

#endif
