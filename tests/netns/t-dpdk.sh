#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Backend = dpdk: the router's eth0 belongs to DPDK (net_af_packet vdev, --no-huge), the kernel
# sees the LAN only through meshgate's exception TAP (meshgate0-lan), which carries the router's
# address, its routes, ARP/ND and its own traffic.
#
#   mg-lap ==wg==> gw ==> eth0 [DPDK af_packet] -> meshgate worker -> eth0 -> mg-host
#                                          \-> TAP meshgate0-lan -> kernel (ARP, ping .105)
#
# With an af_packet vdev the kernel would still see every frame on eth0 too, so eth0 gets no
# address, no IPv6, and an nft netdev ingress chain that drops all it receives (packet sockets
# see frames before that hook): only DPDK reads eth0, as with a NIC bound to vfio-pci. No XDP.
#
# Two queues (Queues = 2, qpairs=2 on a 2-queue veth: packet fanout by flow hash), so one worker
# per queue pair, each with its own frame pool and its own TAP queue pair.
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
rtr ip addr flush dev eth0
rtr sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
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

t_start_router_or_die --dpdk "$EAL" --queues 2
check "meshgate says it runs on DPDK with an exception TAP" \
	grep -q "DPDK port net_af_packet0, 2 queues, exception path through $TAP" "$MG_LAB_DIR/meshgate.log"
check_fails "no XDP program on eth0" lab_rtr_has_xdp
if [ "${DPDK_HUGE:-0}" = 1 ]; then
	used=$(awk '/HugePages_Total/ {t = $2} /HugePages_Free/ {f = $2} END {print t - f}' /proc/meminfo)
	check "meshgate's pools sit in hugepages ($used in use)" test "$used" -gt 0
fi
# The kernel side of the router: its LAN address and routes move to the TAP.
rtr ip link set "$TAP" up &&
	rtr ip addr add $RTR_LAN4/24 dev "$TAP" &&
	rtr ip addr add $RTR_LAN6/64 dev "$TAP" nodad &&
	rtr ip route add default via $GW_LAN4 &&
	rtr ip -6 route add default via $GW_LAN6 ||
	{ fail "configuring $TAP"; exit 1; }
expect_eq "the TAP has eth0's MAC" "$(rtr cat /sys/class/net/$TAP/address)" \
	"$(rtr cat /sys/class/net/eth0/address)"

check "home host pings the router's own address (ARP and ICMP through the exception path)" \
	ping_ok host $RTR_LAN4
check "... and over IPv6 (ND through the exception path)" ping_ok host $RTR_LAN6
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

t_router_stop
check "the exception path carried frames both ways" \
	grep -Eq "dpdk queue [01]: exception path [1-9][0-9]* to the kernel, [1-9][0-9]* from it" "$MG_LAB_DIR/meshgate.log"
check "every frame came back to its pool (both queues)" \
	test "$(grep -c "dpdk mode, frames unaccounted 0" "$MG_LAB_DIR/meshgate.log")" = 2
check_fails "the TAP is gone with meshgate" rtr test -e "/sys/class/net/$TAP"
if [ "${DPDK_HUGE:-0}" = 1 ]; then
	check "the EAL ran on hugepages (meshgate said so)" grep -q "DPDK memory: hugepages" "$MG_LAB_DIR/meshgate.log"
	expect_eq "every hugepage free again after exit" "$(cat /proc/sys/vm/nr_hugepages)-$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" \
		"$(cat /proc/sys/vm/nr_hugepages)-$(cat /proc/sys/vm/nr_hugepages)"
fi
t_end
