#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The router's eth0 has 4 RX queues, meshgate Queues = 2. RSS (here: the veth peer's tx queue)
# may put a WireGuard packet on queue 2 or 3, where no worker listens and the kernel has no
# socket on the port, so meshgate must not run that way unnoticed:
#   1. by default it refuses to start, naming both counts and the `ethtool -L` fix;
#   2. with SetChannels = true it sets 2 RX queues and puts 4 back at exit;
#   3. if the queues are raised behind its back, frames steered to a queue without a socket are
#      counted (meshgate_xdp_lost_packets_total{reason="no_socket"}).
#
#   mg-host --br0-- p-rtr (tx queue by flow hash) ==veth, 4 queues==> mg-rtr eth0 (rx queue = that tx queue)
. "$(dirname "$0")/lib.sh"
meshgate_only || { skip "meshgate only (its XDP steering)"; exit 0; }
export LAB_RTR_QUEUES=4
t_begin
rxq_now() { rtr ethtool -l eth0 | awk '/^Current/ { cur = 1 } cur && /^RX:/ { print $2; exit }'; }
expect_eq "eth0 starts with 4 RX queues" "$(rxq_now)" 4

# 1. Queues = 2 on 4 RX queues: a clear refusal, nothing left attached.
if lab_start_meshgate --queues 2 2>/dev/null; then
	fail "meshgate with Queues = 2 on 4 RX queues does not start"
	lab_stop_meshgate
else
	pass "meshgate with Queues = 2 on 4 RX queues does not start"
	wait "$MG_PID" 2>/dev/null; MG_PID=; rm -f "$MG_LAB_DIR/meshgate.pid"
fi
check "the refusal names both counts" grep -q "eth0 has 4 RX queues but Queues = 2" "$MG_LAB_DIR/meshgate.log"
check "the refusal gives the fix (ethtool -L eth0 rx 2)" grep -q 'ethtool -L eth0 rx 2' "$MG_LAB_DIR/meshgate.log"
check_fails "no XDP program left on eth0" lab_rtr_has_xdp
expect_eq "eth0 still has 4 RX queues" "$(rxq_now)" 4

# 2. SetChannels = true: meshgate sets 2 and restores 4.
t_start_router_or_die --queues 2 --set-channels
expect_eq "SetChannels: eth0 has 2 RX queues while meshgate runs" "$(rxq_now)" 2
check "the log says so" grep -q "eth0: set 2 RX queues for Queues = 2 (was 4" "$MG_LAB_DIR/meshgate.log"
check "tunnel up (laptop -> host ping)" ping_ok lap $HOST4 3
expect_eq "no frame lost to a queue without a socket" "$(lab_metric meshgate_xdp_lost_packets_total 'reason="no_socket"')" 0
t_router_stop
expect_eq "4 RX queues restored at exit" "$(rxq_now)" 4

# 3. Queues raised behind meshgate's back. The bridge port's tx queue (its flow hash of the
# source port) picks eth0's rx queue: 64 flows to the listen port, each either reaches a worker
# (queues 0-1: counted as received there) or is counted as lost to a queue without a socket.
t_start_router_or_die --queues 2 --set-channels
rtr ethtool -L eth0 rx 4 || fail "ethtool -L eth0 rx 4 while meshgate runs"
expect_eq "eth0 has 4 RX queues again (behind meshgate's back)" "$(rxq_now)" 4
rxw() { echo $(($(lab_metric meshgate_nic_received_packets_total 'queue="0"') + \
	$(lab_metric meshgate_nic_received_packets_total 'queue="1"'))); }
lost0=$(lab_metric meshgate_xdp_lost_packets_total 'reason="no_socket"') rx0=$(rxw)
host python3 -c '
import socket, sys
for sport in range(42000, 42064):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", sport))
    for i in range(5):
        s.sendto(b"\x04\0\0\0" + b"x" * 60, (sys.argv[1], int(sys.argv[2])))
    s.close()' $RTR_LAN4 $WG_PORT
sleep 0.5
lost=$(($(lab_metric meshgate_xdp_lost_packets_total 'reason="no_socket"') - lost0)) rx=$(($(rxw) - rx0))
check "some of 64 flows landed on queues 2-3 and were counted as lost there ($lost)" test $lost -gt 0
expect_eq "every datagram is accounted for: $rx at the workers + $lost lost (no_socket)" $((rx + lost)) 320
t_router_stop
t_end
