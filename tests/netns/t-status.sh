#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `meshgate status` and `meshgate ping` against the running router, checked
# against what stock `wg show` reads from the same UAPI socket and what the
# laptop (wireguard-go) counts.
#
#   mg-lap wireguard-go ==wg==> mg-gw ==> mg-rtr: meshgate <--UAPI-- meshgate status / wg show
#                                                           <--ICMP via TUN-- meshgate ping
. "$(dirname "$0")/lib.sh"
if ! meshgate_only; then skip "meshgate status/ping (meshgate's CLI)"; exit 0; fi
command -v jq >/dev/null || { skip "machine lacks jq (see scripts/deps.sh)"; exit 77; }
t_begin
conf="$MG_LAB_DIR/meshgate.conf"
mg() { rtr "$MESHGATE" "$@"; }

# Not running: one line on stderr, exit 1.
lab_write_meshgate_conf
out=$(mg status -c "$conf" 2>&1); rc=$?
expect_eq "status exits 1 when meshgate is not running" $rc 1
expect_eq "... with one line" "$(wc -l <<<"$out")" 1
check "... that says so" grep -q "not running" <<<"$out"

t_start_router_or_die
lap_key=$(lab_lap_pub)
short=${lap_key:0:8}

# Before any handshake: the peer has no endpoint (the laptop's is learned from its first packet).
line=$(mg status -c "$conf" | grep "^$LAP_TS4 ")
# A static [Peer] has no tailnet name: NAME reads "-", then the key prefix.
check "peer line: tailnet IP, no tailnet name, short key ($line)" grep -q "^$LAP_TS4 *- *$short " <<<"$line"
check "peer without endpoint or session is offline" grep -q " offline, handshake never" <<<"$line"
health_offline() { mg status -c "$conf" | grep -A1 '^# Health check:' | grep -q '^#     - 1 peer(s) offline'; }
check "health check after the table names the offline peer" health_offline

check "laptop -> host ping (handshake)" ping_ok lap $HOST4
lap ping -n -q -c 20 -i 0.02 -w 5 $HOST4 >/dev/null
sleep 0.3
self=$(mg status -c "$conf" | head -1)
check "self line first: our tailnet IP ($self)" grep -q "^$RTR_TS4 .*listening :$WG_PORT" <<<"$self"
line=$(mg status -c "$conf" | grep "^$LAP_TS4 ")
echo "# $line"
check "active; direct ENDPOINT" grep -q "active; direct $LAP_WAN4:$LAP_PORT" <<<"$line"
check "recent handshake shown" grep -qE "handshake [0-9]+s ago" <<<"$line"

# --json against wg show on the same socket (the daemon's view) and the laptop's own counters.
json=$(mg status -c "$conf" --json)
json_ok() { jq -e . <<<"$json" >/dev/null; }
check "--json parses" json_ok
peer() { jq -r ".Peers[0].$1" <<<"$json"; }
read -r w_rx w_tx <<<"$(wg_transfer $RIF)"
expect_eq "--json PublicKey = wg show peers" "$(peer PublicKey)" "$(wg show $RIF peers)"
expect_eq "--json Endpoint = wg show endpoints" "$(peer Endpoint)" "$(wg_field $RIF endpoints)"
expect_eq "--json LastHandshake = wg show latest-handshakes" "$(peer LastHandshake)" "$(wg_field $RIF latest-handshakes)"
expect_eq "--json RxBytes = wg show transfer rx" "$(peer RxBytes)" "$w_rx"
expect_eq "--json TxBytes = wg show transfer tx" "$(peer TxBytes)" "$w_tx"
expect_eq "--json State" "$(peer State)" active
expect_eq "--json Self.PublicKey = the router's" "$(jq -r .Self.PublicKey <<<"$json")" "$(lab_rtr_pub)"
expect_eq "--json DNSName empty without a control server" "$(peer DNSName)" ""
expect_eq "--json TailscaleIPs: the peer's tailnet address" "$(jq -r '.Peers[0].TailscaleIPs[0]' <<<"$json")" "$LAP_TS4"
read -r l_rx l_tx <<<"$(wg_transfer $LAP_IF)"
within() { local d=$(($1 - $2)); [ ${d#-} -le 64 ]; }
echo "# router rx $w_rx tx $w_tx; laptop rx $l_rx tx $l_tx"
check "--json RxBytes = laptop's tx, +-64 (keepalive in flight)" within "$(peer RxBytes)" "$l_tx"
check "--json TxBytes = laptop's rx, +-64" within "$(peer TxBytes)" "$l_rx"

# ping: through the tunnel, names the path; v4, v6 and by key prefix.
out=$(mg ping -c "$conf" $LAP_TS4); rc=$?
echo "# $out"
expect_eq "ping $LAP_TS4 exits 0" $rc 0
# A base64 key holds '+' and '/': quote it before it goes into an extended regex.
short_re=$(sed 's/[+.]/\\&/g' <<<"$short")
check "pong names peer, IP and direct endpoint" grep -qE "^pong from $short_re \($LAP_TS4\) via $LAP_WAN4:$LAP_PORT in [0-9.]+ms$" <<<"$out"
out=$(mg ping -c "$conf" $LAP_TS6)
check "ping over IPv6 inside the tunnel ($out)" grep -q "^pong from $short ($LAP_TS6) via $LAP_WAN4:$LAP_PORT" <<<"$out"
out=$(mg ping -c "$conf" "${lap_key:0:6}")
check "ping by public-key prefix ($out)" grep -q "^pong from $short ($LAP_TS4)" <<<"$out"
check_fails "ping an address no peer routes" mg ping -c "$conf" --count 1 --timeout 0.5 100.64.0.99
# A peer that does not answer: the laptop drops ICMP for a moment.
lap nft add table inet mgping &&
	lap nft add chain inet mgping in '{ type filter hook input priority 0; }' &&
	lap nft add rule inet mgping in meta l4proto icmp drop
out=$(mg ping -c "$conf" --count 2 --timeout 0.3 $LAP_TS4); rc=$?
lap nft delete table inet mgping
expect_eq "no reply: exit 1" $rc 1
expect_eq "one 'timed out' line per request" "$(grep -c "^ping \"$LAP_TS4\" timed out$" <<<"$out")" 2
expect_eq "then 'no reply'" "$(tail -1 <<<"$out")" "no reply"
t_end
