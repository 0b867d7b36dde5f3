#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Queues = 2 on a router veth with 2 rx/tx queues: two workers, each with its own AF_XDP socket
# and frames, share the laptop's peer (one keypair: send counter, replay window, endpoint).
#
# veth puts a frame on the receiver's rx queue numbered like the sender's tx queue, which the
# bridge port picks by flow hash, so flows spread by their UDP ports (the XDP program then hands
# each frame to the socket of the queue it arrived on, as on a NIC with RSS):
#   LAN -> tunnel: 16 UDP flows host -> laptop from different source ports;
#   tunnel -> LAN: the laptop's WireGuard port is moved (wg set listen-port; the router roams)
#                  until its flow has arrived on each queue.
# Every datagram must arrive, both queues must have carried packets, no drop counted.
. "$(dirname "$0")/lib.sh"
meshgate_only || { skip "meshgate only"; exit 0; }
export LAB_RTR_QUEUES=2
t_begin
t_start_router_or_die --queues 2

check "queue 0 opened its AF_XDP socket (mode reported)" \
	grep -Eq "eth0 queue 0: AF_XDP in (copy|zerocopy) mode" "$MG_LAB_DIR/meshgate.log"
check "queue 1 opened its AF_XDP socket (mode reported)" \
	grep -Eq "eth0 queue 1: AF_XDP in (copy|zerocopy) mode" "$MG_LAB_DIR/meshgate.log"
for q in 0 1; do
	check "/metrics: queue $q's I/O mode is exported (copy on veth)" \
		test "$(lab_metric meshgate_io_mode "queue=\"$q\"" 'mode="copy"')" = 1
done
check "tunnel up (laptop -> host ping)" ping_ok lap $HOST4 5

# udp_recv NS ADDR PORT NAME: count datagrams until SIGTERM, then write the count to NAME.
udp_recv() {
	ip netns exec "mg-$1" python3 -c '
import signal, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind((sys.argv[1], int(sys.argv[2])))
n = 0
def done(*_):
    open(sys.argv[3], "w").write("%d\n" % n); sys.exit(0)
signal.signal(signal.SIGTERM, done)
while True:
    s.recv(4096); n += 1' "$2" "$3" "$MG_LAB_DIR/$4.count" &
	echo $! >"$MG_LAB_DIR/$4.pid"
	wait_for 5 sh -c "ip netns exec mg-$1 ss -Hlun 'sport = :$3' | grep -q ."
}
udp_count() { lab_stop_pid "$MG_LAB_DIR/$1.pid"; sleep 0.2; cat "$MG_LAB_DIR/$1.count" 2>/dev/null || echo 0; }
# udp_send NS DST PORT COUNT SPORT...: COUNT datagrams of 200 bytes from each source port.
udp_send() {
	local ns=$1 dst=$2 port=$3 count=$4; shift 4
	ip netns exec "mg-$ns" python3 -c '
import socket, sys, time
dst, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for sport in sys.argv[4:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", int(sport)))
    for i in range(count):
        s.sendto(b"q" * 200, (dst, port))
        if i % 20 == 19:
            time.sleep(0.002)
    s.close()' "$dst" "$port" "$count" "$@"
}
rxq() { lab_metric meshgate_nic_received_packets_total "queue=\"$1\""; }

# LAN -> tunnel: 16 flows.
udp_recv lap $LAP_TS4 7001 lapsink || fail "laptop receiver"
r0=$(rxq 0) r1=$(rxq 1)
udp_send host $LAP_TS4 7001 100 $(seq 40000 40015)
d0=$(($(rxq 0) - r0)) d1=$(($(rxq 1) - r1))
expect_eq "laptop received all 1600 datagrams of 16 flows" "$(udp_count lapsink)" 1600
check "LAN -> tunnel spread over both queues (queue 0: $d0, queue 1: $d1 frames)" \
	test "$d0" -gt 0 -a "$d1" -gt 0

# tunnel -> LAN: move the laptop's port until both queues have decrypted its flow.
udp_recv host $HOST4 7000 hostsink || fail "host receiver"
seen0=0 seen1=0 sent=0
for port in $(seq $LAP_PORT $((LAP_PORT + 11))); do
	lap wg set $LAP_IF listen-port $port
	r0=$(rxq 0) r1=$(rxq 1)
	udp_send lap $HOST4 7000 200 7000
	sent=$((sent + 200))
	d0=$(($(rxq 0) - r0)) d1=$(($(rxq 1) - r1))
	[ "$d0" -ge 200 ] && seen0=1
	[ "$d1" -ge 200 ] && seen1=1
	[ $seen0 = 1 ] && [ $seen1 = 1 ] && break
done
expect_eq "host received all $sent datagrams from the laptop" "$(udp_count hostsink)" $sent
check "tunnel -> LAN: the laptop's flow was decrypted on both queues (ports up to $port)" \
	test $seen0 = 1 -a $seen1 = 1
lap wg set $LAP_IF listen-port $LAP_PORT

for q in 0 1; do
	tx=$(lab_metric meshgate_nic_transmitted_packets_total "queue=\"$q\"")
	check "worker $q transmitted packets ($tx)" test "${tx:-0}" -gt 0
done
# no_route is left out: the laptop's own IPv6 multicast (MLD, router solicitations) comes through
# the tunnel to no route from time to time, with or without test traffic. The other reasons are
# summed from one scrape: the total and no_route read apart would race such a drop between them.
m=$(rtr curl -sf --max-time 3 "http://$METRICS_ADDR/metrics")
check "/metrics answered for the drop count" test -n "$m"
other=$(echo "$m" | awk '/^meshgate_inbound_dropped_packets_total\{/ && !/reason="no_route"/ { s += $2 } END { printf "%d\n", s }')
nr=$(echo "$m" | awk '/^meshgate_inbound_dropped_packets_total\{reason="no_route"\}/ { print $2 }')
expect_eq "no packet dropped by either worker (replay, tx_full, decrypt, ...; no_route, not counted: ${nr:-0})" "$other" 0
t_router_stop
check "both queues gave every frame back" \
	test "$(grep -c 'copy mode, frames unaccounted 0\|zerocopy mode, frames unaccounted 0' "$MG_LAB_DIR/meshgate.log")" = 2
t_end
