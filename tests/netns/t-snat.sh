#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# SNAT (SNAT = true, like --snat-subnet-routes): the home host has NO route back to the tailnet,
# so every reply must come back through meshgate's NAT.
#
#   mg-lap 100.64.0.2 ==wg==> mg-rtr (meshgate, SNAT to 192.168.8.105) --> mg-host 192.168.8.80
#                                                  <-- replies to 192.168.8.105:61000+ --
#
. "$(dirname "$0")/lib.sh"

# nat_pull FILE PORT: the laptop opens the connection, the home host sends FILE down it.
nat_pull() {
	local out="$MG_LAB_DIR/pull.$2"
	ip netns exec mg-host timeout 120 nc -4 -N -l "$2" <"$1" &
	local spid=$!
	wait_listen host "$2" || { kill $spid 2>/dev/null; return 1; }
	ip netns exec mg-lap timeout 120 nc -d $HOST4 "$2" >"$out"
	wait $spid
	sha256sum <"$out" | cut -d' ' -f1
}

meshgate_only || { echo "SKIP: t-snat: meshgate only (the baseline router does no SNAT)"; exit 77; }
t_begin
host ip route del 100.64.0.0/10
host ip -6 route del fd7a:115c:a1e0::/48
t_start_router_or_die --snat

check "laptop -> home host ping (IPv4, ICMP echo by identifier)" ping_ok lap $HOST4
check "laptop -> home host ping (IPv6)" ping_ok lap $HOST6
check_fails "home host cannot reach the tailnet itself (no route: replies only via NAT)" \
	host ping -n -q -c 1 -w 2 $LAP_TS4

# The home host sees the router's LAN address as the source, never a tailnet address.
capture_start host 5 "$MG_LAB_DIR/snat.txt" -ni eth0 -c 1 "icmp and src host $RTR_LAN4" || fail "$CAPTURE_ERR"
lap ping -c 1 -W 1 $HOST4 >/dev/null
wait $CAPTURE_PID
src=$(cat "$MG_LAB_DIR/snat.txt")
check "echo requests arrive from the router's LAN address" grep -q "$RTR_LAN4 > $HOST4" <<<"$src"

f=$(random_file 32)
want=$(sha256sum <"$f" | cut -d' ' -f1)
expect_eq "32 MiB TCP laptop -> host through NAT, sha256" "$(tcp_transfer lap host $HOST4 "$f" 5101)" "$want"
expect_eq "32 MiB TCP host -> laptop (host answers on the NATed connection)" "$(nat_pull "$f" 5102)" "$want"
lab_iperf3_server
wait_listen host 5201
lap_udp=$(lap timeout 10 iperf3 -u -b 20M -t 2 -c $HOST4 -p 5201 -J 2>/dev/null |
	  python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum"]["lost_packets"])' 2>/dev/null)
check "UDP through NAT: iperf3 finished and lost nothing (lost=${lap_udp:-none})" test "${lap_udp:-x}" = 0
check "replies were steered to meshgate by the XDP NAT rule" \
	test "$(lab_metric meshgate_xdp_steered_packets_total 'action="nat"')" -gt 0
check "no NAT translation failures" test "$(drops nat_failed)" = 0
# Only advertised routes are forwarded from the tailnet: the laptop may send to 10.55.0.1
# through the tunnel (its own config allows it), but the router does not advertise it.
lap wg set $LAP_IF peer "$(lab_rtr_pub)" allowed-ips "$LAP_ALLOWED,10.55.0.0/24"
lap ip route add 10.55.0.0/24 dev $LAP_IF
nr0=$(drops no_route)
check_fails "laptop -> 10.55.0.1 (not an advertised route) is not forwarded" lap ping -n -q -c 2 -W 1 10.55.0.1
check "... and counted as no_route" test "$(drops no_route)" -ge $((${nr0:-0} + 2))
check "the NAT port range is reserved from the router's own sockets" \
	sh -c "ip netns exec mg-rtr cat /proc/sys/net/ipv4/ip_local_reserved_ports | grep -q 61000-65535"
t_end
