#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Scenario 11, netcheck: `meshgate netcheck` against Headscale's embedded DERP server and STUN
# (region 999), with the DERP map meshgate saved in StateDir after joining. On the router it
# finds the home gateway's public address and region 999; on the laptop (same map, its own NAT)
# it agrees with `tailscale netcheck` on the public address, UDP and the nearest region. With UDP
# to Headscale cut at the home gateway, it measures the region by TCP and says UDP false.
#
#   ti-rtr  meshgate netcheck -i mgti0 -- ti-gw (masquerade .1) --\
#   ti-lap  meshgate netcheck --derp-map, tailscale netcheck -- ti-lgw (.20) --> ti-hs .10: STUN 3478, DERP 443
. "$(dirname "$0")/lib.sh"
ti_begin
ti_scenario_cleanup() { ns gw nft delete table inet tinc 2>/dev/null; }
MAP=$TI_DIR/rtr/state/derpmap.json
OUT=$TI_DIR/netcheck

check "meshgate saved Headscale's DERP map in StateDir (region 999, STUN $HS4:3478)" wait_for 10 \
	jq -e ".Regions[\"999\"].Nodes[0].IPv4 == \"$HS4\" and .Regions[\"999\"].Nodes[0].STUNPort == 3478" "$MAP"

# On the router, the map found through the running daemon (-i NAME).
ns rtr "$MESHGATE" netcheck -i "$(mg_ifname rtr)" --json >"$OUT.json" 2>"$OUT.err"; rc=$?
echo "# router: $(cat "$OUT.json")"
check "router: exit 0" test "$rc" = 0
check "router: UDP true" jq -e '.UDP == true' "$OUT.json"
check "router: public IPv4 is the home gateway's $GW4 ($(jq -r .GlobalV4 "$OUT.json"))" \
	jq -e ".GlobalV4 | startswith(\"$GW4:\")" "$OUT.json"
check "router: nearest region 999 (Headscale's embedded DERP)" jq -e '.PreferredDERP == 999' "$OUT.json"
check "router: region 999 measured by STUN and by TCP to its DERP port" \
	jq -e '.RegionV4Latency["999"] > 0 and .RegionTCPLatency["999"] > 0' "$OUT.json"
check "router: one STUN server, so MappingVariesByDestIP unknown (null)" jq -e '.MappingVariesByDestIP == null' "$OUT.json"
ns rtr "$MESHGATE" netcheck -i "$(mg_ifname rtr)" >"$OUT.txt" 2>&1
sed 's/^/# /' "$OUT.txt"
check "router: text report names Headscale's region" grep -q "Nearest DERP: Headscale Embedded DERP" "$OUT.txt"

# On the laptop, beside the real client's own netcheck.
ns lap "$MESHGATE" netcheck --derp-map "$MAP" --json >"$OUT.lap.json" 2>"$OUT.lap.err"; rc=$?
ts lap netcheck --format=json >"$OUT.ts.json" 2>"$OUT.ts.err"
echo "# laptop, meshgate:  $(cat "$OUT.lap.json")"
echo "# laptop, tailscale: $(jq -c '{UDP, GlobalV4, MappingVariesByDestIP, PreferredDERP, RegionLatency}' "$OUT.ts.json" 2>/dev/null)"
check "laptop: meshgate netcheck exit 0" test "$rc" = 0
ip_of() { jq -r '.GlobalV4 // ""' "$1" | sed 's/:[0-9]*$//'; }
if jq -e . "$OUT.ts.json" >/dev/null 2>&1; then
	check "laptop: the same public IPv4 as tailscale netcheck ($(ip_of "$OUT.lap.json") = $(ip_of "$OUT.ts.json"), the laptop's NAT $LGW4)" \
		test "$(ip_of "$OUT.lap.json")" = "$(ip_of "$OUT.ts.json")" -a "$(ip_of "$OUT.ts.json")" = "$LGW4"
	check "laptop: UDP and the nearest region as tailscale netcheck says" test \
		"$(jq -c '[.UDP, .PreferredDERP]' "$OUT.lap.json")" = "$(jq -c '[.UDP, .PreferredDERP]' "$OUT.ts.json")"
else
	fail "tailscale netcheck --format=json on the laptop: $(tail -n 1 "$OUT.ts.err")"
fi

# UDP from the router to Headscale cut at the home gateway: TCP measures the region.
ns gw nft -f - <<-EOF
table inet tinc {
	chain cut {
		type filter hook forward priority filter;
		ip saddr $RTR_LAN4 ip daddr $HS4 meta l4proto udp drop
	}
}
EOF
ns rtr "$MESHGATE" netcheck -i "$(mg_ifname rtr)" --json --timeout 2 >"$OUT.cut.json" 2>"$OUT.cut.err"; rc=$?
ti_scenario_cleanup
echo "# router, UDP cut: $(cat "$OUT.cut.json")"
check "UDP cut: exit 0 (TCP reached the DERP server)" test "$rc" = 0
check "UDP cut: UDP false, no public address" jq -e '.UDP == false and .GlobalV4 == ""' "$OUT.cut.json"
check "UDP cut: nearest 999 by TCP connect time" \
	jq -e '.PreferredDERP == 999 and .RegionTCPLatency["999"] > 0 and (.RegionV4Latency | length) == 0' "$OUT.cut.json"
