#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# meshgate against the status quo it replaces: a stock tailscaled as the home LAN's subnet router
# (kernel TUN, kernel forwarding, its own SNAT: --snat-subnet-routes), in the interop lab with
# real Headscale, and a real tailscaled as the laptop sending. UDP from the laptop to the home
# host at 64, 512 and 1280-byte IP packets, an unlimited offered rate; reported: what the home
# host received (kpps, Mbit/s) and the router process's CPU per delivered Gbit/s.
#
#   ti-lap tailscaled (iperf3 -c) --NAT-- internet -- ti-gw --+-- ti-rtr  meshgate (AF_XDP, SNAT)      --+-- ti-host iperf3 -s
#                                                             +-- ti-rtr2 tailscaled router (TUN, SNAT) -+
#
# Usage: perf/tailnet-bench.sh [--time S] [--sizes "64 512 1280"]
# Everything shares this machine's cores, laptop included (and the laptop's tailscaled, a
# userspace WireGuard, is likely the first bottleneck), so the figures compare the routers under
# the same handicap; CPU is the router process's own user+system time (kernel forwarding
# done in softirq on tailscaled's behalf is not in its figure, nor meshgate's copy-mode softirq).
# The lab's hosts compute their own checksums here (TI_TX_CSUM=off): see tests/interop/lib.sh.

T=tailnet-bench
. "$(dirname "$0")/../tests/interop/lib.sh"
TIME=5 SIZES="64 512 1280"
while [ $# -gt 0 ]; do
	case $1 in
	--time) TIME=$2; shift ;;
	--sizes) SIZES=$2; shift ;;
	-h|--help) sed -n '/^# Usage/,/^$/p' "$0"; exit 0 ;;
	*) echo "tailnet-bench: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
command -v iperf3 >/dev/null || { echo "tailnet-bench: needs iperf3" >&2; exit 1; }
ti_require
export TI_TX_CSUM=off
trap 'ti_down' EXIT
ti_up || { echo "tailnet-bench: lab setup failed (logs in $TI_DIR)" >&2; exit 1; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
ns host iperf3 -s >/dev/null 2>&1 &
echo $! >>"$TI_DIR/bg.pids"
wait_for 5 ns host sh -c "ss -Hltn 'sport = :5201' | grep -q ."

# run ROUTER-PID NAME: one line per size.
run() {
	local pid=$1 name=$2 size c0 c1 out kpps mbps cpu hz
	hz=$(getconf CLK_TCK)
	for size in $SIZES; do
		out="$TI_DIR/bench-$name-$size.json"
		c0=$(cpu_ticks "$pid")
		ns lap iperf3 -c $HOST4 -u -b 0 -l $((size - 28)) -t "$TIME" -J >"$out" 2>/dev/null
		c1=$(cpu_ticks "$pid")
		read -r kpps mbps < <(python3 - "$out" <<-'PY'
		import json, sys
		try:
		    s = json.load(open(sys.argv[1]))['end']['sum']
		    got = s['packets'] - s['lost_packets']
		    print('%.1f %.1f' % (got / s['seconds'] / 1e3, s['bits_per_second'] * (1 - s['lost_percent'] / 100) / 1e6))
		except Exception:
		    print('0 0')
		PY
		)
		cpu=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="$TIME" -v m="$mbps" \
			'BEGIN { c = t / hz / s; printf "%.2f cores, %s", c, (m > 0 ? sprintf("%.2f core-s per Gbit", c / (m / 1000)) : "-") }')
		printf '%-22s %5d B  %9s kpps  %9s Mbit/s  %s\n' "$name" "$size" "$kpps" "$mbps" "$cpu"
	done
}

echo "tailnet-bench: laptop tailscale $TI_TS_VER, headscale $TI_HS_VER, ${TIME} s per size; measured on $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(date -u +%Y-%m-%d)"
ts lap ping -c 20 --until-direct "$RTR_TS4" >/dev/null 2>&1
echo "path laptop -> meshgate: $(ts_peer_line lap "$RTR_TS4" | grep -o -e 'direct [0-9.:]*' -e 'relay "[^"]*"')"
run "$(cat "$TI_DIR/rtr/pid")" "meshgate (AF_XDP)"

# The status quo: tailscaled as the subnet router in ti-rtr2; meshgate stops, so Headscale
# moves the primary route to it.
mkdir -p "$TI_DIR/rtr2"
ti_sysctl rtr2 net.ipv4.ip_forward=1 && ti_sysctl rtr2 net.ipv6.conf.all.forwarding=1
ts_start rtr2 && ts_up rtr2 "$(hs_key)" --advertise-routes="$LAN4,$LAN6" --snat-subnet-routes=true ||
	{ echo "tailnet-bench: tailscaled router did not join" >&2; exit 1; }
hs nodes approve-routes -i "$(hs_node_id rtr2)" -r "$LAN4,$LAN6" >/dev/null
mg_stop rtr
primary2() { hs nodes list-routes -o json | jq -e --arg p "$LAN4" '.[] | select(.given_name == "rtr2") | (.subnet_routes // []) | index($p)' >/dev/null; }
wait_for 60 primary2 || { echo "tailnet-bench: route did not move to the tailscaled router" >&2; exit 1; }
wait_for 30 ping_ok lap $HOST4 1
ts lap ping -c 20 --until-direct "$(ts_ip rtr2 4)" >/dev/null 2>&1
echo "path laptop -> tailscaled router: $(ts_peer_line lap "$(ts_ip rtr2 4)" | grep -o -e 'direct [0-9.:]*' -e 'relay "[^"]*"')"
run "$(cat "$TI_DIR/rtr2/pid")" "tailscaled router (TUN)"
ts_stop rtr2
