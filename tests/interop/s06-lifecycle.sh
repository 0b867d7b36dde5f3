#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Scenario 6, peers come and go with meshgate running: the phone's node is deleted in Headscale
# and must leave meshgate's peers (`wg show`, `meshgate status`); the phone logs in again and
# appears without a restart; it logs out (`tailscale logout`) and leaves again; it logs back in.
#
#   ti-phone tailscaled --NAT--+                         ti-hs headscale: nodes delete
#   ti-lap tailscaled --NAT----+-- ti-rtr meshgate (peers from the map stream)
. "$(dirname "$0")/lib.sh"
ti_begin
ti_scenario_cleanup() {
	ts phone status >/dev/null 2>&1 ||
		ts_up phone "$(hs_key --reusable)" --force-reauth
	PHONE_TS4=$(ts_ip phone 4) PHONE_ID=$(hs_node_id phone); ti_save
}

# phone_key_b64: the phone's node key as `wg show` prints it.
phone_key_b64() { ts phone status --json | jq -r .Self.PublicKey | python3 -c 'import base64, sys; print(base64.b64encode(bytes.fromhex(sys.stdin.read().strip()[8:])).decode())'; }
in_wg() { wg show mgti0 peers | grep -qxF "$1"; }
in_status() { mg_status rtr | awk -v a="$1" '$1 == a { f = 1 } END { exit !f }'; }
pid=$(cat "$TI_DIR/rtr/pid")
key=$(phone_key_b64)
ping_ok phone "$RTR_TS4" 1
check "the phone ($PHONE_TS4) is one of meshgate's peers" in_wg "$key"
hs nodes delete -i "$PHONE_ID" >/dev/null || fail "headscale nodes delete -i $PHONE_ID"
t0=$(ms)
if wait_for 30 not in_wg "$key" && wait_for 5 not in_status "$PHONE_TS4"; then
	pass "deleted node left wg show and meshgate status in $(( $(ms) - t0 )) ms"
else fail "deleted phone still a peer after 30 s"; fi

ts_up phone "$(hs_key --reusable)" --force-reauth || fail "phone login again"
PHONE_TS4=$(ts_ip phone 4) PHONE_ID=$(hs_node_id phone) key=$(phone_key_b64)
t0=$(ms)
if wait_for 30 in_wg "$key" && wait_for 5 in_status "$PHONE_TS4"; then
	pass "new node ($PHONE_TS4) appeared in $(( $(ms) - t0 )) ms"
else fail "new phone node not among meshgate's peers after 30 s"; fi
check "the new node reaches meshgate ($RTR_TS4)" ping_ok phone "$RTR_TS4"

ts phone logout >/dev/null 2>&1 || fail "tailscale logout"
t0=$(ms)
if wait_for 30 not in_wg "$key"; then pass "logged-out node left meshgate's peers in $(( $(ms) - t0 )) ms"
else fail "logged-out phone still a peer after 30 s ($(hs_node phone '[.online, .expiry.seconds] | @text'))"; fi
[ "$(cat "$TI_DIR/rtr/pid")" = "$pid" ] && mg_running rtr && pass "all without restarting meshgate (pid $pid)" ||
	fail "meshgate restarted"
