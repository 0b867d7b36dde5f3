# SPDX-License-Identifier: GPL-2.0-only
#
# Sourced by every tests/netns/t-*.sh: assertions, the router under test,
# traffic helpers and the cleanup/leak check. The topology is the lab's:
#
#   mg-lap (wireguard-go mglap) -- mg-gw (DNAT 41641) -- mg-lan br0 -+- mg-rtr (router under test)
#                                                                     +- mg-host (192.168.8.80)
#
# MG_ROUTER=meshgate (default) tests build/control/meshgate (or $MESHGATE);
# MG_ROUTER=wggo runs the same scenarios against the wireguard-go baseline,
# which checks the tests themselves; meshgate-only assertions (metrics,
# `meshgate check`, the test rekey timer) then print SKIP.

. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"

MG_ROUTER=${MG_ROUTER:-meshgate}
T_NAME=$(basename "$0" .sh)
T_FAILS=0
T_ROUTER_UP=0
if [ "$MG_ROUTER" = wggo ]; then RIF=$WGGO_RTR_IF; else RIF=$MG_IF; fi

pass() { echo "PASS: $T_NAME: $*"; }
fail() { echo "FAIL: $T_NAME: $*"; T_FAILS=$((T_FAILS + 1)); t_diagnose; }

# t_diagnose: on the first failure, what meshgate saw (its non-zero drop and handshake counters
# and the end of its log) and what the laptop's wireguard-go saw (its peer's state and the end of
# its log: handshakes sent and received, timers), as "#" lines; run.sh prints them.
t_diagnose() {
	[ -z "${T_DIAGNOSED:-}" ] && [ $T_ROUTER_UP = 1 ] || return 0
	T_DIAGNOSED=1
	if meshgate_only; then
		rtr curl -sf --max-time 3 "http://$METRICS_ADDR/metrics" |
			awk '/^meshgate_(inbound_dropped_packets|handshakes)_total/ && $2 != 0 { print "# " $0 }'
		tail -n 5 "$MG_LAB_DIR/meshgate.log" | sed 's/^/# log: /'
	fi
	wg show "$LAP_IF" dump 2>/dev/null | awk 'NR > 1 { print "# laptop peer: endpoint " $3 ", latest handshake " $5 ", rx " $6 ", tx " $7 }'
	echo "# laptop clock now: $(date +%s)"
	tail -n 12 "$MG_LAB_DIR/$LAP_IF.log" 2>/dev/null | sed 's/^/# laptop log: /'
}
skip() { echo "SKIP: $T_NAME: $*"; }

# check DESCRIPTION CMD...: PASS if CMD succeeds, FAIL otherwise.
check() {
	local desc=$1; shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# check_fails DESCRIPTION CMD...: PASS if CMD fails.
check_fails() {
	local desc=$1; shift
	if "$@"; then fail "$desc"; else pass "$desc"; fi
}

# expect_eq DESCRIPTION GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi
}

# Exit 77 only for what the machine lacks, and say which.
t_require_machine() {
	local c
	[ "$(id -u)" = 0 ] || { echo "SKIP: $T_NAME: needs root (network namespaces)"; exit 77; }
	for c in ip wg wireguard-go ethtool nft tcpdump curl nc ping; do
		command -v $c >/dev/null ||
			{ echo "SKIP: $T_NAME: machine lacks $c (see scripts/deps.sh)"; exit 77; }
	done
	[ -c /dev/net/tun ] || { echo "SKIP: $T_NAME: machine lacks /dev/net/tun"; exit 77; }
	ip netns add mg-probe 2>/dev/null ||
		{ echo "SKIP: $T_NAME: kernel refuses network namespaces"; exit 77; }
	ip netns del mg-probe
}

meshgate_only() { [ "$MG_ROUTER" = meshgate ]; }

# t_router_start [--endpoint] [--rekey N]: the router under test in mg-rtr.
t_router_start() {
	if meshgate_only; then
		lab_start_meshgate "$@"
	else
		local a=(); [ "${1:-}" = --endpoint ] && a=(--endpoint)
		lab_start_wggo_router "${a[@]}"
	fi && T_ROUTER_UP=1
}

# t_router_stop: stop it and run the router's leak check (meshgate: exit 0
# on SIGTERM, no XDP program on eth0, no UAPI socket left).
t_router_stop() {
	[ $T_ROUTER_UP = 1 ] || return 0
	T_ROUTER_UP=0
	if meshgate_only; then
		if lab_stop_meshgate; then pass "leak check: meshgate stopped cleanly"
		else fail "leak check: meshgate did not stop cleanly (see above)"; fi
	else
		lab_stop_wggo_router
	fi
}

t_cleanup() {
	local ns
	t_router_stop
	kill $(jobs -p) 2>/dev/null; wait 2>/dev/null
	lab_down
	for ns in "${LAB_NS[@]}"; do
		ip netns list | grep -qw "^$ns" && fail "leak check: namespace $ns left behind"
	done
	[ $T_FAILS = 0 ]
}

# t_begin: the common prologue: machine check, fresh lab, cleanup trap.
t_begin() {
	t_require_machine
	trap 't_cleanup; exit $?' EXIT
	trap 'exit 1' INT TERM
	if meshgate_only && [ ! -x "$MESHGATE" ]; then
		fail "no meshgate binary at $MESHGATE (run: meson setup build && ninja -C build)"
		exit 1
	fi
	lab_up || { fail "lab setup"; exit 1; }
}

# t_start_router_or_die [opts]: start the router; without it nothing can run.
t_start_router_or_die() {
	t_router_start "$@" || { fail "router ($MG_ROUTER) start"; exit 1; }
}

# ping_ok NS DST [COUNT]: COUNT echo replies (default 5) within 10 s; ping
# keeps sending until then, so one lost early request is tolerated.
ping_ok() {
	ip netns exec "mg-$1" ping -n -q -c "${3:-5}" -i 0.2 -w 10 "$2" >/dev/null 2>&1
}

# wg_field IF WHAT: the value column of `wg show IF WHAT` for the only peer.
wg_field() { wg show "$1" "$2" 2>/dev/null | awk 'NR == 1 { print $2 }'; }

# wg_transfer IF: "rx tx" of the only peer.
wg_transfer() { wg show "$1" transfer 2>/dev/null | awk 'NR == 1 { print $2, $3 }'; }

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
	local end=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done
}

# capture_start NS SECS OUT TCPDUMP-ARGS...: tcpdump in mg-NS in the background, its stdout in OUT
# and stderr in OUT.err, capturing for SECS seconds or more (its timeout also covers the start)
# unless its -c count is reached first;
# CAPTURE_PID is its pid (wait for it). Returns only once tcpdump printed "listening on", which
# it does after its socket is bound to the interface with the filter attached: a packet sent
# after that is captured. Starting tcpdump and sending right away (or after a fixed sleep, or
# after a wait whose timeout is ignored) loses the first packets when the machine is loaded;
# that is how a capture of a handshake saw none although the handshake happened.
# --immediate-mode hands each packet over at once, not when a ring block times out.
# Returns 1 with the reason in CAPTURE_ERR (and no tcpdump left) if it did not start in 30 s.
CAPTURE_START_LIMIT=30
capture_start() {
	local ns=$1 secs=$2 out=$3
	shift 3
	rm -f "$out" "$out.err"
	CAPTURE_ERR=""
	ip netns exec "mg-$ns" timeout $((secs + CAPTURE_START_LIMIT)) tcpdump --immediate-mode "$@" \
		>"$out" 2>"$out.err" &
	CAPTURE_PID=$!
	wait_for $CAPTURE_START_LIMIT grep -q 'listening on' "$out.err" && return 0
	kill "$CAPTURE_PID" 2>/dev/null
	wait "$CAPTURE_PID" 2>/dev/null
	CAPTURE_ERR="tcpdump in mg-$ns not capturing after ${CAPTURE_START_LIMIT} s: $(tr '\n' ' ' <"$out.err")"
	return 1
}

# wait_listen NS PORT: until a TCP listener on PORT exists in NS.
wait_listen() {
	wait_for 5 sh -c "ip netns exec mg-$1 ss -Hltn 'sport = :$2' | grep -q ."
}

# tcp_transfer FROM_NS TO_NS TO_ADDR FILE PORT: send FILE with nc from one
# namespace to a listener in the other; print the received file's sha256.
tcp_transfer() {
	local from=$1 to=$2 addr=$3 file=$4 port=$5 out="$MG_LAB_DIR/recv.$port" fam=-4
	case $addr in *:*) fam=-6 ;; esac	# nc -l binds one family only
	rm -f "$out"
	ip netns exec "mg-$to" timeout 120 nc $fam -l "$port" >"$out" &
	local rpid=$!
	wait_listen "$to" "$port" || { kill $rpid 2>/dev/null; return 1; }
	ip netns exec "mg-$from" timeout 120 nc -N "$addr" "$port" <"$file" || { kill $rpid 2>/dev/null; return 1; }
	wait $rpid
	sha256sum <"$out" | cut -d' ' -f1
}

# random_file SIZE_MIB: a file of random bytes in the lab dir; prints path.
random_file() {
	local f="$MG_LAB_DIR/random.$1M"
	[ -s "$f" ] || head -c "$(($1 * 1024 * 1024))" /dev/urandom >"$f"
	echo "$f"
}

# kernel_forwarded: datagrams the router's kernel forwarded (IPv4 + IPv6).
# meshgate forwards in user space, so through it this stays 0; the lab
# leaves ip_forward off in mg-rtr, and this catches a router that turns it on.
kernel_forwarded() {
	local v4 v6
	v4=$(ip netns exec mg-rtr awk '/^Ip: [0-9]/ { print $7 }' /proc/net/snmp)
	v6=$(ip netns exec mg-rtr awk '$1 == "Ip6OutForwDatagrams" { print $2 }' /proc/net/snmp6)
	echo $((${v4:-0} + ${v6:-0}))
}

# drops REASON: meshgate_inbound_dropped_packets_total for one reason.
drops() { lab_metric meshgate_inbound_dropped_packets_total "reason=\"$1\""; }

# random_keys N: N random public keys, one a line (any 32 bytes will do for a peer we never reach).
random_keys() {
	python3 -c 'import base64, os, sys
for _ in range(int(sys.argv[1])): print(base64.b64encode(os.urandom(32)).decode())' "$1"
}

# peers_set add|remove BATCH KEY...: `wg set` on the router in batches of BATCH peers; peer i gets
# allowed IP 100.(96 + i / 250).(i % 250).1/32. Prints how many `wg set` calls failed.
peers_set() {
	local op=$1 batch=$2 errs=0 b i args; shift 2
	local keys=("$@")
	for ((b = 0; b < ${#keys[@]}; b += batch)); do
		args=()
		for ((i = b; i < b + batch && i < ${#keys[@]}; i++)); do
			if [ "$op" = add ]; then
				args+=(peer "${keys[$i]}" allowed-ips "100.$((96 + i / 250)).$((i % 250)).1/32")
			else
				args+=(peer "${keys[$i]}" remove)
			fi
		done
		wg set $RIF "${args[@]}" || errs=$((errs + 1))
	done
	echo $errs
}

t_end() { exit $((T_FAILS > 0)); }
