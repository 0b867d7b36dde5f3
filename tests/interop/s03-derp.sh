#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Scenario 3, DERP: UDP between the laptop's NAT and the home is cut in the home gateway, so the
# laptop and meshgate must relay through Headscale's embedded DERP server (TCP 443); a sha256
# transfer crosses it. The cut is lifted and the path goes direct again. Both transitions timed.
#
#   ti-lap tailscaled -- ti-lgw 198.51.100.20 --X udp X-- ti-gw -- ti-rtr meshgate
#                \______ TCP 443: ti-hs DERP region 999 ______/
. "$(dirname "$0")/lib.sh"
ti_begin
ti_scenario_cleanup() { ns gw nft delete table inet tiblock 2>/dev/null; }

block() {
	ns gw nft -f - <<-EOF2
	table inet tiblock {
		chain cut {
			type filter hook forward priority filter;
			ip saddr $LGW4 meta l4proto udp drop
			ip daddr $LGW4 meta l4proto udp drop
		}
	}
	EOF2
}
direct_changes_above() { [ "$(mg_metric rtr meshgate_path_changes_total 'to="direct"')" -gt "$1" ]; }
# path_is WHAT: `tailscale status` says "relay" or "direct" for the router, and the home host answers.
path_is() { ts_peer_line lap "$RTR_TS4" | grep -q "$1" && ns lap ping -n -c 1 -W 1 $HOST4 >/dev/null; }

ts lap ping -c 20 --until-direct "$RTR_TS4" >/dev/null 2>&1
check "direct before the cut" path_is direct
d0=$(mg_metric rtr meshgate_derp_packets_total)
r0=$(mg_metric rtr meshgate_path_changes_total 'to="relay"')
t0=$(ms); block
# Keep traffic flowing so both sides notice the dead path.
ns lap ping -n -q -i 0.2 -w 60 $HOST4 >/dev/null 2>&1 & pp=$!
if wait_for 60 path_is relay; then
	pass "UDP cut: traffic moved to DERP in $(( $(ms) - t0 )) ms ($(ts_peer_line lap "$RTR_TS4" | grep -o 'relay "[^"]*"'))"
else fail "UDP cut: no relayed path within 60 s: $(ts_peer_line lap "$RTR_TS4")"; ti_diag rtr; fi
f=$(random_file 4)
got=$(tcp_sha lap host $HOST4 "$f" 9005)
[ "$got" = "$(sha_of "$f")" ] && pass "4 MiB laptop -> $HOST4 through DERP, sha256 matches" ||
	fail "4 MiB through DERP: sha256 ${got:-none}"
d1=$(mg_metric rtr meshgate_derp_packets_total)
[ $((d1 - d0)) -gt 2000 ] && pass "meshgate counted $((d1 - d0)) DERP packets during the cut" ||
	fail "meshgate_derp_packets_total grew by $((d1 - d0)) during a 4 MiB relayed transfer"
# meshgate's own side of the path: its reply path to the laptop moved to DERP too.
r1=$(mg_metric rtr meshgate_path_changes_total 'to="relay"')
[ "$r1" -gt "$r0" ] && [ "$(mg_metric rtr meshgate_peers_by_path 'path="relay"')" -ge 1 ] &&
	pass "meshgate's path to the laptop went to DERP (path changes to relay: $r0 -> $r1)" ||
	fail "meshgate_path_changes_total{to=relay} $r0 -> $r1, peers on relay $(mg_metric rtr meshgate_peers_by_path 'path="relay"')"
c0=$(mg_metric rtr meshgate_path_changes_total 'to="direct"')
t0=$(ms); ti_scenario_cleanup
if wait_for 90 path_is direct; then
	pass "UDP restored: direct again in $(( $(ms) - t0 )) ms"
	wait_for 10 direct_changes_above "$c0" &&
		pass "meshgate's path to the laptop direct again (meshgate_path_changes_total{to=direct} grew)" ||
		fail "meshgate_path_changes_total{to=direct} did not grow after UDP was restored"
else fail "UDP restored: still not direct after 90 s: $(ts_peer_line lap "$RTR_TS4")"; ti_diag rtr; fi
kill $pp 2>/dev/null; wait $pp 2>/dev/null
