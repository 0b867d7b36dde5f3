#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# LAN hosts at their default offloads (a container or VM on a Linux bridge): the home host's
# kernel hands its veth TCP and UDP packets whose checksum field holds only the pseudo-header
# sum (CHECKSUM_PARTIAL), and TSO/GSO super-packets. AF_XDP sees the raw bytes, so meshgate must
# complete such checksums before NAT and sealing, and must never be handed a frame larger than
# the link MTU.
#
#   mg-lap nc/python ==wg==> [gw] ==> br0 --p-rtr--> eth0 mg-rtr meshgate (XDP)
#                                       |   ^ tcpdump: the largest frame the router is handed
#   mg-host eth0 (tx csum, TSO, GSO on) -p-host
#
# Checks: TCP laptop -> host both ways (the host's SYN-ACK and data carry partial checksums),
# UDP host -> laptop over IPv4 and IPv6 (and UDP GSO), the completions counted in /metrics, and
# TSO/GSO off on p-rtr while meshgate's XDP program is on eth0 (veth segments before the XDP
# peer), so no frame over 1514 bytes reaches the router while the host sends TSO super-packets.
. "$(dirname "$0")/lib.sh"
t_begin

# The premise: the host's veth and its bridge port keep the kernel's default offloads.
check "host eth0 at default offloads (tx checksumming on)" \
	sh -c "ip netns exec mg-host ethtool -k eth0 | grep -q '^tx-checksumming: on'"
check "host eth0 at default offloads (TSO on)" \
	sh -c "ip netns exec mg-host ethtool -k eth0 | grep -q '^tcp-segmentation-offload: on'"
check "p-rtr offers TSO before any XDP program is attached" \
	sh -c "ip netns exec mg-lan ethtool -k p-rtr | grep -q '^tcp-segmentation-offload: on'"
t_start_router_or_die
if meshgate_only; then
	check "p-rtr has TSO off while meshgate's XDP program is on the router's eth0" \
		sh -c "ip netns exec mg-lan ethtool -k p-rtr | grep -q '^tcp-segmentation-offload: off'"
	check "p-rtr has UDP segmentation offload off too" \
		sh -c "ip netns exec mg-lan ethtool -k p-rtr | grep -q '^tx-udp-segmentation: off'"
fi
check "tunnel up (laptop -> host ping)" ping_ok lap $HOST4
completed0=$(lab_metric meshgate_checksum_completed_total)

# udp_recv NS ADDR PORT N: count datagrams received on ADDR:PORT within 8 s of the first N sent
# by the host (the receiver's kernel drops a datagram whose checksum does not verify).
udp_recv() {
	local ns=$1 addr=$2 port=$3 n=$4 out="$MG_LAB_DIR/udp.$3"
	ip netns exec "mg-$ns" /usr/bin/python3 - "$addr" "$port" >"$out" <<-'PY' &
	import socket, sys
	fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
	s = socket.socket(fam, socket.SOCK_DGRAM)
	s.bind((sys.argv[1], int(sys.argv[2])))
	s.settimeout(8)
	got = 0
	try:
	    while True:
	        s.recv(2048)
	        got += 1
	except socket.timeout:
	    pass
	print(got)
	PY
	local rpid=$!
	wait_for 5 sh -c "ip netns exec mg-$ns ss -Hlun 'sport = :$port' | grep -q ." || return 1
	host /usr/bin/python3 - "$addr" "$port" "$n" <<-'PY'
	import socket, sys, time
	fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
	s = socket.socket(fam, socket.SOCK_DGRAM)
	for i in range(int(sys.argv[3])):
	    s.sendto(bytes([i & 0xff]) * (100 + 37 * i), (sys.argv[1], int(sys.argv[2])))
	    time.sleep(0.05)
	PY
	wait $rpid
	cat "$out"
}

# TCP with a short patience: a connection whose SYN-ACK never verifies hangs, it does not fail.
tcp_short() {
	local from=$1 to=$2 addr=$3 file=$4 port=$5 out="$MG_LAB_DIR/recv.$5"
	rm -f "$out"
	ip netns exec "mg-$to" timeout 30 nc -4 -l "$port" >"$out" &
	local rpid=$!
	wait_listen "$to" "$port" || { kill $rpid 2>/dev/null; return 1; }
	ip netns exec "mg-$from" timeout 25 nc -N -w 10 "$addr" "$port" <"$file"
	wait $rpid
	sha256sum <"$out" | cut -d' ' -f1
}

f=$(random_file 4)
want=$(sha256sum <"$f" | cut -d' ' -f1)
expect_eq "4 MiB TCP laptop -> host (the host's SYN-ACK and ACKs partial)" \
	"$(tcp_short lap host $HOST4 "$f" 5011)" "$want"

# Every frame the bridge hands the router during a TCP send from the host, at its length on the
# wire (tcpdump on p-rtr's transmit side sees what the router's eth0 receives).
# The host's own eth0 shows what its kernel sent: TSO super-packets, unless the host segmented.
ip netns exec mg-lan timeout 40 tcpdump -n -l -e -i p-rtr -Q out "tcp port 5012" \
	>"$MG_LAB_DIR/offload.tcpdump" 2>/dev/null &
tdpid=$!
host timeout 40 tcpdump -n -l -e -i eth0 -Q out "tcp port 5012" >"$MG_LAB_DIR/offload-host.tcpdump" 2>/dev/null &
tdpid2=$!
sleep 1
expect_eq "4 MiB TCP host -> laptop, TSO/GSO on at the host (data partial)" \
	"$(tcp_short host lap $LAP_TS4 "$f" 5012)" "$want"
sleep 1
kill $tdpid $tdpid2 2>/dev/null; wait $tdpid $tdpid2 2>/dev/null
# frames_seen FILE: "count largest" of the frame lengths (tcpdump -e) in FILE.
frames_seen() {
	awk '{ for (i = 1; i < NF; i++) if ($i == "length") { sub(":", "", $(i + 1)); n++;
		if ($(i + 1) + 0 > m) m = $(i + 1) + 0; break } } END { print n + 0, m + 0 }' "$1"
}
read -r hframes hbiggest < <(frames_seen "$MG_LAB_DIR/offload-host.tcpdump")
read -r frames biggest < <(frames_seen "$MG_LAB_DIR/offload.tcpdump")
check "the host sent TSO super-packets (largest $hbiggest bytes of $hframes)" test "$hbiggest" -gt 1514
check "tcpdump saw the host's segments on p-rtr ($frames frames)" test "$frames" -gt 1000
check "no frame handed to the router exceeds 1514 bytes (largest $biggest)" test "$biggest" -le 1514 -a "$biggest" -gt 0

n=$(udp_recv lap $LAP_TS4 7001 20)
check "UDP host -> laptop over IPv4: ${n:-0} of 20 datagrams arrived (partial checksums)" test "${n:-0}" -ge 18
n=$(udp_recv lap $LAP_TS6 7002 20)
check "UDP host -> laptop over IPv6: ${n:-0} of 20 datagrams arrived (partial checksums)" test "${n:-0}" -ge 18

# UDP GSO (UDP_SEGMENT): one send of 6000 bytes leaves the host as one super-packet with a
# partial checksum; it must arrive as 6 datagrams of 1000 bytes, each with a valid checksum.
out="$MG_LAB_DIR/udp.7003"
lap /usr/bin/python3 - $LAP_TS4 7003 >"$out" <<-'PY' &
	import socket, sys
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.bind((sys.argv[1], int(sys.argv[2])))
	s.settimeout(8)
	got = 0
	try:
	    while True:
	        got += len(s.recv(2048)) == 1000
	except socket.timeout:
	    pass
	print(got)
	PY
rpid=$!
wait_for 5 sh -c "ip netns exec mg-lap ss -Hlun 'sport = :7003' | grep -q ."
host /usr/bin/python3 - $LAP_TS4 7003 <<-'PY'
	import socket, sys, time
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.setsockopt(socket.IPPROTO_UDP, 103, 1000)          # UDP_SEGMENT
	for i in range(5):
	    s.sendto(bytes([i]) * 6000, (sys.argv[1], int(sys.argv[2])))
	    time.sleep(0.1)
	PY
wait $rpid
n=$(cat "$out")
check "UDP GSO host -> laptop: ${n:-0} of 30 segments of 1000 bytes arrived" test "${n:-0}" -ge 27

if meshgate_only; then
	completed=$(($(lab_metric meshgate_checksum_completed_total) - completed0))
	check "meshgate_checksum_completed_total counts the completions ($completed >= 40)" test "$completed" -ge 40
fi
t_end
