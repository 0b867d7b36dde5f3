#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Scenario 9, TSMP (IP protocol 99, tailscale's in-band messages): `tailscale ping --tsmp` to
# meshgate's tailnet address is answered, and no protocol-99 packet reaches the home LAN,
# neither the laptop's TSMP pings nor the "rejected" notices tailscaled sends back when its own
# filter refuses a connection the home host tried (the policy lets the LAN reach only port 53).
#
#   ti-lap tailscaled --TSMP--> ti-rtr meshgate --X--> ti-host (tcpdump 'ip proto 99')
. "$(dirname "$0")/lib.sh"
ti_begin

ns host tcpdump -ni eth0 -w "$TI_DIR/tsmp.pcap" 'ip proto 99 or ip6 proto 99' >/dev/null 2>&1 & tp=$!
sleep 1
out=$(ts lap ping --tsmp -c 3 "$RTR_TS4" 2>&1)
case $out in *pong*) pass "tailscale ping --tsmp answered: $(echo "$out" | grep pong | tail -n 1)" ;;
*) fail "tailscale ping --tsmp $RTR_TS4: $(echo "$out" | tail -n 1)" ;; esac
# The home host opens a connection the laptop's filter refuses: tailscaled answers with TSMP.
ns host timeout 3 nc -z -w 2 "$LAP_TS4" 22 >/dev/null 2>&1
ns host timeout 3 nc -z -w 2 "$LAP_TS4" 23 >/dev/null 2>&1
# And TSMP pings addressed through the subnet route (tailscale ping accepts a routed address).
ts lap ping --tsmp -c 2 --timeout 2s "$HOST4" >/dev/null 2>&1
sleep 1
kill $tp 2>/dev/null; wait $tp 2>/dev/null
n=$(tcpdump -nr "$TI_DIR/tsmp.pcap" 2>/dev/null | wc -l)
[ "$n" = 0 ] && pass "no protocol-99 packet on the home LAN" ||
	fail "$n protocol-99 packets reached the home LAN: $(tcpdump -nr "$TI_DIR/tsmp.pcap" 2>/dev/null | head -n 1)"
