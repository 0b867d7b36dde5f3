#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Disco and STUN across the lab's NAT: the control side of meshgate (discoharness, on the
# WireGuard port in mg-rtr, no meshgate running) against the independent Python disco peer
# and STUN server (tests/disco/tsdisco.py) on the laptop.
#
#   mg-lap 198.51.100.2                    mg-gw                         mg-rtr 192.168.8.105
#   tsdisco peer :41700  --ping-->  198.51.100.1:41641 --DNAT-->  discoharness :41641
#                        <--pong--                     (TxID, observed source 198.51.100.2:41700)
#                        <--ping--  masquerade <------------------  (netmap endpoint, heartbeats)
#   tsdisco stun :3478   <--STUN--  masquerade <------------------  MAPPED = 198.51.100.1:<port>
#
# Then UDP between the laptop peer and the gateway is blocked (trust must lapse: no pong for
# 6.5 s) and unblocked (the path must come back from re-probing). Linked into tests/netns.
. "$(dirname "$0")/lib.sh"

DISCOHARNESS=${DISCOHARNESS:-$LAB_ROOT/build/tests/unit/disco/discoharness}
TSDISCO=${TSDISCO:-$LAB_ROOT/tests/disco/tsdisco.py}
PEER_PORT=41700 STUN_PORT=3478

t_require_machine
/usr/bin/python3 -c 'import nacl.public' 2>/dev/null ||
	{ echo "SKIP: $T_NAME: machine lacks python3-nacl (see scripts/deps.sh)"; exit 77; }
[ -x "$DISCOHARNESS" ] || { fail "no discoharness at $DISCOHARNESS (ninja -C build)"; exit 1; }
trap 't_cleanup; exit $?' EXIT
trap 'exit 1' INT TERM
lab_up || { fail "lab setup"; exit 1; }

read -r our_priv peer_priv peer_pub our_pub node_key < <(/usr/bin/python3 -c '
import os
from nacl.public import PrivateKey
a, b = PrivateKey.generate(), PrivateKey.generate()
print(bytes(a).hex(), bytes(b).hex(), bytes(b.public_key).hex(), bytes(a.public_key).hex(), os.urandom(32).hex())')
HLOG=$MG_LAB_DIR/discoharness.log PLOG=$MG_LAB_DIR/discopeer.log SLOG=$MG_LAB_DIR/stunserver.log

lap /usr/bin/python3 "$TSDISCO" stun --listen $LAP_WAN4:$STUN_PORT --seconds 90 >"$SLOG" 2>&1 &
lap /usr/bin/python3 "$TSDISCO" peer --listen $LAP_WAN4:$PEER_PORT --key "$peer_priv" \
	--their-key "$our_pub" --node-key "$node_key" --ping $GW_WAN4:$WG_PORT --seconds 90 >"$PLOG" 2>&1 &
wait_for 5 grep -q 'PEER listening' "$PLOG" || fail "laptop disco peer did not start"
# Through `sh -c 'echo $$; exec ...'` so the pid we signal is the harness itself, not a subshell.
rm -f "$MG_LAB_DIR/discoharness.pid"      # a stale one from an earlier run would be read at once
rtr sh -c 'echo $$ >"$0"; exec "$@"' "$MG_LAB_DIR/discoharness.pid" "$DISCOHARNESS" -k "$our_priv" \
	-p $WG_PORT -P "$node_key,$peer_pub,$LAP_WAN4:$PEER_PORT" -s $LAP_WAN4:$STUN_PORT -a -t 90 \
	>"$HLOG" 2>&1 &
wait_for 5 test -s "$MG_LAB_DIR/discoharness.pid" || fail "discoharness did not start"
harness_pid=$(cat "$MG_LAB_DIR/discoharness.pid")

# STUN: the mapped address is the gateway's public side, exactly as the server saw us.
check "STUN answer arrives" wait_for 10 grep -q '^MAPPED' "$HLOG"
mapped=$(awk '/^MAPPED/ { print $2; exit }' "$HLOG")
seen=$(awk '/^STUN answered/ { print $3; exit }' "$SLOG")
expect_eq "mapped address is what the STUN server saw" "$mapped" "$seen"
expect_eq "mapped address is the gateway's WAN address" "${mapped%:*}" "$GW_WAN4"

# Ping -> Pong through the gateway's DNAT, with the TxID and the laptop's observed source.
check "laptop's pings answered with TxID and observed source" wait_for 10 \
	grep -q "PONG from $GW_WAN4:$WG_PORT txid-ok=True src=$LAP_WAN4:$PEER_PORT" "$PLOG"
check_fails "no pong with a foreign TxID" grep -q 'txid-ok=False' "$PLOG"
# Our pings leave from the WireGuard port through the masquerade; the pong makes the path.
check "our pings reach the laptop through the NAT" wait_for 10 \
	grep -q "PEER answered ping from $GW_WAN4:" "$PLOG"
check "laptop endpoint trusted after its pong" wait_for 10 \
	grep -q "^TRUSTED $node_key $LAP_WAN4:$PEER_PORT" "$HLOG"
sleep 4
check "heartbeats keep the path trusted" sh -c "! grep -q '^UNTRUSTED' '$HLOG'"

# Block UDP between the laptop peer and the gateway: trust lapses after 6.5 s without pongs.
gw nft -f - <<-EOF2
table inet dsblock {
	chain forward {
		type filter hook forward priority filter;
		udp sport $PEER_PORT drop
		udp dport $PEER_PORT drop
	}
}
EOF2
check "path untrusted while UDP is blocked" wait_for 12 grep -q "^UNTRUSTED $node_key" "$HLOG"
gw nft delete table inet dsblock
trusted_twice() { [ "$(grep -c "^TRUSTED $node_key $LAP_WAN4:$PEER_PORT" "$HLOG")" -ge 2 ]; }
check "path trusted again after unblocking" wait_for 10 trusted_twice

kill -TERM "$harness_pid" 2>/dev/null
wait_for 5 grep -q '^STATS' "$HLOG"
stats=$(grep '^STATS' "$HLOG")
echo "# $stats"
check "no undecryptable or malformed disco packets" \
	sh -c "echo '$stats' | grep -q 'rx_bad_box=0 rx_bad_msg=0'"
t_end
