#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A handshake initiated by each side. Who initiated is read off the wire, not
# from either implementation: tcpdump on the gateway's WAN link catches the
# first handshake initiation (type 1) and its source.
#
#   mg-lap 198.51.100.2:51820 ---[tcpdump wan0]--- mg-gw 198.51.100.1:41641 (DNAT/masq) --- mg-rtr
#
. "$(dirname "$0")/lib.sh"
t_begin

# first_initiation_src CMD...: run CMD while capturing; print "src > dst" of
# the first type-1 message seen on the gateway's WAN link.
first_initiation_src() {
	local cap="$MG_LAB_DIR/initiation.txt"
	capture_start gw 20 "$cap" -i wan0 -n -l -c 1 'udp port 41641 and udp[8] = 1' ||
		{ echo "no capture: $CAPTURE_ERR"; return; }
	"$@" || echo "# traffic command failed: $*" >&2
	wait $CAPTURE_PID
	[ -s "$cap" ] || { echo "no initiation within 20 s"; return; }
	# "HH:MM:SS.us IP SRC.PORT > DST.PORT: UDP, length N"; anything else is shown as it was.
	sed -n 's/^[0-9:.]* IP \([0-9.]*\) > \([0-9.]*\):.*/\1 > \2/p' "$cap" | head -n 1 | grep . ||
		{ echo "unparsed capture:"; cat "$cap" "$cap.err"; } | tr '\n' ' '
}

# Laptop first: the lab's fresh laptop has a session with nobody.
t_start_router_or_die
got=$(first_initiation_src ping_ok lap $HOST4)
expect_eq "laptop-initiated: first initiation on the wire" "$got" \
	"$LAP_WAN4.$LAP_PORT > $GW_WAN4.$WG_PORT"
check "laptop-initiated: ping laptop -> host" ping_ok lap $HOST4
check "laptop-initiated: router shows the handshake" test "$(wg_field $RIF latest-handshakes)" -gt 0
if meshgate_only; then
	n=$(lab_metric meshgate_handshakes_total 'message="initiation"' 'direction="rx"')
	check "laptop-initiated: meshgate counted the laptop's initiation ($n)" test "$n" -ge 1
	n=$(lab_metric meshgate_handshakes_total 'message="initiation"' 'direction="tx"')
	expect_eq "laptop-initiated: meshgate sent no initiation" "$n" 0
fi
t_router_stop

# Router first: the router knows the laptop's endpoint, the laptop forgets
# its session (peer removed and re-added), and the home host speaks first.
lab_reset_laptop_session
t_start_router_or_die --endpoint
got=$(first_initiation_src ping_ok host $LAP_TS4)
expect_eq "router-initiated: first initiation on the wire (masqueraded)" "$got" \
	"$GW_WAN4.$WG_PORT > $LAP_WAN4.$LAP_PORT"
check "router-initiated: ping host -> laptop" ping_ok host $LAP_TS4
check "router-initiated: laptop shows the handshake" test "$(wg_field $LAP_IF latest-handshakes)" -gt 0
expect_eq "router-initiated: laptop sees the router behind the gateway" \
	"$(wg_field $LAP_IF endpoints)" "$GW_WAN4:$WG_PORT"
if meshgate_only; then
	n=$(lab_metric meshgate_handshakes_total 'message="initiation"' 'direction="tx"')
	check "router-initiated: meshgate counted its initiation ($n)" test "$n" -ge 1
	n=$(lab_metric meshgate_handshakes_total 'message="response"' 'direction="rx"')
	check "router-initiated: meshgate counted the laptop's response ($n)" test "$n" -ge 1
fi
t_end
