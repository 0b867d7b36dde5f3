# SPDX-License-Identifier: GPL-2.0-only
#
# Sourced by the lab scripts that run meshgate under the test control server (testcontrol.py)
# and, for DERP, the test DERP servers (tests/derp/): tests/control/t-headscale.sh,
# tests/netns/t-derp.sh, t-derp-home.sh and t-advertise.sh. Source it after tests/lab/lab.sh
# or tests/netns/lib.sh. The script sets:
#   T, FAILS   test name and failure count (lab.sh scripts; after lib.sh, T defaults to T_NAME
#              and lib.sh's own pass/fail/check/wait_for/ping_ok stay in force)
#   PY         python3;   CTL_ADDR  host:port of testcontrol.py (in the gateway)
#   D          directory for the background servers' .out/.log/.pid files and certificates
#   DERP_NAME  the DERP servers' certificate name (make_certs, region_json, start_lapsock)
HSLAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAP_ID=${LAP_ID:-2}

if declare -F t_begin >/dev/null; then
	T=${T:-$T_NAME}
else
	pass() { echo "PASS: $T: $*"; }
	fail() { echo "FAIL: $T: $*"; FAILS=$((FAILS + 1)); hs_diagnose; }
	check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
	check_fails() { local d=$1; shift; if "$@"; then fail "$d"; else pass "$d"; fi; }
	# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
	wait_for() { local n=$1 i; shift; for i in $(seq $((n * 10))); do "$@" && return 0; sleep 0.1; done; return 1; }
	# ping_ok DST: the laptop gets one echo reply within 6 tries.
	ping_ok() { local i; for i in 1 2 3 4 5 6; do lap ping -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0; done; return 1; }
fi
# hs_diagnose: what fail() prints after a FAIL line; a script may redefine it.
hs_diagnose() { tail -n 8 "$MG_LAB_DIR/meshgate.log" 2>/dev/null | sed 's/^/# log: /'; }

# hs_require PYMODULE... -- CMD...: SKIP (exit 77) unless root, the commands and the python3
# modules are there; FAIL without a meshgate binary.
hs_require() {
	local mods=() c
	while [ $# -gt 0 ] && [ "$1" != -- ]; do mods+=("$1"); shift; done
	shift
	[ "$(id -u)" = 0 ] || { echo "SKIP: $T: needs root (network namespaces)"; exit 77; }
	for c; do
		command -v $c >/dev/null || { echo "SKIP: $T: machine lacks $c"; exit 77; }
	done
	hs_require_python "${mods[@]}"
	[ -x "$MESHGATE" ] || { echo "FAIL: $T: no meshgate at $MESHGATE"; exit 1; }
}
# hs_require_python MODULE...: SKIP (exit 77) unless python3 imports them all.
hs_require_python() {
	local m list=
	for m; do list="$list${list:+ / }python3-$m"; done
	$PY -c "import $(IFS=,; echo "$*")" 2>/dev/null || { echo "SKIP: $T: machine lacks $list"; exit 77; }
}

hex_of_b64() { base64 -d | od -An -tx1 | tr -d ' \n'; }
host_ping_ok() { local i; for i in 1 2 3 4 5 6; do host ping -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0; done; return 1; }
log_has() { grep -q "$1" "$MG_LAB_DIR/meshgate.log"; }
not() { ! "$@"; }
# keypair: a fresh X25519 key pair (disco or node key) as "PRIV-HEX PUB-HEX".
keypair() { $PY -c 'from nacl.public import PrivateKey; k = PrivateKey.generate(); print(bytes(k).hex(), bytes(k.public_key).hex())'; }

start_bg() {	# start_bg NAME NS CMD...: stdout to $D/NAME.out, pid in $D/NAME.pid
	local name=$1 ns=$2; shift 2
	ip netns exec "$ns" "$@" >"$D/$name.out" 2>"$D/$name.log" &
	echo $! >"$D/$name.pid"
}

# The test control server: ctl_start [testcontrol.py options] starts it in the gateway (assigning
# the router its tailnet addresses) and waits for READY; ctl WHAT JSON posts to /test/WHAT;
# ctl_state prints /test/state. A new server knows no node: meshgate's login from an earlier
# one (StateDir/registered) is forgotten.
ctl_start() {
	rm -f "$D/testcontrol.out"       # a READY from an earlier run must not count
	rm -f "$MG_LAB_DIR/hs-state/registered"
	start_bg testcontrol "${LAB_NS[1]}" $PY "$HSLAB_DIR/testcontrol.py" --listen $CTL_ADDR \
		--authkey tskey-test --assign $RTR_TS4/32,$RTR_TS6/128 --keepalive 5 "$@"
	wait_for 5 grep -q READY "$D/testcontrol.out"
}
ctl() { gw curl -sf --max-time 5 -X POST --data-binary "$2" "http://$CTL_ADDR/test/$1" >/dev/null; }
ctl_state() { gw curl -sf --max-time 5 "http://$CTL_ADDR/test/state"; }
# rtr_disco: the router's disco public key (hex) as the control server has it.
rtr_disco() {
	ctl_state | $PY -c '
import json, sys
n = json.load(sys.stdin)["nodes"]
for rec in (n.values() if isinstance(n, dict) else n):
    print(rec["discokey"].split(":")[1]); break'
}

# hs_state: StateDir with the pre-auth key file; the router's node key is the lab's router key,
# so the laptop's WireGuard config fits as is.
hs_state() {
	mkdir -p "$MG_LAB_DIR/hs-state" && chmod 700 "$MG_LAB_DIR/hs-state"
	echo tskey-test >"$MG_LAB_DIR/authkey"
	(umask 077; printf 'privkey:%s\n' "$(hex_of_b64 <"$MG_LAB_DIR/rtr.key")" >"$MG_LAB_DIR/hs-state/node.key")
}

# write_conf ["Key = value"]...: meshgate.conf with LoginServer, AuthKeyFile and StateDir, no
# [Peer]; each argument adds [Interface] lines. MTU 1280 and AdvertiseRoutes = the home LAN
# (both families) unless an argument sets them.
write_conf() {
	local l mtu="MTU = 1280" routes="AdvertiseRoutes = 192.168.8.0/24, fd00:8::/64"
	for l; do
		case $l in "MTU ="*) mtu= ;; "AdvertiseRoutes ="*) routes= ;; esac
	done
	{
		printf '%s\n' "[Interface]" "Name = $MG_IF" "ListenPort = $WG_PORT" "Device = eth0" \
			"SNAT = false" "MetricsListen = $METRICS_ADDR" "LoginServer = http://$CTL_ADDR" \
			"AuthKeyFile = $MG_LAB_DIR/authkey" "StateDir = $MG_LAB_DIR/hs-state"
		for l in "$mtu" "$routes" "$@"; do [ -z "$l" ] || printf '%s\n' "$l"; done
	} >"$MG_LAB_DIR/meshgate.conf"
}

# start_meshgate: meshgate on our config in the router namespace (bpffs mounted), log appended
# to meshgate.log; waits up to 10 s for its UAPI socket. (The lab's start helper writes its own
# config.)
start_meshgate() {
	local i
	rm -f "$WG_SOCK_DIR/$MG_IF.sock"
	ip netns exec "${LAB_NS[3]}" sh -c \
		'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' rtr \
		"$MESHGATE" run -c "$MG_LAB_DIR/meshgate.conf" >>"$MG_LAB_DIR/meshgate.log" 2>&1 &
	MG_PID=$!
	echo $MG_PID >"$MG_LAB_DIR/meshgate.pid"
	# shellcheck disable=SC2034  # read by lib.sh
	T_ROUTER_UP=1     # lib.sh: the cleanup trap stops it and runs the leak check
	for i in $(seq 100); do
		[ -S "$WG_SOCK_DIR/$MG_IF.sock" ] && return 0
		kill -0 $MG_PID 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# laptop_json [HOME-DERP [DISCO-PUB-HEX [ENDPOINT]]]: the laptop as a tailcfg.Node (defaults:
# region 999, a fixed disco key, its WireGuard port behind the NAT). With LAP_SUBNET set, the
# laptop also routes that subnet (an approved route: AllowedIPs and PrimaryRoutes).
laptop_json() {
	local sub=${LAP_SUBNET:+,\"$LAP_SUBNET\"} prim=${LAP_SUBNET:+\"PrimaryRoutes\":[\"$LAP_SUBNET\"],}
	cat <<-EOF
	{"ID":$LAP_ID,"StableID":"$LAP_ID","Name":"laptop.tailnet.test.","Key":"nodekey:$(hex_of_b64 <"$MG_LAB_DIR/lap.pub")",
	 "DiscoKey":"discokey:${2:-$(printf 'd1%.0s' $(seq 32))}","Addresses":["$LAP_TS4/32","$LAP_TS6/128"],
	 "AllowedIPs":["$LAP_TS4/32","$LAP_TS6/128"$sub],$prim"Endpoints":["${3:-$LAP_WAN4:$LAP_PORT}"],"HomeDERP":${1:-999},
	 "KeyExpiry":"0001-01-01T00:00:00Z","Online":true}
	EOF
}
# phone_json HOME-DERP: a disco-only node (tests/derp/derppeer.py) with keys PHONE_PUB, PHONE_DISCO_PUB.
phone_json() {
	cat <<-EOF
	{"ID":3,"StableID":"3","Name":"phone.tailnet.test.","Key":"nodekey:$PHONE_PUB","DiscoKey":"discokey:$PHONE_DISCO_PUB",
	 "Addresses":["100.64.0.9/32"],"AllowedIPs":["100.64.0.9/32"],"HomeDERP":$1,
	 "KeyExpiry":"0001-01-01T00:00:00Z","Online":true}
	EOF
}

# --- DERP ---

# make_certs: a throwaway CA and a DERP server certificate for DERP_NAME and the gateway's
# addresses, in a fresh $D (no result of an earlier run may count).
make_certs() {
	rm -rf "$D"
	mkdir -p "$D" && cd "$D" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
		-days 2 -subj "/CN=meshgate $T CA" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr \
		-subj "/CN=$DERP_NAME" &&
	echo "subjectAltName=DNS:$DERP_NAME,IP:$GW_LAN4,IP:$GW_WAN4" >ext.cnf &&
	openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 2 \
		-extfile ext.cnf
	local rc=$?
	cd - >/dev/null
	return $rc
} >/dev/null 2>&1

derpd() {	# derpd REGION PORT [derpd.py options]: a DERP server in the gateway, files $D/derpREGION.*
	local r=$1 port=$2; shift 2
	start_bg derp$r "${LAB_NS[1]}" $PY "$HSLAB_DIR/../derp/derpd.py" serve --listen 0.0.0.0:$port \
		--cert "$D/leaf.pem" --key "$D/leaf.key" --keepalive 5 "$@"
}

# region_json ID DERP-PORT [STUN-PORT]: one DERP map region of one node on the gateway.
region_json() {
	echo "\"$1\":{\"RegionID\":$1,\"RegionCode\":\"lab$1\",\"RegionName\":\"lab\",
	 \"Nodes\":[{\"Name\":\"${1}a\",\"RegionID\":$1,\"HostName\":\"$DERP_NAME\",\"IPv4\":\"$GW_LAN4\",
	 \"DERPPort\":$2,\"STUNPort\":${3:--1}}]}"
}

# start_lapsock DERP-PORT REGION: the laptop's Tailscale-like shim (tests/derp/lapsock.py): the
# laptop's WireGuard goes to it on 127.0.0.1:SHIM_WG, it talks disco + UDP on SHIM_UDP and DERP
# as the laptop's node key (disco key SHIM_DISCO_PRIV) to that region; output $D/lapsock.out.
start_lapsock() {
	wg set $LAP_IF peer "$(lab_rtr_pub)" endpoint 127.0.0.1:$SHIM_WG
	start_bg lapsock "${LAB_NS[0]}" $PY "$HSLAB_DIR/../derp/lapsock.py" --wg-listen 127.0.0.1:$SHIM_WG \
		--wg-peer 127.0.0.1:$LAP_PORT --udp-listen 0.0.0.0:$SHIM_UDP --peer-ep $GW_WAN4:$WG_PORT \
		--peer-node "$RTR_HEX" --peer-disco "$RTR_DISCO" --disco-priv "$SHIM_DISCO_PRIV" \
		--node-priv "$(hex_of_b64 <"$MG_LAB_DIR/lap.key")" --derp $GW_WAN4:$1 --derp-name $DERP_NAME \
		--derp-region $2 --ca "$D/ca.pem"
}

# UDP between the internet side and the LAN, both ways, dropped in the gateway's forward path
# (TCP to the DERP servers on the gateway itself is untouched).
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
