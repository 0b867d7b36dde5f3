#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Scenario 8, HA subnet routers: a second meshgate joins with a key tagged tag:router, and the
# policy's autoApprovers approve its routes (no CLI approval). Headscale keeps router 1 as the
# primary; router 1 stops, the route moves to router 2, and the laptop's traffic to the home
# host resumes; the time to recover is printed.
#
#   ti-lap tailscaled --+-- ti-rtr  meshgate 192.168.8.105 (primary; stopped)  --+-- ti-host
#                       +-- ti-rtr2 meshgate 192.168.8.106 (tag:router, standby) -+
. "$(dirname "$0")/lib.sh"
ti_begin
ti_scenario_cleanup() {
	mg_running rtr || mg_start rtr
	wait_for 30 hs_online rtr
	mg_stop rtr2
	local id; id=$(hs_node_id rtr2)
	[ -n "$id" ] && hs nodes delete -i "$id" >/dev/null
	wait_for 30 primary_is rtr
}
primary() { hs nodes list-routes -o json 2>/dev/null | jq -r --arg p "$LAN4" '.[] | select((.subnet_routes // []) | index($p)) | .given_name'; }
primary_is() { [ "$(primary)" = "$1" ]; }

ti_join_router rtr2 auto || { fail "router 2 join"; exit 1; }
rt2() { hs_node rtr2 '(.approved_routes // []) | sort | join(",")'; }
rt2_ok() { [ "$(rt2)" = "$LAN4,$LAN6" ]; }
if wait_for 20 rt2_ok; then
	pass "router 2 (tag:router) routes approved by autoApprovers: $(rt2)"
else fail "router 2 approved routes '$(rt2)' (want $LAN4,$LAN6 from autoApprovers)"; fi
check "router 1 stays primary while both are up" primary_is rtr
check "the laptop reaches $HOST4 via router 1" ping_ok lap $HOST4

# Failover under traffic: 5 pings a second; recovery = from the stop to the first reply after it.
ns lap ping -n -D -i 0.2 -W 1 -w 90 $HOST4 >"$TI_DIR/ha-ping.log" 2>&1 & pp=$!
sleep 2
t0=$(date +%s.%N); mg_stop rtr
if wait_for 60 primary_is rtr2; then pass "Headscale moved the route to router 2 after $(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s"
else fail "route still on '$(primary)' 60 s after router 1 stopped"; fi
# recovered T0: the first reply after the stop that follows a gap of over 1 s (a lost reply),
# as seconds after T0; "0.0" when no reply was missing at all.
recovered() {
	awk -v t="$1" '/bytes from/ { gsub(/[\[\]]/, "", $1); v = $1 + 0
		if (v > t && prev > 0 && v - prev > 1) { printf "%.1f\n", v - t; found = 1; exit }
		prev = v }
		END { if (!found && prev > t + 5) print "0.0" }' "$TI_DIR/ha-ping.log"
}
replied_after() { awk -v t="$1" '/bytes from/ { gsub(/[\[\]]/, "", $1); if ($1 + 0 > t) f = 1 } END { exit !f }' "$TI_DIR/ha-ping.log"; }
if wait_for 60 replied_after "$(awk -v b="$t0" 'BEGIN { printf "%.3f", b + 3 }')"; then
	pass "laptop traffic to $HOST4 resumed through router 2: recovery $(recovered "$t0") s after router 1 stopped"
else fail "no reply from $HOST4 within 60 s of the failover"; fi
kill $pp 2>/dev/null; wait $pp 2>/dev/null
