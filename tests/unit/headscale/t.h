/* SPDX-License-Identifier: GPL-2.0-only */
/* t.h - the headscale unit tests use the same assertion helpers as the wireguard ones. */
#include "../wireguard/t.h"
