#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Ping through the router, both ways, and the router's own tailnet address.
#
#   mg-lap 100.64.0.2 ==wg==> [gw DNAT] ==> mg-rtr (meshgate0 100.64.0.5) --> mg-host 192.168.8.80
#
. "$(dirname "$0")/lib.sh"
t_begin
t_start_router_or_die

check "laptop -> home host ($HOST4), laptop initiates" ping_ok lap $HOST4
check "home host -> laptop ($LAP_TS4)" ping_ok host $LAP_TS4
check "laptop -> router's tailnet address ($RTR_TS4, TUN)" ping_ok lap $RTR_TS4
meshgate_only && check "an XDP program is attached to the router's eth0" lab_rtr_has_xdp
check "handshake recorded by the router" test "$(wg_field $RIF latest-handshakes)" -gt 0
t_end
