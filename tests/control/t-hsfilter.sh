#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The packet filter of a Headscale-managed router, as tailscaled applies it, and TSMP.
#
#   mg-lap (wireguard-go, 100.64.0.2) --wan-- mg-gw [DNAT 41641; testcontrol.py 192.168.8.1:8080]
#                                                | lan (br0)
#        mg-rtr: meshgate, LoginServer, 100.64.0.5 -- mg-host 192.168.8.80 (routes the tailnet
#                                                       via the router: SNAT = false)
#
# 1. Policy "TCP 22 from the laptop to the home host only": the home host's UDP query to a
#    resolver on the laptop gets its reply (the flow it started is remembered); the laptop's own
#    UDP to the home host does not pass.
# 2. TSMP: a hand-made ping (raw socket, IP protocol 99) from the laptop to the router's tailnet
#    addresses gets a pong; TSMP for the home host never reaches it (a ping is answered for it,
#    as tailscaled does); drops counted as reason "tsmp".
# 3. Restart with the control server down: the filter saved with the netmap is in force again
#    (TCP 22 passes, TCP 8080 and ping do not).
# 4. Restart with a netmap that never held a filter: nothing from the tailnet passes; a TSMP ping
#    is still answered.
# Usage: tests/control/t-hsfilter.sh (root; MESHGATE=path/to/meshgate). Exit 0 pass, 1 fail, 77 skip.
HERE=$(cd "$(dirname "$0")" && pwd)
. "${LAB_SH:-$HERE/../lab/lab.sh}"
. "$HERE/hslab.sh"

T=t-hsfilter
FAILS=0
PY=/usr/bin/python3
CTL_ADDR=$GW_LAN4:8080
D=$MG_LAB_DIR
PROBE=$HERE/tsmp_udp.py

hs_require h2 cryptography -- ip wg wireguard-go nft curl ping nc

cleanup() {
	lab_stop_pid "$MG_LAB_DIR/testcontrol.pid"
	lab_stop_pid "$MG_LAB_DIR/udpecho.pid"
	lab_down
}
trap cleanup EXIT

has_laptop_peer() { wg show $MG_IF allowed-ips 2>/dev/null | grep -q "^$(lab_lap_pub)	.*$LAP_TS4/32"; }
connected() { grep -q "headscale: connected" "$MG_LAB_DIR/meshgate.log"; }
ping_fails() { ! lap ping -c 2 -W 1 "$1" >/dev/null 2>&1; }
tcp_open() {	# tcp_open PORT: can the laptop open a TCP connection to the home host's PORT?
	host timeout 5 nc -l "$1" >/dev/null 2>&1 &
	local l=$!
	sleep 0.3
	lap nc -z -w 2 $HOST4 "$1"
	local rc=$?
	kill $l 2>/dev/null; wait $l 2>/dev/null
	return $rc
}
drops() { lab_metric meshgate_inbound_dropped_packets_total "reason=\"$1\""; }
tsmp_ping() { lap $PY "$PROBE" tsmp-ping "$@"; }
# tsmp_reaches_host TYPE: does a TSMP message of TYPE from the laptop to the home host arrive?
tsmp_reaches_host() {
	host $PY "$PROBE" tsmp-listen 3 &
	local l=$! rc
	sleep 0.5
	tsmp_ping $HOST4 --type "$1" >/dev/null
	wait $l
	rc=$?
	return $rc
}
# udp_from_laptop_reaches_host: the laptop's UDP to the home host's port 5353 arrives?
udp_from_laptop_reaches_host() {
	host $PY "$PROBE" udp-echo 0.0.0.0 5353 3 >"$D/hostecho.out" &
	local l=$!
	sleep 0.5
	lap $PY "$PROBE" udp-query $HOST4 5353 >/dev/null
	wait $l
	grep -q "query from" "$D/hostecho.out"
}

lab_up || { echo "FAIL: $T: lab setup"; exit 1; }
: >"$MG_LAB_DIR/meshgate.log"
check "test control server up on $CTL_ADDR" ctl_start
hs_state
write_conf
ctl peers "[$(laptop_json)]"
check "meshgate starts with LoginServer" start_meshgate
check "meshgate registers and holds a map stream" wait_for 10 connected
check "the laptop is a peer" wait_for 10 has_laptop_peer
ctl send '{"PacketFilters":{"base":[{"SrcIPs":["'$LAP_TS4'"],"DstPorts":[{"IP":"'$HOST4'","Ports":{"First":22,"Last":22}}],"IPProto":[6]}]}}'
sleep 0.5
lab_reset_laptop_session
check "policy: TCP 22 laptop -> home host passes" wait_for 10 tcp_open 22
check "policy: ping laptop -> home host is dropped" ping_fails $HOST4

# 1. A resolver on the laptop's tailnet address; the home host asks it.
lap $PY "$PROBE" udp-echo $LAP_TS4 5353 60 >"$D/udpecho.out" 2>&1 &
echo $! >"$D/udpecho.pid"
sleep 0.5
check "UDP: the home host's query to the laptop's resolver gets its reply (policy allows no UDP)" \
	host $PY "$PROBE" udp-query $LAP_TS4 5353
check "UDP: ...the reply was let in as one of a remembered flow" \
	test "$(lab_metric meshgate_filter_flow_replies_total)" -ge 1
check "UDP: ...and the flow is counted" test "$(lab_metric meshgate_filter_flows_tracked_total)" -ge 1
check_fails "UDP: the laptop's own UDP to the home host is dropped" udp_from_laptop_reaches_host
lab_stop_pid "$D/udpecho.pid"

# 2. TSMP
t0=$(drops tsmp)
check "TSMP: a ping to the router's tailnet address $RTR_TS4 gets a pong" tsmp_ping $RTR_TS4
check "TSMP: a ping to $RTR_TS6 gets a pong" tsmp_ping $RTR_TS6
check "/metrics: pongs counted" test "$(lab_metric meshgate_tsmp_pongs_total)" -ge 2
check_fails "TSMP: a ping for the home host never reaches it" tsmp_reaches_host p
check_fails "TSMP: a rejected-connection message for the home host never reaches it" tsmp_reaches_host '!'
check "TSMP: ...the ping for the home host is answered in its name" tsmp_ping $HOST4
check "TSMP: drops counted as reason tsmp" test "$(drops tsmp)" -gt "${t0:-0}"

# 3. The control server goes away; the filter saved with the netmap comes back with the peers.
check "netmap.json holds the packet filter" \
	$PY -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("filter") else 1)' \
	"$MG_LAB_DIR/hs-state/netmap.json"
lab_stop_pid "$MG_LAB_DIR/testcontrol.pid"
check "leak check after the first run" lab_stop_meshgate
hs_state
check "restart with the control server down" start_meshgate
check "the saved netmap's laptop is a peer" wait_for 10 has_laptop_peer
lab_reset_laptop_session
check "saved filter: TCP 22 laptop -> home host passes" wait_for 10 tcp_open 22
check_fails "saved filter: TCP 8080 is dropped" tcp_open 8080
check "saved filter: ping to the home host is dropped" ping_fails $HOST4

# 4. A netmap that never held a filter (as one saved before a first filter arrived).
check "leak check after the second run" lab_stop_meshgate
$PY -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p)); d.pop("filter", None); json.dump(d, open(p, "w"))' \
	"$MG_LAB_DIR/hs-state/netmap.json"
hs_state
f0=0
check "restart with the control server down and no filter ever received" start_meshgate
check "the saved netmap's laptop is a peer" wait_for 10 has_laptop_peer
lab_reset_laptop_session
check_fails "no filter yet: TCP 22 laptop -> home host is dropped" tcp_open 22
check "no filter yet: ping to the home host is dropped" ping_fails $HOST4
check "no filter yet: ping to the router's tailnet address is dropped" ping_fails $RTR_TS4
check "no filter yet: the drops are counted as filtered" test "$(drops filtered)" -gt "$f0"
check "no filter yet: a TSMP ping is still answered" tsmp_ping $RTR_TS4
check "leak check" lab_stop_meshgate

[ $FAILS = 0 ] && echo "$T: PASS" || echo "$T: $FAILS FAILED"
[ $FAILS = 0 ]
