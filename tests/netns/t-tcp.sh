#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# 32 MiB over TCP through the router in each direction, checked by sha256.
#
#   mg-lap nc ==wg==> [gw DNAT] ==> mg-rtr (router) --> mg-host nc     (and back)
#
. "$(dirname "$0")/lib.sh"
t_begin
t_start_router_or_die

f=$(random_file 32)
want=$(sha256sum <"$f" | cut -d' ' -f1)
check "tunnel up (laptop -> host ping)" ping_ok lap $HOST4
expect_eq "32 MiB laptop -> host sha256" "$(tcp_transfer lap host $HOST4 "$f" 5001)" "$want"
expect_eq "32 MiB host -> laptop sha256" "$(tcp_transfer host lap $LAP_TS4 "$f" 5002)" "$want"
if meshgate_only; then
	expect_eq "the router's kernel forwarded nothing (all in meshgate)" "$(kernel_forwarded)" 0
	out=$(lab_metric meshgate_outbound_packets_total)
	# Whatever "outbound" covers, it includes the host -> laptop segments
	# (at most 1240 bytes of payload each, the tunnel MTU minus headers).
	check "meshgate_outbound_packets_total counts the transfer ($out >= 32 MiB / 1240)" \
		test "$out" -ge $((32 * 1024 * 1024 / 1240))
fi
t_end
