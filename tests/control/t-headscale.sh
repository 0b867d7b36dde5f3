#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# meshgate joins a tailnet through the test control server and routes for a peer it announced.
#
#   mg-lap (wireguard-go, key L) --wan-- mg-gw [DNAT 41641; testcontrol.py on 192.168.8.1:8080]
#                                           | lan (br0)
#                 mg-rtr: meshgate, LoginServer = http://192.168.8.1:8080, no [Peer] -- mg-host .80
#
# 1. meshgate registers (pre-auth key, RoutableIPs) and gets a full map naming L -> L is a
#    WireGuard peer with its tailnet addresses; the laptop reaches the home host.
# 2. PeersRemoved [L] -> the peer is gone; traffic stops.  3. PeersChanged [L] -> back; traffic.
# Endpoints: the DERP map names a STUN-only node (tsdisco.py stun on the laptop's WAN side); the
# mapped address (the gateway's masquerade) goes out in a lite MapRequest with the interface
# address, PreferredDERP 999; maps come zstd-compressed. Later: ForwardedPort/PublicEndpoint
# (type 5), node-key rotation when the server says the key expired (the laptop then needs the
# new key to reach the LAN).
# 4. The server dies; meshgate restarts with no Address in the file -> StateDir/netmap.json
#    restores L and our tailnet addresses; traffic still flows.
# A restart with AuthKeyFile emptied reconnects without registering again.
# 5. Leak check (lab_stop_meshgate: exit 0, no XDP program, no UAPI socket).
# Usage: tests/control/t-headscale.sh   (root; MESHGATE=path/to/meshgate; LAB_SH=path/to/lab.sh
# selects another copy of the lab, e.g. with renamed namespaces). Exit 0 pass, 1 fail, 77 skip.
HERE=$(cd "$(dirname "$0")" && pwd)
. "${LAB_SH:-$HERE/../lab/lab.sh}"
. "$HERE/hslab.sh"

T=t-headscale
FAILS=0
PY=/usr/bin/python3
CTL_ADDR=$GW_LAN4:8080
D=$MG_LAB_DIR

hs_require h2 cryptography -- ip wg wireguard-go nft curl ping

cleanup() {
	lab_stop_pid "$MG_LAB_DIR/testcontrol.pid"
	lab_stop_pid "$MG_LAB_DIR/stunserver.pid"
	lab_stop_pid "$MG_LAB_DIR/stunserver2.pid"
	pkill -f "tsdisco.py stun --listen $LAP_WAN4:" 2>/dev/null    # the pid files hold their shells
	[ -n "${NETNS_ETC:-}" ] && rm -rf "$NETNS_ETC"
	lab_down
}
trap cleanup EXIT

ZSTD=
$PY -c 'import zstandard' 2>/dev/null && ZSTD=--zstd
# A subnet behind the laptop (its own approved route), for AcceptRoutes.
LAP_SUBNET=10.99.0.0/24 LAP_SUBNET_HOST=10.99.0.1

has_laptop_peer() { wg show $MG_IF allowed-ips 2>/dev/null | grep -q "^$(lab_lap_pub)	.*$LAP_TS4/32"; }
no_laptop_peer() { ! wg show $MG_IF peers 2>/dev/null | grep -q "^$(lab_lap_pub)$"; }
ping_fails() { ! lap ping -c 2 -W 1 "$1" >/dev/null 2>&1; }
connected() { grep -q "headscale: connected" "$MG_LAB_DIR/meshgate.log"; }
n_registers() { ctl_state | $PY -c 'import json, sys; print(len(json.load(sys.stdin)["registers"]))'; }
# published lite|any EP/TYPE...: a lite MapRequest (or any MapRequest) published exactly these
# endpoints among others, with Hostinfo.NetInfo.PreferredDERP 999.
published() {
	local mode=$1; shift
	ctl_state | $PY -c '
import json, sys
st, mode, want = json.load(sys.stdin), sys.argv[1], sys.argv[2:]
reqs = [x["req"] for x in st["lite"]]
if mode == "any":
    reqs += [n.get("last_map_request") or {} for n in st["nodes"].values()]
def eps(r):
    return ["%s/%d" % e for e in zip(r.get("Endpoints") or [], r.get("EndpointTypes") or [])]
ok = any(all(w in eps(r) for w in want) and ((r.get("Hostinfo") or {}).get("NetInfo") or {}).get("PreferredDERP") == 999
         and (mode == "any" or (r["Stream"] is False and r["OmitPeers"] is True)) for r in reqs)
sys.exit(0 if ok else 1)' "$mode" "$@"
}
n_lite() { ctl_state | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["lite"]))'; }
STUN_PORT=3478 STUN2_PORT=3479
# Region 999: its DERP node, then a STUN-only node on the laptop's side of the NAT. Region 1000:
# a STUN-only node known by name only (resolved through the router namespace's own hosts file,
# /etc/netns/NS/hosts, which `ip netns exec` mounts over /etc/hosts).
DERPMAP='{"Regions":{"999":{"RegionID":999,"RegionCode":"test","RegionName":"test","Nodes":[
  {"Name":"999a","RegionID":999,"HostName":"'$GW_LAN4'","STUNPort":-1,"DERPPort":443},
  {"Name":"999s","RegionID":999,"HostName":"stun.test","IPv4":"'$LAP_WAN4'","STUNPort":'$STUN_PORT',"STUNOnly":true}]},
 "1000":{"RegionID":1000,"RegionCode":"stun","RegionName":"stun by name","Nodes":[
  {"Name":"1000s","RegionID":1000,"HostName":"stun.lab.test","STUNPort":'$STUN2_PORT',"STUNOnly":true}]}}}'

lab_up || { echo "FAIL: $T: lab setup"; exit 1; }
: >"$MG_LAB_DIR/meshgate.log"
check "test control server up on $CTL_ADDR" ctl_start $ZSTD
lap $PY "$HERE/../disco/tsdisco.py" stun --listen $LAP_WAN4:$STUN_PORT --seconds 120 >"$MG_LAB_DIR/stunserver.log" 2>&1 &
echo $! >"$MG_LAB_DIR/stunserver.pid"
lap $PY "$HERE/../disco/tsdisco.py" stun --listen $LAP_WAN4:$STUN2_PORT --seconds 120 >"$MG_LAB_DIR/stunserver2.log" 2>&1 &
echo $! >"$MG_LAB_DIR/stunserver2.pid"
if [ ! -e "/etc/netns/${LAB_NS[3]}" ]; then
	NETNS_ETC=/etc/netns/${LAB_NS[3]}
	mkdir -p "$NETNS_ETC" && printf '127.0.0.1 localhost\n%s stun.lab.test\n' $LAP_WAN4 >"$NETNS_ETC/hosts"
fi
ctl config "{\"derpmap\":$DERPMAP}"
rm -rf "$MG_LAB_DIR/hs-state"       # nothing of an earlier run: the first start saves what later ones load
hs_state
write_conf "AcceptRoutes = false"
ctl peers "[$(laptop_json)]"
check "meshgate starts with LoginServer and no [Peer]" start_meshgate
check "meshgate registers and holds a map stream" wait_for 10 connected
check "the netmap's laptop is a WireGuard peer with its tailnet addresses" wait_for 10 has_laptop_peer
check "AcceptRoutes = false: the laptop's subnet route is not accepted" \
	sh -c "! wg show $MG_IF allowed-ips | grep -q '$LAP_SUBNET'"
check "the TUN holds the addresses Headscale assigned (no Address in the file)" \
	wait_for 10 sh -c "ip netns exec ${LAB_NS[3]} ip -o addr show dev $MG_IF | grep -q ' $RTR_TS4/32'"
check "laptop -> the router's assigned tailnet address" ping_ok $RTR_TS4
check "router key is the StateDir node key" test "$(wg show $MG_IF public-key)" = "$(lab_rtr_pub)"
check "Hostinfo.RoutableIPs reached the server" \
	sh -c "ip netns exec ${LAB_NS[1]} curl -sf http://$CTL_ADDR/test/state | grep -q '\"RoutableIPs\": \\[\"192.168.8.0/24\", \"fd00:8::/64\"\\]'"
check "laptop -> home host through meshgate" ping_ok $HOST4
# meshgate status: NAME is the tailnet name's first label (the laptop's Node.Name is
# laptop.tailnet.test.); --json carries the full name, and our own from the map's Node.
lap_name() { rtr "$MESHGATE" status -c "$MG_LAB_DIR/meshgate.conf" 2>/dev/null | awk -v a="$LAP_TS4" '$1 == a { print $2 }'; }
status_json() { rtr "$MESHGATE" status --json -c "$MG_LAB_DIR/meshgate.conf" 2>/dev/null; }
check "meshgate status names the laptop 'laptop' ($(lap_name))" test "$(lap_name)" = laptop
check "meshgate status --json: the laptop's DNSName" \
	test "$(status_json | jq -r --arg a "$LAP_TS4" '.Peers[] | select(.TailscaleIP == $a) | .DNSName')" = laptop.tailnet.test.
check "meshgate status --json: our own DNSName from the map ($(status_json | jq -r .Self.DNSName))" \
	sh -c "ip netns exec ${LAB_NS[3]} '$MESHGATE' status --json -c '$MG_LAB_DIR/meshgate.conf' | jq -e '.Self.DNSName | endswith(\".tailnet.test.\")' >/dev/null"
check "/metrics: control connected" test "$(lab_metric meshgate_control_connected)" = 1
check "/metrics: both advertised routes approved by the server" test "$(lab_metric meshgate_approved_routes)" = 2
check "/metrics: map updates counted" test "$(lab_metric meshgate_control_map_updates_total)" -ge 1
check "netmap.json kept in StateDir (0600)" test "$(stat -c %a "$MG_LAB_DIR/hs-state/netmap.json" 2>/dev/null)" = 600
check "netmap.json holds our tailnet addresses" grep -q "\"$RTR_TS4/32\"" "$MG_LAB_DIR/hs-state/netmap.json"

# STUN from the WireGuard port to the DERP map's STUN-only node, through the gateway's NAT.
check "STUN: the DERP map's STUN server answered meshgate (from the gateway's public side)" \
	wait_for 10 grep -q "^STUN answered $GW_WAN4:" "$MG_LAB_DIR/stunserver.log"
mapped=$(awk '/^STUN answered/ { print $3; exit }' "$MG_LAB_DIR/stunserver.log")
if [ -n "${NETNS_ETC:-}" ]; then
	check "STUN: a target the DERP map names only by HostName is resolved and answers" \
		wait_for 10 grep -q "^STUN answered $GW_WAN4:" "$MG_LAB_DIR/stunserver2.log"
fi
check "lite MapRequest: STUN-mapped $mapped (type 2), LAN address (type 1), PreferredDERP 999" \
	wait_for 10 published lite "$mapped/2" "$RTR_LAN4:$WG_PORT/1"
sleep 2
nl=$(n_lite)
check "debounced: $nl lite request(s) for the start-up burst (<= 2)" test "$nl" -ge 1 -a "$nl" -le 2
st=$(rtr "$MESHGATE" status -c "$MG_LAB_DIR/meshgate.conf" 2>&1)
echo "$st" | sed -n '/^# Control server/,/^$/p' | sed 's/^/# status: /'
check "status: control server connected, lite map requests counted" \
	grep -Eq "^# Control server: connected, last map [0-9]+s ago, [1-9][0-9]* lite map requests? \(last [0-9]+s ago\)" <<<"$st"
check "status: the STUN-mapped endpoint $mapped is listed as published (stun)" \
	grep -Fq "endpoint $mapped (stun)" <<<"$st"
check "status --json: Control.Endpoints carries the LAN address as type local" \
	sh -c "ip netns exec ${LAB_NS[3]} '$MESHGATE' status --json -c '$MG_LAB_DIR/meshgate.conf' |
		jq -e '.Control.Connected and (.Control.Endpoints | any(.Addr == \"$RTR_LAN4:$WG_PORT\" and .Type == \"local\"))' >/dev/null"
check "/metrics: lite map requests counted" test "$(lab_metric meshgate_control_lite_maps_total)" -ge 1
check "/metrics: the STUN-mapped endpoint is exported" sh -c "ip netns exec ${LAB_NS[3]} curl -sf http://$METRICS_ADDR/metrics |
	grep -Fqx 'meshgate_control_endpoint{endpoint=\"$mapped\",type=\"stun\"} 1'"
if [ -n "$ZSTD" ]; then
	check "maps were zstd-compressed and applied" \
		sh -c "ip netns exec ${LAB_NS[1]} curl -sf http://$CTL_ADDR/test/state | grep -q '\"zstd_messages\": [1-9]'"
fi

ctl send "{\"PeersRemoved\":[$LAP_ID]}"
check "PeersRemoved: the laptop is no longer a peer" wait_for 10 no_laptop_peer
lab_reset_laptop_session
check "PeersRemoved: laptop traffic stops" ping_fails $HOST4

ctl send "{\"PeersChanged\":[$(laptop_json)]}"
check "PeersChanged: the laptop is a peer again" wait_for 10 has_laptop_peer
lab_reset_laptop_session
check "PeersChanged: laptop -> home host again" ping_ok $HOST4

# Disco: a second node's disco key comes with the map; meshgate answers its pings on the WireGuard
# port (through the gateway's DNAT) with pongs carrying the TxID and the observed source. (A node
# of its own: a real peer speaks disco and WireGuard on one port, this test peer does not, and the
# path its pongs prove must not move the laptop's endpoint.)
if /usr/bin/python3 -c 'import nacl' 2>/dev/null; then
	read -r dpriv dpub < <(keypair)
	rtr_disco=$(rtr_disco)
	dnode=$(/usr/bin/python3 -c 'import os; print(os.urandom(32).hex())')
	ctl send '{"PeersChanged":[{"ID":7,"StableID":"7","Name":"disco.tailnet.test.","Key":"nodekey:'$dnode'",
	  "DiscoKey":"discokey:'$dpub'","Addresses":["100.64.0.77/32"],"AllowedIPs":["100.64.0.77/32"],
	  "Endpoints":["'$LAP_WAN4':41700"],"HomeDERP":999,"KeyExpiry":"0001-01-01T00:00:00Z","Online":true}]}'
	sleep 0.5
	lap /usr/bin/python3 "$HERE/../disco/tsdisco.py" peer --listen $LAP_WAN4:41700 --key "$dpriv" \
		--their-key "$rtr_disco" --node-key "$dnode" \
		--ping $GW_WAN4:$WG_PORT --seconds 8 >"$MG_LAB_DIR/discopeer.log" 2>&1 &
	dpid=$!
	check "disco: meshgate answers a peer's ping with its TxID and observed source" wait_for 10 \
		grep -q "PONG from $GW_WAN4:$WG_PORT txid-ok=True src=$LAP_WAN4:41700" "$MG_LAB_DIR/discopeer.log"
	kill $dpid 2>/dev/null; wait $dpid 2>/dev/null
	check "disco: the pong proved the path: the disco node's endpoint is where it answered" \
		sh -c "wg show $MG_IF endpoints | grep -q '$LAP_WAN4:41700'"
	check "disco: the laptop's WireGuard is untouched" ping_ok $HOST4
	ctl send '{"PeersRemoved":[7]}'
	check "disco: the disco node leaves with the map" \
		wait_for 10 sh -c "! wg show $MG_IF endpoints | grep -q '$LAP_WAN4:41700'"
else
	echo "SKIP: $T: disco checks need python3-nacl"
fi

# The tailnet ACL, enforced by meshgate on traffic from peers: only TCP 22 to the home host.
tcp_open() {	# tcp_open PORT: can the laptop open a TCP connection to the home host's PORT?
	host timeout 5 nc -l "$1" >/dev/null 2>&1 &
	local l=$!
	sleep 0.3
	lap nc -z -w 2 $HOST4 "$1"
	local rc=$?
	kill $l 2>/dev/null; wait $l 2>/dev/null
	return $rc
}
filtered() { lab_metric meshgate_inbound_dropped_packets_total 'reason="filtered"'; }
ctl send '{"PacketFilters":{"base":[{"SrcIPs":["'$LAP_TS4'"],"DstPorts":[{"IP":"'$HOST4'","Ports":{"First":22,"Last":22}}],"IPProto":[6]}]}}'
sleep 0.5
f0=$(filtered)
check "ACL (TCP 22 only): TCP 22 to the home host passes" tcp_open 22
check "ACL: TCP 8080 to the home host is dropped" not tcp_open 8080
check "ACL: ping to the home host is dropped" ping_fails $HOST4
check "ACL: drops counted with reason filtered" test "$(filtered)" -gt "${f0:-0}"
ctl send '{"PacketFilters":{"base":[]}}'
sleep 0.5
check "ACL: an empty rule list denies everything (fail closed)" not tcp_open 22
ctl send '{"PacketFilters":{"base":[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]}}'
sleep 0.5
check "ACL back to allow-all: ping passes again" ping_ok $HOST4

# AcceptRoutes: the LAN reaches a subnet that another peer advertises, through meshgate.
# The restart also shows a joined router needs no key: AuthKeyFile is emptied, and meshgate goes
# straight to the map poll (StateDir/registered) without registering again.
check "restart with AcceptRoutes = true" lab_stop_meshgate
hs_state
: >"$MG_LAB_DIR/authkey"
write_conf "AcceptRoutes = true" "ForwardedPort = $WG_PORT" "PublicEndpoint = 203.0.113.9:41641"
n_conn=$(grep -c "headscale: connected" "$MG_LAB_DIR/meshgate.log")
start_meshgate
check "AuthKeyFile emptied: the restarted router reconnects" \
	wait_for 10 sh -c "[ \$(grep -c 'headscale: connected' '$MG_LAB_DIR/meshgate.log') -gt $n_conn ]"
check "... without registering again (one registration so far)" test "$(n_registers)" = 1
echo tskey-test >"$MG_LAB_DIR/authkey"     # the node-key expiry below needs a new login
lab_reset_laptop_session
lap ip addr add $LAP_SUBNET_HOST/32 dev lo
host ip route add $LAP_SUBNET via $RTR_LAN4
check "AcceptRoutes = true: the laptop's subnet is in its allowed IPs" \
	wait_for 10 sh -c "wg show $MG_IF allowed-ips | grep -q '$LAP_SUBNET'"
check "AcceptRoutes: home host -> $LAP_SUBNET_HOST behind the laptop" \
	sh -c "ip netns exec ${LAB_NS[4]} ping -c 3 -i 0.2 -w 10 $LAP_SUBNET_HOST >/dev/null"
check "PublicEndpoint and ForwardedPort (STUN address + $WG_PORT) published as type 5" \
	wait_for 10 published any "203.0.113.9:41641/5" "$GW_WAN4:$WG_PORT/5"

# Node-key rotation: the server expires our key; meshgate registers a new one with OldNodeKey and
# only then switches the device's key, keeping its peers. The laptop reaches the LAN once it
# knows the new key.
old_pub=$(wg show $MG_IF public-key)
ctl config '{"rotate_delay_s":4}'
ctl expire '{}'
rotated() { [ "$(wg show $MG_IF public-key 2>/dev/null)" != "$old_pub" ]; }
rotation_pending() { ctl_state | grep -q "rotation pending"; }
check "NodeKeyExpired: a new key is being registered (with OldNodeKey)" wait_for 10 rotation_pending
check "until it is registered the device keeps the old key" not rotated
lab_reset_laptop_session
check "...and serves: laptop (old router key) -> home host" ping_ok $HOST4
check "node key expired: the device's public key changes" wait_for 10 rotated
new_pub=$(wg show $MG_IF public-key)
check "the server has the node under the new key, OldNodeKey = the old one" sh -c "
	ip netns exec ${LAB_NS[1]} curl -sf http://$CTL_ADDR/test/state | $PY -c '
import json, sys, base64
n = json.load(sys.stdin)[\"nodes\"]; h = lambda b: base64.b64decode(b).hex()
sys.exit(0 if list(n) == [h(\"$new_pub\")] and n[h(\"$new_pub\")][\"rotated_from\"] == [h(\"$old_pub\")] else 1)'"
check "StateDir/node.key is the new key" \
	test "$($PY -c 'import base64, sys; print(base64.b64encode(bytes.fromhex(open(sys.argv[1]).read().split(":")[1].strip())).decode())' \
		"$MG_LAB_DIR/hs-state/node.key" | wg pubkey)" = "$new_pub"
check "peers kept across the key change" has_laptop_peer
wg set $LAP_IF peer "$old_pub" remove
wg set $LAP_IF peer "$new_pub" endpoint $GW_WAN4:$WG_PORT allowed-ips "$LAP_ALLOWED"
check "laptop with the new router key -> home host" ping_ok $HOST4
wg set $LAP_IF peer "$new_pub" remove
lab_reset_laptop_session

lab_stop_pid "$MG_LAB_DIR/testcontrol.pid"
check "leak check after the first run" lab_stop_meshgate
# Without the control server and without Address in the file, the addresses saved with the
# netmap serve (hs_state puts the lab's router key back: the saved peers are unchanged).
hs_state
write_conf "AcceptRoutes = false"
# DERP starts from StateDir/derpmap.json, whether or not the control server answers: a home
# region is chosen and dialled (region 999's server is the control server here, down with it).
loaded0=$(grep -c "start from the saved DERP map (2 regions)" "$MG_LAB_DIR/meshgate.log")
home0=$(grep -c "derp: home region 0 -> 999" "$MG_LAB_DIR/meshgate.log")
dial0=$(grep -c "derp: region 999 ($GW_LAN4 port 443)" "$MG_LAB_DIR/meshgate.log")
check "restart with the control server down (no Address in the file)" start_meshgate
check "the saved DERP map is loaded at start" \
	wait_for 10 sh -c "test \$(grep -c 'start from the saved DERP map (2 regions)' '$MG_LAB_DIR/meshgate.log') -gt $loaded0"
check "DERP: the saved map's region 999 becomes home and is dialled with the control server down" \
	wait_for 10 sh -c "test \$(grep -c 'derp: home region 0 -> 999' '$MG_LAB_DIR/meshgate.log') -gt $home0 &&
		test \$(grep -c 'derp: region 999 ($GW_LAN4 port 443)' '$MG_LAB_DIR/meshgate.log') -gt $dial0"
check "the last netmap is restored from StateDir" wait_for 10 has_laptop_peer
check "meshgate status still names the laptop with the control server down ($(lap_name))" test "$(lap_name)" = laptop
check "the TUN holds the tailnet addresses saved with the netmap" \
	wait_for 10 sh -c "ip netns exec ${LAB_NS[3]} ip -o addr show dev $MG_IF | grep -q ' $RTR_TS4/32'"
lab_reset_laptop_session
check "laptop -> home host with Headscale unreachable" ping_ok $HOST4
check "laptop -> the router's saved tailnet address" ping_ok $RTR_TS4
check "the outage is logged" grep -q "headscale: .*\(refused\|GET /key\)" "$MG_LAB_DIR/meshgate.log"
check "leak check" lab_stop_meshgate

[ $FAILS = 0 ] && echo "$T: PASS" || echo "$T: $FAILS FAILED"
[ $FAILS = 0 ]
