#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The kernel selftest's byte-count check (tools/testing/selftests/wireguard/netns.sh): after 10
# pings on a fresh session, `wg show transfer` counts whole WireGuard messages - handshake
# messages and keepalives included, IP/UDP headers not - exactly as the kernel would.
#
#   mg-lap (initiator) ==10 x ICMP echo 84 B -> 96 B padded -> 128 B messages==> mg-rtr (responder)
#   router rx = 148 (initiation) + 10 x 128 [+ 32 keepalive]  = 1428 or 1460
#   router tx =  92 (response)   + 10 x 128                   = 1372
#
. "$(dirname "$0")/lib.sh"
t_begin
t_start_router_or_die
lab_reset_laptop_session
lap ping -n -q -c 10 -i 0.1 -W 2 $HOST4 >/dev/null
read -r rx tx <<<"$(wg_transfer $RIF)"
expect_eq "router tx after 10 pings: response + 10 data messages" "$tx" 1372
check "router rx after 10 pings: initiation + 10 data messages [+ keepalive] ($rx)" \
	sh -c "[ '$rx' = 1428 ] || [ '$rx' = 1460 ]"
t_end
