#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# ListenPort changed at run time with stock `wg set` (wireguard-go and the kernel allow it): the
# XDP program steers the new port to meshgate at once, the session survives (no new handshake
# is needed), and the old port is the kernel's again.
#
#   mg-lap ==wg==> gw:41641 (DNAT) ==> mg-rtr:41641     then     gw:41700 (DNAT) ==> mg-rtr:41700
. "$(dirname "$0")/lib.sh"
meshgate_only || { skip "meshgate only (its XDP steering)"; exit 0; }
t_begin
t_start_router_or_die
NEW_PORT=41700
check "laptop -> host ping on port $WG_PORT" ping_ok lap $HOST4
hs0=$(wg_field $RIF latest-handshakes)
steered0=$(lab_metric meshgate_xdp_steered_packets_total)

check "wg set listen-port $NEW_PORT" wg set $RIF listen-port $NEW_PORT
expect_eq "wg show listen-port" "$(wg show $RIF listen-port)" $NEW_PORT
gw nft add rule inet mgnat prerouting iifname wan0 udp dport $NEW_PORT ip daddr $GW_WAN4 dnat ip to $RTR_LAN4 ||
	fail "gateway: forward the new port"
wg set $LAP_IF peer "$(lab_rtr_pub)" endpoint $GW_WAN4:$NEW_PORT || fail "laptop: the router's new port"
check "laptop -> host ping on port $NEW_PORT" ping_ok lap $HOST4
check "host -> laptop ping" ping_ok host $LAP_TS4
expect_eq "the session carried on: no new handshake" "$(wg_field $RIF latest-handshakes)" "$hs0"
check "the XDP program steered the new port's packets to meshgate" \
	test "$(lab_metric meshgate_xdp_steered_packets_total)" -gt "$steered0"
# The old port belongs to the kernel again: a socket there receives what is sent to it.
rtr timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(4)
print(s.recv(64).decode())' $WG_PORT >"$MG_LAB_DIR/oldport.txt" 2>&1 &
rpid=$!
sleep 0.5
host python3 -c 'import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"hello-old-port", (sys.argv[1], int(sys.argv[2])))' \
	$RTR_LAN4 $WG_PORT
wait $rpid
expect_eq "a datagram to the old port $WG_PORT reaches an ordinary socket" "$(cat "$MG_LAB_DIR/oldport.txt")" hello-old-port
t_end
