#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Backend = dpdk: the router's eth0 belongs to DPDK (net_af_packet vdev, --no-huge), the kernel
# sees the LAN only through meshgate's exception TAP (meshgate0-lan), which carries the router's
# address, its routes, ARP/ND and its own traffic.
#
#   mg-lap ==wg==> gw ==> eth0 [DPDK af_packet] -> meshgate worker -> eth0 -> mg-host
#                                          \-> TAP meshgate0-lan -> kernel (ARP, ping .105)
#
# Nobody moves anything by hand: eth0 starts configured as any LAN interface (addresses of both
# families, default routes, a route in table 100, a permanent neighbour entry for the gateway),
# meshgate moves all of it to the TAP when it takes the port and gives it back when it exits:
# on SIGTERM at once; after SIGKILL (no chance to) at its next start, from the state file in
# StateDir, saying what it restored.
#
# With an af_packet vdev the kernel would still see every frame on eth0 too, so eth0 gets an nft
# netdev ingress chain that drops all it receives (packet sockets see frames before that hook):
# only DPDK reads eth0, as with a NIC bound to vfio-pci. No XDP.
#
# Two queues (Queues = 2, qpairs=2 on a 2-queue veth: packet fanout by flow hash), so one worker
# per queue pair, each with its own frame pool and its own TAP queue pair.
# Outer fragments (IPv4 and IPv6) to the listen port are counted on this path too.
. "$(dirname "$0")/lib.sh"
meshgate_only || { skip "meshgate only"; exit 0; }
export LAB_RTR_QUEUES=2
t_begin
TAP=$MG_IF-lan
EAL="-m 512 --no-pci --no-telemetry --log-level=*:warning --vdev net_af_packet0,iface=eth0,qpairs=2"
if [ "${DPDK_HUGE:-0}" = 1 ]; then
	# t-dpdk-huge.sh: the EAL on 2 MiB hugepages, reserved here and given back at the end.
	huge0=$(cat /proc/sys/vm/nr_hugepages)
	huge_restore() { echo "$huge0" >/proc/sys/vm/nr_hugepages; }
	trap 'huge_restore; t_cleanup; exit $?' EXIT
	echo $((huge0 + 384)) >/proc/sys/vm/nr_hugepages 2>/dev/null
	got=$(($(cat /proc/sys/vm/nr_hugepages) - huge0))
	[ "$got" -ge 300 ] || { skip "the kernel gave only $got of 384 hugepages"; exit 0; }
	echo "# $got hugepages of 2 MiB reserved"
else
	EAL="--no-huge $EAL"
fi

ldd "$MESHGATE" | grep -q librte_ethdev ||
	{ skip "meshgate built without DPDK (libdpdk-dev, meson -Ddpdk=enabled)"; exit 0; }
# frag_send DST PORT COUNT SIZE: COUNT UDP datagrams of SIZE bytes from the home host, fragmented
# by its kernel where the path MTU asks (IPv4 without DF; IPv6 fragments at the source).
frag_send() {
	host python3 -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if fam == socket.AF_INET:
    s.setsockopt(socket.IPPROTO_IP, 10, 0)           # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
for i in range(int(sys.argv[3])):
    s.sendto(b"\x04\0\0\0" + b"w" * (int(sys.argv[4]) - 4), (sys.argv[1], int(sys.argv[2])))' "$@"
}
# eth0's configuration beyond the lab's addresses and default routes: a route in another table
# and a permanent neighbour entry (the gateway's real MAC, so forwarding keeps working).
gw_mac=$(ip netns exec mg-gw cat /sys/class/net/lan0/address)
rtr ip route add 10.77.0.0/16 via $GW_LAN4 table 100 &&
	rtr ip neigh replace $GW_LAN4 lladdr "$gw_mac" dev eth0 nud permanent ||
	{ fail "configuring eth0 beyond the lab's defaults"; exit 1; }
# ipconf DEV: DEV's configuration as meshgate moves it, without the interface name: global
# addresses, routes of every table (not the kernel's own per-address routes), permanent neighbours.
ipconf() {
	{
		rtr ip -o addr show dev "$1" scope global | awk '{ print $3, $4 }'
		rtr ip route show table all dev "$1" | grep -v 'proto kernel'
		rtr ip -6 route show table all dev "$1" | grep -v 'proto kernel'
		rtr ip neigh show dev "$1" nud permanent
	} | sed "s/ dev $1//" | sort
}
eth0_conf=$(ipconf eth0)
echo "$eth0_conf" | sed 's/^/# eth0: /'
STATE="$MG_LAB_DIR/state"
rm -rf "$STATE"
rtr nft -f - <<-EOF || { fail "nft: drop the kernel's view of eth0"; exit 1; }
	table netdev mgdpdk {
		chain in { type filter hook ingress device eth0 priority 0; policy drop; }
	}
	EOF
# A packet socket (the af_packet vdev) gets the skbs the veth receives as they are, TSO/USO
# super-packets included (with no XDP program on eth0, p-rtr keeps offering them): the bridge
# port must segment, as a NIC on the wire does (README.md, offloads). The home host keeps its
# defaults, so its partial checksums still come through.
ip netns exec mg-lan ethtool -K p-rtr tso off tx-udp-segmentation off ||
	{ fail "ethtool: no TSO/USO towards the af_packet vdev"; exit 1; }

START=(--dpdk "$EAL" --queues 2 --set "StateDir = $STATE")
t_start_router_or_die "${START[@]}"
check "meshgate says it runs on DPDK with an exception TAP" \
	grep -q "DPDK port net_af_packet0, 2 queues, exception path through $TAP" "$MG_LAB_DIR/meshgate.log"
check "meshgate says it moved eth0's configuration to $TAP" \
	grep -Eq "moved eth0's 2 addresses, 3 routes, [1-9][0-9]* neighbours? to $TAP" "$MG_LAB_DIR/meshgate.log"
expect_eq "eth0's addresses, routes and permanent neighbours are on $TAP" "$(ipconf "$TAP")" "$eth0_conf"
expect_eq "... and no longer on eth0" "$(ipconf eth0)" ""
check "the state file lists them ($STATE/dpdk-takeover.json)" \
	grep -q '"what": "route 10.77.0.0/16 via 192.168.8.1 table 100"' "$STATE/dpdk-takeover.json"
check_fails "no XDP program on eth0" lab_rtr_has_xdp
if [ "${DPDK_HUGE:-0}" = 1 ]; then
	used=$(awk '/HugePages_Total/ {t = $2} /HugePages_Free/ {f = $2} END {print t - f}' /proc/meminfo)
	check "meshgate's pools sit in hugepages ($used in use)" test "$used" -gt 0
fi
expect_eq "the TAP has eth0's MAC" "$(rtr cat /sys/class/net/$TAP/address)" \
	"$(rtr cat /sys/class/net/eth0/address)"
expect_eq "the TAP has eth0's MTU" "$(rtr cat /sys/class/net/$TAP/mtu)" "$(rtr cat /sys/class/net/eth0/mtu)"

check "home host pings the router's own address (ARP and ICMP through the exception path)" \
	ping_ok host $RTR_LAN4
check "... and over IPv6 (ND through the exception path)" ping_ok host $RTR_LAN6
check "the router's own traffic leaves by the moved default route (router -> laptop's WAN address)" \
	rtr ping -n -q -c 3 -i 0.2 -w 10 $LAP_WAN4
check "... and by the moved IPv6 default route" rtr ping -n -q -c 3 -i 0.2 -w 10 $LAP_WAN6
check "laptop -> host ping through the tunnel" ping_ok lap $HOST4 10
check "laptop -> host ping over IPv6" ping_ok lap $HOST6

f=$(random_file 16)
want=$(sha256sum <"$f" | cut -d' ' -f1)
expect_eq "16 MiB laptop -> host sha256" "$(tcp_transfer lap host $HOST4 "$f" 5001)" "$want"
expect_eq "16 MiB host -> laptop sha256" "$(tcp_transfer host lap $LAP_TS4 "$f" 5002)" "$want"
expect_eq "the router's kernel forwarded nothing (all in meshgate)" "$(kernel_forwarded)" 0
dec=$(lab_metric meshgate_inbound_packets_total)
check "meshgate decrypted the transfer ($dec >= 16 MiB / 1240)" test "${dec:-0}" -ge $((16 * 1024 * 1024 / 1240))
# 16 UDP flows host -> laptop from different source ports: fanout spreads them over both queues.
host python3 -c '
import socket, sys
for sport in range(40000, 40016):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", sport))
    for i in range(20):
        s.sendto(b"d" * 100, (sys.argv[1], 9))
    s.close()' $LAP_TS4
for q in 0 1; do
	rx=$(lab_metric meshgate_nic_received_packets_total "queue=\"$q\"")
	check "worker $q received frames from its DPDK queue ($rx)" test "${rx:-0}" -gt 0
	check "/metrics: queue $q's I/O mode is dpdk" test "$(lab_metric meshgate_io_mode "queue=\"$q\"" 'mode="dpdk"')" = 1
done

# Outer IPv6 fragments to the listen port (a path MTU of 1280 on the home host's side): counted,
# the first ones dropped, as on the XDP path (t-outerfrag). IPv4 fragments cannot be shown here:
# the af_packet PMD joins its sockets in a fanout group with PACKET_FANOUT_FLAG_DEFRAG, so the
# kernel reassembles IPv4 before DPDK sees it (a NIC gives DPDK the fragments); test_steer_diff
# checks the DPDK path's IPv4 fragment counting and drop instead.
lost() { lab_metric meshgate_xdp_lost_packets_total "reason=\"$1\""; }
host ip -6 route add $RTR_LAN6/128 dev eth0 mtu 1280 || fail "host: IPv6 route with mtu 1280"
first0=$(lost fragment_first) later0=$(lost fragment_later)
frag_send $RTR_LAN6 $WG_PORT 10 1452
sleep 0.5
expect_eq "10 first IPv6 fragments to the listen port counted (fragment_first)" $(($(lost fragment_first) - first0)) 10
expect_eq "10 later IPv6 fragments to our address counted (fragment_later)" $(($(lost fragment_later) - later0)) 10
host ip -6 route del $RTR_LAN6/128
skip "IPv4 outer fragments on DPDK: net_af_packet reassembles them (PACKET_FANOUT_FLAG_DEFRAG); see test_steer_diff"

t_router_stop
check "meshgate says it gave eth0 its configuration back" \
	grep -Eq "gave eth0 back its 2 addresses, 3 routes, [1-9][0-9]* neighbours?$" "$MG_LAB_DIR/meshgate.log"
expect_eq "after SIGTERM eth0 has its addresses, routes and neighbours again" "$(ipconf eth0)" "$eth0_conf"
check_fails "the state file is gone" test -e "$STATE/dpdk-takeover.json"
check "the router reaches the laptop's WAN address over eth0 again (nft lifted)" \
	sh -c "ip netns exec mg-rtr nft delete table netdev mgdpdk && ip netns exec mg-rtr ping -n -q -c 3 -i 0.2 -w 10 $LAP_WAN4 >/dev/null"
rtr nft -f - <<-EOF || fail "nft: drop the kernel's view of eth0 again"
	table netdev mgdpdk {
		chain in { type filter hook ingress device eth0 priority 0; policy drop; }
	}
	EOF
check "the exception path carried frames both ways" \
	grep -Eq "dpdk queue [01]: exception path [1-9][0-9]* to the kernel, [1-9][0-9]* from it" "$MG_LAB_DIR/meshgate.log"
check "every frame came back to its pool (both queues)" \
	test "$(grep -c "dpdk mode, frames unaccounted 0" "$MG_LAB_DIR/meshgate.log")" = 2
check_fails "the TAP is gone with meshgate" rtr test -e "/sys/class/net/$TAP"

# SIGKILL: nothing is given back, the TAP dies with the process; the next start restores eth0
# from the state file first (and says so), then takes it over again.
t_start_router_or_die "${START[@]}"
expect_eq "restarted: the configuration is on $TAP again" "$(ipconf "$TAP")" "$eth0_conf"
killed=$MG_PID
kill -KILL "$killed"; wait "$killed" 2>/dev/null
MG_PID=; rm -f "$MG_LAB_DIR/meshgate.pid" "$WG_SOCK_DIR/$MG_IF.sock"; T_ROUTER_UP=0
wait_for 5 sh -c "! ip netns exec mg-rtr test -e /sys/class/net/$TAP"
expect_eq "after SIGKILL eth0 is bare (the TAP took the configuration with it)" "$(ipconf eth0)" ""
check "... and the state file says what to restore" test -s "$STATE/dpdk-takeover.json"
# --endpoint: the restarted router knows the laptop's address and starts the new session itself
# (the laptop would wait for its old session to time out first).
t_start_router_or_die "${START[@]}" --endpoint
check "the next start restored eth0 first and said what (pid $killed)" \
	grep -Eq "restored to eth0 what meshgate pid $killed moved to $TAP .*: 2 addresses, 3 routes, [1-9][0-9]* neighbours?: inet 192.168.8.105/24; " \
	"$MG_LAB_DIR/meshgate.log"
expect_eq "... then took it over again" "$(ipconf "$TAP")" "$eth0_conf"
check "host -> laptop ping through the tunnel after the restart" ping_ok host $LAP_TS4 5
check "laptop -> host ping through the tunnel after the restart" ping_ok lap $HOST4 5
check "home host pings the router after the restart" ping_ok host $RTR_LAN4
t_router_stop
expect_eq "after the restarted meshgate's SIGTERM, eth0 has its configuration" "$(ipconf eth0)" "$eth0_conf"
check_fails "no state file left" test -e "$STATE/dpdk-takeover.json"
if [ "${DPDK_HUGE:-0}" = 1 ]; then
	check "the EAL ran on hugepages (meshgate said so)" grep -q "DPDK memory: hugepages" "$MG_LAB_DIR/meshgate.log"
	expect_eq "every hugepage free again after exit" "$(cat /proc/sys/vm/nr_hugepages)-$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" \
		"$(cat /proc/sys/vm/nr_hugepages)-$(cat /proc/sys/vm/nr_hugepages)"
fi
t_end
