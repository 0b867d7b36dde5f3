#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The benchmark's traffic tools work against the router: perf/wggen, a WireGuard peer
# written on meshgate's own noise/AEAD code, completes a real handshake with the router as the
# laptop and sends 512-byte inner packets at a modest fixed rate over AF_XDP (TX only) for 3 s,
# re-handshaking every 1.2 s (the REKEY_AFTER_TIME path, sped up); perf/wgsink on the home host receives at least 99% of what wggen sent, none corrupt. Then the
# reverse: wgsink sends plain UDP from the LAN to the laptop's tailnet address, the router
# encrypts it, and wggen decrypts at least 99% of it, none corrupt or rejected. Behaviour, not
# speed: the rate is far below what either router carries here. MG_ROUTER=wggo checks the tools
# against the wireguard-go baseline.
#
#   mg-lap  wggen (lap.key, UDP socket + AF_XDP TX on eth0) ==wg==> mg-gw DNAT ==> mg-rtr router
#           ^ decrypts and counts                                              |
#           +============================ wg ============================+    v
#                                                            mg-host wgsink recv :9000
#                                                                    wgsink send -> 100.64.0.2
#
. "$(dirname "$0")/lib.sh"

RATE=5000 SECS=3

# kv KEY LINE: the value of KEY=value in a summary line (empty when absent).
kv() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2"; }
# at_least PCT PART WHOLE: PART >= PCT% of WHOLE, and WHOLE > 0.
at_least() { [ "${3:-0}" -gt 0 ] && [ $((${2:-0} * 100)) -ge $(($1 * $3)) ]; }

t_begin
[ -x "$WGGEN" ] && [ -x "$WGSINK" ] ||
	{ fail "no perf/wggen or perf/wgsink in the build (ninja -C build)"; exit 1; }
t_start_router_or_die
# wggen is the laptop now (same key): its wireguard-go steps aside so only one peer talks.
wg set $LAP_IF peer "$(lab_rtr_pub)" remove

# --- laptop -> home host ---
check "wgsink listening on the home host" lab_wgsink fwd recv --port 9000 --run 11
gen=$(lab_wggen --dst $HOST4:9000 --size 512 --rate $RATE --seconds $SECS --run 11 --xdp eth0 \
	--rekey-after 1.2)
sink=$(lab_wgsink_result fwd)
echo "# wggen: $gen"
echo "# wgsink: $sink"
expect_eq "wggen completed the handshake with the router" "$(kv handshake "$gen")" ok
check "wggen re-handshook mid-run without losing the flow ($(kv handshakes "$gen") handshakes)" \
	test "$(kv handshakes "$gen")" -ge 3
check "wggen transmitted over AF_XDP ($(kv tx_mode "$gen"))" grep -q '^xdp-' <<<"$(kv tx_mode "$gen")"
sent=$(kv sent "$gen") rx=$(kv rx "$sink")
check "wggen offered what the rate asked, within 20% ($sent of $((RATE * SECS)))" \
	test "${sent:-0}" -ge $((RATE * SECS * 8 / 10)) -a "${sent:-0}" -le $((RATE * SECS * 12 / 10))
check "home host received >= 99% of what wggen sent ($rx of $sent)" at_least 99 "$rx" "$sent"
expect_eq "no corrupt packets at the sink" "$(kv corrupt "$sink")" 0
expect_eq "no stray packets at the sink" "$(kv stale "$sink")/$(kv foreign "$sink")" 0/0

# --- home host -> laptop (the router encrypts) ---
ip netns exec mg-lap "$WGGEN" --key "$MG_LAB_DIR/lap.key" --peer-pub "$(lab_rtr_pub)" \
	--endpoint $GW_WAN4:$WG_PORT --src $LAP_TS4 --dst $HOST4:9000 --run 12 --sendmmsg --no-tx \
	--seconds $((SECS + 2)) >"$MG_LAB_DIR/wggen-rev.out" 2>"$MG_LAB_DIR/wggen-rev.err" &
gpid=$!
check "wggen (receive only) completed its handshake" \
	wait_for 5 grep -q 'handshake complete' "$MG_LAB_DIR/wggen-rev.err"
# meshgate promotes the confirmed session on its control tick, not in the receive path: until
# then it still seals with the previous wggen's keys, which this process never had
sleep 0.5
lab_wgsink rev send --to $LAP_TS4:9001 --size 512 --rate $RATE --seconds $SECS --run 12
wait "$(cat "$MG_LAB_DIR/rev.pid")" 2>/dev/null
rm -f "$MG_LAB_DIR/rev.pid"
wait $gpid
sink=$(cat "$MG_LAB_DIR/rev.out") gen=$(cat "$MG_LAB_DIR/wggen-rev.out")
echo "# wgsink: $sink"
echo "# wggen: $gen"
sent=$(kv sent "$sink") rx=$(kv rx "$gen")
check "wggen decrypted >= 99% of what the home host sent ($rx of $sent)" at_least 99 "$rx" "$sent"
expect_eq "reverse: no corrupt inner packets" "$(kv rx_corrupt "$gen")" 0
expect_eq "reverse: no authentication failures or replays" \
	"$(kv auth_fail "$gen")/$(kv replay "$gen")" 0/0
t_end
