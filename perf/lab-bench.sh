#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# End-to-end figures through the lab: iperf3 from the laptop to the home
# host, once with meshgate as the router and once, in the same run, with
# wireguard-go plus kernel forwarding doing the same routing job; prints both
# and their ratio.
#
#   mg-lap iperf3 -c ==wg (wireguard-go mglap)==> mg-gw DNAT ==> mg-rtr ROUTER --> mg-host iperf3 -s
#                                                                ROUTER = meshgate (AF_XDP on eth0)
#                                                                       | wireguard-go mgrtr + ip_forward
#
# Usage: perf/lab-bench.sh [--time S] [--udp-len BYTES] [--udp-rate BPS] [--router both|meshgate|wggo] [--json]
# Runs: TCP (one stream, S seconds) and UDP with small datagrams at an
# unlimited offered rate (-b 0, or --udp-rate, e.g. 20M); the UDP figure is
# what the host received, in kpps. Everything shares this machine's cores, laptop included, so the
# figures compare routers under the same handicap rather than measure them.


. "$(dirname "$0")/../tests/lab/lab.sh"

TIME=10 UDP_LEN=64 UDP_RATE=0 ROUTERS=both JSON=0
while [ $# -gt 0 ]; do
	case $1 in
	--time) TIME=$2; shift ;;
	--udp-len) UDP_LEN=$2; shift ;;
	--udp-rate) UDP_RATE=$2; shift ;;
	--router) ROUTERS=$2; shift ;;
	--json) JSON=1 ;;
	-h|--help) sed -n '/^# Usage/,/^$/p' "$0"; exit 0 ;;
	*) echo "lab-bench: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
case $ROUTERS in
both) ROUTERS="meshgate wggo" ;;
meshgate|wggo) ;;
*) echo "lab-bench: --router both|meshgate|wggo" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "lab-bench: needs root (network namespaces)" >&2; exit 1; }

say() { [ $JSON = 1 ] && echo "$*" >&2 || echo "$*"; }

# iperf_json FILE EXPR: one number out of an iperf3 -J report.
iperf_json() {
	/usr/bin/python3 - "$1" "$2" <<-'EOF'
	import json, sys
	end = json.load(open(sys.argv[1]))['end']
	r = end['sum_received'] if 'sum_received' in end else end['sum']
	print({'tcp_mbps': lambda: r['bits_per_second'] / 1e6,
	       'udp_kpps': lambda: (r['packets'] - r['lost_packets']) / r['seconds'] / 1e3,
	       'udp_loss': lambda: r['lost_percent']}[sys.argv[2]]())
	EOF
}

# measure ROUTER: sets TCP[ROUTER], KPPS[ROUTER], LOSS[ROUTER].
declare -A TCP KPPS LOSS
measure() {
	local r=$1 out="$MG_LAB_DIR/bench-$1"
	lab_reset_laptop_session || return 1
	case $r in
	meshgate) lab_start_meshgate || return 1 ;;
	wggo) lab_start_wggo_router || return 1 ;;
	esac
	lab_iperf3_server || { say "lab-bench: iperf3 server did not start"; return 1; }
	if lap ping -q -c 3 -i 0.2 -w 10 $HOST4 >/dev/null; then
		run_iperf "$r" tcp && TCP[$r]=$(iperf_json "$out-tcp.json" tcp_mbps)
		run_iperf "$r" udp -u -b "$UDP_RATE" -l "$UDP_LEN" &&
			KPPS[$r]=$(iperf_json "$out-udp.json" udp_kpps) &&
			LOSS[$r]=$(iperf_json "$out-udp.json" udp_loss)
	else
		say "lab-bench: $r: no ping through the tunnel"
	fi
	lab_stop_iperf3_server
	case $r in
	meshgate) lab_stop_meshgate ;;
	wggo) lab_stop_wggo_router ;;
	esac
	[ -n "${TCP[$r]:-}" ] && [ -n "${KPPS[$r]:-}" ]
}

# run_iperf ROUTER NAME IPERF_ARGS...: one client run, its JSON report kept
# in the lab dir; says why when iperf3 reports an error.
run_iperf() {
	local r=$1 name=$2 f="$MG_LAB_DIR/bench-$1-$2.json"; shift 2
	lap iperf3 -c $HOST4 -t "$TIME" -J "$@" >"$f"
	local err
	err=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("error", ""))' "$f" 2>&1)
	[ -z "$err" ] && return 0
	say "lab-bench: $r: iperf3 $name: $err"
	return 1
}

trap 'lab_down' EXIT
lab_up || exit 1
rc=0
for r in $ROUTERS; do
	say "lab-bench: $r: TCP ${TIME} s, then UDP ${UDP_LEN}-byte datagrams ${TIME} s"
	measure "$r" || rc=1
done

ratio() { [ -n "${1:-}" ] && [ -n "${2:-}" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'; }
tcp_ratio=$(ratio "${TCP[meshgate]:-}" "${TCP[wggo]:-}")
pps_ratio=$(ratio "${KPPS[meshgate]:-}" "${KPPS[wggo]:-}")

if [ $JSON = 1 ]; then
	num() { [ -n "${1:-}" ] && printf '%.3f' "$1" || printf null; }
	printf '{"time_s": %s, "udp_len": %s, "udp_rate": "%s", "cores": %s,\n' "$TIME" "$UDP_LEN" "$UDP_RATE" "$(nproc)"
	printf ' "tcp_mbps": {"meshgate": %s, "wireguard_go": %s, "ratio": %s},\n' \
		"$(num "${TCP[meshgate]:-}")" "$(num "${TCP[wggo]:-}")" "${tcp_ratio:-null}"
	printf ' "udp_rx_kpps": {"meshgate": %s, "wireguard_go": %s, "ratio": %s},\n' \
		"$(num "${KPPS[meshgate]:-}")" "$(num "${KPPS[wggo]:-}")" "${pps_ratio:-null}"
	printf ' "udp_loss_percent": {"meshgate": %s, "wireguard_go": %s}}\n' \
		"$(num "${LOSS[meshgate]:-}")" "$(num "${LOSS[wggo]:-}")"
else
	printf '\n%-28s %12s %16s %10s\n' "router ($(nproc) cores shared)" "TCP Mbit/s" "UDP ${UDP_LEN}B kpps" "UDP loss"
	fmt() { [ -n "${1:-}" ] && printf "%.1f$2" "$1" || echo -; }
	for r in meshgate wggo; do
		name=$r; [ $r = wggo ] && name="wireguard-go + kernel fwd"
		printf '%-28s %12s %16s %10s\n' "$name" "$(fmt "${TCP[$r]:-}")" \
			"$(fmt "${KPPS[$r]:-}")" "$(fmt "${LOSS[$r]:-}" %%)"
	done
	printf '%-28s %12s %16s\n' "ratio meshgate / wg-go" "${tcp_ratio:--}" "${pps_ratio:--}"
fi
exit $rc
