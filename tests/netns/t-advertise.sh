#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `tailscale set --advertise-routes/--advertise-exit-node` as SIGHUP: the file's AdvertiseRoutes
# and AdvertiseExitNode change while meshgate runs under the test control server.
#
#   mg-lap (wireguard-go; its tunnel carries 192.168.8.0/24 and fd00:8::/64)
#     --wan-- mg-gw [DNAT 41641; testcontrol.py on 192.168.8.1:8080, records lite MapRequests]
#               | lan
#             mg-rtr meshgate (LoginServer, peers from the map) -- mg-host 192.168.8.80, fd00:8::80
#
# 1. AdvertiseRoutes = 192.168.8.0/24: the laptop reaches the host over IPv4, not over IPv6
#    (no_route). 2. SIGHUP, routes = fd00:8::/64 and MTU changed: a lite MapRequest carries
#    RoutableIPs [fd00:8::/64]; IPv4 stops at once (no_route), IPv6 flows; MTU is reported as
#    needing a restart. 3. Two SIGHUPs 0.1 s apart (inside the 1 s settle time), the second
#    adding 192.168.8.0/24 and the exit node: both reloads run, one lite request goes out, with
#    the second set plus 0.0.0.0/0 and ::/0; both families flow.
# 4. 20 SIGHUPs swapping the set during a 10 ms ping: no loss; the set ends as it began: no
#    lite request. 5. SIGHUP with nothing changed: no lite request. 6. AcceptRoutes on and off:
#    the laptop's subnet comes and goes from the last netmap. 7. Leak check.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../control/hslab.sh"
PY=/usr/bin/python3
CTL_ADDR=$GW_LAN4:8080
D=$MG_LAB_DIR

meshgate_only || { echo "SKIP: $T_NAME: meshgate only (SIGHUP and Headscale)"; exit 77; }
hs_require_python h2 cryptography
t_begin
trap 'lab_stop_pid "$MG_LAB_DIR/testcontrol.pid"; t_cleanup; exit $?' EXIT

# adv_conf ROUTES EXIT-NODE MTU [ACCEPT-ROUTES]
adv_conf() {
	write_conf "MTU = $3" "AdvertiseRoutes = $1" "AdvertiseExitNode = $2" "AcceptRoutes = ${4:-false}"
}

LAP_SUBNET=10.99.0.0/24       # a route the laptop advertises (taken only with AcceptRoutes)
# Peers need a disco key or a home DERP to be used (hswant.c: routable): laptop_json
# gives it both.
# lite_with FROM ROUTE...: how many lite MapRequests, from the FROM-th one the server got on,
# carried exactly these RoutableIPs (in this order).
lite_with() {
	ctl_state | $PY -c '
import json, sys
start, want = int(sys.argv[1]), sys.argv[2:]
print(sum(1 for x in json.load(sys.stdin)["lite"][start:]
          if x["req"]["Stream"] is False and x["req"]["OmitPeers"] is True
          and (x["req"].get("Hostinfo") or {}).get("RoutableIPs") == want))' "$@"
}
lite_seen() { [ "$(lite_with "$@")" -ge 1 ]; }
n_lite() { ctl_state | $PY -c 'import json, sys; print(len(json.load(sys.stdin)["lite"]))'; }
metric_is() { [ "$(lab_metric "$1")" = "$2" ]; }
ping4() { ip netns exec "${LAB_NS[0]}" ping -n -q -c "${1:-3}" -i 0.2 -w "${2:-6}" $HOST4 >/dev/null 2>&1; }
ping6() { ip netns exec "${LAB_NS[0]}" ping -n -q -c "${1:-3}" -i 0.2 -w "${2:-6}" $HOST6 >/dev/null 2>&1; }
hup() { kill -HUP "$MG_PID"; }

hs_state
rm -f "$MG_LAB_DIR/hs-state/netmap.json"
: >"$MG_LAB_DIR/meshgate.log"

check "test control server up on $CTL_ADDR" ctl_start
ctl peers "[$(laptop_json)]"
adv_conf 192.168.8.0/24 false 1280
check "meshgate starts (LoginServer, AdvertiseRoutes = 192.168.8.0/24)" start_meshgate
check "registered, map stream up" wait_for 15 grep -q "headscale: connected" "$MG_LAB_DIR/meshgate.log"
check "the laptop is a peer from the map" \
	wait_for 10 sh -c "wg show $MG_IF peers | grep -qx '$(lab_lap_pub)'"
check "registration carried RoutableIPs [192.168.8.0/24]" sh -c "ip netns exec ${LAB_NS[1]} \
	curl -sf http://$CTL_ADDR/test/state | grep -q '\"RoutableIPs\": \\[\"192.168.8.0/24\"\\]'"
check "/metrics: 1 advertised route" metric_is meshgate_advertised_routes 1
check "laptop -> home host over IPv4 (advertised)" ping4 5 10
nr0=$(drops no_route)
check_fails "laptop -> home host over IPv6 (fd00:8::/64 not advertised) fails" ping6 2 3
check "... counted as no_route" test "$(drops no_route)" -ge $((nr0 + 2))

# 2. Swap IPv4 for IPv6; MTU changes too, which only a restart applies.
sleep 1.5       # the start-up endpoint burst has gone out
n0=$(n_lite)
adv_conf fd00:8::/64 false 1300
hup
check "SIGHUP: MTU reported as needing a restart" wait_for 5 \
	grep -q "meshgate: reload: MTU changed in $MG_LAB_DIR/meshgate.conf; restart to apply" "$MG_LAB_DIR/meshgate.log"
check "SIGHUP: a lite MapRequest with RoutableIPs [fd00:8::/64]" wait_for 8 lite_seen "$n0" fd00:8::/64
check "/metrics: 1 advertised route (fd00:8::/64)" metric_is meshgate_advertised_routes 1
nr0=$(drops no_route)
check_fails "removed route: laptop -> home host over IPv4 fails" ping4 2 3
check "... counted as no_route" test "$(drops no_route)" -ge $((nr0 + 2))
check "added route: laptop -> home host over IPv6" ping6 5 10
check "the server's approval came back as the self node's PrimaryRoutes" \
	wait_for 5 metric_is meshgate_approved_routes 1
check "the running MTU is untouched (still 1280 on the TUN)" \
	sh -c "ip netns exec ${LAB_NS[3]} ip -o link show dev $MG_IF | grep -q 'mtu 1280 '"

# 3. Two SIGHUPs inside the settle time: only the second set goes out.
n0=$(n_lite)
reloads() { grep -c "meshgate: reloaded " "$MG_LAB_DIR/meshgate.log"; }
reloads_are() { test "$(reloads)" = "$1"; }      # for wait_for: counted again at each try
r0=$(reloads)
adv_conf 192.168.8.0/24 false 1300
hup
sleep 0.1
adv_conf "192.168.8.0/24, fd00:8::/64" true 1300
hup
check "both SIGHUPs were reloads of their own" wait_for 5 reloads_are $((r0 + 2))
check "exit node: a lite MapRequest with both routes and 0.0.0.0/0, ::/0" \
	wait_for 8 lite_seen "$n0" 0.0.0.0/0 192.168.8.0/24 ::/0 fd00:8::/64
sleep 2
expect_eq "debounced: the intermediate set [192.168.8.0/24] never went out in a lite request" \
	"$(lite_with "$n0" 192.168.8.0/24)" 0
expect_eq "debounced: one lite request for the final set" \
	"$(lite_with "$n0" 0.0.0.0/0 192.168.8.0/24 ::/0 fd00:8::/64)" 1
check "/metrics: 4 advertised routes (2 + exit node)" metric_is meshgate_advertised_routes 4
check "...and 4 approved: the server's new PrimaryRoutes reached meshgate" \
	wait_for 5 metric_is meshgate_approved_routes 4
check "the new Hostinfo keeps NetInfo.PreferredDERP 999" sh -c "ip netns exec ${LAB_NS[1]} \
	curl -sf http://$CTL_ADDR/test/state | $PY -c 'import json, sys
sys.exit(json.load(sys.stdin)[\"lite\"][-1][\"req\"][\"Hostinfo\"][\"NetInfo\"][\"PreferredDERP\"] != 999)'"
check "laptop -> home host over IPv4 again" ping4 5 10
check "laptop -> home host over IPv6" ping6 5 10

# 4. Swaps under traffic: a route that stays advertised keeps forwarding while the set around it
# changes 20 times; the set ends where it began, inside the settle time, so nothing goes out.
n0=$(n_lite)
r0=$(reloads)
ip netns exec "${LAB_NS[0]}" ping -n -q -c 300 -i 0.01 -w 20 $HOST4 >"$MG_LAB_DIR/ping-swap.out" 2>&1 &
ppid=$!
for _ in $(seq 10); do
	adv_conf 192.168.8.0/24 false 1300
	hup
	sleep 0.15
	adv_conf "192.168.8.0/24, fd00:8::/64" true 1300
	hup
	sleep 0.15
done
wait $ppid
check "20 SIGHUPs swapping the route set during 300 pings at 10 ms: none lost" \
	grep -q " 0% packet loss" "$MG_LAB_DIR/ping-swap.out"
check "... and at least 15 of them were reloads ($(($(reloads) - r0)))" test $(($(reloads) - r0)) -ge 15
sleep 2.5
expect_eq "a change undone within the settle time sends no lite request" "$(n_lite)" "$n0"
check "/metrics: still 4 advertised routes" metric_is meshgate_advertised_routes 4

# 5. Nothing changed: nothing to tell the server.
n0=$(n_lite)
hup
sleep 2.5
expect_eq "SIGHUP without changes: no lite request" "$(n_lite)" "$n0"

# 6. AcceptRoutes (`tailscale set --accept-routes`): the laptop's subnet comes and goes with the
# last netmap, without a new map and without touching the laptop's session.
lap_subnet() { wg show $MG_IF allowed-ips | grep -q "$LAP_SUBNET"; }
check "AcceptRoutes = false: the laptop's subnet is not taken" not lap_subnet
adv_conf "192.168.8.0/24, fd00:8::/64" true 1300 true
hup
check "SIGHUP AcceptRoutes = true: the laptop's subnet joins its allowed IPs" wait_for 5 lap_subnet
check "... the laptop still reaches the home host" ping4 3 6
adv_conf "192.168.8.0/24, fd00:8::/64" true 1300 false
hup
check "SIGHUP AcceptRoutes = false: the subnet is gone again" wait_for 5 not lap_subnet
check "... and the laptop's own addresses stay" sh -c "wg show $MG_IF allowed-ips | grep -q '$LAP_TS4/32'"
check "meshgate still running" kill -0 "$MG_PID"
t_end
