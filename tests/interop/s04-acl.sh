#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Scenario 4, the tailnet policy enforced by meshgate: Headscale's HuJSON policy
# (policy-base.hujson) allows the home host's port 8080 and not 8081; the denied SYN is dropped
# and counted (reason "filtered"); a policy change (SIGHUP to Headscale) opens 8081 with meshgate
# still running. A UDP query from the home LAN to a tailnet resolver (the laptop, port 53) gets
# its answer (the reply is allowed as part of a flow the LAN started). Then the saved netmap:
# meshgate restarted while Headscale is down forwards only what the saved filter allows, and
# nothing when its saved netmap has no filter.
#
#   ti-lap tailscaled ---- ti-rtr meshgate (filter) ---- ti-host :8080 open, :8081 denied
. "$(dirname "$0")/lib.sh"
ti_begin
ti_scenario_cleanup() {
	ti_policy base; hs_policy_reload 2>/dev/null
	hs_alive_and_serving >/dev/null 2>&1 && [ -f "$TI_DIR/hs/pid" ] || hs_start
	mg_running rtr || mg_start rtr
}

ti_listen host 8080 && ti_listen host 8081 || fail "listeners on the home host"
udp_echo lap 53
# A refused connection proves a filter only beside one that works: without the allowed port
# the denied one cannot tell, and says so.
if tcp_connects lap $HOST4 8080; then pass "allowed port: laptop -> $HOST4:8080 connects"; tcp_ok=1
else fail "allowed port: laptop -> $HOST4:8080 does not connect"; tcp_ok=0; fi
denied() {	# denied DESCRIPTION PORT
	if [ $tcp_ok = 0 ]; then tcp_connects lap $HOST4 "$2" && fail "$1 (connects)" || skip "$1: cannot tell, no TCP gets through"
	else check_fails "$1" tcp_connects lap $HOST4 "$2"; fi
}
f0=$(mg_metric rtr meshgate_inbound_dropped_packets_total 'reason="filtered"')
denied "denied port: laptop -> $HOST4:8081 does not connect" 8081
f1=$(mg_metric rtr meshgate_inbound_dropped_packets_total 'reason="filtered"')
[ "$f1" -gt "$f0" ] && pass "the denied SYNs were counted: filtered drops $f0 -> $f1" ||
	fail "filtered drops did not grow ($f0 -> $f1)"

# A policy change: 8081 opened, applied by the running meshgate (same pid).
pid=$(cat "$TI_DIR/rtr/pid")
sed 's/8080,9000-9010/8080,8081,9000-9010/g' "$TI_ROOT/tests/interop/policy-base.hujson" >"$TI_DIR/hs/policy.hujson"
t0=$(ms); hs_policy_reload
if wait_for 30 tcp_connects lap $HOST4 8081; then
	pass "policy change applied without a restart in $(( $(ms) - t0 )) ms: 8081 connects"
else fail "8081 still closed 30 s after the policy change"; ti_diag rtr; fi
[ "$(cat "$TI_DIR/rtr/pid")" = "$pid" ] && mg_running rtr && pass "meshgate kept running (pid $pid)" || fail "meshgate restarted"
ti_policy base; hs_policy_reload
if [ $tcp_ok = 1 ]; then
	wait_for 30 not tcp_connects lap $HOST4 8081 && pass "policy back: 8081 closed again" || fail "8081 still open after the policy was restored"
fi

# DNS-like UDP from the LAN to a tailnet resolver: the policy allows 192.168.8.0/24 -> lab@:53;
# the answer (laptop:53 -> the host's ephemeral port) is allowed only as the flow's reply.
# With SNAT (the lab's default), the answer must keep the laptop's address: a stub resolver's
# socket is connected to the server it asked.
lan0=$(mg_metric rtr meshgate_nat_lan_replies_total)
ans=$(udp_ask host "$LAP_TS4" 53)
[ "$ans" = answer:q ] && pass "UDP query from $HOST4 to the laptop's :53 got its answer, from $LAP_TS4" ||
	{ fail "UDP query from $HOST4 to $LAP_TS4:53: no answer from $LAP_TS4 (reply dropped: $(mg_metric rtr meshgate_inbound_dropped_packets_total 'reason="filtered"') filtered; $(mg_metric rtr meshgate_nat_flows) NAT flows)"; }
# A TCP connection the LAN opens (the policy allows lab@:53 for TCP too) completes: the SYN-ACK
# keeps the laptop's source address through SNAT.
ti_listen lap 53
tcp_connects host "$LAP_TS4" 53 && pass "TCP from $HOST4 to $LAP_TS4:53 (LAN-started) connects" ||
	fail "TCP from $HOST4 to $LAP_TS4:53 (LAN-started) does not connect"
lan1=$(mg_metric rtr meshgate_nat_lan_replies_total)
[ "$lan1" -gt "$lan0" ] && pass "SNAT left $((lan1 - lan0)) answers to LAN-started flows untranslated (meshgate_nat_lan_replies_total)" ||
	fail "meshgate_nat_lan_replies_total did not move ($lan0 -> $lan1)"

# Saved netmap, Headscale down: restart meshgate; the saved filter must still apply.
mg_stop rtr; hs_stop
mg_start rtr || fail "meshgate restart with Headscale down"
# The names come back with the saved netmap, before (without) Headscale.
lap_name() { mg_status rtr | awk -v a="$LAP_TS4" '$1 == a { print $2 }'; }
[ "$(lap_name)" = lap ] && pass "Headscale down, saved netmap: meshgate status still names the laptop lap" ||
	fail "Headscale down, saved netmap: NAME for $LAP_TS4 is '$(lap_name)' (want lap)"
wait_for 20 ping_ok lap $HOST4 1
if tcp_connects lap $HOST4 8080; then
	pass "Headscale down, saved netmap: allowed port 8080 still connects"
	check_fails "Headscale down, saved netmap: denied port 8081 stays closed (saved filter)" tcp_connects lap $HOST4 8081
	# A saved netmap from before filters were saved (or a first start that never got one): the
	# peers are restored, and nothing may be forwarded to the LAN.
	mg_stop rtr
	jq '{self, peers}' "$TI_DIR/rtr/state/netmap.json" >"$TI_DIR/netmap.nofilter" &&
		cp "$TI_DIR/netmap.nofilter" "$TI_DIR/rtr/state/netmap.json"
	mg_start rtr || fail "meshgate restart without a saved filter"
	wait_for 20 ping_ok lap "$RTR_TS4" 1
	check_fails "no filter ever received: laptop -> $HOST4:8080 not forwarded" tcp_connects lap $HOST4 8080
	check_fails "no filter ever received: ping $HOST4 not forwarded" ns lap ping -n -q -c 2 -W 1 $HOST4
else
	# The laptop reaches a restarted meshgate only through a path disco confirmed (or DERP, which
	# is Headscale's and down with it): meshgate must answer disco from the saved netmap.
	fail "Headscale down, saved netmap: laptop -> $HOST4:8080 does not connect; laptop's path: $(ts_peer_line lap "$RTR_TS4" | awk '{$1=$2=$3=$4=""; print}'); saved peer fields: $(jq -c '[.peers[0] | keys[]]' "$TI_DIR/rtr/state/netmap.json")"
	skip "saved filter / no filter with Headscale down: no path to the restarted meshgate, nothing to observe"
fi
# Back to normal: Headscale up, the filter arrives, 8080 works again.
hs_start || fail "headscale restart"
wait_for 60 tcp_connects lap $HOST4 8080 && pass "Headscale back: filter received, 8080 connects" ||
	{ fail "8080 not reachable 60 s after Headscale came back"; ti_diag rtr; }
