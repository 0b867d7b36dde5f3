#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The shared network-namespace lab: the demo, the integration tests and the
# lab benchmark all build the same house.
#
#   "internet" 198.51.100.0/24, 2001:db8:100::/64
#  +------------------------+          +---------------------------------+
#  | mg-lap (laptop)        |          | mg-gw (home gateway)            |
#  |  mglap: wireguard-go   |          |  wan0 198.51.100.1              |
#  |   100.64.0.2/32        |  eth0    |       2001:db8:100::1           |
#  |   fd7a:115c:a1e0::2    |----------|  DNAT udp/41641 -> .105         |
#  |  eth0 198.51.100.2     |   wan0   |  masquerade LAN -> WAN          |
#  |       2001:db8:100::2  |          |  lan0 192.168.8.1, fd00:8::1    |
#  +------------------------+          +----------------|----------------+
#                                                       | lan0
#                                      +----------------|----------------+
#                                      | mg-lan: bridge br0 (a switch)   |
#                                      |   p-gw        p-rtr     p-host  |
#                                      +-----------------|--------|------+
#                                                  eth0  |        | eth0
#  +---------------------------------------------+      |  +-----|---------------------+
#  | mg-rtr (router)                             |------+  | mg-host (home host)       |
#  |  eth0 192.168.8.105, fd00:8::105            |         |  192.168.8.80, fd00:8::80 |
#  |  meshgate over AF_XDP on eth0, TUN meshgate0|         |  100.64.0.0/10 via .105   |
#  |   (or the baseline: wireguard-go mgrtr +    |         |  fd7a:115c:a1e0::/48 via  |
#  |    kernel forwarding, same key and port)    |         |    fd00:8::105            |
#  +---------------------------------------------+         +---------------------------+
#
# Usage: lab.sh up|down|status|start-meshgate|stop-meshgate|start-wggo|stop-wggo
#    or: source tests/lab/lab.sh, then call lab_up, lap/gw/rtr/host CMD, ...
# Nothing leaves the namespaces: every address is a documentation, ULA,
# private or CGNAT range, and no namespace has a link to the root namespace.

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MG_LAB_DIR=${MG_LAB_DIR:-/tmp/mg-lab}
MESHGATE=${MESHGATE:-$LAB_ROOT/build/control/meshgate}
LAB_NS=(mg-lap mg-gw mg-lan mg-rtr mg-host)

# Addresses every script refers to by name.
LAP_WAN4=198.51.100.2  GW_WAN4=198.51.100.1
LAP_WAN6=2001:db8:100::2  GW_WAN6=2001:db8:100::1
GW_LAN4=192.168.8.1    GW_LAN6=fd00:8::1
RTR_LAN4=192.168.8.105 RTR_LAN6=fd00:8::105
HOST4=192.168.8.80     HOST6=fd00:8::80
LAP_TS4=100.64.0.2     LAP_TS6=fd7a:115c:a1e0::2
RTR_TS4=100.64.0.5     RTR_TS6=fd7a:115c:a1e0::5
WG_PORT=41641          LAP_PORT=51820
MG_IF=meshgate0        WGGO_RTR_IF=mgrtr  LAP_IF=mglap
METRICS_ADDR=127.0.0.1:9586
LAP_ALLOWED=$RTR_TS4/32,$RTR_TS6/128,192.168.8.0/24,fd00:8::/64
RTR_ALLOWED=$LAP_TS4/32,$LAP_TS6/128
WG_SOCK_DIR=/var/run/wireguard

export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1

lap()  { ip netns exec mg-lap "$@"; }
gw()   { ip netns exec mg-gw "$@"; }
host() { ip netns exec mg-host "$@"; }
# `ip netns exec` remounts /sys for the namespace, which hides the root bpffs;
# libxdp pins its dispatcher there, so mount a bpffs inside when missing.
rtr() {
	ip netns exec mg-rtr sh -c \
		'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' rtr "$@"
}

lab_log() { echo "lab: $*" >&2; }

# Every veth keeps the kernel's default offloads, as a container's or VM's does: LAN hosts
# send TCP/UDP with partial checksums (CHECKSUM_PARTIAL) and TSO/GSO super-packets, which
# meshgate must handle (README.md, "What meshgate needs from the host"); t-offload checks it.

# lab_veth NS1 IF1 NS2 IF2 [QUEUES]: a veth pair with both ends already in place, QUEUES rx and tx
# queues each (default 1; the peer's tx queue, picked by flow hash, is the receiver's rx queue).
lab_veth() {
	local q="numrxqueues ${5:-1} numtxqueues ${5:-1}"
	ip -n "$1" link add "$2" $q type veth peer name "$4" $q netns "$3" &&
	ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

lab_sysctl() { ip netns exec "$1" sysctl -qw "$2" >/dev/null; }

lab_keys() {
	mkdir -p "$MG_LAB_DIR" && chmod 700 "$MG_LAB_DIR" || return 1
	(umask 077
	wg genkey >"$MG_LAB_DIR/rtr.key" && wg pubkey <"$MG_LAB_DIR/rtr.key" >"$MG_LAB_DIR/rtr.pub" &&
	wg genkey >"$MG_LAB_DIR/lap.key" && wg pubkey <"$MG_LAB_DIR/lap.key" >"$MG_LAB_DIR/lap.pub")
}
lab_rtr_pub() { cat "$MG_LAB_DIR/rtr.pub"; }
lab_lap_pub() { cat "$MG_LAB_DIR/lap.pub"; }

lab_links() {
	local ns
	for ns in "${LAB_NS[@]}"; do
		ip netns add "$ns" && ip -n "$ns" link set lo up || return 1
	done
	ip -n mg-lan link add br0 type bridge &&
	ip -n mg-lan link set br0 type bridge stp_state 0 forward_delay 0 &&
	ip -n mg-lan link set br0 up &&
	lab_veth mg-lap eth0 mg-gw wan0 &&
	lab_veth mg-gw lan0 mg-lan p-gw &&
	lab_veth mg-rtr eth0 mg-lan p-rtr "${LAB_RTR_QUEUES:-1}" &&
	lab_veth mg-host eth0 mg-lan p-host || return 1
	for ns in p-gw p-rtr p-host; do
		ip -n mg-lan link set "$ns" master br0 || return 1
	done
}

# Router and host get no DAD delay (nodad): tests start right away.
lab_addresses() {
	ip -n mg-lap addr add $LAP_WAN4/24 dev eth0 &&
	ip -n mg-lap addr add $LAP_WAN6/64 dev eth0 nodad &&
	ip -n mg-gw addr add $GW_WAN4/24 dev wan0 &&
	ip -n mg-gw addr add $GW_WAN6/64 dev wan0 nodad &&
	ip -n mg-gw addr add $GW_LAN4/24 dev lan0 &&
	ip -n mg-gw addr add $GW_LAN6/64 dev lan0 nodad &&
	ip -n mg-rtr addr add $RTR_LAN4/24 dev eth0 &&
	ip -n mg-rtr addr add $RTR_LAN6/64 dev eth0 nodad &&
	ip -n mg-rtr route add default via $GW_LAN4 &&
	ip -n mg-rtr -6 route add default via $GW_LAN6 &&
	ip -n mg-host addr add $HOST4/24 dev eth0 &&
	ip -n mg-host addr add $HOST6/64 dev eth0 nodad &&
	ip -n mg-host route add default via $GW_LAN4 &&
	ip -n mg-host -6 route add default via $GW_LAN6 &&
	# Most tests run with SNAT = false, so the home host routes the tailnet via
	# the router (t-snat deletes these routes). mtu 1280 keeps the wireguard-go
	# baseline, which has no MSS clamping, inside the tunnel MTU; t-mtu removes
	# it to test meshgate's own PMTU and MSS handling.
	ip -n mg-host route add 100.64.0.0/10 via $RTR_LAN4 mtu 1280 &&
	ip -n mg-host -6 route add fd7a:115c:a1e0::/48 via $RTR_LAN6 mtu 1280
}

# The gateway forwards UDP 41641 to the router (v4 DNAT; v6 DNAT too, for
# outer IPv6 later) and masquerades the LAN on the way out.
lab_gateway() {
	lab_sysctl mg-gw net.ipv4.ip_forward=1 &&
	lab_sysctl mg-gw net.ipv6.conf.all.forwarding=1 || return 1
	gw nft -f - <<-EOF
	table inet mgnat {
		chain prerouting {
			type nat hook prerouting priority dstnat;
			iifname "wan0" udp dport $WG_PORT ip daddr $GW_WAN4 dnat ip to $RTR_LAN4
			iifname "wan0" udp dport $WG_PORT ip6 daddr $GW_WAN6 dnat ip6 to $RTR_LAN6
		}
		chain postrouting {
			type nat hook postrouting priority srcnat;
			oifname "wan0" masquerade
		}
	}
	EOF
}

# lab_wggo NS IF: start wireguard-go in the foreground of a background job,
# remember its pid, wait for its UAPI socket. Its log ($MG_LAB_DIR/IF.log) is verbose: handshakes
# and keepalives sent and received, timers giving up (never a line per data packet), which a
# failing test prints the end of (tests/netns/lib.sh, t_diagnose).
lab_wggo() {
	local ns=$1 ifname=$2 i
	rm -f "$WG_SOCK_DIR/$ifname.sock"
	LOG_LEVEL=verbose ip netns exec "$ns" wireguard-go -f "$ifname" >"$MG_LAB_DIR/$ifname.log" 2>&1 &
	echo $! >"$MG_LAB_DIR/$ifname.pid"
	for i in $(seq 50); do
		[ -S "$WG_SOCK_DIR/$ifname.sock" ] && return 0
		sleep 0.1
	done
	lab_log "wireguard-go $ifname did not create its socket"; cat "$MG_LAB_DIR/$ifname.log" >&2
	return 1
}

lab_stop_pid() {
	local pidf=$1 pid i
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf"); rm -f "$pidf"
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
}

# The laptop: wireguard-go with the router as its only peer, reached at the
# gateway's WAN address; a fixed listen port so roaming is a visible change.
lab_laptop() {
	lab_wggo mg-lap $LAP_IF &&
	wg set $LAP_IF private-key "$MG_LAB_DIR/lap.key" listen-port $LAP_PORT \
		peer "$(lab_rtr_pub)" endpoint $GW_WAN4:$WG_PORT allowed-ips "$LAP_ALLOWED" &&
	ip -n mg-lap addr add $LAP_TS4/32 dev $LAP_IF &&
	ip -n mg-lap addr add $LAP_TS6/128 dev $LAP_IF nodad &&
	ip -n mg-lap link set $LAP_IF mtu 1280 up || return 1
	local p
	for p in $RTR_TS4/32 192.168.8.0/24; do ip -n mg-lap route add $p dev $LAP_IF || return 1; done
	for p in $RTR_TS6/128 fd00:8::/64; do ip -n mg-lap -6 route add $p dev $LAP_IF || return 1; done
}

# lab_reset_laptop_session: the laptop forgets its session with the router
# (peer removed and re-added), so the next packet starts a fresh handshake
# instead of waiting ~15 s to notice that a new router lost the old keys.
lab_reset_laptop_session() {
	wg set $LAP_IF peer "$(lab_rtr_pub)" remove &&
	wg set $LAP_IF peer "$(lab_rtr_pub)" endpoint $GW_WAN4:$WG_PORT allowed-ips "$LAP_ALLOWED"
}

# lab_iperf3_server: an iperf3 server on the home host, in the background,
# its pid in the lab dir; lab_stop_iperf3_server (or lab_down) ends it.
lab_iperf3_server() {
	local i
	ip netns exec mg-host iperf3 -s >"$MG_LAB_DIR/iperf3-server.log" 2>&1 &
	echo $! >"$MG_LAB_DIR/iperf3.pid"
	for i in $(seq 50); do
		ip netns exec mg-host ss -Hltn 'sport = :5201' | grep -q . && return 0
		sleep 0.1
	done
	return 1
}
lab_stop_iperf3_server() { lab_stop_pid "$MG_LAB_DIR/iperf3.pid"; }

# lab_lock: one user of the lab at a time on this machine (the namespace
# names are fixed, and several people run the tests). A helper process holds
# an flock while this shell lives, so the lock goes with the shell however
# it ends, and no daemon started here inherits it.
LAB_LOCK=${LAB_LOCK:-/run/lock/meshgate-lab.lock}
. "$(dirname "${BASH_SOURCE[0]}")/../shell-lock.sh"
lab_lock() {
	[ "${LAB_LOCK_HELD:-}" = $$ ] && return 0
	hold_lock_while_alive "$LAB_LOCK" "${LAB_LOCK_WAIT:-900}" $$ || { lab_log "the lab stayed busy"; return 1; }
	LAB_LOCK_HELD=$$
}

lab_up() {
	lab_lock || return 1
	lab_down 2>/dev/null
	command -v wireguard-go >/dev/null && command -v wg >/dev/null ||
		{ lab_log "wireguard-go and wg are required"; return 1; }
	lab_keys && lab_links && lab_addresses && lab_gateway && lab_laptop ||
		{ lab_log "lab setup failed"; lab_down; return 1; }
}

lab_down() {
	lab_stop_meshgate >/dev/null 2>&1
	lab_stop_wggo_router >/dev/null 2>&1
	lab_stop_pid "$MG_LAB_DIR/$LAP_IF.pid"
	lab_stop_iperf3_server
	local ns pids
	# Anything still running inside (an iperf3 server, a tcpdump) would keep
	# the namespace alive after its name is gone.
	for ns in "${LAB_NS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill $pids 2>/dev/null
	done
	for ns in "${LAB_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -f "$WG_SOCK_DIR/$LAP_IF.sock" "$WG_SOCK_DIR/$WGGO_RTR_IF.sock"
	return 0
}

lab_status() {
	local ns
	for ns in "${LAB_NS[@]}"; do
		ip netns list | grep -qw "^$ns" && echo "$ns: up" || echo "$ns: down"
	done
	wg show all 2>/dev/null
}

# lab_write_meshgate_conf [--endpoint] [--rekey N] [--snat] [--set "Key = Value"]...: the
# router's config. --endpoint gives the router the laptop's address so it can initiate; --set
# adds an [Interface] line.
lab_write_meshgate_conf() {
	local endpoint="" rekey="" snat=false exit_node=false filter="" device=eth0 backend="" queues="" poll="" chan="" extra=""
	while [ $# -gt 0 ]; do
		case $1 in
		# --dpdk "EAL ARGS": Backend = dpdk on the port the first --vdev of those arguments creates.
		--dpdk) backend="Backend = dpdk
	DPDKArgs = $2"; device=$(echo "$2" | grep -o -- '--vdev[= ][^, ]*' | head -n 1 | cut -c8-); shift ;;
		--queues) queues="Queues = $2"; shift ;;
		--set-channels) chan="SetChannels = true" ;;
		--poll) poll="Poll = $2"; shift ;;
		--set) extra="$extra
	$2"; shift ;;
		--filter) filter="FilterFile = $2"; shift ;;
		--exit-node) exit_node=true ;;
		--snat) snat=true ;;
		--endpoint) endpoint="Endpoint = $LAP_WAN4:$LAP_PORT" ;;
		--rekey) rekey="TestRekeyAfterTime = $2"; shift ;;
		*) lab_log "unknown option $1"; return 1 ;;
		esac
		shift
	done
	cat >"$MG_LAB_DIR/meshgate.conf" <<-EOF
	[Interface]
	Name = $MG_IF
	PrivateKey = $(cat "$MG_LAB_DIR/rtr.key")
	ListenPort = $WG_PORT
	Address = $RTR_TS4/32, $RTR_TS6/128
	MTU = 1280
	Device = $device
	$backend
	$queues
	$chan
	$poll
	SNAT = $snat
	AdvertiseExitNode = $exit_node
	$filter
	AdvertiseRoutes = 192.168.8.0/24, fd00:8::/64
	MetricsListen = $METRICS_ADDR
	$rekey
	$extra

	[Peer]
	PublicKey = $(lab_lap_pub)
	AllowedIPs = $LAP_TS4/32, $LAP_TS6/128
	$endpoint
	EOF
}

# lab_start_meshgate [--endpoint] [--rekey N] [--snat]: meshgate in mg-rtr, in the
# background, logging to $MG_LAB_DIR/meshgate.log; returns once the UAPI
# socket exists. Its pid is MG_PID (and $MG_LAB_DIR/meshgate.pid).
lab_start_meshgate() {
	local i
	[ -x "$MESHGATE" ] || { lab_log "no meshgate binary at $MESHGATE (build it first)"; return 1; }
	lab_write_meshgate_conf "$@" || return 1
	rm -f "$WG_SOCK_DIR/$MG_IF.sock"
	# A simple command, not the rtr function: $! must be meshgate's own pid
	# (ip and sh exec), so SIGTERM reaches it and `wait` sees its status.
	ip netns exec mg-rtr sh -c \
		'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' rtr \
		"$MESHGATE" run -c "$MG_LAB_DIR/meshgate.conf" >"$MG_LAB_DIR/meshgate.log" 2>&1 &
	MG_PID=$!
	echo $MG_PID >"$MG_LAB_DIR/meshgate.pid"
	for i in $(seq 100); do
		[ -S "$WG_SOCK_DIR/$MG_IF.sock" ] && return 0
		kill -0 $MG_PID 2>/dev/null || break
		sleep 0.1
	done
	lab_log "meshgate did not come up; log:"; tail -n 30 "$MG_LAB_DIR/meshgate.log" >&2
	return 1
}

# lab_rtr_has_xdp: is any XDP program still attached to the router's eth0?
lab_rtr_has_xdp() { ip -n mg-rtr -d link show dev eth0 2>/dev/null | grep -q 'prog/xdp'; }

# lab_stop_meshgate: SIGTERM, then the leak check for the router: exit
# status 0 (known when this shell started it), no XDP program left on eth0,
# no UAPI socket left. Returns non-zero and says why on any leak.
lab_stop_meshgate() {
	local pid rc=0 st i
	pid=${MG_PID:-$(cat "$MG_LAB_DIR/meshgate.pid" 2>/dev/null)}
	[ -n "$pid" ] || return 0
	rm -f "$MG_LAB_DIR/meshgate.pid"; MG_PID=
	if kill -TERM "$pid" 2>/dev/null; then
		for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			lab_log "meshgate ignored SIGTERM for 10 s; killing it"; kill -KILL "$pid"; rc=1
		fi
	fi
	if wait "$pid" 2>/dev/null; then st=0; else st=$?; fi
	# wait only knows our own children; 127 means another shell started it.
	if [ "$st" != 0 ] && [ "$st" != 127 ]; then
		lab_log "meshgate exited with status $st after SIGTERM"; rc=1
	fi
	if lab_rtr_has_xdp; then lab_log "XDP program left on mg-rtr eth0"; rc=1; fi
	if [ -e "$WG_SOCK_DIR/$MG_IF.sock" ]; then
		lab_log "UAPI socket $WG_SOCK_DIR/$MG_IF.sock left behind"; rm -f "$WG_SOCK_DIR/$MG_IF.sock"; rc=1
	fi
	return $rc
}

# lab_start_wggo_router [--endpoint]: the baseline router, wireguard-go plus
# kernel forwarding, with the same key, port and addresses as meshgate, so
# the laptop's config works against either.
lab_start_wggo_router() {
	local ep=()
	[ "${1:-}" = --endpoint ] && ep=(endpoint $LAP_WAN4:$LAP_PORT)
	lab_sysctl mg-rtr net.ipv4.ip_forward=1 &&
	lab_sysctl mg-rtr net.ipv6.conf.all.forwarding=1 &&
	lab_sysctl mg-rtr net.ipv4.conf.all.rp_filter=0 &&
	lab_wggo mg-rtr $WGGO_RTR_IF &&
	wg set $WGGO_RTR_IF private-key "$MG_LAB_DIR/rtr.key" listen-port $WG_PORT \
		peer "$(lab_lap_pub)" allowed-ips "$RTR_ALLOWED" "${ep[@]}" &&
	ip -n mg-rtr addr add $RTR_TS4/32 dev $WGGO_RTR_IF &&
	ip -n mg-rtr addr add $RTR_TS6/128 dev $WGGO_RTR_IF nodad &&
	ip -n mg-rtr link set $WGGO_RTR_IF mtu 1280 up &&
	ip -n mg-rtr route add $LAP_TS4/32 dev $WGGO_RTR_IF &&
	ip -n mg-rtr -6 route add $LAP_TS6/128 dev $WGGO_RTR_IF
}

lab_stop_wggo_router() {
	lab_stop_pid "$MG_LAB_DIR/$WGGO_RTR_IF.pid"
	lab_sysctl mg-rtr net.ipv4.ip_forward=0 2>/dev/null
	lab_sysctl mg-rtr net.ipv6.conf.all.forwarding=0 2>/dev/null
	rm -f "$WG_SOCK_DIR/$WGGO_RTR_IF.sock"
	return 0
}

# The traffic tools of perf/ (wggen: a WireGuard peer on the laptop; wgsink: plain UDP on
# the home host). lab_wgsink NAME ARGS...: wgsink in mg-host in the background, its one-line
# summary in $MG_LAB_DIR/NAME.out, pid in NAME.pid; a recv sink is listening on return.
# lab_wgsink_result NAME: stop it (SIGTERM) and print the summary.
WGGEN=${WGGEN:-$LAB_ROOT/build/perf/wggen}
WGSINK=${WGSINK:-$LAB_ROOT/build/perf/wgsink}
lab_wgsink() {
	local name=$1 port="" i; shift
	[ "$1" = recv ] && [ "$2" = --port ] && port=$3
	ip netns exec mg-host "$WGSINK" "$@" >"$MG_LAB_DIR/$name.out" 2>&1 &
	echo $! >"$MG_LAB_DIR/$name.pid"
	[ -n "$port" ] || return 0
	for i in $(seq 50); do
		ip netns exec mg-host ss -Hlun "sport = :$port" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}
lab_wgsink_result() { lab_stop_pid "$MG_LAB_DIR/$1.pid"; cat "$MG_LAB_DIR/$1.out"; }
# lab_wggen ARGS...: wggen in mg-lap as the laptop's peer (its key, the gateway's address,
# its tailnet address as inner source); ARGS add --dst, --size, --rate, --xdp eth0 etc.
lab_wggen() {
	ip netns exec mg-lap "$WGGEN" --key "$MG_LAB_DIR/lap.key" --peer-pub "$(lab_rtr_pub)" \
		--endpoint $GW_WAN4:$WG_PORT --src $LAP_TS4 "$@"
}

# lab_metric NAME [LABEL...]: the sum of every series of NAME whose label set
# contains each LABEL (e.g. 'reason="replay"'), in any order; 0 when absent.
lab_metric() {
	local name=$1; shift
	rtr curl -sf --max-time 3 "http://$METRICS_ADDR/metrics" |
		awk -v name="$name" -v want="$*" '
		BEGIN { n = split(want, w, " ") }
		/^#/ { next }
		{
			split($1, p, "{")
			if (p[1] != name) next
			for (i = 1; i <= n; i++) if (index($1, w[i]) == 0) next
			sum += $2
		}
		END { printf "%d\n", sum }'
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	up) lab_up && lab_log "up (keys and logs in $MG_LAB_DIR)" ;;
	down) lab_down ;;
	status) lab_status ;;
	start-meshgate) shift; lab_start_meshgate "$@" ;;
	stop-meshgate) lab_stop_meshgate ;;
	start-wggo) shift; lab_start_wggo_router "$@" ;;
	stop-wggo) lab_stop_wggo_router ;;
	*) echo "usage: $0 up|down|status|start-meshgate|stop-meshgate|start-wggo|stop-wggo" >&2; exit 2 ;;
	esac
fi
