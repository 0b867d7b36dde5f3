#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The laptop roams to a new source port; the router follows once it receives
# authenticated data from there, and traffic continues both ways.
#
#   mg-lap :51820 -> :51821 ==wg==> [gw DNAT keeps the source] ==> mg-rtr (endpoint follows)
#
. "$(dirname "$0")/lib.sh"
t_begin
t_start_router_or_die

check "ping laptop -> host before roaming" ping_ok lap $HOST4
expect_eq "router's endpoint before" "$(wg_field $RIF endpoints)" "$LAP_WAN4:$LAP_PORT"
new_port=$((LAP_PORT + 1))
wg set $LAP_IF listen-port $new_port
check "ping laptop -> host after roaming" ping_ok lap $HOST4
endpoint_is() { [ "$(wg_field $RIF endpoints)" = "$1" ]; }
check "router's endpoint follows to :$new_port" wait_for 5 endpoint_is "$LAP_WAN4:$new_port"
check "ping host -> laptop reaches the new port" ping_ok host $LAP_TS4
expect_eq "laptop listens on the new port" "$(wg show $LAP_IF listen-port)" "$new_port"
t_end
