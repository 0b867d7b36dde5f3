#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A real Prometheus server (the Debian package) scrapes meshgate in the lab,
# with the shipped scrape example and alert rules; its HTTP API must then
# answer tailscale_peers and the traffic counters with the values a known
# transfer produces, and the byte counters must agree with `wg show transfer`
# on both ends (meshgate's UAPI and wireguard-go on the laptop).
#
#   mg-lap wireguard-go ==wg==> mg-gw ==> mg-rtr: meshgate --127.0.0.1:9586/metrics--> prometheus
#                                                                      (127.0.0.1:9590, same netns)
#
# Known transfer: 100 ICMP echo requests of 56 data bytes from the laptop to
# the home host: 100 data messages in and 100 out, each an 84-byte IPv4
# packet padded to 96 plus 32 bytes of WireGuard header and tag = 128 bytes.
# A passive keepalive (32 bytes) may join, so packets may exceed 100 by 2.
. "$(dirname "$0")/lib.sh"
CONFIGS="$LAB_ROOT/configs/prometheus"
PROM_ADDR=127.0.0.1:9590

if ! meshgate_only; then skip "Prometheus scrape (wireguard-go has no /metrics)"; exit 0; fi
for c in prometheus promtool jq; do
	command -v $c >/dev/null || { skip "machine lacks $c (see scripts/deps.sh)"; exit 77; }
done
t_begin
t_start_router_or_die

# ---- the exposition itself -------------------------------------------------------------------
scrape() { rtr curl -sf --max-time 3 "http://$METRICS_ADDR/metrics$1"; }
promtool_ok() { scrape "$1" | promtool check metrics; }
# Every sample's family (histogram suffixes stripped) has a HELP and a TYPE line before it.
help_type_ok() {
	scrape "$1" | awk '
	/^# HELP / { h[$3] = 1; next }
	/^# TYPE / { t[$3] = 1; next }
	{ n = $1; sub(/\{.*/, "", n); b = n; sub(/_(bucket|sum|count)$/, "", b)
	  if (!((n in h && n in t) || (b in h && b in t))) { print "no HELP/TYPE: " n; bad = 1 } }
	END { exit bad }'
}
has_series() { scrape "$1" | grep -q "^$2[ {]"; }
ctype=$(rtr curl -sf -o /dev/null -w '%{content_type}' "http://$METRICS_ADDR/metrics")
expect_eq "Content-Type is exactly the 0.0.4 one" "$ctype" "text/plain; version=0.0.4; charset=utf-8"
check "promtool check metrics: node series" promtool_ok ""
check "promtool check metrics: with per-peer series" promtool_ok "?peers=1"
check "every family has HELP and TYPE" help_type_ok "?peers=1"
check_fails "per-peer series only on request" has_series "" wireguard_peer_info
check "per-peer series with ?peers=1" has_series "?peers=1" wireguard_peer_receive_bytes_total
for m in tailscale_up tailscale_peers tailscale_backend_running tailscale_peers_direct tailscale_peers_relay; do
	check "dashboard name $m exported" has_series "" $m
done

# ---- Prometheus in the router's namespace, with the shipped rules ------------------------------
pdir="$MG_LAB_DIR/prometheus"
rm -rf "$pdir" && mkdir -p "$pdir/data"
cp "$CONFIGS/meshgate-rules.yml" "$pdir/"
# The shipped example, with a 1 s interval and the lab's targets.
sed -e 's/scrape_interval: 15s/scrape_interval: 1s/; s/evaluation_interval: 15s/evaluation_interval: 1s/' \
	-e "s/127.0.0.1:9586/$METRICS_ADDR/" "$CONFIGS/prometheus.yml" >"$pdir/prometheus.yml"
promtool_cfg() { promtool check config "$CONFIGS/prometheus.yml" >/dev/null 2>&1; }
prules() { promtool check rules "$CONFIGS/meshgate-rules.yml" >/dev/null 2>&1; }
check "promtool check config (shipped example)" promtool_cfg
check "promtool check rules (shipped rules)" prules
rtr prometheus --config.file="$pdir/prometheus.yml" --storage.tsdb.path="$pdir/data" \
	--web.listen-address=$PROM_ADDR --log.level=warn >"$pdir/log" 2>&1 &
prom_pid=$!
stop_prometheus() { kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null; prom_pid=; }
trap 'stop_prometheus; t_cleanup; exit $?' EXIT
papi() { rtr curl -sf --max-time 3 "http://$PROM_ADDR/api/v1/$1" "${@:2}"; }
# query EXPR: the single value of an instant query ("" when no series).
query() { papi query --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'; }
# wait_query EXPR WANT: until Prometheus answers WANT (it scrapes every second).
wait_query() { local i; for i in $(seq 50); do [ "$(query "$1")" = "$2" ] && return 0; sleep 0.2; done; return 1; }

if ! wait_for 20 rtr curl -sf "http://$PROM_ADDR/-/ready"; then
	fail "prometheus did not become ready; log:"; cat "$pdir/log"; exit 1
fi
targets_up() { [ "$(papi targets | jq '[.data.activeTargets[] | select(.health == "up")] | length')" = 2 ]; }
rules_ok() { [ "$(papi rules | jq '[.data.groups[].rules[] | select(.health == "ok")] | length')" = 6 ]; }
no_alert_firing() { [ "$(papi alerts | jq '[.data.alerts[] | select(.state == "firing")] | length')" = 0 ]; }
check "both scrape jobs are up" wait_for 15 targets_up
check "rules loaded by the server: 6, all healthy" wait_for 10 rules_ok

# ---- the known transfer -----------------------------------------------------------------------
check "laptop -> host ping (handshake)" ping_ok lap $HOST4
sleep 1
in_p0=$(lab_metric meshgate_inbound_packets_total)  out_p0=$(lab_metric meshgate_outbound_packets_total)
in_b0=$(lab_metric meshgate_inbound_bytes_total)    out_b0=$(lab_metric meshgate_outbound_bytes_total)
read -r r_rx0 r_tx0 <<<"$(wg_transfer $RIF)"
read -r l_rx0 l_tx0 <<<"$(wg_transfer $LAP_IF)"
lap ping -n -q -c 100 -i 0.01 -w 10 $HOST4 >/dev/null
sleep 0.5
in_p1=$(lab_metric meshgate_inbound_packets_total)  out_p1=$(lab_metric meshgate_outbound_packets_total)
in_b1=$(lab_metric meshgate_inbound_bytes_total)    out_b1=$(lab_metric meshgate_outbound_bytes_total)
read -r r_rx1 r_tx1 <<<"$(wg_transfer $RIF)"
read -r l_rx1 l_tx1 <<<"$(wg_transfer $LAP_IF)"
d_in=$((in_p1 - in_p0)) d_out=$((out_p1 - out_p0)) d_inb=$((in_b1 - in_b0)) d_outb=$((out_b1 - out_b0))
echo "# deltas: in $d_in pkts $d_inb B, out $d_out pkts $d_outb B; wg rtr rx $((r_rx1 - r_rx0)) tx $((r_tx1 - r_tx0)); lap rx $((l_rx1 - l_rx0)) tx $((l_tx1 - l_tx0))"
check "inbound data messages: 100 (+2 keepalives) ($d_in)" test $d_in -ge 100 -a $d_in -le 102
check "outbound data messages: 100 (+2 keepalives) ($d_out)" test $d_out -ge 100 -a $d_out -le 102
check "inbound bytes: 100 x 128 (+64) ($d_inb)" test $d_inb -ge 12800 -a $d_inb -le 12864
check "outbound bytes: 100 x 128 (+64) ($d_outb)" test $d_outb -ge 12800 -a $d_outb -le 12864
# No handshake happened in between, so data bytes are all the UAPI counters saw.
expect_eq "inbound bytes == wg show $RIF transfer rx delta" $d_inb $((r_rx1 - r_rx0))
expect_eq "outbound bytes == wg show $RIF transfer tx delta" $d_outb $((r_tx1 - r_tx0))
within() { local d=$(($1 - $2)); [ ${d#-} -le 64 ]; }
check "inbound bytes == laptop's (wireguard-go) tx delta, +-64" within $d_inb $((l_tx1 - l_tx0))
check "outbound bytes == laptop's (wireguard-go) rx delta, +-64" within $d_outb $((l_rx1 - l_rx0))

# ---- what the Prometheus server stored --------------------------------------------------------
check "Prometheus: tailscale_peers = 1" wait_query 'tailscale_peers{job="meshgate"}' 1
check "Prometheus: tailscale_peers_direct = 1" wait_query 'tailscale_peers_direct{job="meshgate"}' 1
check "Prometheus: meshgate_peers{state=\"active\"} = 1" wait_query 'meshgate_peers{job="meshgate",state="active"}' 1
check "Prometheus: sum(meshgate_inbound_packets_total) = $in_p1" \
	wait_query 'sum(meshgate_inbound_packets_total{job="meshgate"})' "$in_p1"
check "Prometheus: inbound bytes on path direct_ipv4 = $in_b1" \
	wait_query 'meshgate_inbound_bytes_total{job="meshgate",path="direct_ipv4"}' "$in_b1"
check "Prometheus: per-peer receive bytes = wg show rx ($r_rx1)" \
	wait_query 'sum(wireguard_peer_receive_bytes_total{job="meshgate_peers"})' "$r_rx1"
check "Prometheus: per-peer transmit bytes = wg show tx ($r_tx1)" \
	wait_query 'sum(wireguard_peer_transmit_bytes_total{job="meshgate_peers"})' "$r_tx1"
check "Prometheus: crypto batch histogram counted the transfer" \
	test "$(query 'meshgate_crypto_batch_size_count{job="meshgate"}')" -ge 200
check "Prometheus: no alert firing on a healthy router" no_alert_firing

# ---- meshgate metrics write: the textfile collector's file ---------------------------------------
prom="$MG_LAB_DIR/textfile/meshgate.prom"
mkdir -p "$(dirname "$prom")" && echo stale >"$prom"
check "meshgate metrics write PATH" rtr "$MESHGATE" metrics write -c "$MG_LAB_DIR/meshgate.conf" "$prom"
check "the written file passes promtool check metrics" promtool check metrics <"$prom"
expect_eq "the written file is mode 0644" "$(stat -c %a "$prom")" 644
check "no temporary file left next to it" test "$(ls -A "$(dirname "$prom")")" = meshgate.prom

stop_prometheus
t_router_stop
check_fails "metrics write fails when meshgate is down" rtr "$MESHGATE" metrics write -c "$MG_LAB_DIR/meshgate.conf" "$prom"
check "... and leaves the last good file in place" grep -q '^tailscale_up 1' "$prom"
t_end
