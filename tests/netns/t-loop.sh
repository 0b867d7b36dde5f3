#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Routing loop (the kernel's netns.sh): the laptop's endpoint is set
# to an address inside the tunnel (its own tailnet address). A kernel WireGuard would route the
# outer packet back into its own device; the kernel suite bounds what it then sends to
# < 70,000 B/s. meshgate resolves outer next hops from the kernel's tables without its own
# TUN routes, so the message leaves once towards the gateway and nothing multiplies.
#
#   mg-host ping 100.64.0.2 --> mg-rtr: meshgate (laptop's endpoint = 100.64.0.2:51820)
#                               --> eth0 once per packet, never back into meshgate0
. "$(dirname "$0")/lib.sh"
meshgate_only || { skip "meshgate only (its outer next-hop lookup)"; exit 0; }
t_begin
t_start_router_or_die
check "laptop -> host ping (handshake)" ping_ok lap $HOST4

check "wg set: the laptop's endpoint inside the tunnel" wg set $RIF peer "$(lab_lap_pub)" endpoint "$LAP_TS4:$LAP_PORT"
expect_eq "wg show: endpoint $LAP_TS4:$LAP_PORT" "$(wg_field $RIF endpoints)" "$LAP_TS4:$LAP_PORT"
quiet() { "$@" >/dev/null; }
nic_tx() { lab_metric meshgate_nic_transmitted_packets_total; }
tun_tx() { rtr cat /sys/class/net/$MG_IF/statistics/tx_packets; }   # kernel -> meshgate
read -r _ tx0 <<<"$(wg_transfer $RIF)"
n0=$(nic_tx) t0=$(tun_tx)
host ping -n -q -i 0.1 -c 30 -W 1 $LAP_TS4 >/dev/null 2>&1   # 3 s; no answer can come back
read -r _ tx1 <<<"$(wg_transfer $RIF)"
n1=$(nic_tx) t1=$(tun_tx)
echo "# 30 pings in 3 s: the router sent $((tx1 - tx0)) B to the peer in $((n1 - n0)) frames"
check "bytes sent to the peer stay below the kernel suite's bound ($((tx1 - tx0)) B in 3 s < 210,000)" \
	test $((tx1 - tx0)) -lt 210000
check "no multiplication: at most one frame per ping plus handshakes ($((n1 - n0)) <= 40)" \
	test $((n1 - n0)) -le 40
check "nothing came back into meshgate through its TUN ($((t1 - t0)) packets <= 5)" test $((t1 - t0)) -le 5
check "meshgate still serves: wg show answers" quiet wg show $RIF peers
# The laptop's next authenticated packet moves the endpoint back (roaming) and traffic returns.
check "laptop -> host ping roams the endpoint back" wait_for 20 lap ping -n -q -c 1 -W 1 $HOST4
expect_eq "endpoint is the laptop's again" "$(wg_field $RIF endpoints)" "$LAP_WAN4:$LAP_PORT"
t_end
