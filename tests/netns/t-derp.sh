#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# DERP relay and direct-path switching, against an independent DERP server and a
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
# 4. A peer on another region pings us through ours: the pong goes back on that region; traffic
#    to the peer makes meshgate dial the peer's region on demand (no NotePreferred there).
# 5. Leak check.
# Usage: tests/netns/t-derp.sh (root; MESHGATE=...; LAB_SH=... like t-headscale.sh).
HERE=$(cd "$(dirname "$0")" && pwd)
. "${LAB_SH:-$HERE/../lab/lab.sh}"
. "$HERE/../control/hslab.sh"

T=t-derp
FAILS=0
PY=/usr/bin/python3
CTL_ADDR=$GW_LAN4:8080
DERP_PORT=8443 DERP_REGION=900 DERP_NAME=derp.test DERP2_PORT=8444 DERP2_REGION=901
SHIM_WG=51999 SHIM_UDP=41642
D=$MG_LAB_DIR/derp
hs_diagnose() {
	tail -n 8 "$MG_LAB_DIR/meshgate.log" 2>/dev/null | sed 's/^/# log: /'
	"$MESHGATE" status -c "$MG_LAB_DIR/meshgate.conf" 2>&1 | sed 's/^/# status: /'
}

[ "${MG_ROUTER:-meshgate}" = meshgate ] || { echo "SKIP: $T: meshgate only (DERP client)"; exit 0; }
hs_require h2 cryptography nacl -- ip wg wireguard-go nft curl ping nc openssl

cleanup() {
	for p in lapsock derp$DERP_REGION derp$DERP2_REGION testcontrol; do lab_stop_pid "$D/$p.pid"; done
	lab_down
}
trap cleanup EXIT

status_line() { "$MESHGATE" status -c "$MG_LAB_DIR/meshgate.conf" 2>/dev/null | grep "^$LAP_TS4 "; }
path_is() { status_line | grep -q "$1"; }
shim_count() {	# shim_count NAME: the last COUNT line's value
	awk -v k="$1" '/^COUNT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) v = kv[2] } } END { print v + 0 }' "$D/lapsock.out"
}

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

derpmap_json() {
	echo "{\"DERPMap\":{\"Regions\":{$(region_json $DERP_REGION $DERP_PORT),$(region_json $DERP2_REGION $DERP2_PORT)}}}"
}

lab_up || { echo "FAIL: $T: lab setup"; exit 1; }
: >"$MG_LAB_DIR/meshgate.log"
check "throwaway CA and DERP server certificate (openssl)" make_certs
derpd $DERP_REGION $DERP_PORT --ping-clients
derpd $DERP2_REGION $DERP2_PORT
check "test DERP servers up in the gateway (regions $DERP_REGION, $DERP2_REGION)" \
	wait_for 5 sh -c "grep -q '^READY' '$D/derp$DERP_REGION.out' && grep -q '^READY' '$D/derp$DERP2_REGION.out'"
check "test control server up" ctl_start
read -r SHIM_DISCO_PRIV SHIM_DISCO_PUB < <(keypair)
read -r PHONE_PRIV PHONE_PUB < <(keypair)
read -r PHONE_DISCO_PRIV PHONE_DISCO_PUB < <(keypair)
RTR_HEX=$(hex_of_b64 <"$MG_LAB_DIR/rtr.pub")
LAP_TAG=$(hex_of_b64 <"$MG_LAB_DIR/lap.pub" | cut -c1-8)     # how meshgate's log names the laptop
hs_state
write_conf "DERPCAFile = $D/ca.pem"
ctl peers "[$(laptop_json $DERP_REGION $SHIM_DISCO_PUB $LAP_WAN4:$SHIM_UDP),$(phone_json $DERP2_REGION)]"
block_udp
check "UDP between the laptop and the router blocked in the gateway" gw nft list table inet derpblock
check "meshgate starts with LoginServer" start_meshgate
check "meshgate registers" wait_for 10 grep -q "headscale: connected" "$MG_LAB_DIR/meshgate.log"
ctl send "$(derpmap_json)"
check "meshgate connects to its home DERP region over TLS checked against the CA" \
	wait_for 10 grep -q "derp: region $DERP_REGION connected (home)" "$MG_LAB_DIR/meshgate.log"
check "DERP server: ClientInfo from the router's node key, version 2, CanAckPings" \
	grep -q "^CONNECT $RTR_HEX version=2 canackpings=true" "$D/derp$DERP_REGION.out"
check "DERP server: NotePreferred(1) from the router" wait_for 5 grep -q "^PREFERRED $RTR_HEX 1" "$D/derp$DERP_REGION.out"
check "DERP server: its Ping answered with a matching Pong" wait_for 5 grep -q "^PONG $RTR_HEX ok" "$D/derp$DERP_REGION.out"

RTR_DISCO=$(rtr_disco)
start_lapsock $DERP_PORT $DERP_REGION
check "laptop shim connects to the DERP server" wait_for 5 grep -q "^DERP up" "$D/lapsock.out"

# 1. Relay. First meshgate initiates (its handshake goes out through DERP, matched to the peer by
#    index), then the laptop.
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
check "the DERP server relayed the packets" wait_for 3 grep -q '^STATS relayed=[0-9][0-9][0-9]' "$D/derp$DERP_REGION.out"

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
#    meshgate answers on the region the ping came in on (900), as tailscaled does. Traffic for
#    the phone then goes to its home region, which meshgate dials only now.
check "region $DERP2_REGION not dialled while nothing is sent there" \
	sh -c "! grep -q 'derp: region $DERP2_REGION connected' '$MG_LAB_DIR/meshgate.log'"
lap timeout 15 $PY "$HERE/../derp/derppeer.py" --home $GW_WAN4:$DERP2_PORT --via $GW_WAN4:$DERP_PORT \
	--name $DERP_NAME --ca "$D/ca.pem" --node-priv "$PHONE_PRIV" --disco-priv "$PHONE_DISCO_PRIV" \
	--peer-node "$RTR_HEX" --peer-disco "$RTR_DISCO" --seconds 5 >"$D/derppeer.out" 2>"$D/derppeer.log"
check "a disco ping through region $DERP_REGION is answered on region $DERP_REGION (src 127.3.3.40:$DERP_REGION)" \
	grep -q "^PONG via via txid-ok=True src=127.3.3.40:$DERP_REGION" "$D/derppeer.out"
check "... and not on the phone's home region $DERP2_REGION" sh -c "! grep -q '^PONG via home' '$D/derppeer.out'"
check "region $DERP2_REGION still not dialled" \
	sh -c "! grep -q 'derp: region $DERP2_REGION connected' '$MG_LAB_DIR/meshgate.log'"
host ping -c 2 -W 1 100.64.0.9 >/dev/null 2>&1   # the phone speaks no WireGuard: only the handshake goes out
check "meshgate dialled region $DERP2_REGION on demand (not as home) for traffic to the phone" \
	wait_for 10 sh -c "grep -q 'derp: region $DERP2_REGION connected\$' '$MG_LAB_DIR/meshgate.log' && grep -q '^CONNECT $RTR_HEX' '$D/derp$DERP2_REGION.out'"
check "no NotePreferred(1) to the non-home region" sh -c "! grep -q '^PREFERRED $RTR_HEX 1' '$D/derp$DERP2_REGION.out'"

for p in lapsock derp$DERP_REGION derp$DERP2_REGION testcontrol; do lab_stop_pid "$D/$p.pid"; done
check "leak check" lab_stop_meshgate
check "meshgate logged no DERP protocol error" sh -c "! grep -q 'derp: .*protocol error' '$MG_LAB_DIR/meshgate.log'"

[ $FAILS = 0 ] && echo "$T: PASS" || echo "$T: $FAILS FAILED"
[ $FAILS = 0 ]
