#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# DERP relay and direct-path switching (issue 7), against an independent DERP server and a
# Tailscale-like client shim.
#
#   mg-lap: wireguard-go (key L) --udp--> lapsock.py (disco key D, DERP client as L)
#              |  UDP 198.51.100.2:41642 (direct)          |  TLS to 198.51.100.1:8443 (DERP)
#   mg-gw:  [nft: UDP wan0<->lan0 dropped while "blocked"]  derpd.py :8443 (region 900, our CA)
#           DNAT udp/41641 -> .105; testcontrol.py 192.168.8.1:8080 (announces L, D, HomeDERP 900)
#              |                                           |  TLS to 192.168.8.1:8443
#   mg-rtr: meshgate (LoginServer, DERPCAFile = the test CA) ------- mg-host 192.168.8.80
#
# 1. UDP blocked: meshgate connects to its home region (verified TLS, NotePreferred); a ping from
#    the home host (meshgate initiates) and from the laptop, and a 2 MiB TCP download, go through
#    DERP; status/metrics say relay.
# 2. A 4 MiB download runs while UDP is unblocked: disco pongs prove the path, it turns direct
#    within seconds (status, metrics, the shim's counters), and the download's sha256 matches.
# 3. Blocked again: the trust lapses (6.5 s) and the path falls back to DERP; ping still works.
# 4. A peer on another region: meshgate dials that region on demand (no NotePreferred there).
# 5. Leak check.
# Usage: tests/netns/t-derp.sh (root; MESHGATE=...; LAB_SH=... like t-headscale.sh).
HERE=$(cd "$(dirname "$0")" && pwd)
. "${LAB_SH:-$HERE/../lab/lab.sh}"

T=t-derp
FAILS=0
PY=/usr/bin/python3
CTL_ADDR=$GW_LAN4:8080
DERP_PORT=8443 DERP_REGION=900 DERP_NAME=derp.test DERP2_PORT=8444 DERP2_REGION=901
SHIM_WG=51999 SHIM_UDP=41642
LAP_ID=2
D=$MG_LAB_DIR/derp
pass() { echo "PASS: $T: $*"; }
fail() {
	echo "FAIL: $T: $*"; FAILS=$((FAILS + 1))
	tail -n 8 "$MG_LAB_DIR/meshgate.log" 2>/dev/null | sed 's/^/# log: /'
	"$MESHGATE" status -c "$MG_LAB_DIR/meshgate.conf" 2>&1 | sed 's/^/# status: /'
}
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }

[ "${MG_ROUTER:-meshgate}" = meshgate ] || { echo "SKIP: $T: meshgate only (DERP client)"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "SKIP: $T: needs root (network namespaces)"; exit 77; }
for c in ip wg wireguard-go nft curl ping nc openssl; do
	command -v $c >/dev/null || { echo "SKIP: $T: machine lacks $c"; exit 77; }
done
$PY -c 'import h2, cryptography, nacl' 2>/dev/null ||
	{ echo "SKIP: $T: machine lacks python3-h2 / python3-cryptography / python3-nacl"; exit 77; }
[ -x "$MESHGATE" ] || { echo "FAIL: $T: no meshgate at $MESHGATE"; exit 1; }

cleanup() {
	for p in lapsock derpd derpd2 testcontrol; do lab_stop_pid "$D/$p.pid"; done
	lab_down
}
trap cleanup EXIT

hex_of_b64() { base64 -d | od -An -tx1 | tr -d ' \n'; }
wait_for() { local n=$1 i; shift; for i in $(seq $((n * 10))); do "$@" && return 0; sleep 0.1; done; return 1; }
ping_ok() { local i; for i in 1 2 3 4 5 6; do lap ping -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0; done; return 1; }
ctl() { gw curl -sf --max-time 5 -X POST --data-binary "$2" "http://$CTL_ADDR/test/$1" >/dev/null; }
status_line() { "$MESHGATE" status -c "$MG_LAB_DIR/meshgate.conf" 2>/dev/null | grep "^$LAP_TS4 "; }
path_is() { status_line | grep -q "$1"; }
shim_count() {	# shim_count NAME: the last COUNT line's value
	awk -v k="$1" '/^COUNT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) v = kv[2] } } END { print v + 0 }' "$D/lapsock.out"
}

make_certs() {
	rm -rf "$D"                     # no result of an earlier run may count
	mkdir -p "$D" && cd "$D" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
		-days 2 -subj "/CN=meshgate t-derp CA" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr \
		-subj "/CN=$DERP_NAME" &&
	echo "subjectAltName=DNS:$DERP_NAME,IP:$GW_LAN4,IP:$GW_WAN4" >ext.cnf &&
	openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 2 \
		-extfile ext.cnf
	local rc=$?
	cd - >/dev/null
	return $rc
} >/dev/null 2>&1

start_bg() {	# start_bg NAME NS CMD...: stdout to $D/NAME.out, pid in $D/NAME.pid
	local name=$1 ns=$2; shift 2
	ip netns exec "$ns" "$@" >"$D/$name.out" 2>"$D/$name.log" &
	echo $! >"$D/$name.pid"
}

write_conf() {
	mkdir -p "$MG_LAB_DIR/hs-state" && chmod 700 "$MG_LAB_DIR/hs-state"
	echo tskey-test >"$MG_LAB_DIR/authkey"
	(umask 077; printf 'privkey:%s\n' "$(hex_of_b64 <"$MG_LAB_DIR/rtr.key")" >"$MG_LAB_DIR/hs-state/node.key")
	cat >"$MG_LAB_DIR/meshgate.conf" <<-EOF2
	[Interface]
	Name = $MG_IF
	ListenPort = $WG_PORT
	MTU = 1280
	Device = eth0
	SNAT = false
	AdvertiseRoutes = 192.168.8.0/24, fd00:8::/64
	MetricsListen = $METRICS_ADDR
	LoginServer = http://$CTL_ADDR
	AuthKeyFile = $MG_LAB_DIR/authkey
	StateDir = $MG_LAB_DIR/hs-state
	DERPCAFile = $D/ca.pem
	EOF2
}

start_meshgate() {
	local i
	rm -f "$WG_SOCK_DIR/$MG_IF.sock"
	ip netns exec "${LAB_NS[3]}" sh -c \
		'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' rtr \
		"$MESHGATE" run -c "$MG_LAB_DIR/meshgate.conf" >>"$MG_LAB_DIR/meshgate.log" 2>&1 &
	MG_PID=$!
	echo $MG_PID >"$MG_LAB_DIR/meshgate.pid"
	for i in $(seq 100); do
		[ -S "$WG_SOCK_DIR/$MG_IF.sock" ] && return 0
		kill -0 $MG_PID 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# UDP between the internet side and the LAN, both ways, dropped in the gateway's forward path
# (TCP to the DERP server on the gateway itself is untouched).
block_udp() {
	gw nft -f - <<-EOF
	table inet derpblock {
		chain udp_cut {
			type filter hook forward priority filter;
			iifname "wan0" oifname "lan0" meta l4proto udp drop
			iifname "lan0" oifname "wan0" meta l4proto udp drop
		}
	}
	EOF
}
unblock_udp() { gw nft delete table inet derpblock; }

# download NAME BYTES RATE_CHUNKS: the home host sends BYTES random bytes (16 KiB chunks, a pause
# of RATE seconds after each) to the laptop over TCP; prints "OK" into $D/NAME.res if the sha256
# on both ends match.
download() {
	local name=$1 bytes=$2 pause=$3 port=$4
	head -c "$bytes" /dev/urandom >"$D/$name.src"
	ip netns exec "${LAB_NS[4]}" timeout 60 $PY -c '
import socket, sys, time
data = open(sys.argv[1], "rb").read()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[2]))); s.listen(1); c, _ = s.accept()
for i in range(0, len(data), 16384):
    c.sendall(data[i:i + 16384]); time.sleep(float(sys.argv[3]))
c.shutdown(socket.SHUT_WR); c.recv(1); c.close()' "$D/$name.src" "$port" "$pause" &
	local spid=$!
	sleep 0.3
	lap timeout 60 nc -d "$HOST4" "$port" >"$D/$name.dst"
	wait $spid
	[ "$(sha256sum <"$D/$name.src")" = "$(sha256sum <"$D/$name.dst")" ] && echo OK >"$D/$name.res"
}

laptop_json() {
	cat <<-EOF2
	{"ID":$LAP_ID,"StableID":"$LAP_ID","Name":"laptop.tailnet.test.","Key":"nodekey:$(hex_of_b64 <"$MG_LAB_DIR/lap.pub")",
	 "DiscoKey":"discokey:$SHIM_DISCO_PUB","Addresses":["$LAP_TS4/32","$LAP_TS6/128"],
	 "AllowedIPs":["$LAP_TS4/32","$LAP_TS6/128"],"Endpoints":["$LAP_WAN4:$SHIM_UDP"],"HomeDERP":$DERP_REGION,
	 "KeyExpiry":"0001-01-01T00:00:00Z","Online":true}
	EOF2
}
phone_json() {	# a disco-only node whose home is the second region (derppeer.py)
	cat <<-EOF2
	{"ID":3,"StableID":"3","Name":"phone.tailnet.test.","Key":"nodekey:$PHONE_PUB","DiscoKey":"discokey:$PHONE_DISCO_PUB",
	 "Addresses":["100.64.0.9/32"],"AllowedIPs":["100.64.0.9/32"],"HomeDERP":$DERP2_REGION,
	 "KeyExpiry":"0001-01-01T00:00:00Z","Online":true}
	EOF2
}
region_json() {	# region_json ID PORT
	echo "\"$1\":{\"RegionID\":$1,\"RegionCode\":\"lab$1\",\"RegionName\":\"lab\",
	 \"Nodes\":[{\"Name\":\"${1}a\",\"RegionID\":$1,\"HostName\":\"$DERP_NAME\",\"IPv4\":\"$GW_LAN4\",
	 \"DERPPort\":$2,\"STUNPort\":-1}]}"
}
derpmap_json() {
	echo "{\"DERPMap\":{\"Regions\":{$(region_json $DERP_REGION $DERP_PORT),$(region_json $DERP2_REGION $DERP2_PORT)}}}"
}

lab_up || { echo "FAIL: $T: lab setup"; exit 1; }
: >"$MG_LAB_DIR/meshgate.log"
check "throwaway CA and DERP server certificate (openssl)" make_certs
start_bg derpd "${LAB_NS[1]}" $PY "$HERE/../derp/derpd.py" serve --listen 0.0.0.0:$DERP_PORT \
	--cert "$D/leaf.pem" --key "$D/leaf.key" --ping-clients --keepalive 5
start_bg derpd2 "${LAB_NS[1]}" $PY "$HERE/../derp/derpd.py" serve --listen 0.0.0.0:$DERP2_PORT \
	--cert "$D/leaf.pem" --key "$D/leaf.key" --keepalive 5
check "test DERP servers up in the gateway (regions $DERP_REGION, $DERP2_REGION)" \
	wait_for 5 sh -c "grep -q '^READY' '$D/derpd.out' && grep -q '^READY' '$D/derpd2.out'"
start_bg testcontrol "${LAB_NS[1]}" $PY "$HERE/../control/testcontrol.py" --listen $CTL_ADDR \
	--authkey tskey-test --assign $RTR_TS4/32,$RTR_TS6/128 --keepalive 5
check "test control server up" wait_for 5 grep -q READY "$D/testcontrol.out"
keypair() { $PY -c 'from nacl.public import PrivateKey; k = PrivateKey.generate(); print(bytes(k).hex(), bytes(k.public_key).hex())'; }
read -r SHIM_DISCO_PRIV SHIM_DISCO_PUB < <(keypair)
read -r PHONE_PRIV PHONE_PUB < <(keypair)
read -r PHONE_DISCO_PRIV PHONE_DISCO_PUB < <(keypair)
RTR_HEX=$(hex_of_b64 <"$MG_LAB_DIR/rtr.pub")
LAP_TAG=$(hex_of_b64 <"$MG_LAB_DIR/lap.pub" | cut -c1-8)     # how meshgate's log names the laptop
write_conf
ctl peers "[$(laptop_json),$(phone_json)]"
block_udp
check "UDP between the laptop and the router blocked in the gateway" gw nft list table inet derpblock
check "meshgate starts with LoginServer" start_meshgate
check "meshgate registers" wait_for 10 grep -q "headscale: connected" "$MG_LAB_DIR/meshgate.log"
ctl send "$(derpmap_json)"
check "meshgate connects to its home DERP region over TLS checked against the CA" \
	wait_for 10 grep -q "derp: region $DERP_REGION connected (home)" "$MG_LAB_DIR/meshgate.log"
check "DERP server: ClientInfo from the router's node key, version 2, CanAckPings" \
	grep -q "^CONNECT $RTR_HEX version=2 canackpings=true" "$D/derpd.out"
check "DERP server: NotePreferred(1) from the router" wait_for 5 grep -q "^PREFERRED $RTR_HEX 1" "$D/derpd.out"
check "DERP server: its Ping answered with a matching Pong" wait_for 5 grep -q "^PONG $RTR_HEX ok" "$D/derpd.out"

RTR_DISCO=$(gw curl -sf --max-time 5 "http://$CTL_ADDR/test/state" | $PY -c '
import json, sys
n = json.load(sys.stdin)["nodes"]
for rec in (n.values() if isinstance(n, dict) else n):
    print(rec["discokey"].split(":")[1]); break')
wg set $LAP_IF peer "$(lab_rtr_pub)" endpoint 127.0.0.1:$SHIM_WG
start_bg lapsock "${LAB_NS[0]}" $PY "$HERE/../derp/lapsock.py" --wg-listen 127.0.0.1:$SHIM_WG \
	--wg-peer 127.0.0.1:$LAP_PORT --udp-listen 0.0.0.0:$SHIM_UDP --peer-ep $GW_WAN4:$WG_PORT \
	--peer-node "$RTR_HEX" --peer-disco "$RTR_DISCO" --disco-priv "$SHIM_DISCO_PRIV" \
	--node-priv "$(hex_of_b64 <"$MG_LAB_DIR/lap.key")" --derp $GW_WAN4:$DERP_PORT --derp-name $DERP_NAME \
	--derp-region $DERP_REGION --ca "$D/ca.pem"
check "laptop shim connects to the DERP server" wait_for 5 grep -q "^DERP up" "$D/lapsock.out"

# 1. Relay. First meshgate initiates (its handshake goes out through DERP, matched to the peer by
#    index), then the laptop.
host_ping_ok() { local i; for i in 1 2 3 4 5 6; do host ping -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0; done; return 1; }
check "meshgate steers the laptop to DERP (no trusted direct path)" \
	wait_for 5 grep -q "derp: peer $LAP_TAG: path relay" "$MG_LAB_DIR/meshgate.log"
check "UDP blocked: home host -> laptop ping, meshgate initiating the handshake through DERP" host_ping_ok $LAP_TS4
initiated() { [ "$(lab_metric meshgate_handshakes_total 'message="initiation"' 'direction="tx"')" -ge 1 ] &&
	[ "$(lab_metric meshgate_handshakes_total 'message="response"' 'direction="rx"')" -ge 1 ]; }
check "/metrics: meshgate sent the initiation and got the response" initiated
check "UDP blocked: laptop -> home host ping through DERP" ping_ok $HOST4
check "status: the laptop is reached through DERP (relay \"derp-$DERP_REGION\")" \
	wait_for 5 path_is "active; relay \"derp-$DERP_REGION\""
peers_metric() { [ "$(lab_metric tailscale_peers_relay)" = "$1" ] && [ "$(lab_metric tailscale_peers_direct)" = "$2" ]; }
check "/metrics: tailscale_peers_relay 1, tailscale_peers_direct 0" peers_metric 1 0
check "status --json: Path relay, Endpoint 127.3.3.40:$DERP_REGION" sh -c \
	"'$MESHGATE' status --json -c '$MG_LAB_DIR/meshgate.conf' | grep -q '\"Endpoint\":\"127.3.3.40:$DERP_REGION\",\"State\":\"active\",\"Path\":\"relay\"'"
t0=$(date +%s%N)
check "UDP blocked: 2 MiB TCP download through DERP, sha256 equal" download relay1 2097152 0 5001
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# 2 MiB through DERP (Python test server) in $ms ms: $(( 2097152 * 8 / 1000 / (ms ? ms : 1) )) Mbit/s"
derp_bytes() { [ "$(lab_metric meshgate_outbound_bytes_total 'path="derp"')" -ge 2097152 ] &&
	[ "$(lab_metric meshgate_inbound_packets_total 'path="derp"')" -ge 100 ]; }
check "/metrics: the download is counted on path=\"derp\" (>= 2 MiB out, >= 100 messages in)" derp_bytes
only_derp() { [ "$(shim_count from_derp)" -gt 100 ] && [ "$(shim_count from_udp)" = 0 ]; }
check "the shim saw only DERP traffic from the router" wait_for 3 only_derp
check "meshgate sent a CallMeMaybe through DERP listing its LAN endpoint $RTR_LAN4:$WG_PORT" \
	wait_for 8 grep -q "^CMM .*$RTR_LAN4:$WG_PORT" "$D/lapsock.out"
check "the DERP server relayed the packets" wait_for 3 grep -q '^STATS relayed=[0-9][0-9][0-9]' "$D/derpd.out"

# 2. Unblocked during a running transfer: direct within seconds (a disco pong proved it), no loss.
n_direct() { grep -c "derp: peer $LAP_TAG: path direct" "$MG_LAB_DIR/meshgate.log"; }
n_relay() { grep -c "derp: peer $LAP_TAG: path relay" "$MG_LAB_DIR/meshgate.log"; }
direct_seen() { [ "$(n_direct)" -ge 1 ]; }
derp0=$(shim_count from_derp)
download live 4194304 0.02 5002 &
DL=$!
sleep 1.5
unblock_udp
t0=$(date +%s%N)
check "UDP unblocked: a pong proves the direct path within 10 s (meshgate: path direct)" \
	wait_for 10 direct_seen
echo "# relay -> direct after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "status: active; direct $LAP_WAN4:$SHIM_UDP" wait_for 2 path_is "active; direct $LAP_WAN4:$SHIM_UDP"
check "the shim trusts the direct path too" wait_for 5 grep -q "^PATH direct" "$D/lapsock.out"
wait $DL
check "4 MiB download running across the switch arrives whole (sha256 equal)" test -f "$D/live.res"
both_paths() { [ "$(shim_count from_derp)" -gt "$derp0" ] && [ "$(shim_count from_udp)" -gt 100 ]; }
check "that download came partly through DERP, partly direct" wait_for 3 both_paths
check "ping over the direct path" ping_ok $HOST4
check "/metrics: tailscale_peers_direct 1, tailscale_peers_relay 0" peers_metric 0 1
some_udp() { [ "$(shim_count from_udp)" -gt 0 ]; }
check "router -> laptop packets now arrive over UDP" wait_for 3 some_udp

# 3. Blocked again: back to DERP once the trust lapses.
holds() { local r0; r0=$(n_relay); sleep 8; [ "$(n_relay)" = "$r0" ] && path_is "active; direct"; }
check "the direct path holds (3 s heartbeats keep the trust) for 8 s more" holds
relay_again() { [ "$(n_relay)" -ge 2 ]; }
block_udp
t0=$(date +%s%N)
lap ping -c 20 -i 0.5 -W 1 $HOST4 >/dev/null 2>&1 &
check "UDP blocked again: trust lapses, back to DERP within 10 s (meshgate: path relay)" \
	wait_for 10 relay_again
echo "# direct -> relay after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "status: active; relay \"derp-$DERP_REGION\"" wait_for 2 path_is "active; relay \"derp-$DERP_REGION\""
check "ping through DERP again" ping_ok $HOST4
check "1 MiB TCP download through DERP again, sha256 equal" download relay2 1048576 0 5003

# 4. Another region on demand: the phone lives on region 901 and pings meshgate through 900;
#    meshgate answers through DERP on the phone's home region, which it dials only now.
check "region $DERP2_REGION not dialled while nothing is sent there" \
	sh -c "! grep -q 'derp: region $DERP2_REGION connected' '$MG_LAB_DIR/meshgate.log'"
lap timeout 15 $PY "$HERE/../derp/derppeer.py" --home $GW_WAN4:$DERP2_PORT --via $GW_WAN4:$DERP_PORT \
	--name $DERP_NAME --ca "$D/ca.pem" --node-priv "$PHONE_PRIV" --disco-priv "$PHONE_DISCO_PRIV" \
	--peer-node "$RTR_HEX" --peer-disco "$RTR_DISCO" --seconds 5 >"$D/derppeer.out" 2>"$D/derppeer.log"
check "a disco ping through region $DERP_REGION is answered on the phone's home region $DERP2_REGION (src 127.3.3.40:$DERP_REGION)" \
	grep -q "^PONG via home txid-ok=True src=127.3.3.40:$DERP_REGION" "$D/derppeer.out"
check "meshgate dialled region $DERP2_REGION on demand (not as home)" \
	sh -c "grep -q 'derp: region $DERP2_REGION connected\$' '$MG_LAB_DIR/meshgate.log' && grep -q '^CONNECT $RTR_HEX' '$D/derpd2.out'"
check "no NotePreferred(1) to the non-home region" sh -c "! grep -q '^PREFERRED $RTR_HEX 1' '$D/derpd2.out'"

for p in lapsock derpd derpd2 testcontrol; do lab_stop_pid "$D/$p.pid"; done
check "leak check" lab_stop_meshgate
check "meshgate logged no DERP protocol error" sh -c "! grep -q 'derp: .*protocol error' '$MG_LAB_DIR/meshgate.log'"

[ $FAILS = 0 ] && echo "$T: PASS" || echo "$T: $FAILS FAILED"
[ $FAILS = 0 ]
