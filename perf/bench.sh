#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The lab benchmark with a real WireGuard generator: one lab session, one table.
#
#   mg-lap  wggen (a WireGuard peer: AF_XDP TX on eth0, decrypts replies) ==wg==> mg-gw DNAT
#     ==> mg-rtr ROUTER --> mg-host wgsink recv          (forward: laptop -> home host)
#     <== mg-rtr ROUTER <-- mg-host wgsink send          (reverse: home host -> laptop)
#   ROUTER = meshgate Backend = xdp | meshgate Backend = dpdk (when built and supported)
#          | wireguard-go + kernel forwarding (the baseline, same key, port and addresses)
#
# For inner sizes 64, 512 and 1280 bytes and each direction: offered and delivered packets/s
# and Gbit/s (inner IPv4 packets), loss, the router process's CPU (utime+stime from
# /proc/PID/stat over the run) per delivered Gbit/s, and for meshgate the engine figure
# (build/perf/engine-bench: its paired fraction, the worker's rate against the AEAD batch rate
# at the same size and direction, chunk by chunk). Then a sweep of the offered rate (10%..200% of the sustainable rate measured
# above) at one size for every router: perf/out/rate.dat and perf/out/rate.png (gnuplot), plus
# meshgate's drops by reason from /metrics at 2x overload.
#
# Usage: perf/bench.sh [--quick] [--json] [--time S] [--sizes "64 512 1280"] [--sweep-size N]
#                      [--routers "meshgate wggo"] [--no-sweep] [--out DIR] [--build DIR]
# --quick: 1 s runs, three sweep points (what the test uses). --json: one JSON object on stdout
# (the progress goes to stderr). Needs root (namespaces). Everything, generator and sink
# included, shares this machine's cores: the figures compare routers under the same handicap.

LAB_DIR_SELF=$(cd "$(dirname "$0")" && pwd)
. "$LAB_DIR_SELF/../tests/lab/lab.sh"

TIME=5 SIZES="64 512 1280" SWEEP_SIZE=512 ROUTERS="meshgate dpdk wggo" JSON=0 SWEEP=1 QUICK=0
STEPS="0.1 0.25 0.5 0.75 1.0 1.25 1.5 2.0"
OUT=$LAB_DIR_SELF/out BUILD=$LAB_ROOT/build
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 TIME=1 STEPS="0.25 1.0 2.0" ;;
	--json) JSON=1 ;;
	--time) TIME=$2; shift ;;
	--sizes) SIZES=$2; shift ;;
	--sweep-size) SWEEP_SIZE=$2; shift ;;
	--routers) ROUTERS=$2; shift ;;
	--no-sweep) SWEEP=0 ;;
	--out) OUT=$2; shift ;;
	--build) BUILD=$2; shift ;;
	-h|--help) sed -n '/^# Usage/,/^# included/p' "$0"; exit 0 ;;
	*) echo "bench: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
MESHGATE=$BUILD/control/meshgate WGGEN=$BUILD/perf/wggen WGSINK=$BUILD/perf/wgsink
ENGINE_BENCH=$BUILD/perf/engine-bench
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
for b in "$MESHGATE" "$WGGEN" "$WGSINK"; do
	[ -x "$b" ] || { echo "bench: no $b (build first: ninja -C $BUILD)" >&2; exit 1; }
done
mkdir -p "$OUT" || exit 1

say() { echo "bench: $*" >&2; }
kpps() { awk -v p="$1" 'BEGIN { if (p == "-") print "-"; else printf "%.1f", p / 1000 }'; }
router_name() {
	case $1 in meshgate) echo "meshgate xdp" ;; dpdk) echo "meshgate dpdk" ;;
	wggo) echo "wireguard-go + kernel fwd" ;; *) echo "$1" ;; esac
}
kv() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2"; }
RUN=$((RANDOM * 1000))
CLK_TCK=$(getconf CLK_TCK)

# udp_drops NS: UDP datagrams the namespace's sockets dropped for a full receive buffer, so the
# table can tell the receiver's own losses from the router's.
udp_drops() {
	ip netns exec "$1" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["RcvbufErrors"] }' /proc/net/snmp
}

# cpu_ticks PID: utime + stime (fields 14, 15; the command name may hold spaces).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }

# dpdk_reason: empty when a meshgate DPDK run is possible here, else why not.
dpdk_reason() {
	ldd "$MESHGATE" 2>/dev/null | grep -q librte_ethdev ||
		{ echo "meshgate built without DPDK (libdpdk-dev, meson -Ddpdk=enabled)"; return; }
	grep -q -- '--dpdk)' "$LAB_ROOT/tests/lab/lab.sh" ||
		{ echo "the lab cannot start meshgate with Backend = dpdk"; return; }
}

# Backend = dpdk as tests/netns/t-dpdk.sh runs it: DPDK owns the router's eth0 through an
# af_packet vdev (no hugepages), the kernel sees the LAN only through meshgate's exception TAP,
# so eth0 loses its addresses and the kernel's own view of it (an nft ingress drop) and the TAP
# gets them; dpdk_lab_restore gives eth0 back for the next router.
DPDK_EAL="--no-huge -m 512 --no-pci --no-telemetry --log-level=*:warning --vdev net_af_packet0,iface=eth0"
dpdk_lab_prepare() {
	rtr ip addr flush dev eth0 &&
	rtr sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1 &&
	rtr nft -f - <<-EOF
	table netdev benchdpdk {
		chain in { type filter hook ingress device eth0 priority 0; policy drop; }
	}
	EOF
}
# the router's own LAN address and routes move to the TAP (as t-dpdk.sh does)
dpdk_tap_up() {
	local tap=$MG_IF-lan
	rtr ip link set "$tap" up &&
	rtr ip addr add $RTR_LAN4/24 dev "$tap" &&
	rtr ip addr add $RTR_LAN6/64 dev "$tap" nodad &&
	rtr ip route replace default via $GW_LAN4 &&
	rtr ip -6 route replace default via $GW_LAN6
}
dpdk_lab_restore() {
	rtr nft delete table netdev benchdpdk 2>/dev/null
	rtr sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
	ip -n mg-rtr addr add $RTR_LAN4/24 dev eth0 2>/dev/null
	ip -n mg-rtr addr add $RTR_LAN6/64 dev eth0 nodad 2>/dev/null
	ip -n mg-rtr route replace default via $GW_LAN4
	ip -n mg-rtr -6 route replace default via $GW_LAN6
}

# router_start NAME: start it, point RPID at its process, silence the laptop's wireguard-go
# (wggen takes the laptop's key and role).
router_start() {
	case $1 in
	meshgate) lab_start_meshgate || return 1; RPID=$MG_PID ;;
	dpdk) { dpdk_lab_prepare && lab_start_meshgate --dpdk "$DPDK_EAL" && dpdk_tap_up; } ||
		{ dpdk_lab_restore; return 1; }
		RPID=$MG_PID ;;
	wggo) lab_start_wggo_router || return 1; RPID=$(cat "$MG_LAB_DIR/$WGGO_RTR_IF.pid") ;;
	esac
	wg set $LAP_IF peer "$(lab_rtr_pub)" remove 2>/dev/null
	return 0
}
router_stop() {
	case $1 in
	meshgate) lab_stop_meshgate ;;
	dpdk) lab_stop_meshgate; dpdk_lab_restore ;;
	wggo) lab_stop_wggo_router ;;
	esac
}

# run_fwd SIZE RATE: laptop -> home host for TIME s; sets OFF DEL (packets/s), CPU (cores).
run_fwd() {
	local run=$((++RUN)) gen sink c0 c1 u0 u1 secs
	lab_wgsink fwd recv --port 9000 --run $run || { say "sink did not start"; return 1; }
	c0=$(cpu_ticks "$RPID") u0=$(udp_drops mg-host)
	gen=$(lab_wggen --dst $HOST4:9000 --size "$1" --rate "$2" --seconds "$TIME" --run $run \
		--linger 0.3 --xdp eth0 2>>"$MG_LAB_DIR/wggen.err")
	c1=$(cpu_ticks "$RPID") u1=$(udp_drops mg-host)
	sink=$(lab_wgsink_result fwd)
	[ "$(kv handshake "$gen")" = ok ] || { say "wggen: no handshake ($gen)"; return 1; }
	TXMODE=$(kv tx_mode "$gen")
	secs=$(kv secs "$gen")
	OFF=$(awk -v n="$(kv sent "$gen")" -v s="$secs" 'BEGIN { print n / s }')
	DEL=$(awk -v n="$(kv rx "$sink")" -v s="$secs" 'BEGIN { print n / s }')
	CPU=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v s="$secs" 'BEGIN { print t / hz / s }')
	CORRUPT=$(kv corrupt "$sink") SOCKDROP=$(awk -v n=$((u1 - u0)) -v s="$secs" 'BEGIN { print n / s }')
}

# run_rev SIZE RATE: home host -> laptop for TIME s, same outputs.
run_rev() {
	local run=$((++RUN)) gen sink c0 c1 u0 u1 gpid secs
	ip netns exec mg-lap "$WGGEN" --key "$MG_LAB_DIR/lap.key" --peer-pub "$(lab_rtr_pub)" \
		--endpoint $GW_WAN4:$WG_PORT --src $LAP_TS4 --dst $HOST4:9000 --run $run --sendmmsg \
		--no-tx --seconds 600 >"$MG_LAB_DIR/wggen-rev.out" 2>"$MG_LAB_DIR/wggen-rev.err" &
	gpid=$!
	for _ in $(seq 50); do grep -q 'handshake complete' "$MG_LAB_DIR/wggen-rev.err" && break; sleep 0.1; done
	sleep 0.5	# the router switches to the new session on its control tick (see t-wggen)
	c0=$(cpu_ticks "$RPID") u0=$(udp_drops mg-lap)
	lab_wgsink rev send --to $LAP_TS4:9001 --size "$1" --rate "$2" --seconds "$TIME" --run $run
	wait "$(cat "$MG_LAB_DIR/rev.pid")" 2>/dev/null; rm -f "$MG_LAB_DIR/rev.pid"
	c1=$(cpu_ticks "$RPID")
	sleep 0.3
	kill -TERM $gpid 2>/dev/null; wait $gpid
	u1=$(udp_drops mg-lap)
	sink=$(cat "$MG_LAB_DIR/rev.out") gen=$(cat "$MG_LAB_DIR/wggen-rev.out")
	[ "$(kv handshake "$gen")" = ok ] || { say "wggen (reverse): no handshake"; return 1; }
	secs=$(kv secs "$sink")
	OFF=$(awk -v n="$(kv sent "$sink")" -v s="$secs" 'BEGIN { print n / s }')
	DEL=$(awk -v n="$(kv rx "$gen")" -v s="$secs" 'BEGIN { print n / s }')
	CPU=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v s="$secs" 'BEGIN { print t / hz / s }')
	CORRUPT=$(kv rx_corrupt "$gen") SOCKDROP=$(awk -v n=$((u1 - u0)) -v s="$secs" 'BEGIN { print n / s }')
}

# drops_snapshot: meshgate's drop counters, one "reason value" a line: the drop reasons, plus
# the AF_XDP socket's own (xsk_rx_dropped, xsk_rx_ring_full: the kernel could not hand a frame
# to meshgate), summed over queues.
drops_snapshot() {
	rtr curl -sf --max-time 3 "http://$METRICS_ADDR/metrics" | awk '
		/^meshgate_inbound_dropped_packets_total\{/ {
			match($1, /reason="[^"]*"/); d[substr($1, RSTART + 8, RLENGTH - 9)] += $2 }
		/^meshgate_xsk_rx_dropped_total/ { d["xsk_rx_dropped"] += $2 }
		/^meshgate_xsk_rx_ring_full_total/ { d["xsk_rx_ring_full"] += $2 }
		END { for (k in d) print k, d[k] }'
}
# drops_diff BEFORE AFTER: "reason=n ..." for every counter that grew.
drops_diff() {
	join <(sort <<<"$1") <(sort <<<"$2") |
		awk '$3 - $2 > 0 { printf "%s%s=%d", sep, $1, $3 - $2; sep = " " }'
}

# Results: ROWS lines "router dir size off_pps del_pps cpu_cores corrupt" and SWEEP lines
# "router offered_pps delivered_pps"; rows of a router that could not run: "router - n/a REASON".
ROWS=() SWEEPS=() NA=() TXMODE="" BENCH_RC=0
declare -A SUST OVER DROPS

measure_router() {
	local r=$1 s d before
	router_start "$r" || { NA+=("$r router did not start"); BENCH_RC=1; return 1; }
	for s in $SIZES; do
		for d in fwd rev; do
			say "$r: $d ${s} B, unlimited offered rate, ${TIME} s"
			[ "$r" != wggo ] && before=$(drops_snapshot)
			if run_$d "$s" 0; then
				[ "$r" != wggo ] && DROPS["$r $d $s"]=$(drops_diff "$before" "$(drops_snapshot)")
				ROWS+=("$r $d $s $OFF $DEL $CPU ${CORRUPT:-0} $SOCKDROP")
				[ "$d" = fwd ] && [ "$s" = "$SWEEP_SIZE" ] && SUST[$r]=$DEL
			else
				ROWS+=("$r $d $s - - - - -"); BENCH_RC=1
			fi
		done
	done
	# the sweep's base when its size is not a table size
	if [ $SWEEP = 1 ] && ! grep -qw -- "$SWEEP_SIZE" <<<"$SIZES"; then
		say "$r: fwd ${SWEEP_SIZE} B, unlimited offered rate, ${TIME} s (sweep base)"
		run_fwd "$SWEEP_SIZE" 0 && SUST[$r]=$DEL
	fi
	router_stop "$r"
}

sweep_router() {
	local r=$1 base=$2 f rate before
	router_start "$r" || return 1
	for f in $STEPS; do
		rate=$(awk -v b="$base" -v f="$f" 'BEGIN { printf "%d", b * f }')
		[ "$f" = 2.0 ] && [ "$r" != wggo ] && before=$(drops_snapshot)
		say "$r: sweep ${SWEEP_SIZE} B at $rate packets/s (${f}x)"
		run_fwd "$SWEEP_SIZE" "$rate" && SWEEPS+=("$r $f $OFF $DEL")
		if [ "$f" = 2.0 ] && [ "$r" != wggo ]; then
			OVER[$r]=$(drops_diff "$before" "$(drops_snapshot)")
		fi
	done
	router_stop "$r"
}

# engine_fraction DIR SIZE: engine-bench's paired fraction of the AEAD batch rate, or n/a.
ENGINE_JSON=""
engine_fraction() {
	[ -n "$ENGINE_JSON" ] || { echo n/a; return; }
	/usr/bin/python3 -c '
import json, sys
d = {"fwd": "tunnel_to_lan", "rev": "lan_to_tunnel"}[sys.argv[2]]
for o in json.load(open(sys.argv[1])):
    if o["direction"] == d and o["size"] == int(sys.argv[3]):
        print("%.0f%%" % (100 * o.get("fraction_paired", o["fraction"]))); break
else:
    print("n/a")' "$ENGINE_JSON" "$1" "$2" 2>/dev/null || echo n/a
}

trap 'lab_down' EXIT
lab_up || exit 1
REASON_DPDK=$(dpdk_reason)
for r in $ROUTERS; do
	if [ "$r" = dpdk ] && [ -n "$REASON_DPDK" ]; then NA+=("dpdk $REASON_DPDK"); continue; fi
	measure_router "$r"
done
if [ -x "$ENGINE_BENCH" ]; then
	say "engine-bench (worker over a memory port)"
	eargs=(--json); [ $QUICK = 1 ] && eargs+=(--runs 1 --ms 20)
	"$ENGINE_BENCH" "${eargs[@]}" >"$OUT/engine.json" 2>>"$MG_LAB_DIR/engine.err" &&
		ENGINE_JSON=$OUT/engine.json
fi

if [ $SWEEP = 1 ]; then
	# one set of offered rates for every router: fractions of the best sustainable rate
	BASE=0
	for r in "${!SUST[@]}"; do BASE=$(awk -v a="$BASE" -v b="${SUST[$r]}" 'BEGIN { print (b > a) ? b : a }'); done
	if awk -v b="$BASE" 'BEGIN { exit !(b > 0) }'; then
		for r in $ROUTERS; do [ -n "${SUST[$r]:-}" ] && sweep_router "$r" "$BASE"; done
	fi
	SWEPT=$(for l in "${SWEEPS[@]}"; do echo "${l%% *}"; done | uniq)
	{
		echo "# perf/bench.sh sweep: inner ${SWEEP_SIZE} B, laptop -> home host, ${TIME} s a point, $(nproc) shared cores"
		echo "# base rate ${BASE} packets/s = best sustainable rate measured above"
		for r in $SWEPT; do
			printf '\n\n# router %s\n# factor offered_pps delivered_pps offered_gbps delivered_gbps\n' "$r"
			# by offered rate, which is what the plot's x axis is (on a busy machine the
			# generator may offer less than a higher factor asked for)
			for l in "${SWEEPS[@]}"; do
				set -- $l
				[ "$1" = "$r" ] && awk -v f="$2" -v o="$3" -v d="$4" -v s="$SWEEP_SIZE" \
					'BEGIN { printf "%s %.0f %.0f %.4f %.4f\n", f, o, d, o * s * 8 / 1e9, d * s * 8 / 1e9 }'
			done | sort -n -k2
		done
	} >"$OUT/rate.dat"
	if command -v gnuplot >/dev/null && [ ${#SWEEPS[@]} -gt 0 ]; then
		idx=0 plots=""
		# data sets in rate.dat are separated by two blank lines: one per swept router
		for r in $SWEPT; do
			name=$(router_name "$r")
			plots+="'$OUT/rate.dat' index $idx using (\$2/1000):(\$3/1000) with linespoints title '$name', "
			idx=$((idx + 1))
		done
		gnuplot <<-EOF 2>>"$MG_LAB_DIR/gnuplot.err" || say "gnuplot failed (see $MG_LAB_DIR/gnuplot.err)"
		set terminal pngcairo size 900,600 noenhanced
		set output '$OUT/rate.png'
		set title 'Delivered vs offered, inner ${SWEEP_SIZE} B, laptop -> home host ($(nproc) shared cores, lab)'
		set xlabel 'offered (kpps)'
		set ylabel 'delivered (kpps)'
		set key left top
		set grid
		plot ${plots}x title 'offered = delivered' with lines dashtype 2 lc rgb 'gray'
		EOF
	fi
fi

# ---- report ----
gbps() { awk -v p="$1" -v s="$2" 'BEGIN { if (p == "-") print "-"; else printf "%.3f", p * s * 8 / 1e9 }'; }
if [ $JSON = 1 ]; then
	{
		printf '{"cores": %s, "time_s": %s, "tx_mode": "%s", "rows": [' "$(nproc)" "$TIME" "$TXMODE"
		sep=""
		for l in "${ROWS[@]}"; do
			set -- $l
			[ "$4" = - ] && { printf '%s\n {"router": "%s", "direction": "%s", "size": %s, "error": true}' "$sep" "$1" "$2" "$3"; sep=,; continue; }
			printf '%s\n {"router": "%s", "direction": "%s", "size": %s, "offered_pps": %.0f, "delivered_pps": %.0f, "offered_gbps": %s, "delivered_gbps": %s, "router_cores": %.3f, "corrupt": %s, "receiver_socket_drops_pps": %.0f, "router_drops": "%s", "engine_fraction": "%s"}' \
				"$sep" "$1" "$2" "$3" "$4" "$5" "$(gbps "$4" "$3")" "$(gbps "$5" "$3")" "$6" "$7" "$8" \
				"${DROPS["$1 $2 $3"]:-}" \
				"$([ "$1" != wggo ] && engine_fraction "$2" "$3" || echo n/a)"
			sep=,
		done
		printf '],\n "not_run": ['; sep=""
		for l in "${NA[@]}"; do printf '%s"%s"' "$sep" "$l"; sep=", "; done
		printf '],\n "sweep": ['; sep=""
		for l in "${SWEEPS[@]}"; do
			set -- $l
			printf '%s\n {"router": "%s", "factor": %s, "offered_pps": %.0f, "delivered_pps": %.0f}' "$sep" "$1" "$2" "$3" "$4"; sep=,
		done
		printf '],\n "overload_drops": {'; sep=""
		for r in "${!OVER[@]}"; do printf '%s"%s": "%s"' "$sep" "$r" "${OVER[$r]}"; sep=", "; done
		printf '}}\n'
	}
else
	printf '\nperf/bench.sh: %s shared cores, %s s a run, generator wggen (%s), inner IPv4/UDP packets\n' \
		"$(nproc)" "$TIME" "${TXMODE:-?}"
	printf '%-26s %-4s %5s %9s %9s %9s %9s %6s %9s %11s %7s\n' router dir size "off kpps" "off Gb/s" \
		"del kpps" "del Gb/s" loss "rcv-sock" "cores/Gb/s" engine
	for l in "${ROWS[@]}"; do
		set -- $l
		loss=$(awk -v o="$4" -v d="$5" 'BEGIN { if (o == "-" || o == 0) print "-"; else printf "%.1f%%", 100 * (o - d) / o }')
		cpg=$(awk -v c="$6" -v d="$5" -v s="$3" 'BEGIN { if (d == "-" || d == 0) print "-"; else printf "%.2f", c / (d * s * 8 / 1e9) }')
		sock=$(awk -v o="$4" -v d="$8" 'BEGIN { if (o == "-" || o == 0) print "-"; else printf "%.1f%%", 100 * d / o }')
		printf '%-26s %-4s %5s %9s %9s %9s %9s %6s %9s %11s %7s\n' "$(router_name "$1")" "$2" "$3" \
			"$(kpps "$4")" "$(gbps "$4" "$3")" "$(kpps "$5")" "$(gbps "$5" "$3")" "$loss" "$sock" "$cpg" \
			"$([ "$1" != wggo ] && engine_fraction "$2" "$3" || echo n/a)"
	done
	for l in "${NA[@]}"; do
		set -- $l; r=$1; shift
		printf '%-26s n/a (%s)\n' "$(router_name "$r")" "$*"
	done
	printf '\nmeshgate drops by reason per run (/metrics; xsk_*: the AF_XDP socket itself):\n'
	for l in "${ROWS[@]}"; do
		set -- $l
		[ "$1" != wggo ] && [ "$4" != - ] &&
			printf '%-26s %-4s %5s %s\n' "$(router_name "$1")" "$2" "$3" "${DROPS["$1 $2 $3"]:-none}"
	done
	[ -x "$ENGINE_BENCH" ] || echo "engine: n/a (no $ENGINE_BENCH)"
	if [ ${#SWEEPS[@]} -gt 0 ]; then
		printf '\nsweep, inner %s B forward (%s, plot %s):\n' "$SWEEP_SIZE" "$OUT/rate.dat" "$OUT/rate.png"
		printf '%-26s %6s %10s %10s\n' router factor "off kpps" "del kpps"
		for l in "${SWEEPS[@]}"; do
			set -- $l
			printf '%-26s %6s %10s %10s\n' "$(router_name "$1")" "$2" "$(kpps "$3")" "$(kpps "$4")"
		done
		for r in "${!OVER[@]}"; do
			echo "$(router_name "$r") drops by reason at 2x overload: ${OVER[$r]:-none}"
		done
	fi
fi
exit $BENCH_RC
