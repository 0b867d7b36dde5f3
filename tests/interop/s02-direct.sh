#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Scenario 2, direct path through both NATs: `tailscale ping` from the laptop to meshgate's
# tailnet address reports a direct endpoint (the home gateway's forwarded port), and
# `tailscale status` shows the router as direct; meshgate's own status agrees.
#
#   ti-lap tailscaled -- ti-lgw NAT 198.51.100.20 -- internet -- 198.51.100.1:41641 ti-gw DNAT -- ti-rtr meshgate
. "$(dirname "$0")/lib.sh"
[ -n "${TI_TAG:-}" ] && T="$T[$TI_TAG]"
ti_begin

out=$(ts lap ping -c 20 --until-direct "$RTR_TS4" 2>&1)
ep=$(echo "$out" | sed -n 's/.* via \([0-9.]*:[0-9]*\) in .*/\1/p' | tail -n 1)
if [ -n "$ep" ]; then pass "tailscale ping: pong via direct endpoint $ep"
else fail "tailscale ping never direct: $(echo "$out" | tail -n 2 | tr '\n' ' ')"; fi
[ "$ep" = "$GW4:41641" ] && pass "the direct endpoint is the home gateway's forwarded port" ||
	fail "direct endpoint '$ep', want $GW4:41641"
ping_ok lap $HOST4 5
line=$(ts_peer_line lap "$RTR_TS4")
case $line in *direct*) pass "tailscale status: rtr direct ($(echo "$line" | grep -o 'direct [^,]*'))" ;;
*) fail "tailscale status for rtr: '$line'" ;; esac
mgl=$(mg_status rtr | awk -v a="$LAP_TS4" '$1 == a')
case $mgl in *direct*|*"$LGW4":*) pass "meshgate status: laptop reached directly ($(echo "$mgl" | awk '{print $4}'))" ;;
*) fail "meshgate status line for the laptop: '$mgl'" ;; esac
# What the laptop was told: meshgate's endpoints as Headscale passes them on. The forwarded port
# on the gateway's public IPv4 must be among them, in IPv4 form (Headscale's embedded STUN server
# answers an IPv4 client with an IPv4-mapped IPv6 address, which tailscale's STUN client unmaps).
eps=$(ts lap debug netmap 2>/dev/null | jq -r --arg a "$RTR_TS4/32" '.Peers[] | select(.Addresses[0] == $a) | .Endpoints | join(" ")')
case " $eps " in
*" $GW4:41641 "*) pass "meshgate's published endpoints include $GW4:41641 (ForwardedPort): $eps" ;;
*) fail "meshgate's published endpoints lack $GW4:41641 (ForwardedPort + STUN): '$eps'" ;;
esac
case $eps in *::ffff:*) fail "meshgate published an IPv4-mapped IPv6 endpoint tailscaled cannot use: '$eps'" ;;
*) pass "no IPv4-mapped IPv6 endpoint published" ;; esac
