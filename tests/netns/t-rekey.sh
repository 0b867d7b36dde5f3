#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A rekey within a run: with TestRekeyAfterTime = 8 the router, as the
# initiator of the session, must start a new handshake once its keypair is
# 8 s old and it sends data (REKEY_AFTER_TIME, normally 120 s); the latest
# handshake time advances while the ping keeps flowing.
#
#   mg-host ping --> mg-rtr meshgate (initiator, rekey 8 s) ==wg==> [gw] ==> mg-lap
#
. "$(dirname "$0")/lib.sh"
t_begin
if ! meshgate_only; then
	skip "wireguard-go has no test rekey timer (meshgate's TestRekeyAfterTime)"
	exit 0
fi
t_start_router_or_die --endpoint --rekey 8

# The home host speaks first so the router initiates (only the initiator
# rekeys on the REKEY_AFTER_TIME timer).
check "router-initiated session (host -> laptop ping)" ping_ok host $LAP_TS4
host ping -n -i 0.25 -c 120 -w 40 $LAP_TS4 >"$MG_LAB_DIR/rekey-ping.txt" 2>&1 &
ppid=$!
seen=()
for i in $(seq 32); do
	hs=$(wg_field $RIF latest-handshakes)
	[ "$hs" != 0 ] && [ "$hs" != "${seen[-1]:-}" ] && seen+=("$hs")
	sleep 1
done
wait $ppid
echo "# router latest-handshakes seen: ${seen[*]}"
check "at least 2 rekeys in 32 s (${#seen[@]} handshake times)" test ${#seen[@]} -ge 3
# Both ends read together (the router keeps rekeying every 8 s after the loop; a rekey between the
# two reads is retried once).
same_rekey() {
	hs_rtr=$(wg_field $RIF latest-handshakes) hs_lap=$(wg_field $LAP_IF latest-handshakes)
	[ $((hs_lap - hs_rtr)) -le 2 ] && [ $((hs_rtr - hs_lap)) -le 2 ]
}
same_rekey || { sleep 1; same_rekey; }
check "laptop saw the latest rekey too ($hs_lap vs router $hs_rtr)" \
	test $((hs_lap - hs_rtr)) -le 2 -a $((hs_rtr - hs_lap)) -le 2
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$MG_LAB_DIR/rekey-ping.txt")
check "ping kept flowing across rekeys (${recv:-0}/120 replies, >= 116)" test "${recv:-0}" -ge 116
t_end
