#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Anti-spoofing from the LAN into the tunnel: the home host hand-crafts frames (scapy, layer 2)
# to the laptop's tailnet address. Those with a tailnet source (the router's own tailnet
# addresses, others in 100.64.0.0/10 or fd7a:115c:a1e0::/48) or the router's LAN address must
# be dropped as spoofed_source; those whose Ethernet destination is not the router's MAC
# (broadcast, another host's MAC, flooded to the router's port by the bridge) as not_our_mac.
# Each is counted in /metrics and none reaches the laptop; an honest frame does.
#
#   mg-host scapy --UDP to 100.64.0.2:9000-9007--> br0 --> mg-rtr meshgate ==wg==> mg-lap
#                                                                  tcpdump on mglap ^
#
. "$(dirname "$0")/lib.sh"
meshgate_only || { echo "SKIP: t-spoof: meshgate only (counts meshgate's drop reasons)"; exit 77; }
/usr/bin/python3 -c 'import scapy.all' 2>/dev/null ||
	{ echo "SKIP: t-spoof: machine lacks python3-scapy"; exit 77; }
t_begin
t_start_router_or_die
check "tunnel up (laptop -> host ping)" ping_ok lap $HOST4
check "tunnel up (laptop -> host ping, IPv6)" ping_ok lap $HOST6
RTR_MAC=$(ip -n mg-rtr -br link show dev eth0 | awk '{ print $3 }')
N=5

lap timeout 30 tcpdump -n -l -i $LAP_IF "udp and dst portrange 9000-9007" \
	>"$MG_LAB_DIR/spoof.tcpdump" 2>/dev/null &
tdpid=$!
sleep 1
spoofed0=$(drops spoofed_source) mac0=$(drops not_our_mac)
# port: what the frame claims (Ethernet destination, IP source)
host /usr/bin/python3 - "$RTR_MAC" $N <<EOF
import sys
from scapy.all import Ether, IP, IPv6, UDP, Raw, sendp, conf
conf.verb = 0
rtr, n = sys.argv[1], int(sys.argv[2])
frames = [
    (9000, rtr, IP(src="$HOST4", dst="$LAP_TS4")),                 # honest
    (9001, rtr, IP(src="$RTR_TS4", dst="$LAP_TS4")),               # the router's tailnet address
    (9002, rtr, IP(src="100.64.0.9", dst="$LAP_TS4")),             # another tailnet node
    (9003, rtr, IPv6(src="fd7a:115c:a1e0::9", dst="$LAP_TS6")),    # another tailnet node, IPv6
    (9004, rtr, IPv6(src="$RTR_TS6", dst="$LAP_TS6")),             # the router's tailnet address, IPv6
    (9005, "ff:ff:ff:ff:ff:ff", IP(src="$HOST4", dst="$LAP_TS4")), # broadcast
    (9006, "02:00:5e:00:00:99", IP(src="$HOST4", dst="$LAP_TS4")), # another host's MAC
    (9007, rtr, IP(src="$RTR_LAN4", dst="$LAP_TS4")),              # the router's LAN address
]
for _ in range(n):
    for port, mac, ip in frames:
        sendp(Ether(dst=mac) / ip / UDP(sport=40000, dport=port) / Raw(b"spoof"), iface="eth0")
EOF
sleep 2
kill $tdpid 2>/dev/null; wait $tdpid 2>/dev/null
arrived() { grep -c "\.$1: UDP" "$MG_LAB_DIR/spoof.tcpdump"; }

expect_eq "the honest frame reached the laptop $N times" "$(arrived 9000)" $N
for p in 9001 9002 9003 9004 9005 9006 9007; do
	expect_eq "nothing sent to port $p reached the laptop" "$(arrived $p)" 0
done
expect_eq "spoofed_source counts the 5 spoofed sources x $N" $(($(drops spoofed_source) - spoofed0)) $((5 * N))
expect_eq "not_our_mac counts the broadcast and foreign-MAC frames x $N" $(($(drops not_our_mac) - mac0)) $((2 * N))
check "the tunnel still works" ping_ok lap $HOST4
t_end
