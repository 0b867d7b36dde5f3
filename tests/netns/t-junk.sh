#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Garbage, truncated, unknown-index, corrupted and replayed messages sent at
# the router's listen port from the laptop's host (another source port) are
# dropped and counted by reason, a ping keeps flowing, and none of them moves
# the router's idea of the laptop's endpoint (roaming only after auth).
#
#   mg-lap junk.py :random ---> mg-gw 198.51.100.1:41641 (DNAT) ---> mg-rtr meshgate
#   mg-lap mglap :51820 ==ping==> ... ==> mg-host
#
. "$(dirname "$0")/lib.sh"
t_begin
t_start_router_or_die

JUNK="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/junk.py $GW_WAN4 $WG_PORT"
N=5
check "ping laptop -> host" ping_ok lap $HOST4

# A real data message to replay: capture one on the laptop's WAN link.
cap="$MG_LAB_DIR/data.pcap"
capture_start lap 10 "$cap.txt" -i eth0 -n -U -c 1 -w "$cap" \
	"udp dst port $WG_PORT and udp[8] = 4 and greater 100" || fail "$CAPTURE_ERR"
lap ping -n -q -c 2 -i 0.2 $HOST4 >/dev/null
wait $CAPTURE_PID
check "captured a data message to replay" test -s "$cap"

declare -A reason=([garbage]=bad_type [short]=too_short [unknown]=unknown_index
	[corrupt]=decrypt_failed [replay]=replay)
declare -A before
if meshgate_only; then
	for k in "${!reason[@]}"; do before[$k]=$(drops ${reason[$k]}); done
	rx_before=$(lab_metric meshgate_inbound_packets_total)
fi

lap ping -n -q -i 0.1 -c 60 -w 20 $HOST4 >"$MG_LAB_DIR/junk-ping.txt" 2>&1 &
ppid=$!
for k in garbage short unknown corrupt replay; do
	lap $JUNK $k $N "$cap" || fail "junk.py $k"
	sleep 0.3
done
wait $ppid
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$MG_LAB_DIR/junk-ping.txt")
check "ping kept flowing under junk (${recv:-0}/60 replies, >= 58)" test "${recv:-0}" -ge 58
expect_eq "endpoint unchanged (junk came from another port)" \
	"$(wg_field $RIF endpoints)" "$LAP_WAN4:$LAP_PORT"

if meshgate_only; then
	sleep 0.5	# counters are summed at scrape time; let the workers settle
	for k in garbage short unknown corrupt replay; do
		d=$(($(drops ${reason[$k]}) - ${before[$k]}))
		expect_eq "$N $k messages counted as reason=\"${reason[$k]}\"" "$d" "$N"
	done
	rx_after=$(lab_metric meshgate_inbound_packets_total)
	check "inbound packets counted ($rx_before -> $rx_after)" test "$rx_after" -gt "$rx_before"
else
	skip "drop counters (wireguard-go has no /metrics)"
fi
t_end
