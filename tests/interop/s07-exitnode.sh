#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Scenario 7, exit node: meshgate advertises 0.0.0.0/0 and ::/0 (AdvertiseExitNode, applied by
# SIGHUP), the routes are approved, the laptop picks it (`tailscale set --exit-node=`) and
# reaches a web host on the internet side, which sees the home gateway's address, not the
# laptop's NAT.
#
#   ti-lap tailscaled -- tunnel -- ti-rtr meshgate (SNAT) -- ti-gw masquerade 198.51.100.1 -- ti-www .80
. "$(dirname "$0")/lib.sh"
ti_begin
ti_scenario_cleanup() {
	ts lap set --exit-node= >/dev/null 2>&1
	mg_conf rtr; mg_running rtr && kill -HUP "$(cat "$TI_DIR/rtr/pid")"
	hs nodes approve-routes -i "$RTR_ID" -r "$LAN4,$LAN6" >/dev/null
}

# The web host answers each connection with the address it came from.
ns www python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 80)); s.listen(8)
while True:
    c, a = s.accept(); c.sendall(("from " + a[0] + "\n").encode()); c.close()' >/dev/null 2>&1 &
echo $! >>"$TI_DIR/bg.pids"
wait_for 5 ns www sh -c "ss -Hltn 'sport = :80' | grep -q ."
seen() { ns lap timeout 5 nc -w 4 $WWW4 80 </dev/null 2>/dev/null | sed -n 's/^from //p'; }
before=$(seen)
[ "$before" = "$LGW4" ] && pass "without an exit node the web host sees the laptop's NAT ($before)" ||
	fail "without an exit node the web host saw '$before' (want $LGW4)"

mg_conf rtr "AdvertiseExitNode = true" && kill -HUP "$(cat "$TI_DIR/rtr/pid")"
adv() { hs_node rtr '(.available_routes // []) | join(",")' | grep -q '0.0.0.0/0'; }
if wait_for 20 adv; then pass "exit routes advertised: $(hs_node rtr '(.available_routes // []) | join(",")')"
else fail "0.0.0.0/0 not among rtr's available routes after SIGHUP"; ti_diag rtr; fi
hs nodes approve-routes -i "$RTR_ID" -r "$LAN4,$LAN6,0.0.0.0/0,::/0" >/dev/null || fail "approve-routes with the exit routes"
offered() { ts lap status --json | jq -e --arg a "$RTR_TS4" '.Peer[] | select(.TailscaleIPs[0] == $a) | .ExitNodeOption' >/dev/null; }
check "the laptop is offered rtr as an exit node" wait_for 30 offered
ts lap set --exit-node="$RTR_TS4" >/dev/null 2>&1 || fail "tailscale set --exit-node=$RTR_TS4: $(ts lap set --exit-node="$RTR_TS4" 2>&1 | head -n 1)"
wait_for 20 sh -c "[ -n \"\$(ip netns exec ti-lap timeout 5 nc -w 4 $WWW4 80 </dev/null 2>/dev/null)\" ]"
after=$(seen)
[ "$after" = "$GW4" ] && pass "through the exit node the web host sees the home gateway ($after)" ||
	{ fail "through the exit node the web host saw '${after:-nothing}' (want $GW4)"; ti_diag rtr; }
check "the laptop pings $WWW4 through the exit node" ping_ok lap $WWW4
check "the home LAN stays reachable with the exit node on" ping_ok lap $HOST4
ts lap set --exit-node= >/dev/null 2>&1
wait_for 10 sh -c "[ \"\$(ip netns exec ti-lap timeout 5 nc -w 4 $WWW4 80 </dev/null 2>/dev/null)\" = 'from $LGW4' ]" &&
	pass "exit node off: direct to the internet again" || fail "exit node off: web host sees '$(seen)'"
