#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Scenario 5, reconnect without re-registering: the router joined with a single-use key (used
# at join). Headscale is restarted three times: as is, after the key was deleted, and after
# AuthKeyFile was emptied. Each time meshgate must come back on its node key alone (Headscale
# logs no new pre-auth registration) and keep forwarding during the outage from its netmap.
# Then `headscale nodes expire`: meshgate must notice, stop being a usable peer as tailscaled
# does, and come back as the same node once the operator gives it a new key (README).
#
#   ti-lap tailscaled ---- ti-rtr meshgate ---- ti-host        ti-hs headscale: stopped/started
. "$(dirname "$0")/lib.sh"
ti_begin
ti_scenario_cleanup() {
	[ -f "$TI_DIR/hs/pid" ] || hs_start
	mg_running rtr || mg_start rtr
}

connected() { mg_log_count rtr 'headscale: connected'; }
# outage NAME: restart Headscale with pings through meshgate during the outage; then meshgate
# must be connected again (a new "connected" log line, online in Headscale) within 60 s,
# without a new pre-auth key registration.
outage() {
	local name=$1 r0 c0 loss t0
	r0=$(hs_registrations rtr) c0=$(connected)
	# The laptop must hold a netmap in which the router is online with its routes before
	# Headscale goes: after a restart Headscale counts every node offline until it reconnects,
	# and a laptop that reconnected before the router keeps "router offline, no routes" (and no
	# route to the LAN) until Headscale tells it otherwise, which a Headscale stopped again within
	# a second may never do. That would be true with any subnet router; it is not what is tested.
	if ! wait_for 60 lap_has_routes; then
		fail "$name: before the outage, the laptop's netmap has no route through the router: $(lap_rtr_json)"
		return
	fi
	# An established flow (a direct path, as after any traffic) is what must survive.
	ts lap ping -c 20 --until-direct "$RTR_TS4" >/dev/null 2>&1
	check "$name: before the outage, the laptop reaches $HOST4 through meshgate" wait_for 20 ping_ok lap $HOST4 1
	# Headscale's embedded DERP server goes down with it: only a direct path can carry on.
	local path; path=$(ts_peer_line lap "$RTR_TS4" | grep -o -e 'direct [0-9.:]*' -e 'relay "[^"]*"')
	hs_stop
	# What crossed the router's LAN port meanwhile (its veth peer: AF_XDP traffic bypasses the
	# router side's taps), for the diagnosis below.
	ns lan timeout 12 tcpdump -Z root -n -i p-rtr -w "$TI_DIR/outage.pcap" udp or icmp >/dev/null 2>&1 &
	local cap=$!
	# 10 s of pings: a reply path meshgate still had on DERP (dead with Headscale) moves to the
	# direct one within a disco probe round (5 s), so up to half may be lost.
	loss=$(ns lap ping -n -q -c 50 -i 0.2 -W 1 $HOST4 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
	kill $cap 2>/dev/null; wait $cap 2>/dev/null
	if [ "${loss%.*}" -le 50 ]; then
		pass "$name: forwarding during the outage (${loss}% loss over 10 s; path ${path:-none})"
	else
		fail "$name: ${loss:-100}% loss through meshgate while Headscale was down (laptop's path before: ${path:-none})"
		outage_diag
	fi
	t0=$(ms); hs_start || { fail "$name: headscale restart"; return; }
	if wait_for 60 sh -c "[ \$(grep -c 'headscale: connected' '$TI_DIR/rtr/meshgate.log') -gt $c0 ]" &&
	   wait_for 20 hs_online rtr; then
		pass "$name: meshgate reconnected in $(( $(ms) - t0 )) ms, online in Headscale"
	else
		fail "$name: meshgate not back within 60 s: $(grep 'headscale:' "$TI_DIR/rtr/meshgate.log" | tail -n 1)"
		skip "$name: registrations and node id: cannot tell, meshgate did not come back"
		return
	fi
	local r1; r1=$(hs_registrations rtr)
	[ "$r1" = "$r0" ] && pass "$name: no new registration (Headscale logged no pre-auth key use)" ||
		fail "$name: meshgate registered again with its auth key ($((r1 - r0)) pre-auth registrations in Headscale's log: $(grep -o -e 'Registering node with pre-auth key' -e 're-registering with same NodeKey and auth key[^=]*' "$TI_DIR/hs/headscale.log" | tail -n 1))"
	[ "$(hs_node_id rtr)" = "$RTR_ID" ] && pass "$name: still node $RTR_ID" || fail "$name: node id now '$(hs_node_id rtr)' (was $RTR_ID)"
	# The laptop reconnects on its own back-off; then it must see the router online with its routes.
	if wait_for 120 lap_has_routes; then
		pass "$name: the laptop's netmap has the router online with its routes again $(( $(ms) - t0 )) ms after the restart"
	else
		fail "$name: 120 s after the restart the laptop sees the router as $(lap_rtr_json)"
	fi
}

# lap_rtr_json: the router as the laptop's tailscaled sees it (online, primary routes, path).
lap_rtr_json() {
	ts lap status --json 2>/dev/null |
		jq -c --arg ip "$RTR_TS4" '.Peer[] | select(.TailscaleIPs | index($ip)) | {Online, PrimaryRoutes, CurAddr, Relay}'
}
lap_has_routes() { lap_rtr_json | jq -e '.Online and ((.PrimaryRoutes // []) | index("192.168.8.0/24"))' >/dev/null; }

# After a lossy outage: where meshgate sent the laptop's traffic, what disco and DERP counted,
# and what crossed the router's port, as "#" lines.
outage_diag() {
	{
		echo "endpoints: $(wg show mgti0 endpoints 2>&1 | tr '\t\n' '  ')"
		echo "laptop: $(ts_peer_line lap "$RTR_TS4") $(lap_rtr_json)"
		ns rtr curl -sf --max-time 3 "http://$METRICS/metrics" |
			grep -E '^meshgate_(disco|derp|path)[a-z_]*(\{|\s)' | grep -v ' 0$' | tr '\n' ' '; echo
		echo "pcap on the router's port:"
		ns lan tcpdump -n -r "$TI_DIR/outage.pcap" 2>/dev/null |
			awk '{ print $3, $4, $5, ($6 == "ICMP" ? $6 " " $7 " " $8 : $6) }' | sort | uniq -c | sort -rn | head -n 12
		grep -v -e '^libbpf' -e '^libxdp' "$TI_DIR/rtr/meshgate.log" | grep -e derp -e disco -e path | tail -n 12
	} | sed 's/^/# /'
}

kid=$(hs preauthkeys list -o json | jq -r '[.[] | select((.reusable // false) == false and (.used // false) == true)][0].id')
[ -n "$kid" ] && [ "$kid" != null ] && pass "the router's single-use key (id $kid) is marked used" ||
	fail "no used single-use key in preauthkeys list"
outage "restart, single-use key used"
if [ "${TI_HS_VER}" = v0.27.1 ]; then
	hs preauthkeys expire --user "$(hs_user_id lab)" "$(cat "$TI_DIR/rtr/authkey")" >/dev/null
	outage "restart, key expired"
else
	hs preauthkeys delete --id "$kid" >/dev/null && pass "key $kid deleted" || fail "headscale preauthkeys delete --id $kid"
	outage "restart, key deleted"
fi
: >"$TI_DIR/rtr/authkey"
outage "restart, AuthKeyFile emptied"

# Node-key expiry: Headscale marks the node expired and tells every peer. meshgate must be on
# the map stream to hear it: after a failed reconnect above, restart it with a fresh key first.
if ! hs_online rtr; then
	(umask 077; hs_key >"$TI_DIR/rtr/authkey"); mg_stop rtr; mg_start rtr; wait_for 30 hs_online rtr
fi
c0=$(connected)
hs nodes expire -i "$RTR_ID" >/dev/null || fail "headscale nodes expire"
if wait_for 30 grep -q -i 'node key expired' "$TI_DIR/rtr/meshgate.log"; then
	pass "expiry noticed: $(grep -i 'node key expired' "$TI_DIR/rtr/meshgate.log" | tail -n 1)"
else fail "meshgate logged nothing about its expired node key within 30 s"; ti_diag rtr; fi
# tailscaled's peers stop using an expired node: so does the laptop here.
if wait_for 30 sh -c "! ip netns exec ti-lap ping -n -c 1 -W 1 $HOST4 >/dev/null"; then
	pass "the laptop stopped using the expired router"
else fail "the laptop still reaches $HOST4 through an expired router"; fi
# The operator's part (README): a new key in AuthKeyFile, then restart meshgate.
(umask 077; hs_key >"$TI_DIR/rtr/authkey")
mg_stop rtr; mg_start rtr
not_expired() { [ "$(hs_node rtr '.expiry.seconds // 0')" -eq 0 ] || [ "$(hs_node rtr .expiry.seconds)" -gt "$(date +%s)" ]; }
t0=$(ms)
if wait_for 60 hs_online rtr && wait_for 10 not_expired && wait_for 90 ping_ok lap $HOST4 1; then
	pass "new key + restart: router back, not expired, laptop reaches $HOST4 again after $(( $(ms) - t0 )) ms"
else fail "new key + restart: router not back (online/expiry $(hs_node rtr '[.online, .expiry.seconds] | @text'); laptop sees: $(ts_peer_line lap "$RTR_TS4"); $(grep 'headscale:' "$TI_DIR/rtr/meshgate.log" | tail -n 1))"; fi
[ "$(hs_node_id rtr)" = "$RTR_ID" ] && [ "$(hs_nodes | jq length)" -ge 3 ] && pass "same node $RTR_ID after re-auth" ||
	fail "node id after re-auth: '$(hs_node_id rtr)' (was $RTR_ID); nodes: $(hs_nodes | jq -c '[.[] | .given_name]')"
