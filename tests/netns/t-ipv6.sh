#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# IPv6 inner traffic: laptop fd7a:115c:a1e0::2 <-> home host fd00:8::80, and
# the router's own fd7a:115c:a1e0::5 (outer packets stay IPv4).
#
#   mg-lap fd7a:..::2 ==wg/v4==> [gw] ==> mg-rtr (meshgate0 fd7a:..::5) --> mg-host fd00:8::80
#
. "$(dirname "$0")/lib.sh"
t_begin
t_start_router_or_die

check "laptop -> home host ($HOST6)" ping_ok lap $HOST6
check "home host -> laptop ($LAP_TS6)" ping_ok host $LAP_TS6
check "laptop -> router's tailnet address ($RTR_TS6, TUN)" ping_ok lap $RTR_TS6
f=$(random_file 4)
want=$(sha256sum <"$f" | cut -d' ' -f1)
expect_eq "4 MiB TCP over IPv6 laptop -> host sha256" "$(tcp_transfer lap host $HOST6 "$f" 5003)" "$want"
expect_eq "4 MiB TCP over IPv6 host -> laptop sha256" "$(tcp_transfer host lap $LAP_TS6 "$f" 5004)" "$want"
meshgate_only && expect_eq "the router's kernel forwarded nothing" "$(kernel_forwarded)" 0
t_end
