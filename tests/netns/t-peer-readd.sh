#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The laptop peer removed and re-added with stock `wg set` while a ping runs:
# traffic stops while it is gone and resumes after it is back (the laptop
# notices the dead session and handshakes again, within ~15 s by its timers).
#
#   mg-lap ping ==wg==> [gw] ==> mg-rtr (wg set meshgate0 peer ... remove / add) --> mg-host
#
. "$(dirname "$0")/lib.sh"
t_begin
t_start_router_or_die

check "ping laptop -> host" ping_ok lap $HOST4
lap ping -n -i 0.2 -w 60 $HOST4 >"$MG_LAB_DIR/readd-ping.txt" 2>&1 &
sleep 1
check "wg set ... remove" wg set $RIF peer "$(lab_lap_pub)" remove
expect_eq "no peers while removed" "$(wg show $RIF peers)" ""
check_fails "no traffic while the peer is removed" ping_ok lap $HOST4 3
check "wg set ... re-add" wg set $RIF peer "$(lab_lap_pub)" allowed-ips "$RTR_ALLOWED"
expect_eq "peer is back" "$(wg show $RIF peers)" "$(lab_lap_pub)"
t0=$SECONDS
check "traffic resumes within 40 s" wait_for 40 lap ping -n -q -c 1 -W 1 $HOST4
echo "# resumed after $((SECONDS - t0)) s"
check "a new handshake after re-adding" test "$(wg_field $RIF latest-handshakes)" -gt 0
check "host -> laptop works again" ping_ok host $LAP_TS4
t_end
