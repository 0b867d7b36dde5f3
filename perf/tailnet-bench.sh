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
#
# meshgate runs twice: with its default idle policy (Poll = adaptive 50: it busy-polls 50 us
# after each burst, which at the rates a tailscaled laptop can offer here is most of its CPU)
# and with Poll = adaptive 0 (it sleeps in poll(2) as soon as the rings are empty, as
# tailscaled sleeps in read(2)). Delivered = what the home host's eth0 received (its kernel
# counter, so a packet lost anywhere is not counted; iperf3's own loss count misses a lost
# tail), per second of the sender's run.
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
host_rx() { ns host cat /sys/class/net/eth0/statistics/rx_packets; }
ns host iperf3 -s >/dev/null 2>&1 &
echo $! >>"$TI_DIR/bg.pids"
wait_for 5 ns host sh -c "ss -Hltn 'sport = :5201' | grep -q ."

# run ROUTER-PID NAME KEY: one line per size; KEY's figures kept for the ratio lines.
declare -A KPPS CORES
run() {
	local pid=$1 name=$2 key=$3 size c0 c1 r0 r1 kpps mbps cores hz
	hz=$(getconf CLK_TCK)
	for size in $SIZES; do
		r0=$(host_rx) c0=$(cpu_ticks "$pid")
		ns lap iperf3 -c $HOST4 -u -b 0 -l $((size - 28)) -t "$TIME" >/dev/null 2>&1
		sleep 0.5	# what the router still holds
		r1=$(host_rx) c1=$(cpu_ticks "$pid")
		kpps=$(awk -v n=$((r1 - r0)) -v s="$TIME" 'BEGIN { printf "%.1f", n / s / 1e3 }')
		mbps=$(awk -v k="$kpps" -v b="$size" 'BEGIN { printf "%.1f", k * 1e3 * b * 8 / 1e6 }')
		cores=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="$TIME" 'BEGIN { printf "%.3f", t / hz / s }')
		KPPS[$key,$size]=$kpps CORES[$key,$size]=$cores
		printf '%-30s %5d B  %7s kpps  %8s Mbit/s  %5.2f cores  %5s kpps per core  %6s core-s per Gbit\n' \
			"$name" "$size" "$kpps" "$mbps" "$cores" \
			"$(awk -v k="$kpps" -v c="$cores" 'BEGIN { print (c > 0 ? sprintf("%.0f", k / c) : "-") }')" \
			"$(awk -v m="$mbps" -v c="$cores" 'BEGIN { print (m > 0 ? sprintf("%.2f", c / (m / 1000)) : "-") }')"
	done
}

# direct_path NAME TAILNET-IP: wait up to 60 s for the laptop's path to that node to be direct
# (a relayed router is held back by the DERP server, not by itself); prints the path.
direct_path() {
	local ip=$2 end=$((SECONDS + 60)) line
	while :; do
		ts lap ping -c 5 --until-direct "$ip" >/dev/null 2>&1
		line=$(ts_peer_line lap "$ip")
		[[ $line == *"direct "* ]] && break
		[ $SECONDS -lt $end ] || break
		sleep 1
	done
	echo "path laptop -> $1: $(grep -o -e 'direct [0-9.:]*' -e 'relay "[^"]*"' <<<"$line")"
	[[ $line == *"direct "* ]]
}

echo "tailnet-bench: laptop tailscale $TI_TS_VER, headscale $TI_HS_VER, ${TIME} s per size; measured on $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(date -u +%Y-%m-%d)"
fair=1
direct_path meshgate "$RTR_TS4" || fair=0
run "$(cat "$TI_DIR/rtr/pid")" "meshgate (Poll = adaptive 50)" mg
mg_stop rtr && mg_conf rtr "Poll = adaptive 0" && mg_start rtr &&
	wait_for 60 ping_ok lap $HOST4 1 || { echo "tailnet-bench: meshgate did not come back with Poll = adaptive 0" >&2; exit 1; }
direct_path meshgate "$RTR_TS4" || fair=0
run "$(cat "$TI_DIR/rtr/pid")" "meshgate (Poll = adaptive 0)" mg0

# The status quo: tailscaled as the subnet router in ti-rtr2, set up as a user would set it up
# next to meshgate: the home gateway forwards a UDP port to it (41642; 41641 goes to meshgate,
# which is told its forwarded port), and tailscaled listens on that port, so STUN reports an
# endpoint the laptop can reach directly. Then meshgate stops, and Headscale moves the primary
# route to tailscaled.
mkdir -p "$TI_DIR/rtr2"
ns gw nft insert rule ip tinat prerouting iifname wan0 udp dport 41642 dnat to $RTR2_LAN4:41642
ti_sysctl rtr2 net.ipv4.ip_forward=1 && ti_sysctl rtr2 net.ipv6.conf.all.forwarding=1
ts_start rtr2 41642 && ts_up rtr2 "$(hs_key)" --advertise-routes="$LAN4,$LAN6" --snat-subnet-routes=true ||
	{ echo "tailnet-bench: tailscaled router did not join" >&2; exit 1; }
hs nodes approve-routes -i "$(hs_node_id rtr2)" -r "$LAN4,$LAN6" >/dev/null
mg_stop rtr
primary2() { hs nodes list-routes -o json | jq -e --arg p "$LAN4" '.[] | select(.given_name == "rtr2") | (.subnet_routes // []) | index($p)' >/dev/null; }
wait_for 60 primary2 || { echo "tailnet-bench: route did not move to the tailscaled router" >&2; exit 1; }
wait_for 30 ping_ok lap $HOST4 1
direct_path "tailscaled router" "$(ts_ip rtr2 4)" || fair=0
run "$(cat "$TI_DIR/rtr2/pid")" "tailscaled router (TUN)" ts
ts_stop rtr2

# Packets delivered per core-second of the router process, meshgate over tailscaled.
ratio() {	# ratio MG-KEY LABEL
	local size
	for size in $SIZES; do
		awk -v l="$2" -v s="$size" -v mk="${KPPS[$1,$size]}" -v mc="${CORES[$1,$size]}" -v tk="${KPPS[ts,$size]}" -v tc="${CORES[ts,$size]}" \
			'BEGIN { if (mc > 0 && tc > 0 && tk > 0) printf "%5d B, %s: meshgate carries %.2fx tailscaled'"'"'s packets per router core, delivers %.2fx its rate\n", s, l, (mk / mc) / (tk / tc), mk / tk
			         else printf "%5d B, %s: - (a router delivered nothing or used no CPU)\n", s, l }'
	done
}
ratio mg "Poll = adaptive 50"
ratio mg0 "Poll = adaptive 0"
[ $fair = 1 ] || { echo "tailnet-bench: a path was relayed, not direct: the figures above do not compare the routers" >&2; exit 1; }
