#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# UAPI conformance against the reference: one script of stock `wg`
# commands is run against meshgate's socket and against a wireguard-go device, and after each
# step `wg showconf` of both must be the same (tests/uapi/wgconf_norm.py: peer order and
# allowed-IP order are each implementation's own, so both are sorted), as must the exit codes.
#
#   wg set/syncconf/addconf/setconf --> meshgate0 (mg-rtr)      \
#                                   --> mgrtrref wireguard-go (mg-host)  --> showconf, compared
. "$(dirname "$0")/lib.sh"
meshgate_only || { skip "meshgate only (compares meshgate with wireguard-go)"; exit 0; }
t_begin
t_start_router_or_die
REF=mgrtrref
lab_wggo mg-host $REF || { fail "wireguard-go reference device"; exit 1; }
trap 'lab_stop_pid "$MG_LAB_DIR/$REF.pid"; t_cleanup; exit $?' EXIT
NORM="$LAB_ROOT/tests/uapi/wgconf_norm.py"
W=$MG_LAB_DIR/uapi; rm -rf "$W"; mkdir -p "$W"

# Both start from the same identity and no peers (the lab's laptop is taken off meshgate).
wg set $RIF peer "$(lab_lap_pub)" remove
wg set $REF private-key "$MG_LAB_DIR/rtr.key" listen-port $WG_PORT
k() { (umask 077; wg genkey >"$W/$1.key"); wg pubkey <"$W/$1.key" | tee "$W/$1.pub"; }
A=$(k a) B=$(k b) C=$(k c) D=$(k d)
(umask 077; wg genpsk >"$W/psk")

same() {    # same STEP: both devices' showconf, normalised, must be equal
	wg showconf $RIF | python3 "$NORM" >"$W/mg.json"
	wg showconf $REF | python3 "$NORM" >"$W/ref.json"
	if diff -u "$W/ref.json" "$W/mg.json" >"$W/diff"; then
		pass "$1"
	else
		fail "$1 (wireguard-go vs meshgate:)"; sed 's/^/#   /' "$W/diff"
	fi
}
both() {    # both STEP ARGS...: the same `wg` command on each device; the exit codes must match
	local name=$1 r1 r2; shift
	"${@//DEV/$RIF}" >/dev/null 2>"$W/mg.err"; r1=$?
	"${@//DEV/$REF}" >/dev/null 2>"$W/ref.err"; r2=$?
	expect_eq "$name: exit code as wireguard-go's" "$r1" "$r2"
	same "$name: showconf as wireguard-go's"
}

same "start: identity only"
both "add a peer, v4 and v6" wg set DEV peer "$A" allowed-ips 100.64.1.1/32,fd7a:115c:a1e0::1:1/128 endpoint 198.51.100.50:41641
both "non-canonical prefixes are masked" wg set DEV peer "$B" allowed-ips 10.1.2.3/8,fd00:1:2:3::7/48,192.168.20.77/24
both "an IPv6 endpoint and a keepalive" wg set DEV peer "$B" endpoint [2001:db8::9]:51820 persistent-keepalive 25
both "a preshared key" wg set DEV peer "$A" preshared-key "$W/psk"
both "an allowed IP moves between peers" wg set DEV peer "$A" allowed-ips 10.1.0.0/16,100.64.1.1/32
both "allowed-ips replaced by an empty list" wg set DEV peer "$B" allowed-ips ""
both "keepalive off" wg set DEV peer "$B" persistent-keepalive off
both "preshared key cleared" wg set DEV peer "$A" preshared-key /dev/null
both "fwmark" wg set DEV fwmark 0x1234
both "fwmark off" wg set DEV fwmark 0
both "peer removed" wg set DEV peer "$B" remove
both "removing an unknown peer" wg set DEV peer "$D" remove
both "a bad endpoint is refused" wg set DEV peer "$C" endpoint nosuchhost.invalid:1
both "a bad prefix is refused" wg set DEV peer "$C" allowed-ips 10.0.0.0/33
both "a low-order key as peer (kept, never sends)" wg set DEV peer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= allowed-ips 100.64.9.9/32
both "our own key as peer is ignored" wg set DEV peer "$(lab_rtr_pub)" allowed-ips 100.64.9.8/32
cat >"$W/add.conf" <<-EOF2
	[Peer]
	PublicKey = $C
	AllowedIPs = 100.64.3.0/24, fd7a:115c:a1e0::3:0/112
	Endpoint = 203.0.113.7:1234
	PersistentKeepalive = 5
EOF2
both "addconf" wg addconf DEV "$W/add.conf"
# syncconf: the file keeps A (changed), drops C and the low-order peer, adds D.
{
	echo "[Interface]"; echo "PrivateKey = $(cat "$MG_LAB_DIR/rtr.key")"; echo "ListenPort = $WG_PORT"
	echo "[Peer]"; echo "PublicKey = $A"; echo "AllowedIPs = 100.64.1.1/32, 100.64.1.2/32"
	echo "[Peer]"; echo "PublicKey = $D"; echo "AllowedIPs = 100.64.4.4/32"; echo "Endpoint = 198.51.100.60:5"
} >"$W/sync.conf"
both "syncconf" wg syncconf DEV "$W/sync.conf"
both "setconf" wg setconf DEV "$W/sync.conf"
both "a new private key" wg set DEV private-key "$W/a.key"
both "no private key" wg set DEV private-key /dev/null
lab_stop_pid "$MG_LAB_DIR/$REF.pid"
t_end
