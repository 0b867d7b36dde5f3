#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A tailnet ACL from the static config (FilterFile, Headscale's PacketFilter JSON), enforced by
# meshgate on traffic from peers: only TCP 22 from the laptop to the home host.
#
#   mg-lap 100.64.0.2 ==wg==> mg-rtr (meshgate, filter) --TCP 22 only--> mg-host 192.168.8.80
#
. "$(dirname "$0")/lib.sh"
meshgate_only || { echo "SKIP: t-filter: meshgate only"; exit 77; }
t_begin
acl="$MG_LAB_DIR/acl.json"
cat >"$acl" <<EOF2
[{"SrcIPs": ["$LAP_TS4"], "DstPorts": [{"IP": "$HOST4", "Ports": {"First": 22, "Last": 22}}], "IPProto": [6]}]
EOF2
t_start_router_or_die --filter "$acl"

tcp_open() {	# tcp_open PORT: can the laptop open a TCP connection to the home host's PORT?
	host timeout 5 nc -l "$1" >/dev/null 2>&1 &
	local l=$!
	wait_listen host "$1"
	lap nc -z -w 2 $HOST4 "$1"
	local rc=$?
	kill $l 2>/dev/null; wait $l 2>/dev/null
	return $rc
}
# The laptop's handshake (ICMP would be filtered): open TCP 22 until the session is up.
wait_for 20 tcp_open 22
check "TCP 22 from the laptop to the home host passes" tcp_open 22
check_fails "TCP 8080 to the home host is dropped" tcp_open 8080
check_fails "ping to the home host is dropped" lap ping -c 2 -W 1 $HOST4
check "home host -> laptop ping still works (echo replies from the laptop pass)" ping_ok host $LAP_TS4
check "drops counted with reason filtered" test "$(drops filtered)" -gt 0

# A malformed filter file is refused by `meshgate check`, naming the key and the file.
echo '[{"SrcIPs": ["nonsense"]' >"$MG_LAB_DIR/bad-acl.json"
sed "s|^FilterFile = .*|FilterFile = $MG_LAB_DIR/bad-acl.json|" "$MG_LAB_DIR/meshgate.conf" >"$MG_LAB_DIR/bad.conf"
out=$("$MESHGATE" check -c "$MG_LAB_DIR/bad.conf" 2>&1)
check "meshgate check refuses a malformed FilterFile" \
	sh -c "! '$MESHGATE' check -c '$MG_LAB_DIR/bad.conf' >/dev/null 2>&1"
check "... and names FilterFile and the file" grep -q "FilterFile: $MG_LAB_DIR/bad-acl.json" <<<"$out"
t_end
