#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# What reaches the router that the XDP program must not take, or cannot use:
#   1. WireGuard-sized UDP (1452 bytes) to the listen port over a path with MTU 1280: each
#      datagram arrives as two IPv4 fragments. meshgate does not reassemble; the first fragment
#      is dropped and counted (fragment_first), the later one counted (fragment_later) and left
#      to the kernel.
#   2. A fragmented datagram to another port of the router still reaches a kernel socket there
#      (the kernel reassembles); its later fragment is counted too.
#   4. The same over IPv6 (the sender fragments: a Fragment header after the fixed header):
#      first fragments to the listen port dropped and counted, later ones counted and passed,
#      a fragmented datagram to another port reassembled by the kernel.
#   3. With 0.0.0.0/0 in the peer's allowed IPs, LAN broadcast (subnet and 255.255.255.255) and
#      multicast (224.0.0.251, mDNS) stay with the router's kernel: a socket there receives them.
#
#   mg-host (route to the router: mtu 1280) --br0-- mg-rtr eth0 (meshgate, XDP)
. "$(dirname "$0")/lib.sh"
meshgate_only || { skip "meshgate only (its XDP steering)"; exit 0; }
t_begin
t_start_router_or_die
lost() { lab_metric meshgate_xdp_lost_packets_total "reason=\"$1\""; }
check "tunnel up (laptop -> host ping)" ping_ok lap $HOST4 3

# rtr_recv PORT NAME [GROUP]: count datagrams (and their sizes) to PORT in mg-rtr until SIGTERM.
rtr_recv() {
	ip netns exec mg-rtr python3 -c '
import signal, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1])))
if len(sys.argv) > 3:
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 socket.inet_aton(sys.argv[3]) + socket.inet_aton(sys.argv[4]))
got = []
def done(*_):
    open(sys.argv[2], "w").write("%d %d\n" % (len(got), sum(got))); sys.exit(0)
signal.signal(signal.SIGTERM, done)
while True:
    got.append(len(s.recv(65535)))' "$1" "$MG_LAB_DIR/$2.count" ${3:+$3 $RTR_LAN4} &
	echo $! >"$MG_LAB_DIR/$2.pid"
	wait_for 5 sh -c "ip netns exec mg-rtr ss -Hlun 'sport = :$1' | grep -q ."
}
rtr_count() { lab_stop_pid "$MG_LAB_DIR/$1.pid"; sleep 0.2; cat "$MG_LAB_DIR/$1.count" 2>/dev/null || echo "0 0"; }
# host_send DST PORT COUNT SIZE: COUNT UDP datagrams of SIZE bytes, fragmented by the kernel
# where the path MTU asks (no DF), broadcast allowed.
host_send() {
	host python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)           # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[5]))
for i in range(int(sys.argv[3])):
    s.sendto(b"\x04\0\0\0" + b"w" * (int(sys.argv[4]) - 4), (sys.argv[1], int(sys.argv[2])))' \
		"$1" "$2" "$3" "$4" $HOST4
}

# 1. Fragmented WireGuard-sized datagrams to the listen port.
host ip route add $RTR_LAN4/32 dev eth0 mtu lock 1280 || fail "host: route with mtu 1280"
first0=$(lost fragment_first) later0=$(lost fragment_later)
host_send $RTR_LAN4 $WG_PORT 10 1452
sleep 0.5
expect_eq "10 first fragments to the listen port counted (fragment_first)" $(($(lost fragment_first) - first0)) 10
expect_eq "10 later fragments to our address counted (fragment_later)" $(($(lost fragment_later) - later0)) 10

# 2. A fragmented datagram to a kernel socket on the router still arrives whole.
rtr_recv 7000 frag || fail "router receiver on 7000"
first0=$(lost fragment_first) later0=$(lost fragment_later)
host_send $RTR_LAN4 7000 5 1452
sleep 0.5
expect_eq "the router's socket on 7000 received 5 reassembled datagrams of 1452 bytes" "$(rtr_count frag)" "5 7260"
expect_eq "their later fragments counted" $(($(lost fragment_later) - later0)) 5
expect_eq "no first fragment dropped for another port" $(($(lost fragment_first) - first0)) 0
host ip route del $RTR_LAN4/32

# 4. IPv6: the home host fragments at the source (path MTU 1280 towards the router).
rtr_recv6() {
	ip netns exec mg-rtr python3 -c '
import signal, socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", int(sys.argv[1])))
got = []
def done(*_):
    open(sys.argv[2], "w").write("%d %d\n" % (len(got), sum(got))); sys.exit(0)
signal.signal(signal.SIGTERM, done)
while True:
    got.append(len(s.recv(65535)))' "$1" "$MG_LAB_DIR/$2.count" &
	echo $! >"$MG_LAB_DIR/$2.pid"
	wait_for 5 sh -c "ip netns exec mg-rtr ss -Hlun 'sport = :$1' | grep -q ."
}
host_send6() {
	host python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(b"\x04\0\0\0" + b"w" * (int(sys.argv[4]) - 4), (sys.argv[1], int(sys.argv[2])))' "$@"
}
host ip -6 route add $RTR_LAN6/128 dev eth0 mtu 1280 || fail "host: IPv6 route with mtu 1280"
first0=$(lost fragment_first) later0=$(lost fragment_later)
host_send6 $RTR_LAN6 $WG_PORT 10 1452
sleep 0.5
expect_eq "IPv6: 10 first fragments to the listen port counted (fragment_first)" $(($(lost fragment_first) - first0)) 10
expect_eq "IPv6: 10 later fragments to our address counted (fragment_later)" $(($(lost fragment_later) - later0)) 10
rtr_recv6 7001 frag6 || fail "router IPv6 receiver on 7001"
first0=$(lost fragment_first) later0=$(lost fragment_later)
host_send6 $RTR_LAN6 7001 5 1452
sleep 0.5
expect_eq "IPv6: the router's socket on 7001 received 5 reassembled datagrams of 1452 bytes" "$(rtr_count frag6)" "5 7260"
expect_eq "IPv6: their later fragments counted" $(($(lost fragment_later) - later0)) 5
expect_eq "IPv6: no first fragment dropped for another port" $(($(lost fragment_first) - first0)) 0
host ip -6 route del $RTR_LAN6/128

# 3. A peer with 0.0.0.0/0: broadcast and multicast are still the router's kernel's.
wg set $RIF peer "$(lab_lap_pub)" allowed-ips $LAP_TS4/32,$LAP_TS6/128,0.0.0.0/0 ||
	fail "wg set: 0.0.0.0/0 for the laptop"
rtr_recv 6767 bcast 224.0.0.251 || fail "router receiver on 6767"
host_send 192.168.8.255 6767 5 100
host_send 255.255.255.255 6767 5 100
host_send 224.0.0.251 6767 5 100
sleep 0.5
expect_eq "the router's kernel received 5 subnet broadcasts, 5 limited broadcasts, 5 multicasts" \
	"$(rtr_count bcast)" "15 1500"
wg set $RIF peer "$(lab_lap_pub)" allowed-ips $LAP_TS4/32,$LAP_TS6/128 || fail "wg set: allowed IPs back"
check "tunnel still up (laptop -> host ping)" ping_ok lap $HOST4 3
expect_eq "no frame lost to a queue without a socket" "$(lost no_socket)" 0
t_router_stop
t_end
