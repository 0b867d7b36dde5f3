#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# DERP home region by STUN latency, home fail-over, and the ServerInfo send limit,
# against three independent Python DERP servers (tests/derp/derpd.py), two with STUN.
#
#   mg-lap: wireguard-go (key L) -- lapsock.py (DERP client on region 902 only)
#           derppeer.py (a disco-only "phone" homed on 902)
#              |  UDP between laptop and router dropped in the gateway (DERP only)
#   mg-gw:  derpd 900 :8443 + STUN :3478 answering 80 ms late   (slow region, lowest id)
#           derpd 901 :8444 + STUN :3479 answering at once       (fast region)
#           derpd 902 :8445, no STUN, ServerInfo token bucket 30000 B/s, burst 12000 B
#           testcontrol.py 192.168.8.1:8080 (records lite map requests)
#              |
#   mg-rtr: meshgate (LoginServer, DERPCAFile) ---------- mg-host 192.168.8.80
#
# 1. Latency: meshgate STUNs both regions from its WireGuard port and makes the fast 901 home
#    (not the lowest id 900): NotePreferred(1) there, PreferredDERP 901 in a lite map request.
#    A peer reaches meshgate through 901 (disco ping via 901, pong back on 901, not on the
#    peer's home 902).
# 2. Relay: with UDP blocked, laptop <-> home host pings go through DERP (region 902).
# 3. Fail-over: 901's server is killed: within 10 s + margin meshgate makes 900 home (log,
#    NotePreferred(1) on 900, PreferredDERP 900 in a lite request), a peer reaches it via 900,
#    and the laptop's pings keep being answered.
# 4. Send limit: a ping flood to the laptop is held to the bucket: the 902 server receives no
#    more than rate * time + burst from meshgate, and meshgate counts what it dropped.
# 5. The old home's server restarts: meshgate's probe reconnects and, since it is clearly faster,
#    home returns to it (NotePreferred, PreferredDERP).
# 6. Leak check.
# Along the way (after 1): `meshgate netcheck -i NAME` reads the map the daemon saved in StateDir
# and finds the same nearest region.
HERE=$(cd "$(dirname "$0")" && pwd)
. "${LAB_SH:-$HERE/../lab/lab.sh}"
. "$HERE/../control/hslab.sh"

T=t-derp-home
FAILS=0
PY=/usr/bin/python3
CTL_ADDR=$GW_LAN4:8080
DERP_NAME=derp.test
R_SLOW=900 P_SLOW=8443 S_SLOW=3478
R_FAST=901 P_FAST=8444 S_FAST=3479
R_TB=902 P_TB=8445 TB_RATE=30000 TB_BURST=12000
SHIM_WG=51999 SHIM_UDP=41642
FAILOVER_MAX_S=18              # the bound is 10 s of no connection; margin for a loaded CI
D=$MG_LAB_DIR/derp-home
hs_diagnose() { grep 'derp:' "$MG_LAB_DIR/meshgate.log" 2>/dev/null | tail -n 8 | sed 's/^/# log: /'; }

[ "${MG_ROUTER:-meshgate}" = meshgate ] || { echo "SKIP: $T: meshgate only (DERP client)"; exit 0; }
hs_require h2 cryptography nacl -- ip wg wireguard-go nft curl ping openssl jq

cleanup() {
	for p in lapsock derp900 derp901 derp902 testcontrol; do lab_stop_pid "$D/$p.pid"; done
	lab_down
}
trap cleanup EXIT

derpmap_json() {
	echo "{\"DERPMap\":{\"Regions\":{$(region_json $R_SLOW $P_SLOW $S_SLOW),$(region_json $R_FAST $P_FAST $S_FAST),$(region_json $R_TB $P_TB -1)}}}"
}

# The PreferredDERP of the router's latest lite map request (what peers learn as its HomeDERP).
lite_derp() {
	ctl_state | $PY -c '
import json, sys
lite = json.load(sys.stdin)["lite"]
print(((lite[-1]["req"].get("Hostinfo") or {}).get("NetInfo") or {}).get("PreferredDERP", 0) if lite else 0)'
}
lite_says() { [ "$(lite_derp)" = "$1" ]; }
last_preferred() { grep "^PREFERRED $RTR_HEX " "$D/derp$1.out" | tail -n 1 | cut -d' ' -f3; }
preferred_is() { [ "$(last_preferred "$1")" = "$2" ]; }
peer_via() {	# peer_via PORT REGION: a disco ping via that region is answered on the same region
	lap timeout 12 $PY "$HERE/../derp/derppeer.py" --home $GW_WAN4:$P_TB --via $GW_WAN4:$1 \
		--name $DERP_NAME --ca "$D/ca.pem" --node-priv "$PHONE_PRIV" --disco-priv "$PHONE_DISCO_PRIV" \
		--peer-node "$RTR_HEX" --peer-disco "$RTR_DISCO" --seconds 3 >"$D/peer$1.out" 2>"$D/peer$1.log"
	grep -q "^PONG via via txid-ok=True src=127.3.3.40:$2\$" "$D/peer$1.out" && ! grep -q "^PONG via home" "$D/peer$1.out"
}
metric_is() { [ "$(lab_metric meshgate_control_preferred_derp)" = "$1" ]; }
sent_902() { grep "^SENT $RTR_HEX " "$D/derp$R_TB.out" | tail -n 1; }   # "SENT key bytes=N secs=S"

lab_up || { echo "FAIL: $T: lab setup"; exit 1; }
: >"$MG_LAB_DIR/meshgate.log"
check "throwaway CA and DERP server certificate (openssl)" make_certs
derpd $R_SLOW $P_SLOW --ping-clients --stun 0.0.0.0:$S_SLOW --stun-delay-ms 80
derpd $R_FAST $P_FAST --stun 0.0.0.0:$S_FAST
derpd $R_TB $P_TB --token-bucket $TB_RATE,$TB_BURST
check "three DERP servers up in the gateway (regions $R_SLOW, $R_FAST, $R_TB)" wait_for 5 sh -c \
	"grep -q '^READY' '$D/derp$R_SLOW.out' && grep -q '^READY' '$D/derp$R_FAST.out' && grep -q '^READY' '$D/derp$R_TB.out'"
check "test control server up" ctl_start
read -r SHIM_DISCO_PRIV SHIM_DISCO_PUB < <(keypair)
read -r PHONE_PRIV PHONE_PUB < <(keypair)
read -r PHONE_DISCO_PRIV PHONE_DISCO_PUB < <(keypair)
RTR_HEX=$(hex_of_b64 <"$MG_LAB_DIR/rtr.pub")
hs_state
write_conf "DERPCAFile = $D/ca.pem"
ctl peers "[$(laptop_json $R_TB $SHIM_DISCO_PUB $LAP_WAN4:$SHIM_UDP),$(phone_json $R_TB)]"
block_udp
check "meshgate starts with LoginServer" start_meshgate
check "meshgate registers" wait_for 10 log_has "headscale: connected"
ctl send "$(derpmap_json)"

# 1. Home by latency.
check "STUN from meshgate's WireGuard port reaches both regions' STUN responders" wait_for 10 sh -c \
	"grep -q '^STUN $RTR_LAN4:$WG_PORT' '$D/derp$R_SLOW.out' && grep -q '^STUN $RTR_LAN4:$WG_PORT' '$D/derp$R_FAST.out'"
check "the fast region $R_FAST becomes home, not the lowest id $R_SLOW" \
	wait_for 10 log_has "derp: home region [0-9]* -> $R_FAST (STUN latency"
grep "derp: home region" "$MG_LAB_DIR/meshgate.log" | sed 's/^/# /'
check "NotePreferred(1) on region $R_FAST's server" wait_for 10 preferred_is $R_FAST 1
check "the lite map request publishes PreferredDERP $R_FAST" wait_for 10 lite_says $R_FAST
check "/metrics: meshgate_control_preferred_derp $R_FAST" wait_for 5 metric_is $R_FAST
check "/metrics: connected to region $R_FAST" \
	test "$(lab_metric meshgate_derp_region_connected "region=\"$R_FAST\"")" = 1
rtt_of() {	# rtt_of REGION: meshgate_derp_region_latency_seconds, as printed
	rtr curl -sf --max-time 3 "http://$METRICS_ADDR/metrics" |
		awk -v k="meshgate_derp_region_latency_seconds{region=\"$1\"}" '$1 == k { print $2 }'
}
fast_rtt=$(rtt_of $R_FAST) slow_rtt=$(rtt_of $R_SLOW)
check "/metrics: region $R_FAST's STUN round trip ($fast_rtt s) below 80 ms" \
	awk -v r="${fast_rtt:-1}" 'BEGIN { exit !(r > 0 && r < 0.08) }'
check "/metrics: region $R_SLOW measured too, with its 80 ms delay ($slow_rtt s)" \
	awk -v r="${slow_rtt:-0}" 'BEGIN { exit !(r >= 0.08) }'
# meshgate netcheck reads the map the daemon saved in StateDir (found through the running daemon,
# -i NAME) and agrees with the daemon on the nearest region.
check "the DERP map saved in StateDir/derpmap.json (regions $R_SLOW, $R_FAST, $R_TB)" wait_for 5 sh -c \
	"jq -e '.Regions | has(\"$R_SLOW\") and has(\"$R_FAST\") and has(\"$R_TB\")' '$MG_LAB_DIR/hs-state/derpmap.json'"
rtr "$MESHGATE" netcheck -i $MG_IF --json >"$D/netcheck.json" 2>"$D/netcheck.err"
echo "# netcheck: $(cat "$D/netcheck.json")"
check "netcheck -i $MG_IF: nearest $R_FAST, as the daemon's home" jq -e ".PreferredDERP == $R_FAST" "$D/netcheck.json"
check "netcheck: region $R_SLOW's STUN answer 80 ms late, $R_FAST's not" \
	jq -e ".RegionV4Latency[\"$R_SLOW\"] >= 80000000 and .RegionV4Latency[\"$R_FAST\"] < 80000000" "$D/netcheck.json"
check "netcheck: region $R_TB (no STUN) measured by TCP only" \
	jq -e "(.RegionV4Latency | has(\"$R_TB\") | not) and .RegionTCPLatency[\"$R_TB\"] > 0" "$D/netcheck.json"
check "netcheck: every TCP connect to the gateway's DERP servers under 1 s" \
	jq -e '[.RegionTCPLatency[]] | length == 3 and max < 1000000000' "$D/netcheck.json"
check "netcheck: the map read is the StateDir copy" jq -e ".DERPMap == \"$MG_LAB_DIR/hs-state/derpmap.json\"" "$D/netcheck.json"
RTR_DISCO=$(rtr_disco)
check "a peer reaches meshgate through its home $R_FAST (disco ping via $R_FAST, pong back on $R_FAST)" \
	peer_via $P_FAST $R_FAST

# 2. The laptop, relayed through region 902 (UDP blocked).
start_lapsock $P_TB $R_TB
check "laptop shim connects to region $R_TB" wait_for 5 grep -q "^DERP up" "$D/lapsock.out"
check "UDP blocked: home host -> laptop ping through DERP region $R_TB" host_ping_ok $LAP_TS4
check "UDP blocked: laptop -> home host ping through DERP" ping_ok $HOST4
check "meshgate learned region $R_TB's send limit from ServerInfo" \
	log_has "derp: region $R_TB limits what we send to $TB_RATE B/s, burst $TB_BURST B"

# 3. Fail-over: the home region's server goes away for good.
lap ping -c 40 -i 0.5 -W 1 $HOST4 >"$D/ping-failover.out" 2>&1 &
PINGS=$!
lab_stop_pid "$D/derp$R_FAST.pid"
t0=$(date +%s%N)
check "region $R_FAST killed: meshgate moves home to $R_SLOW within ${FAILOVER_MAX_S} s" \
	wait_for $FAILOVER_MAX_S log_has "derp: home region $R_FAST -> $R_SLOW (old home unreachable"
echo "# fail-over after $(( ($(date +%s%N) - t0) / 1000000 )) ms (bound: 10 s without a connection)"
check "the log names the unreachable home first" log_has "derp: home region $R_FAST unreachable for"
# The old home comes back (a new server process on the same address); meshgate keeps probing it.
mv "$D/derp$R_FAST.out" "$D/derp$R_FAST-first.out"
derpd $R_FAST $P_FAST --stun 0.0.0.0:$S_FAST
t_back=$(date +%s%N)
check "NotePreferred(1) on region $R_SLOW's server" wait_for 5 preferred_is $R_SLOW 1
check "the lite map request publishes PreferredDERP $R_SLOW" wait_for 10 lite_says $R_SLOW
check "a peer reaches meshgate through its new home $R_SLOW (pong back on $R_SLOW)" peer_via $P_SLOW $R_SLOW
wait $PINGS
echo "# laptop pings across the fail-over: $(grep -o '[0-9]* received' "$D/ping-failover.out")"
check "the relayed laptop's pings were answered across the fail-over (>= 36 of 40)" \
	sh -c "[ \"\$(grep -o '[0-9]* received' '$D/ping-failover.out' | cut -d' ' -f1)\" -ge 36 ]"

# 4. The send limit: a flood to the laptop is held to rate * time + burst at region 902.
before=$(sent_902)
host ping -q -s 1200 -i 0.002 -c 1000 -w 3 $LAP_TS4 >/dev/null 2>&1
sleep 1.2
after=$(sent_902)
echo "# region $R_TB received from meshgate: before [${before#SENT * }] after [${after#SENT * }]"
held() {
	$PY - "$before" "$after" $TB_RATE $TB_BURST <<-'EOF'
	import sys
	def parse(line):
	    f = dict(kv.split("=") for kv in line.split()[2:])
	    return int(f["bytes"]), float(f["secs"])
	(b0, s0), (b1, s1) = parse(sys.argv[1]), parse(sys.argv[2])
	rate, burst = int(sys.argv[3]), int(sys.argv[4])
	# the server samples once a second: allow one sampling step and one frame of slack
	limit = rate * (s1 - s0 + 1.0) + burst + 1300
	print("# %d B in %.2f s; allowed %d B; offered about 1,297,000 B" % (b1 - b0, s1 - s0, limit))
	sys.exit(0 if 0 < b1 - b0 <= limit and b1 - b0 >= rate * (s1 - s0) / 4 else 1)
	EOF
}
check "region $R_TB received no more than rate * time + burst during a 650 kB/s flood" held
check "meshgate counted the packets the bucket dropped (>= 100 of the flood)" \
	wait_for 8 log_has "derp: region $R_TB: [1-9][0-9][0-9][0-9]* packets dropped by the server's rate limit"
grep "rate limit" "$MG_LAB_DIR/meshgate.log" | tail -n 1 | sed 's/^/# /'
tb_drops=$(lab_metric meshgate_derp_dropped_packets_total "region=\"$R_TB\"" 'reason="rate_limited"')
check "/metrics: the same drops under reason=\"rate_limited\" ($tb_drops >= 100)" test "${tb_drops:-0}" -ge 100
check "an ordinary ping still passes the limit afterwards" host_ping_ok $LAP_TS4

# 5. The old home is back and clearly faster (2 ms against 80 ms): home returns to it.
check "region $R_FAST back: home returns to it (STUN latency, hysteresis passed)" \
	wait_for 40 log_has "derp: home region $R_SLOW -> $R_FAST (STUN latency"
echo "# back as home $(( ($(date +%s%N) - t_back) / 1000000 )) ms after its server restarted (probe backoff up to 30 s)"
check "NotePreferred(1) on the restarted region $R_FAST, (0) on $R_SLOW" \
	wait_for 5 sh -c "grep -q '^PREFERRED $RTR_HEX 1' '$D/derp$R_FAST.out' && [ \"\$(grep '^PREFERRED $RTR_HEX' '$D/derp$R_SLOW.out' | tail -n 1)\" = 'PREFERRED $RTR_HEX 0' ]"
check "the lite map request publishes PreferredDERP $R_FAST again" wait_for 10 lite_says $R_FAST

for p in lapsock derp900 derp901 derp902 testcontrol; do lab_stop_pid "$D/$p.pid"; done
check "leak check" lab_stop_meshgate
check "meshgate logged no DERP protocol error" sh -c "! grep -q 'derp: .*protocol error' '$MG_LAB_DIR/meshgate.log'"

[ $FAILS = 0 ] && echo "$T: PASS" || echo "$T: $FAILS FAILED"
[ $FAILS = 0 ]
