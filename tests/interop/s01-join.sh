#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Scenario 1, join: meshgate joins real Headscale with a pre-auth key, its routes are approved
# (`headscale nodes approve-routes`), and a real tailscaled laptop reaches the home host through
# it: ping, and 32 MiB over TCP each way with sha256, over IPv4 and over IPv6.
#
#   ti-lap tailscaled --NAT-- internet --+-- ti-hs headscale (DERP, STUN)
#                                        +-- ti-gw --- LAN --+-- ti-rtr meshgate --(SNAT)--> ti-host 192.168.8.80
. "$(dirname "$0")/lib.sh"
[ -n "${TI_TAG:-}" ] && T="$T[$TI_TAG]"
ti_begin

check "meshgate (rtr) online in headscale nodes list" hs_online rtr
routes=$(hs_node rtr '(.approved_routes // []) | sort | join(",")')
subnet=$(hs_node rtr '(.subnet_routes // []) | sort | join(",")')
if [ "$routes" = "$LAN4,$LAN6" ] && [ "$subnet" = "$LAN4,$LAN6" ]; then
	pass "routes approved and served: $subnet"
else fail "routes: approved '$routes', served '$subnet' (want $LAN4,$LAN6)"; fi
lists_rtr() { ts_peer_line lap "$RTR_TS4" | grep -qw rtr; }
check "laptop's tailscale status lists rtr ($RTR_TS4)" lists_rtr
prim() { ts lap status --json | jq -r --arg a "$RTR_TS4" '.Peer[] | select(.TailscaleIPs[0] == $a) | (.PrimaryRoutes // []) | sort | join(",")'; }
prim_ok() { [ "$(prim)" = "$LAN4,$LAN6" ]; }
wait_for 20 prim_ok; prim=$(prim)      # the map with the approval may still be on its way
[ "$prim" = "$LAN4,$LAN6" ] && pass "laptop sees rtr's primary routes $prim" || fail "laptop's PrimaryRoutes for rtr: '$prim'"
# meshgate status names the laptop by its tailnet name, as tailscale status does (its host name
# is "lap"; NAME is the second column), and the router by its own ("rtr") on the first row.
mg_name_of() { mg_status rtr | awk -v a="$1" '$1 == a { print $2 }'; }
mg_names_lap() { [ "$(mg_name_of "$LAP_TS4")" = lap ]; }
wait_for 20 mg_names_lap
[ "$(mg_name_of "$LAP_TS4")" = lap ] && pass "meshgate status lists the laptop ($LAP_TS4) as lap" ||
	fail "meshgate status NAME for $LAP_TS4: '$(mg_name_of "$LAP_TS4")' (want lap)"
[ "$(mg_status rtr | head -n 1 | awk '{ print $2 }')" = rtr ] && pass "meshgate status names itself rtr" ||
	fail "meshgate status self row: '$(mg_status rtr | head -n 1)'"
dns=$(mg_status rtr --json | jq -r --arg a "$LAP_TS4" '.Peers[] | select(any(.TailscaleIPs[]; . == $a)) | .DNSName')
case $dns in lap.*) pass "meshgate status --json: the laptop's DNSName $dns" ;;
*) fail "meshgate status --json DNSName for $LAP_TS4: '$dns' (want lap.<base domain>)" ;; esac
check "laptop pings meshgate's tailnet address $RTR_TS4" ping_ok lap "$RTR_TS4"
check "laptop pings meshgate's tailnet address $RTR_TS6" ping_ok lap "$RTR_TS6"
check "laptop pings the home host $HOST4 through the subnet route" ping_ok lap $HOST4
check "laptop pings the home host $HOST6 through the subnet route" ping_ok lap $HOST6

f=$(random_file 32); want=$(sha_of "$f")
got=$(tcp_sha lap host $HOST4 "$f" 9001); expect_sha() { [ "$1" = "$want" ] && pass "$2" || { fail "$2 (sha256 ${1:-none})"; ti_diag rtr; }; }
expect_sha "$got" "32 MiB laptop -> $HOST4 over TCP, sha256 matches"
expect_sha "$(tcp_pull lap host $HOST4 "$f" 9002)" "32 MiB $HOST4 -> laptop over TCP, sha256 matches"
expect_sha "$(tcp_sha lap host $HOST6 "$f" 9003)" "32 MiB laptop -> [$HOST6] over TCP, sha256 matches"
expect_sha "$(tcp_pull lap host $HOST6 "$f" 9004)" "32 MiB [$HOST6] -> laptop over TCP, sha256 matches"
