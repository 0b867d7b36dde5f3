#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Soak: mixed traffic for a set time (default 60 s here; perf/soak.sh runs this for
# 600 s) while the laptop roams to a new port every 20 s, sessions rekey every 15 s
# (TestRekeyAfterTime) and a peer is added and another removed with `wg set` every 3 s. Then:
# nothing lost that should not be (ping and UDP loss within the roams' allowance, every TCP
# transfer's sha256 right, no drop reason but the ones the scenario explains), meshgate's RSS
# flat (first sample after warm-up vs last), `wg show transfer` on both ends reconciles, and at
# SIGTERM every UMEM frame is accounted for.
#
#   mg-lap wireguard-go :51820 -> :51821 -> ...  ==wg==> [gw] ==> mg-rtr meshgate --> mg-host
#     ping 5/s, TCP 2 MiB transfers back to back, UDP 2 Mbit/s (iperf3)      wg set: peer churn
#
# Usage: t-soak.sh [--time SECONDS]
. "$(dirname "$0")/lib.sh"

SECS=60
[ "${1:-}" = --time ] && SECS=${2:?--time SECONDS}
REKEY=15 ROAM_EVERY=20 CHURN_EVERY=3
meshgate_only || { echo "SKIP: t-soak: meshgate only (reads meshgate's metrics and log)"; exit 77; }
command -v iperf3 >/dev/null || { echo "SKIP: t-soak: machine lacks iperf3"; exit 77; }
t_begin
# The router initiates the first session (it knows the laptop's endpoint), so it is the side
# whose sending rekeys it every REKEY seconds (REKEY_AFTER_TIME applies to the initiator).
t_start_router_or_die --endpoint --rekey $REKEY
check "router-initiated session (host -> laptop ping)" ping_ok host $LAP_TS4
check "ping laptop -> host before the soak" ping_ok lap $HOST4
S=$MG_LAB_DIR/soak
rm -rf "$S"; mkdir -p "$S"
rss() { awk '$1 == "VmRSS:" { print $2 }' /proc/"$MG_PID"/status; }
end=$((SECONDS + SECS))

# ---- traffic -----------------------------------------------------------------------------------
lap ping -n -q -i 0.2 -w "$SECS" $HOST4 >"$S/ping" 2>&1 &
pingpid=$!
host iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
wait_listen host 5201
lap iperf3 -u -c $HOST4 -p 5201 -b 2M -l 1000 -t $((SECS - 4)) -J >"$S/iperf.json" 2>&1 &
iperfpid=$!
file=$(random_file 2)
want=$(sha256sum <"$file" | cut -d' ' -f1)
(
	port=7000
	while [ $SECONDS -lt $((end - 6)) ]; do
		got=$(tcp_transfer lap host $HOST4 "$file" $port)
		[ "$got" = "$want" ] && echo ok || echo "bad $port"
		port=$((port + 1))
	done >"$S/tcp"
) &
tcppid=$!

# ---- roaming, churn, samples -------------------------------------------------------------------
roams=0 churns=0 prev="" next_roam=$((SECONDS + ROAM_EVERY)) next_sample=$((SECONDS + 5))
while [ $SECONDS -lt "$end" ]; do
	if [ $SECONDS -ge $next_roam ] && [ $SECONDS -lt $((end - 5)) ]; then
		roams=$((roams + 1))
		wg set $LAP_IF listen-port $((LAP_PORT + roams))
		next_roam=$((SECONDS + ROAM_EVERY))
	fi
	k=$(wg genkey | wg pubkey)
	wg set $RIF peer "$k" allowed-ips 10.70.$((churns % 250)).0/24 || echo "churn add failed" >>"$S/errors"
	[ -n "$prev" ] && { wg set $RIF peer "$prev" remove || echo "churn remove failed" >>"$S/errors"; }
	prev=$k churns=$((churns + 1))
	if [ $SECONDS -ge $next_sample ]; then
		echo "$SECONDS $(rss)" >>"$S/rss"
		next_sample=$((SECONDS + 5))
	fi
	sleep $CHURN_EVERY
done
[ -n "$prev" ] && wg set $RIF peer "$prev" remove
wait $pingpid $iperfpid $tcppid
sleep 2     # in-flight packets land before the counters are read
echo "# soak: ${SECS} s, $roams roams, $churns peer adds and removes, rekey every ${REKEY} s"

# ---- what the traffic saw ----------------------------------------------------------------------
read -r ptx prx < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$S/ping")
echo "# ping: ${ptx:-?} sent, ${prx:-?} received"
# Each roam may cost the replies in flight to the old port until the router sees the new one.
check "ping: at most 2 per roam + 1% lost (${ptx:-0} sent, ${prx:-0} received)" \
	test $(( ${ptx:-0} - ${prx:-0} )) -le $((2 * roams + ${ptx:-0} / 100)) -a "${ptx:-0}" -gt 0
ntcp=$(grep -c '^ok$' "$S/tcp") nbad=$(grep -vc '^ok$' "$S/tcp")
check "TCP: $ntcp transfers of 2 MiB with the right sha256, $nbad wrong" test "$ntcp" -gt 0 -a "$nbad" = 0
loss=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum"]["lost_percent"])' "$S/iperf.json" 2>/dev/null)
check "UDP 2 Mbit/s: loss ${loss:-?}% <= 2%" awk -v l="${loss:-100}" 'BEGIN { exit !(l <= 2) }'
check "peer churn: every wg set succeeded" test ! -s "$S/errors"
hs=$(($(lab_metric meshgate_handshakes_total 'message="initiation"' 'direction="rx"') +
      $(lab_metric meshgate_handshakes_total 'message="initiation"' 'direction="tx"')))
check "sessions rekeyed during the soak ($hs initiations)" test "$hs" -ge $((SECS / REKEY - 1))

# Drops: only the reasons this scenario explains. no_route: the laptop's own IPv6 multicast
# (router solicitations) for which no route exists; unknown_index / expired_key: messages under a
# keypair a rekey retired a moment before. Anything else is a defect.
rtr curl -sf "http://$METRICS_ADDR/metrics" | awk '/^meshgate_inbound_dropped_packets_total/ && $2 != 0' >"$S/drops"
sed 's/^/# /' "$S/drops"
unexplained=$(grep -v -E 'reason="(no_route|unknown_index|expired_key)"' "$S/drops" | wc -l)
check "no unexplained drop reason" test "$unexplained" = 0

# Memory: the first sample (after 5 s of warm-up) against the last.
read -r _ rss_first < <(head -n 1 "$S/rss")
read -r _ rss_last < <(tail -n 1 "$S/rss")
echo "# RSS: $(tr '\n' ' ' <"$S/rss" | awk '{ for (i = 2; i <= NF; i += 2) printf "%s ", $i }')KiB"
check "RSS flat: ${rss_first:-?} -> ${rss_last:-?} KiB (limit +4 MiB)" \
	test $(( ${rss_last:-999999} - ${rss_first:-0} )) -lt 4096

# Counters: what meshgate says it received from the laptop is what the laptop says it sent, and
# the other way, within 1% (datagrams sent to a port the laptop just left are never received).
read -r mrx mtx < <(wg show $RIF transfer | awk -v k="$(lab_lap_pub)" '$1 == k { print $2, $3 }')
read -r lrx ltx < <(wg show $LAP_IF transfer | awk 'NR == 1 { print $2, $3 }')
echo "# transfer: meshgate rx $mrx tx $mtx, laptop rx $lrx tx $ltx"
within() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= a / 100) }'; }
check "meshgate rx = laptop tx (within 1%)" within "${mrx:-0}" "${ltx:-0}"
check "meshgate tx = laptop rx (within 1%)" within "${mtx:-0}" "${lrx:-0}"

# UMEM: at SIGTERM every frame is back (meshgate prints the count per queue).
t_router_stop
nq=$(grep -c 'frames unaccounted' "$MG_LAB_DIR/meshgate.log")
check "UMEM: every frame accounted for on all $nq queues" \
	sh -c "[ $nq -gt 0 ] && ! grep 'frames unaccounted' '$MG_LAB_DIR/meshgate.log' | grep -qv 'frames unaccounted 0\$'"
rm -rf "$S"
t_end
