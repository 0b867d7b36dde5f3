#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo, as root on Debian 12: install the packages, build, start the lab,
# run meshgate as the home router, send traffic from a laptop on the
# "internet" to a host on the home LAN, show what happened, tear down.
#
#   mg-lap laptop (wireguard-go) -- mg-gw home gateway (DNAT udp/41641) -- LAN switch
#       100.64.0.2                   198.51.100.1 / 192.168.8.1             |
#                                                 mg-rtr meshgate 192.168.8.105 (AF_XDP)
#                                                 mg-host home host 192.168.8.80

cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" = 0 ] || { echo "quickstart: run as root: sudo scripts/quickstart.sh" >&2; exit 1; }
. scripts/deps.sh
. tests/lab/lab.sh

BUILD=${MG_BUILD_DIR:-build}
MESHGATE=${MESHGATE:-"$PWD/$BUILD/control/meshgate"}
failed=0
step() { printf '\n== %s\n' "$*"; }
ok() { echo "   ok: $*"; }
bad() { echo "   FAILED: $*"; failed=$((failed + 1)); }

step "1. Debian packages"
mg_install_deps || exit 1

step "2. build ($BUILD)"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null || exit 1
ninja -C "$BUILD" | tail -n 1
[ "${PIPESTATUS[0]}" = 0 ] && [ -x "$MESHGATE" ] || { echo "build failed"; exit 1; }

step "3. the lab: laptop, home gateway, LAN switch, router, home host (namespaces mg-*)"
trap 'lab_down' EXIT
lab_up || exit 1
ok "laptop runs wireguard-go ($LAP_IF, $LAP_TS4), its peer is the gateway's $GW_WAN4:$WG_PORT"

step "4. meshgate on the router's LAN NIC (config $MG_LAB_DIR/meshgate.conf)"
lab_start_meshgate || { echo "meshgate did not start; log: $MG_LAB_DIR/meshgate.log"; exit 1; }
ok "meshgate pid $MG_PID, UAPI $WG_SOCK_DIR/$MG_IF.sock"
rtr ip -d link show dev eth0 | grep -o 'prog/xdp id [0-9]*' | sed 's/^/   XDP on eth0: /'

step "5. laptop pings the home host $HOST4 through meshgate"
lap ping -n -c 3 -i 0.3 -w 10 $HOST4 && ok "laptop -> home host" || bad "laptop -> home host"
step "   home host pings the laptop $LAP_TS4, and the laptop pings $HOST6 over IPv6"
host ping -n -q -c 3 -i 0.3 -w 10 $LAP_TS4 >/dev/null && ok "home host -> laptop" || bad "home host -> laptop"
lap ping -n -q -c 3 -i 0.3 -w 10 $HOST6 >/dev/null && ok "laptop -> $HOST6" || bad "laptop -> $HOST6"

step "6. wg show $MG_IF (stock wg, through meshgate's UAPI socket)"
wg show $MG_IF || bad "wg show $MG_IF"

step "7. a short iperf3 (TCP, 3 s) laptop -> home host"
lab_iperf3_server || bad "iperf3 server on the home host"
lap iperf3 -c $HOST4 -t 3 | grep -E 'sender|receiver' || bad "iperf3"
lab_stop_iperf3_server

step "8. meshgate's non-zero packet, drop and handshake counters (http://$METRICS_ADDR/metrics in mg-rtr)"
metrics=$(rtr curl -sf --max-time 3 "http://$METRICS_ADDR/metrics" |
	grep -E '^(meshgate_(inbound|outbound)_packets_total|meshgate_handshakes_total|meshgate_inbound_dropped_packets_total|tailscale_up)' |
	awk '$2 != 0')
[ -n "$metrics" ] && sed 's/^/   /' <<<"$metrics" || bad "no meshgate_ metrics at $METRICS_ADDR"

step "9. tear down"
lab_stop_meshgate && ok "meshgate exited 0 on SIGTERM and left no XDP program" || bad "meshgate shutdown"
lab_down && ok "namespaces removed"
trap - EXIT

echo
if [ $failed = 0 ]; then
	echo "quickstart: done. A laptop on the internet reached the home LAN through meshgate."
	echo "Next: sudo scripts/test.sh (all tests), sudo perf/lab-bench.sh (meshgate vs wireguard-go)."
	echo "On a real tailnet: sudo scripts/tailnet-bins.sh && sudo tests/interop/run.sh s01-join.sh"
	echo "(meshgate joins a real Headscale beside real tailscaled nodes; needs Go >= 1.26)."
else
	echo "quickstart: $failed step(s) failed; meshgate's log was $MG_LAB_DIR/meshgate.log"
fi
[ $failed = 0 ]
