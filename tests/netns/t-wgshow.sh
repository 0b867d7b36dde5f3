#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Stock `wg show` through the router's UAPI socket: identity, peer, handshake
# time and byte counters that agree with the laptop's own view.
#
#   wg show mglap  <- mg-lap wireguard-go ==wg==> [gw] ==> mg-rtr router -> wg show meshgate0
#
# Tolerance: the counters are compared as deltas over a burst of pings, read
# after the pings ended. WireGuard counts whole messages (data, keepalive,
# handshake) on both sides, so the deltas match byte for byte unless a
# message is in flight between the two reads; only a keepalive (32 bytes) can
# be, so up to 2 keepalives = 64 bytes of difference is tolerated. Absolute
# totals are not compared: the laptop counts handshake initiations it sent
# before the router listened, which the router never saw.
. "$(dirname "$0")/lib.sh"
t_begin
t_start_router_or_die

expect_eq "public-key is the router's" "$(wg show $RIF public-key)" "$(lab_rtr_pub)"
expect_eq "listen-port" "$(wg show $RIF listen-port)" "$WG_PORT"
expect_eq "the one peer is the laptop" "$(wg show $RIF peers)" "$(lab_lap_pub)"
expect_eq "allowed-ips" "$(wg show $RIF allowed-ips | cut -f2 | tr ' ' '\n' | sort | tr '\n' ' ')" \
	"$(echo $LAP_TS4/32 $LAP_TS6/128 | tr ' ' '\n' | sort | tr '\n' ' ')"
check "no handshake before traffic" test "$(wg_field $RIF latest-handshakes)" = 0

check "laptop -> host ping (handshake)" ping_ok lap $HOST4
now=$(date +%s)
hs_rtr=$(wg_field $RIF latest-handshakes)
hs_lap=$(wg_field $LAP_IF latest-handshakes)
check "router's latest handshake is recent ($hs_rtr vs now $now)" \
	test "$hs_rtr" -gt $((now - 30)) -a "$hs_rtr" -le $((now + 1))
check "router and laptop agree on the handshake time within 2 s ($hs_rtr, $hs_lap)" \
	test $((hs_rtr - hs_lap)) -le 2 -a $((hs_lap - hs_rtr)) -le 2
expect_eq "endpoint is the laptop's address and port" "$(wg_field $RIF endpoints)" "$LAP_WAN4:$LAP_PORT"

read -r r_rx0 r_tx0 <<<"$(wg_transfer $RIF)"
read -r l_rx0 l_tx0 <<<"$(wg_transfer $LAP_IF)"
lap ping -n -q -c 50 -i 0.02 -w 10 $HOST4 >/dev/null
host ping -n -q -c 50 -i 0.02 -w 10 $LAP_TS4 >/dev/null
sleep 0.5
read -r r_rx1 r_tx1 <<<"$(wg_transfer $RIF)"
read -r l_rx1 l_tx1 <<<"$(wg_transfer $LAP_IF)"
d_rrx=$((r_rx1 - r_rx0)) d_rtx=$((r_tx1 - r_tx0)) d_lrx=$((l_rx1 - l_rx0)) d_ltx=$((l_tx1 - l_tx0))
echo "# deltas: router rx $d_rrx tx $d_rtx; laptop rx $d_lrx tx $d_ltx"
# 100 ICMP echo messages each way: 84-byte packets padded to 96 + 32 = 128.
check "router rx grew by at least 100 data messages ($d_rrx)" test $d_rrx -ge 12800
check "router tx grew by at least 100 data messages ($d_rtx)" test $d_rtx -ge 12800
within() { local d=$(($1 - $2)); [ ${d#-} -le 64 ]; }
check "router rx == laptop tx (delta $d_rrx vs $d_ltx, +-64)" within $d_rrx $d_ltx
check "router tx == laptop rx (delta $d_rtx vs $d_lrx, +-64)" within $d_rtx $d_lrx
t_end
