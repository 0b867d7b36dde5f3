#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Exit node (AdvertiseExitNode = true): the laptop sends "internet" traffic through the tunnel;
# meshgate forwards it with SNAT to the LAN's gateway, which delivers it beyond the LAN.
#
#   mg-lap ==wg==> mg-rtr (meshgate: 0.0.0.0/0, ::/0, SNAT to .105) --> mg-gw --> 203.0.113.10
#                                                                        (the "internet" host,
#                                                                         an address on mg-gw's lo)
. "$(dirname "$0")/lib.sh"
meshgate_only || { echo "SKIP: t-exitnode: meshgate only"; exit 77; }
NET4=203.0.113.10 NET6=2001:db8:203::10
t_begin
gw ip addr add $NET4/32 dev lo
gw ip addr add $NET6/128 dev lo
# The laptop uses the router as exit node for the test host only (a full default route would
# also swallow its own tunnel endpoint).
lap wg set $LAP_IF peer "$(lab_rtr_pub)" allowed-ips "$LAP_ALLOWED,$NET4/32,$NET6/128"
lap ip route add $NET4/32 dev $LAP_IF
lap ip -6 route add $NET6/128 dev $LAP_IF
t_start_router_or_die --snat --exit-node

check "laptop -> internet host ($NET4) through the exit node" ping_ok lap $NET4
check "laptop -> internet host ($NET6) through the exit node" ping_ok lap $NET6
capture_start gw 5 "$MG_LAB_DIR/exit.txt" -ni lan0 -c 1 "icmp and dst host $NET4" || fail "$CAPTURE_ERR"
lap ping -c 1 -W 1 $NET4 >/dev/null
wait $CAPTURE_PID
src=$(cat "$MG_LAB_DIR/exit.txt")
check "exit traffic leaves the router with its LAN address (SNAT)" grep -q "$RTR_LAN4 > $NET4" <<<"$src"
f=$(random_file 8)
want=$(sha256sum <"$f" | cut -d' ' -f1)
expect_eq "8 MiB TCP laptop -> internet host through the exit node, sha256" \
	"$(tcp_transfer lap gw $NET4 "$f" 5301)" "$want"
check "the router's kernel forwarded nothing (meshgate did)" test "$(kernel_forwarded)" = 0
t_end
