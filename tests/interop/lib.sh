# SPDX-License-Identifier: GPL-2.0-only
#
# The interop lab: meshgate on a tailnet of real programs. Headscale (its embedded DERP server and
# STUN included) coordinates; real tailscaled nodes are the laptop and the phone, each behind its
# own NAT; meshgate is the home LAN's subnet router (a second meshgate for HA). Sourced by
# tests/interop/s*.sh, run.sh and perf/tailnet-bench.sh.
#
#                          "internet": bridge br0 in ti-inet, 198.51.100.0/24
#   +-------------------+------------------+--------------------+---------------------------+
#   | ti-hs             | ti-www           | ti-lgw (NAT)       | ti-pgw (NAT)              | ti-gw (home gateway)
#   | headscale .10:443 | web host .80     | .20 masquerade     | .30 masquerade            | .1  DNAT udp 41641 -> .105
#   |  DERP + STUN 3478 | (exit-node test) |  |                 |  |                        |     DNAT udp 41642 -> .106
#   +-------------------+------------------+  ti-lap 10.1.0.2   |  ti-phone 10.2.0.2        |     masquerade
#                                          |  tailscaled        |  tailscaled               |  192.168.8.1
#                                          |  ("laptop")        |  ("phone")                |
#                                                                   home LAN: bridge br0 in ti-lan
#                                                 +-------------------------+--------------+----------------+
#                                                 | ti-rtr 192.168.8.105    | ti-rtr2 .106 | ti-host .80    |
#                                                 | meshgate (mgti0, XDP)   | meshgate     | fd00:8::80     |
#                                                 | SNAT, routes 192.168.8.0/24, fd00:8::/64 |                |
#
# Namespaces ti-*, meshgate interfaces mgti0/mgti1 and the run directory $TI_DIR are this lab's
# own, so it runs beside the mg-* lab. Offloads and MTUs are left at their defaults, as a user has
# them. TI_HS_VER / TI_TS_VER choose the pinned versions (scripts/tailnet-bins.sh builds them).

TI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TI_BUILD=${MG_BUILD_DIR:-$TI_ROOT/build}
case $TI_BUILD in /*) ;; *) TI_BUILD=$TI_ROOT/$TI_BUILD ;; esac
MESHGATE=${MESHGATE:-$TI_BUILD/control/meshgate}
TI_HS_VER=${TI_HS_VER:-v0.29.2}
TI_TS_VER=${TI_TS_VER:-v1.102.5}
TI_BINS=${TI_BINS:-$TI_BUILD/tailnet}
HEADSCALE=$TI_BINS/headscale-$TI_HS_VER/headscale
TAILSCALE=$TI_BINS/tailscale-$TI_TS_VER/tailscale
TAILSCALED=$TI_BINS/tailscale-$TI_TS_VER/tailscaled
TI_DIR=${TI_DIR:-/tmp/ti-lab}
TI_NS=(ti-inet ti-hs ti-www ti-lgw ti-lap ti-pgw ti-phone ti-gw ti-lan ti-rtr ti-rtr2 ti-host)
WG_SOCK_DIR=/var/run/wireguard

HS4=198.51.100.10   HS6=2001:db8:100::10   WWW4=198.51.100.80  WWW6=2001:db8:100::80
GW4=198.51.100.1    LGW4=198.51.100.20     PGW4=198.51.100.30
LAP4=10.1.0.2       PHONE4=10.2.0.2
RTR_LAN4=192.168.8.105 RTR2_LAN4=192.168.8.106 HOST4=192.168.8.80 HOST6=fd00:8::80
RTR_LAN6=fd00:8::105 RTR2_LAN6=fd00:8::106
HS_URL=https://$HS4
LAN4=192.168.8.0/24 LAN6=fd00:8::/64
METRICS=127.0.0.1:9586

T=${T:-$(basename "$0" .sh)}
FAILS=${FAILS:-0}
pass() { echo "PASS: $T: $*"; }
fail() { echo "FAIL: $T: $*"; FAILS=$((FAILS + 1)); }
skip() { echo "SKIP: $T: $*"; }
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
check_fails() { local d=$1; shift; if "$@"; then fail "$d"; else pass "$d"; fi; }
ti_log() { echo "ti: $*" >&2; }
not() { ! "$@"; }
# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
	local end=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done
}
# ms: a millisecond clock for the timed transitions.
ms() { echo $(($(date +%s%N) / 1000000)); }

ns() { local n=$1; shift; ip netns exec "ti-$n" "$@"; }

# ---- building the namespaces ----

ti_veth() {	# ti_veth NS1 IF1 NS2 IF2
	ip -n "ti-$1" link add "$2" type veth peer name "$4" netns "ti-$3" &&
	ip -n "ti-$1" link set "$2" up && ip -n "ti-$3" link set "$4" up
}
ti_bridge() { ip -n "ti-$1" link add br0 type bridge && ip -n "ti-$1" link set br0 type bridge stp_state 0 forward_delay 0 && ip -n "ti-$1" link set br0 up; }
# ti_port BRIDGE-NS NS IF PORTNAME: NS's IF plugged into the bridge.
ti_port() { ti_veth "$2" "$3" "$1" "$4" && ip -n "ti-$1" link set "$4" master br0; }
ti_sysctl() { ip netns exec "ti-$1" sysctl -qw "$2" >/dev/null; }

# ti_nat NS WAN-ADDR LAN-NET-ADDR: a NAT gateway (masquerade, like a home router).
ti_nat() {
	ti_sysctl "$1" net.ipv4.ip_forward=1 &&
	ip -n "ti-$1" addr add "$2/24" dev wan0 && ip -n "ti-$1" addr add "$3/24" dev lan0 &&
	ns "$1" nft -f - <<-EOF
	table ip tinat {
		chain postrouting { type nat hook postrouting priority srcnat; oifname "wan0" masquerade; }
	}
	EOF
}

ti_links() {
	local n
	for n in "${TI_NS[@]}"; do ip netns add "$n" && ip -n "$n" link set lo up || return 1; done
	ti_bridge inet && ti_bridge lan &&
	ti_port inet hs eth0 p-hs && ti_port inet www eth0 p-www && ti_port inet lgw wan0 p-lgw &&
	ti_port inet pgw wan0 p-pgw && ti_port inet gw wan0 p-gw &&
	ti_veth lap eth0 lgw lan0 && ti_veth phone eth0 pgw lan0 &&
	ti_port lan gw lan0 p-gw && ti_port lan rtr eth0 p-rtr && ti_port lan rtr2 eth0 p-rtr2 &&
	ti_port lan host eth0 p-host
}

ti_addresses() {
	ip -n ti-hs addr add $HS4/24 dev eth0 && ip -n ti-hs addr add $HS6/64 dev eth0 nodad &&
	ip -n ti-www addr add $WWW4/24 dev eth0 && ip -n ti-www addr add $WWW6/64 dev eth0 nodad &&
	ip -n ti-www route add default via $GW4 &&
	ti_nat lgw $LGW4 10.1.0.1 && ip -n ti-lap addr add $LAP4/24 dev eth0 &&
	ip -n ti-lap route add default via 10.1.0.1 &&
	ti_nat pgw $PGW4 10.2.0.1 && ip -n ti-phone addr add $PHONE4/24 dev eth0 &&
	ip -n ti-phone route add default via 10.2.0.1 &&
	ip -n ti-rtr addr add $RTR_LAN4/24 dev eth0 && ip -n ti-rtr addr add $RTR_LAN6/64 dev eth0 nodad &&
	ip -n ti-rtr route add default via 192.168.8.1 &&
	ip -n ti-rtr2 addr add $RTR2_LAN4/24 dev eth0 && ip -n ti-rtr2 addr add $RTR2_LAN6/64 dev eth0 nodad &&
	ip -n ti-rtr2 route add default via 192.168.8.1 &&
	ip -n ti-host addr add $HOST4/24 dev eth0 && ip -n ti-host addr add $HOST6/64 dev eth0 nodad &&
	ip -n ti-host route add default via 192.168.8.1 &&
	# TI_TX_CSUM=off: the home host and the web host compute their checksums themselves instead
	# of leaving them to the (virtual) NIC: a diagnosis switch. Off by default, since a user's
	# hosts offload, and a veth frame with its checksum left to "hardware" reaches meshgate's
	# AF_XDP socket with only the pseudo-header sum in the checksum field.
	{ [ "${TI_TX_CSUM:-on}" = on ] || { ip netns exec ti-host ethtool -K eth0 tx off &&
		ip netns exec ti-www ethtool -K eth0 tx off; } >/dev/null; } &&
	# LAN-initiated traffic to the tailnet goes to the (first) router, as a home host's static
	# route would send it; tailnet-initiated traffic is SNATed and needs no route.
	ip -n ti-host route add 100.64.0.0/10 via $RTR_LAN4 &&
	ip -n ti-host -6 route add fd7a:115c:a1e0::/48 via $RTR_LAN6 &&
	ip -n ti-gw addr add 192.168.8.1/24 dev lan0 && ip -n ti-gw addr add fd00:8::1/64 dev lan0 nodad &&
	ip -n ti-gw addr add $GW4/24 dev wan0 && ti_sysctl gw net.ipv4.ip_forward=1 &&
	ns gw nft -f - <<-EOF
	table ip tinat {
		chain prerouting {
			type nat hook prerouting priority dstnat;
			iifname "wan0" udp dport 41641 dnat to $RTR_LAN4:41641
			iifname "wan0" udp dport 41642 dnat to $RTR2_LAN4:41641
		}
		chain postrouting { type nat hook postrouting priority srcnat; oifname "wan0" masquerade; }
	}
	EOF
}

# ---- Headscale ----

ti_certs() {
	local d=$TI_DIR/ca
	mkdir -p "$d" && (cd "$d" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
		-days 2 -subj "/CN=meshgate interop lab CA" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout hs.key -out hs.csr -subj "/CN=$HS4" &&
	echo "subjectAltName=IP:$HS4,DNS:headscale.lab.test" >ext.cnf &&
	openssl x509 -req -in hs.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out hs.pem -days 2 -extfile ext.cnf
	) >/dev/null 2>&1
}

# ti_policy NAME: install tests/interop/policy-NAME.hujson as the policy file (Headscale reads it
# at start; hs_policy_reload applies it to a running server).
ti_policy() { cp "$TI_ROOT/tests/interop/policy-$1.hujson" "$TI_DIR/hs/policy.hujson"; }

hs_config() {
	mkdir -p "$TI_DIR/hs" && chmod 700 "$TI_DIR/hs" &&
	sed -e "s|@DIR@|$TI_DIR/hs|g" -e "s|@CA@|$TI_DIR/ca|g" -e "s|@HS4@|$HS4|g" -e "s|@HS6@|$HS6|g" \
		"$TI_ROOT/tests/interop/headscale.yaml.in" >"$TI_DIR/hs/config.yaml"
}

hs() { ns hs "$HEADSCALE" -c "$TI_DIR/hs/config.yaml" --force "$@" 2>>"$TI_DIR/hs/cli.log"; }
hs_start() {
	# ip itself, not the ns function: $! must be Headscale's pid (ip execs it).
	ip netns exec ti-hs "$HEADSCALE" -c "$TI_DIR/hs/config.yaml" serve >>"$TI_DIR/hs/headscale.log" 2>&1 &
	echo $! >"$TI_DIR/hs/pid"
	wait_for 30 hs_alive_and_serving || { ti_log "headscale did not come up:"; tail -n 20 "$TI_DIR/hs/headscale.log" >&2; return 1; }
	kill -0 "$(cat "$TI_DIR/hs/pid")" 2>/dev/null && wait_for 10 ns hs sh -c "ss -Hltn 'sport = :443' | grep -q ." ||
		{ ti_log "headscale exited:"; tail -n 20 "$TI_DIR/hs/headscale.log" >&2; return 1; }
}
hs_alive_and_serving() { kill -0 "$(cat "$TI_DIR/hs/pid")" 2>/dev/null || return 0; hs users list -o json >/dev/null; }
hs_stop() { ti_stop_pid "$TI_DIR/hs/pid"; }
# The policy file is read at start; SIGHUP makes Headscale read it again.
hs_policy_reload() { kill -HUP "$(cat "$TI_DIR/hs/pid")"; }

hs_user_id() { hs users list -o json | jq -r --arg n "$1" '.[] | select(.name == $n) | .id'; }
# hs_key [--reusable] [--tags tag:x]: a new pre-auth key of user "lab" (by ID: both 0.27 and 0.29).
hs_key() { hs preauthkeys create --user "$(hs_user_id lab)" --expiration 24h "$@" -o json | jq -r .key; }
hs_nodes() { hs nodes list -o json; }
# hs_node NAME JQ-EXPR: a field of the node whose given name is NAME.
hs_node() { hs_nodes | jq -r --arg n "$1" ".[] | select(.given_name == \$n) | $2"; }
hs_node_id() { hs_node "$1" .id; }
hs_online() { [ "$(hs_node "$1" .online)" = true ]; }

# ---- tailscaled ----

# ts NODE ARGS: the tailscale CLI of NODE (lap or phone).
ts() { local n=$1; shift; ns "$n" "$TAILSCALE" --socket="$TI_DIR/$n/tailscaled.sock" "$@"; }
ts_start() {	# ts_start NODE [PORT]: PORT is tailscaled's WireGuard UDP port (default 41641)
	local n=$1 port=${2:-41641}
	mkdir -p "$TI_DIR/$n"
	# TS_LOGS_DIR: tailscaled's log configuration stays in its state dir (default /var/lib/tailscale).
	ip netns exec "ti-$n" env TS_NO_LOGS_NO_SUPPORT=true TS_LOGS_DIR="$TI_DIR/$n" SSL_CERT_FILE="$TI_DIR/ca/ca.pem" "$TAILSCALED" \
		--tun=tailscale0 --statedir="$TI_DIR/$n" --socket="$TI_DIR/$n/tailscaled.sock" --port="$port" \
		>>"$TI_DIR/$n/tailscaled.log" 2>&1 &
	echo $! >"$TI_DIR/$n/pid"
	wait_for 20 test -S "$TI_DIR/$n/tailscaled.sock"
}
ts_up() {	# ts_up NODE AUTHKEY [more tailscale up flags]
	local n=$1 k=$2; shift 2
	ts "$n" up --login-server="$HS_URL" --authkey="$k" --accept-routes --accept-dns=false \
		--hostname="$n" --timeout=60s "$@" >>"$TI_DIR/$n/up.log" 2>&1
}
ts_ip() { ts "$1" ip -"$2" 2>/dev/null | head -n 1; }
ts_stop() { ti_stop_pid "$TI_DIR/$1/pid"; }

# ---- meshgate ----

# mg_conf RTR [extra Interface lines]: the router's config. Like `tailscale up
# --advertise-routes=... --snat-subnet-routes` with defaults for everything else.
mg_conf() {
	local r=$1 name=mgti0 fport=41641; shift
	[ "$r" = rtr2 ] && name=mgti1 fport=41642
	mkdir -p "$TI_DIR/$r/state" && chmod 700 "$TI_DIR/$r" "$TI_DIR/$r/state"
	{
		printf '%s\n' "[Interface]" "Name = $name" "ListenPort = 41641" "Device = eth0" "SNAT = true" \
			"AdvertiseRoutes = $LAN4, $LAN6" "LoginServer = $HS_URL" "AuthKeyFile = $TI_DIR/$r/authkey" \
			"StateDir = $TI_DIR/$r/state" "DERPCAFile = $TI_DIR/ca/ca.pem" "ForwardedPort = $fport" \
			"MetricsListen = $METRICS"
		local l; for l; do printf '%s\n' "$l"; done
	} >"$TI_DIR/$r/meshgate.conf"
}
mg_ifname() { [ "$1" = rtr2 ] && echo mgti1 || echo mgti0; }
# mg_start RTR: meshgate in ti-RTR with host name RTR (its own UTS namespace: Headscale names
# the node after it), bpffs mounted (libxdp pins there), log appended to $TI_DIR/RTR/meshgate.log.
mg_start() {
	local r=$1 sock
	sock=$WG_SOCK_DIR/$(mg_ifname "$r").sock
	rm -f "$sock"
	ip netns exec "ti-$r" env MESHGATE_HEADSCALE_CA_FILE="$TI_DIR/ca/ca.pem" unshare --uts sh -c \
		'hostname "$1"; shift; mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' \
		mg "$r" "$MESHGATE" run -c "$TI_DIR/$r/meshgate.conf" >>"$TI_DIR/$r/meshgate.log" 2>&1 &
	echo $! >"$TI_DIR/$r/pid"
	wait_for 10 test -S "$sock" || { ti_log "meshgate $r did not start:"; tail -n 20 "$TI_DIR/$r/meshgate.log" >&2; return 1; }
}
mg_stop() { ti_stop_pid "$TI_DIR/$1/pid"; }
mg_running() { [ -f "$TI_DIR/$1/pid" ] && kill -0 "$(cat "$TI_DIR/$1/pid")" 2>/dev/null; }
mg_status() { ns "$1" "$MESHGATE" status -c "$TI_DIR/$1/meshgate.conf" "${@:2}" 2>/dev/null; }
mg_metric() {	# mg_metric RTR NAME [LABEL...]: sum of the matching series, 0 when absent
	local r=$1 name=$2; shift 2
	ns "$r" curl -sf --max-time 3 "http://$METRICS/metrics" | awk -v name="$name" -v want="$*" '
		BEGIN { n = split(want, w, " ") }
		/^#/ { next }
		{ split($1, p, "{"); if (p[1] != name) next
		  for (i = 1; i <= n; i++) if (index($1, w[i]) == 0) next
		  sum += $2 }
		END { printf "%d\n", sum }'
}
mg_log_count() { grep -c "$2" "$TI_DIR/$1/meshgate.log"; }

ti_stop_pid() {
	local f=$1 pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f"); rm -f "$f"
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
}

# ---- traffic ----

# ping_ok NS DST [COUNT]: COUNT replies within 15 s.
ping_ok() { ns "$1" ping -n -q -c "${3:-3}" -i 0.3 -w 15 "$2" >/dev/null 2>&1; }
random_file() {
	local f="$TI_DIR/random.$1M"
	[ -s "$f" ] || head -c "$(($1 * 1024 * 1024))" /dev/urandom >"$f"
	echo "$f"
}
# tcp_sha FROM TO ADDR FILE PORT: FILE over TCP (nc) from ns FROM to a listener in ns TO; prints
# the sha256 of what arrived.
tcp_sha() {
	local from=$1 to=$2 addr=$3 file=$4 port=$5 out="$TI_DIR/recv.$port" fam=-4 rpid
	case $addr in *:*) fam=-6 ;; esac
	rm -f "$out"
	# ip itself (not the ns function), so $! is the listener's pid; no fd of ours either, or a
	# runner's pipe would stay open until it times out.
	ip netns exec "ti-$to" timeout 120 nc $fam -l "$port" >"$out" 2>/dev/null </dev/null &
	rpid=$!
	wait_for 5 ns "$to" sh -c "ss -Hltn 'sport = :$port' | grep -q ." || { kill $rpid 2>/dev/null; return 1; }
	ns "$from" timeout 120 nc -N -w 10 "$addr" "$port" <"$file" || { kill $rpid 2>/dev/null; wait $rpid 2>/dev/null; return 1; }
	wait $rpid
	sha256sum <"$out" | cut -d' ' -f1
}
sha_of() { sha256sum <"$1" | cut -d' ' -f1; }
# tcp_connects FROM ADDR PORT: a TCP connection (to a listener the caller started) within 4 s.
tcp_connects() { ns "$1" timeout 5 nc -z -w 4 "$2" "$3" 2>/dev/null; }
# ti_listen NS PORT: a TCP listener that accepts forever (background; killed by ti_down).
ti_listen() {
	ns "$1" sh -c "while :; do nc -l $2 </dev/null >/dev/null 2>&1 || sleep 0.2; done" >/dev/null 2>&1 &
	wait_for 5 ns "$1" sh -c "ss -Hltn 'sport = :$2' | grep -q ."
}
# udp_echo NS PORT: a UDP responder (the tailnet "resolver"): answers each datagram with its text.
udp_echo() {
	ns "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(2048); s.sendto(b"answer:" + d, a)' "$2" >/dev/null 2>&1 &
	echo $! >>"$TI_DIR/bg.pids"
}
# udp_ask NS ADDR PORT: one query from a fresh source port; prints the answer (empty on timeout).
# The socket is connected, as a stub resolver's is: an answer from any other address than the
# one asked (a translated source, say) is not an answer.
udp_ask() {
	ns "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.connect((sys.argv[1], int(sys.argv[2])))
for _ in range(3):
    s.send(b"q")
    try: print(s.recv(2048).decode()); break
    except OSError: pass' "$2" "$3" 2>/dev/null
}

# ---- the lab as a whole ----

# ti_save: the facts later scripts need (tailnet addresses, node IDs), saved by ti_up.
ti_save() {
	cat >"$TI_DIR/env" <<-EOF
	LAP_TS4=$LAP_TS4 LAP_TS6=$LAP_TS6 PHONE_TS4=$PHONE_TS4 RTR_TS4=$RTR_TS4 RTR_TS6=$RTR_TS6
	RTR_ID=$RTR_ID LAP_ID=$LAP_ID PHONE_ID=$PHONE_ID TI_HS_VER=$TI_HS_VER TI_TS_VER=$TI_TS_VER
	EOF
}

ti_require() {
	local c
	[ "$(id -u)" = 0 ] || { echo "SKIP: $T: needs root (network namespaces)"; exit 77; }
	for c in ip nft openssl jq curl nc python3 unshare; do
		command -v $c >/dev/null || { echo "SKIP: $T: machine lacks $c"; exit 77; }
	done
	[ -c /dev/net/tun ] || { echo "SKIP: $T: machine lacks /dev/net/tun"; exit 77; }
	[ -x "$MESHGATE" ] || { echo "FAIL: $T: no meshgate at $MESHGATE"; exit 1; }
	for c in "$HEADSCALE" "$TAILSCALE" "$TAILSCALED"; do
		[ -x "$c" ] || { echo "FAIL: $T: no $c (run scripts/tailnet-bins.sh)"; exit 1; }
	done
}

# ti_up [approve|auto]: the whole lab: namespaces, CA, Headscale with user "lab" and the base
# policy, laptop and phone logged in, router 1 joined with its routes approved (by the CLI, or
# with "auto" by the policy's autoApprovers for tag:router).
# ti_lock: one interop lab at a time on this machine (the namespace names and $TI_DIR are fixed).
# As in tests/lab/lab.sh, a helper process holds the flock while this shell lives; scripts this
# shell starts (the scenarios of run.sh) inherit TI_LOCK_HELD and do not ask again.
TI_LOCK=${TI_LOCK:-/run/lock/meshgate-interop.lock}
. "$TI_ROOT/tests/shell-lock.sh"
ti_lock() {
	[ -n "${TI_LOCK_HELD:-}" ] && kill -0 "$TI_LOCK_HELD" 2>/dev/null && return 0
	hold_lock_while_alive "$TI_LOCK" "${TI_LOCK_WAIT:-1800}" $$ || { ti_log "the interop lab stayed busy"; return 1; }
	export TI_LOCK_HELD=$$
}

ti_up() {
	local how=${1:-approve} k
	ti_lock || return 1
	ti_down 2>/dev/null
	# Nothing of an earlier run may count (Headscale's database above all).
	rm -rf "$TI_DIR"/{hs,ca,lap,phone,rtr,rtr2,env}
	mkdir -p "$TI_DIR" && chmod 700 "$TI_DIR" && : >"$TI_DIR/bg.pids" || return 1
	ti_links && ti_addresses || { ti_log "namespaces"; return 1; }
	ti_certs || { ti_log "certificates"; return 1; }
	hs_config && ti_policy base && hs_start || return 1
	hs users create lab >/dev/null || { ti_log "headscale users create"; return 1; }
	k=$(hs_key --reusable) && [ -n "$k" ] || { ti_log "headscale preauthkeys create"; return 1; }
	ts_start lap && ts_up lap "$k" || { ti_log "laptop login failed:"; tail -n 5 "$TI_DIR/lap/up.log" >&2; return 1; }
	ts_start phone && ts_up phone "$k" || { ti_log "phone login failed"; return 1; }
	ti_join_router rtr "$how" || return 1
	LAP_TS4=$(ts_ip lap 4) LAP_TS6=$(ts_ip lap 6) PHONE_TS4=$(ts_ip phone 4)
	LAP_ID=$(hs_node_id lap) PHONE_ID=$(hs_node_id phone)
	ti_save
}

# ti_join_router RTR approve|auto: a single-use key (tagged tag:router for "auto"), meshgate
# started, online in Headscale, its routes approved and primary.
ti_join_router() {
	local r=$1 how=$2 k id
	if [ "$how" = auto ]; then k=$(hs_key --tags tag:router); else k=$(hs_key); fi
	[ -n "$k" ] || { ti_log "no key for $r"; return 1; }
	mg_conf "$r" && (umask 077; echo "$k" >"$TI_DIR/$r/authkey") && mg_start "$r" || return 1
	wait_for 30 hs_online "$r" || { ti_log "$r not online in headscale:"; tail -n 20 "$TI_DIR/$r/meshgate.log" >&2; return 1; }
	id=$(hs_node_id "$r")
	[ "$how" = approve ] && { hs nodes approve-routes -i "$id" -r "$LAN4,$LAN6" >/dev/null || return 1; }
	if [ "$r" = rtr ]; then
		RTR_ID=$id
		RTR_TS4=$(hs_node rtr '.ip_addresses[] | select(contains(".") )')
		RTR_TS6=$(hs_node rtr '.ip_addresses[] | select(contains(":"))')
	fi
}

# ti_load: the facts of a lab another script built (run.sh shares one lab across scenarios).
ti_load() { [ -f "$TI_DIR/env" ] && . "$TI_DIR/env"; }

ti_down() {
	local n pids
	# Only the holder of the lab tears it down (a run that never got the lock must not).
	[ -n "${TI_LOCK_HELD:-}" ] || return 0
	for n in rtr rtr2; do mg_stop $n; done
	for n in lap phone; do ts_stop $n; done
	hs_stop
	[ -f "$TI_DIR/bg.pids" ] && { kill $(cat "$TI_DIR/bg.pids") 2>/dev/null; rm -f "$TI_DIR/bg.pids"; }
	for n in "${TI_NS[@]}"; do
		pids=$(ip netns pids "$n" 2>/dev/null)
		[ -n "$pids" ] && kill $pids 2>/dev/null
	done
	sleep 0.2
	for n in "${TI_NS[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -f "$WG_SOCK_DIR/mgti0.sock" "$WG_SOCK_DIR/mgti1.sock"
	return 0
}

# ti_begin: a scenario's prologue. Under run.sh (TI_SHARED=1) the lab is up and its facts are
# loaded; alone, the script builds the lab and its EXIT trap takes it down.
ti_begin() {
	ti_require
	if [ "${TI_SHARED:-}" = 1 ] && ti_load; then
		trap 'ti_scenario_cleanup; exit $((FAILS > 0))' EXIT
	else
		trap 'ti_scenario_cleanup; ti_down; exit $((FAILS > 0))' EXIT
		ti_up "${TI_UP_HOW:-approve}" || { fail "lab setup (logs in $TI_DIR)"; exit 1; }
		ti_load
	fi
	trap 'exit 1' INT TERM
}
# A scenario defines ti_scenario_cleanup to put back what it changed; this is the default.
declare -F ti_scenario_cleanup >/dev/null || ti_scenario_cleanup() { :; }

# ti_diag RTR: the end of a router's log, as "#" lines (after a FAIL).
# Once per script: the same lines after every FAIL would bury the rest.
ti_diag() {
	[ -z "${TI_DIAGNOSED:-}" ] || return 0
	TI_DIAGNOSED=1
	grep -v -e '^libbpf' -e '^libxdp' "$TI_DIR/$1/meshgate.log" | tail -n "${2:-8}" | sed 's/^/# log: /'
}

# tcp_pull FROM TO ADDR FILE PORT: the other direction of tcp_sha: a listener in ns TO sends
# FILE, ns FROM connects to ADDR and reads it; prints the sha256 of what arrived.
tcp_pull() {
	local from=$1 to=$2 addr=$3 file=$4 port=$5 out="$TI_DIR/pull.$port" fam=-4 spid
	case $addr in *:*) fam=-6 ;; esac
	ip netns exec "ti-$to" timeout 120 nc $fam -N -l "$port" <"$file" >/dev/null 2>&1 &
	spid=$!
	wait_for 5 ns "$to" sh -c "ss -Hltn 'sport = :$port' | grep -q ." || { kill $spid 2>/dev/null; return 1; }
	ns "$from" timeout 120 nc -w 10 "$addr" "$port" </dev/null >"$out"
	# The sender is done once the reader saw its close; a failed reader leaves it waiting.
	kill $spid 2>/dev/null; wait $spid 2>/dev/null
	sha256sum <"$out" | cut -d' ' -f1
}
# ts_peer_line NODE ADDR: the `tailscale status` line of the peer with tailnet address ADDR.
ts_peer_line() { ts "$1" status 2>/dev/null | awk -v a="$2" '$1 == a'; }
# hs_registrations NODE: pre-auth key registrations of NODE Headscale logged (debug level),
# new or repeated.
hs_registrations() {
	grep -e 'Registering node with pre-auth key' -e 're-registering with same NodeKey and auth key' \
		-e 'Node re-registering with existing machine key' "$TI_DIR/hs/headscale.log" | grep -c "node.name=$1\b"
}
