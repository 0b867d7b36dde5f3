#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Path MTU and MSS clamping in meshgate's data path (the kernel's mangle/forward path is bypassed):
#
#   mg-host 192.168.8.80 (link MTU 1500) --> mg-rtr (tunnel MTU 1280) ==wg==> mg-lap 100.64.0.2
#     1400-byte DF ping   <-- ICMP fragmentation needed, MTU 1280
#     1400-byte v6 ping   <-- ICMPv6 packet too big, MTU 1280
#     TCP SYN-ACK from the host offering MSS 1460 --> clamped to 1240 on its way into the tunnel
#
. "$(dirname "$0")/lib.sh"
meshgate_only || { echo "SKIP: t-mtu: meshgate only"; exit 77; }
t_begin
# The lab's host routes carry "mtu 1280"; drop them so only meshgate's ICMP can teach the host.
host ip route replace 100.64.0.0/10 via $RTR_LAN4
host ip -6 route replace fd7a:115c:a1e0::/48 via $RTR_LAN6
t_start_router_or_die
check "tunnel up (laptop -> host)" ping_ok lap $HOST4

# MSS first, while the host's route still says 1500: its SYN-ACK offers MSS 1460.
lab_iperf3_server
wait_listen host 5201
capture_start lap 6 "$MG_LAB_DIR/synack.txt" -ni mglap -c 1 -v 'tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)' ||
	fail "$CAPTURE_ERR"
lap timeout 4 iperf3 -c $HOST4 -t 1 >/dev/null 2>&1
wait $CAPTURE_PID
cap=$(cat "$MG_LAB_DIR/synack.txt")
mss=$(grep -o 'mss [0-9]*' <<<"$cap" | head -n 1 | cut -d' ' -f2)
expect_eq "SYN-ACK MSS seen by the laptop is clamped to 1280 - 40" "${mss:-none}" 1240
check "MSS clamps were counted" test "$(lab_metric meshgate_mss_clamped_total)" -gt 0
# A 64 MiB download through the router with only MSS clamping keeping segments in the tunnel:
# no stall (it must finish well within the time limit) and every byte right.
f=$(random_file 64)
want=$(sha256sum <"$f" | cut -d' ' -f1)
t0=$SECONDS
got=$(tcp_transfer host lap $LAP_TS4 "$f" 5501)
expect_eq "64 MiB TCP download host -> laptop, sha256" "$got" "$want"
check "the download finished within 60 s ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -lt 60

check_fails "1400-byte DF ping host -> laptop does not pass as is" \
	host ping -n -q -M do -s 1400 -c 1 -w 2 $LAP_TS4
check "host learned path MTU 1280 from meshgate's fragmentation-needed" \
	sh -c "ip netns exec mg-host ip route get $LAP_TS4 | grep -q 'mtu 1280'"
# The first oversized IPv6 packet is answered with packet-too-big (ping stops on that error);
# from then on the host fragments to 1280 and the pings pass.
host ping -n -q -s 1400 -c 1 -w 2 $LAP_TS6 >/dev/null 2>&1
check "1400-byte v6 ping host -> laptop succeeds after packet-too-big (host fragments)" \
	host ping -n -q -s 1400 -c 3 -i 0.3 -w 5 $LAP_TS6
check "host learned IPv6 path MTU 1280" \
	sh -c "ip netns exec mg-host ip -6 route get $LAP_TS6 | grep -q 'mtu 1280'"
check "too_big drops were counted" test "$(drops too_big)" -gt 0

t_end
