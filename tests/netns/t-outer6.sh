#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The laptop reaches the router over IPv6 (outer transport): the gateway forwards UDP 41641 on its
# IPv6 WAN address to the router's fd00:8::105, and meshgate answers over IPv6 with valid UDP
# checksums (mandatory in IPv6).
#
#   mg-lap [2001:db8:100::2]:51820 ==wg/IPv6==> [2001:db8:100::1]:41641 mg-gw DNAT
#                                                 --> [fd00:8::105]:41641 mg-rtr (meshgate)
#
. "$(dirname "$0")/lib.sh"
meshgate_only || { echo "SKIP: t-outer6: meshgate only"; exit 77; }
t_begin
lap wg set $LAP_IF peer "$(lab_rtr_pub)" endpoint "[$GW_WAN6]:$WG_PORT"
t_start_router_or_die

check "laptop -> home host (IPv4 inside IPv6)" ping_ok lap $HOST4
check "laptop -> home host (IPv6 inside IPv6)" ping_ok lap $HOST6
ep=$(wg show $MG_IF endpoints | awk 'NR == 1 { print $2 }')
expect_eq "the router's endpoint for the laptop is its IPv6 address" "$ep" "[$LAP_WAN6]:$LAP_PORT"
check "home host -> laptop (router sends over IPv6)" ping_ok host $LAP_TS4
f=$(random_file 8)
want=$(sha256sum <"$f" | cut -d' ' -f1)
expect_eq "8 MiB TCP host -> laptop over outer IPv6, sha256" "$(tcp_transfer host lap $LAP_TS4 "$f" 5401)" "$want"
check "traffic counted on path direct_ipv6" \
	test "$(lab_metric meshgate_outbound_packets_total 'path="direct_ipv6"')" -gt 0
t_end
