#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Config changes while a session is live: a peer added by editing the file
# and sending SIGHUP, then removed again with stock `wg syncconf`. The
# laptop's session must survive both (same handshake time, ping flowing):
# an update swaps what changed and keeps unchanged peers' keypairs.
#
#   mg-lap ==wg==> [gw] ==> mg-rtr meshgate (meshgate.conf + SIGHUP, wg syncconf) --> mg-host
#
. "$(dirname "$0")/lib.sh"
t_begin
t_start_router_or_die

lap_hs() { wg show $RIF latest-handshakes | awk -v k="$(lab_lap_pub)" '$1 == k { print $2 }'; }
npeers() { wg show $RIF peers | grep -c .; }
npeers_is() { [ "$(npeers)" = "$1" ]; }

check "ping laptop -> host" ping_ok lap $HOST4
hs0=$(lap_hs)
check "laptop's handshake recorded" test "${hs0:-0}" -gt 0
P2=$(wg genkey | wg pubkey)

if meshgate_only; then
	printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 100.64.0.9/32\n' "$P2" >>"$MG_LAB_DIR/meshgate.conf"
	kill -HUP "$MG_PID"
	check "SIGHUP: the added peer appears" wait_for 5 npeers_is 2
	expect_eq "SIGHUP: the added peer's allowed-ips" \
		"$(wg show $RIF allowed-ips | awk -v k="$P2" '$1 == k { print $2 }')" 100.64.0.9/32
	check "SIGHUP: ping laptop -> host" ping_ok lap $HOST4
	expect_eq "SIGHUP: laptop's session kept (same handshake time)" "$(lap_hs)" "$hs0"
	check "SIGHUP: meshgate still running" kill -0 "$MG_PID"
else
	wg set $RIF peer "$P2" allowed-ips 100.64.0.9/32
	skip "SIGHUP reload (the wireguard-go baseline has no config file)"
fi

# wg syncconf takes wg(8)'s format; this file has only the laptop, so the
# peer added above must go and the laptop must stay untouched.
cat >"$MG_LAB_DIR/wg.conf" <<-EOC
[Interface]
PrivateKey = $(cat "$MG_LAB_DIR/rtr.key")
ListenPort = $WG_PORT

[Peer]
PublicKey = $(lab_lap_pub)
AllowedIPs = $LAP_TS4/32, $LAP_TS6/128
EOC
check "wg syncconf" wg syncconf $RIF "$MG_LAB_DIR/wg.conf"
expect_eq "wg syncconf: only the laptop is left" "$(wg show $RIF peers)" "$(lab_lap_pub)"
check "wg syncconf: ping laptop -> host" ping_ok lap $HOST4
expect_eq "wg syncconf: laptop's session kept (same handshake time)" "$(lap_hs)" "$hs0"
t_end
