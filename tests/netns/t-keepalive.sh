#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Persistent keepalive through a NAT (the kernel's netns.sh NAT test):
# the gateway loses its port forward, so the laptop reaches the router only through the mapping
# the router's own packets open, and that mapping lives 2 s (nf_conntrack_udp_timeout=2). With
# `persistent-keepalive 1` the router's keepalives hold it open: the laptop gets through after
# any idle time. Set to 0, the mapping expires after 2 s idle and the laptop's packets die at
# the gateway, until the router sends again.
#
#   mg-lap ==wg==> mg-gw (masquerade only, no DNAT; UDP mappings live 2 s) ==> mg-rtr: meshgate
#            <== keepalive every 1 s (persistent-keepalive 1) ==
. "$(dirname "$0")/lib.sh"
t_begin
t_start_router_or_die --endpoint
gw nft flush chain inet mgnat prerouting || fail "gateway: drop the port forward"
gw sysctl -qw net.netfilter.nf_conntrack_udp_timeout=2 net.netfilter.nf_conntrack_udp_timeout_stream=2 ||
	fail "gateway: 2 s UDP mappings"
quick_ping() { lap ping -n -q -c 2 -i 0.3 -W 1 -w 2 $HOST4 >/dev/null 2>&1; }

check "wg set persistent-keepalive 1" wg set $RIF peer "$(lab_lap_pub)" persistent-keepalive 1
expect_eq "wg show persistent-keepalive: 1" "$(wg_field $RIF persistent-keepalive)" 1
# The router handshakes (it knows the laptop's endpoint) and then keeps the mapping warm.
lap_handshook() { [ "$(wg_field $LAP_IF latest-handshakes)" -gt 0 ]; }
check "the router's handshake reaches the laptop through the NAT" wait_for 10 lap_handshook
read -r rx0 _ <<<"$(wg_transfer $LAP_IF)"
sleep 4
read -r rx1 _ <<<"$(wg_transfer $LAP_IF)"
check "keepalives arrive while idle: laptop rx +$((rx1 - rx0)) B in 4 s (>= 3 x 32)" test $((rx1 - rx0)) -ge 96
check "after 4 s idle (mapping lifetime 2 s) the laptop still gets through" quick_ping
check "and the LAN host answers back" ping_ok host $LAP_TS4 2

check "wg set persistent-keepalive 0" wg set $RIF peer "$(lab_lap_pub)" persistent-keepalive 0
expect_eq "wg show persistent-keepalive: off" "$(wg_field $RIF persistent-keepalive)" off
sleep 4
check_fails "without keepalives, after 4 s idle the mapping is gone and the laptop is cut off" quick_ping
# The router speaks first (LAN host -> laptop): the mapping opens again, and the laptop with it.
check "the router's own traffic opens the mapping again" ping_ok host $LAP_TS4 2
check "laptop gets through again" quick_ping
t_end
