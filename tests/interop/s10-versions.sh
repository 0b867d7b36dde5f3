#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Scenario 10, older peers: scenarios 1 (join) and 2 (direct path) again, once with the older
# client (tailscale v1.86.5 as laptop and phone, Headscale v0.29.2) and once with the oldest
# Headscale meshgate supports (v0.27.1, tailscale v1.102.5). Each pairing gets a lab of its own.
#
#   ti-lap tailscaled (OLD?) --NAT-- internet -- ti-hs headscale (OLD?) -- ti-gw -- ti-rtr meshgate -- ti-host
. "$(dirname "$0")/lib.sh"
ti_require
ti_lock || { echo "FAIL: $T: the interop lab stayed busy"; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for pair in "v1.86.5 v0.29.2" "v1.102.5 v0.27.1"; do
	set -- $pair
	tag="tailscale $1, headscale $2"
	# The pair's own binaries; lib.sh picks them from TI_TS_VER / TI_HS_VER in each script.
	if ! (export TI_TS_VER=$1 TI_HS_VER=$2; T="$T[$tag]"; . "$here/lib.sh"; ti_require >/dev/null && ti_up) >"$TI_DIR.s10.log" 2>&1; then
		echo "FAIL: $T[$tag]: lab setup: $(grep '^ti:' "$TI_DIR.s10.log" | head -n 3 | tr '\n' ' ')"
		rc=1
	else
		echo "PASS: $T[$tag]: lab up: meshgate joined Headscale $2 beside tailscale $1"
		for s in s01-join.sh s02-direct.sh; do
			TI_SHARED=1 TI_TAG="$tag" TI_TS_VER=$1 TI_HS_VER=$2 "$here/$s" || rc=1
		done
	fi
	(. "$here/lib.sh"; ti_down)
done
rm -f "$TI_DIR.s10.log"
exit $rc
