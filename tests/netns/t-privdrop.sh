#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Least privilege: with `User = nobody` meshgate sets everything up as root, then runs as that
# user with CAP_NET_ADMIN alone (every thread; no ambient or inheritable capability, no new
# privileges), and still forwards, takes `wg set`, installs the route of a new peer and
# reloads on SIGHUP. Neither private key nor preshared key ever reaches the log.
#
#   mg-lap ==wg==> [gw] ==> mg-rtr meshgate (root: XDP, AF_XDP, TUN -> User = nobody) --> mg-host
#                           /run/wireguard here: root's directory with an ACL entry for the user
#                           (as meshgate.tmpfiles makes it), bind-mounted in meshgate's mount ns
#
. "$(dirname "$0")/lib.sh"

meshgate_only || { echo "SKIP: t-privdrop: meshgate only"; exit 77; }
PD_USER=${PD_USER:-nobody}
id -u "$PD_USER" >/dev/null 2>&1 || { echo "SKIP: t-privdrop: machine has no user $PD_USER"; exit 77; }
for c in nsenter setfacl; do
	command -v $c >/dev/null || { echo "SKIP: t-privdrop: machine lacks $c (see scripts/deps.sh)"; exit 77; }
done
PD_UID=$(id -u "$PD_USER")
CAP_NET_ADMIN_MASK=0000000000001000

t_begin
RUNDIR=$MG_LAB_DIR/run-wireguard
# As configs/systemd/meshgate.tmpfiles sets up /run/wireguard: root's, 0755, plus an ACL entry
# that lets the user create and unlink its socket.
rm -rf "$RUNDIR"; mkdir -p "$RUNDIR"; chmod 0755 "$RUNDIR"
setfacl -m "u:$PD_USER:rwx,m::rwx" "$RUNDIR" || { fail "setfacl on $RUNDIR"; exit 1; }
# The config is re-read on SIGHUP by the unprivileged process: the user's file in the user's
# directory (the lab directory is root's, 0700).
ETCDIR=$(mktemp -d /tmp/meshgate-privdrop.XXXXXX); chown "$PD_USER" "$ETCDIR"
CONF=$ETCDIR/meshgate.conf
trap 'rm -rf "$ETCDIR" "$RUNDIR"; t_cleanup; exit $?' EXIT

# pd_start [extra config line]: meshgate as in the lab, plus User =, with its own /run/wireguard.
pd_start() {
	lab_write_meshgate_conf || return 1
	sed "s/^Name = .*/&\nUser = $PD_USER/" "$MG_LAB_DIR/meshgate.conf" >"$CONF"
	chown "$PD_USER" "$CONF" 2>/dev/null; chmod 0600 "$CONF"
	ip netns exec mg-rtr sh -c 'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
		mount --bind "$0" /run/wireguard && exec "$@"' "$RUNDIR" \
		"$MESHGATE" run -c "$CONF" >"$MG_LAB_DIR/meshgate.log" 2>&1 &
	MG_PID=$!
	echo $MG_PID >"$MG_LAB_DIR/meshgate.pid"
	local i
	for i in $(seq 100); do
		[ -S "$RUNDIR/$MG_IF.sock" ] && { T_ROUTER_UP=1; return 0; }
		kill -0 $MG_PID 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# pwg ARGS: the wg tool in meshgate's mount namespace (where its UAPI socket is).
pwg() { nsenter -t "$MG_PID" -m wg "$@"; }
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# tasks_caps_ok: every thread holds at most CAP_NET_ADMIN, none ambient or inheritable.
tasks_caps_ok() {
	local t bad=0 eff
	for t in /proc/"$MG_PID"/task/*; do
		eff=$(awk '$1 == "CapEff:" { print $2 }' "$t/status")
		[ $((16#$eff & ~16#$CAP_NET_ADMIN_MASK)) = 0 ] || { echo "# task ${t##*/}: CapEff $eff"; bad=1; }
		[ "$(grep -c -E '^Cap(Inh|Amb):\s+0+$' "$t/status")" = 2 ] || bad=1
	done
	[ $bad = 0 ]
}

check "meshgate starts with User = $PD_USER" pd_start
grep -q "running as user $PD_USER" "$MG_LAB_DIR/meshgate.log"; check "log names the user" test $? = 0
expect_eq "runs as uid $PD_UID (real, effective, saved, fs)" "$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' /proc/$MG_PID/status)" \
	"$PD_UID $PD_UID $PD_UID $PD_UID"
expect_eq "no supplementary groups beyond the user's" "$(status_field $MG_PID Groups)" "$(id -g "$PD_USER")"
expect_eq "CapEff = CAP_NET_ADMIN only" "$(status_field $MG_PID CapEff)" $CAP_NET_ADMIN_MASK
expect_eq "CapPrm = CAP_NET_ADMIN only" "$(status_field $MG_PID CapPrm)" $CAP_NET_ADMIN_MASK
expect_eq "CapAmb empty" "$(status_field $MG_PID CapAmb)" 0000000000000000
expect_eq "NoNewPrivs set" "$(status_field $MG_PID NoNewPrivs)" 1
ntask=$(ls /proc/"$MG_PID"/task | wc -l)
check "all $ntask threads (workers too) hold nothing beyond CAP_NET_ADMIN" tasks_caps_ok

check "ping laptop -> host (forwarding as $PD_USER)" ping_ok lap $HOST4
check "ping laptop -> host IPv6" ping_ok lap $HOST6
check "wg show over the user's UAPI socket" pwg show $MG_IF

# Runtime reconfiguration: a new peer through `wg set` gets its route on the TUN device.
P2K=$(wg genkey); P2=$(wg pubkey <<<"$P2K"); PSK=$(wg genpsk)
check "wg set adds a peer" pwg set $MG_IF peer "$P2" allowed-ips 10.77.0.0/24 preshared-key <(echo "$PSK")
expect_eq "the peer is listed" "$(pwg show $MG_IF allowed-ips | awk -v k="$P2" '$1 == k { print $2 }')" 10.77.0.0/24
route_in() { ip -n mg-rtr route show "$1" | grep -q "dev $MG_IF"; }
check "its route 10.77.0.0/24 is installed on $MG_IF (CAP_NET_ADMIN at work)" wait_for 5 route_in 10.77.0.0/24
check "wg set removes it" pwg set $MG_IF peer "$P2" remove
check "its route is withdrawn" wait_for 5 sh -c "! ip -n mg-rtr route show 10.77.0.0/24 | grep -q ."

# SIGHUP re-reads the (user-owned) config as the user.
printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.78.0.0/24\n' "$P2" >>"$CONF"
kill -HUP "$MG_PID"
check "SIGHUP reload as $PD_USER adds the file's peer" wait_for 5 sh -c \
	"nsenter -t $MG_PID -m wg show $MG_IF allowed-ips | grep -q 10.78.0.0/24"
check "ping laptop -> host after the reload" ping_ok lap $HOST4
check "meshgate still running" kill -0 "$MG_PID"

# Secrets: the router's private key (base64 and hex) and the preshared key never appear.
rkey=$(cat "$MG_LAB_DIR/rtr.key")
rhex=$(base64 -d <<<"$rkey" | od -An -tx1 | tr -d ' \n')
pskhex=$(base64 -d <<<"$PSK" | od -An -tx1 | tr -d ' \n')
leaked=0
for s in "$rkey" "$rhex" "$PSK" "$pskhex" "$P2K"; do grep -qiF -- "$s" "$MG_LAB_DIR/meshgate.log" && leaked=1; done
expect_eq "no private or preshared key in the log ($(wc -l <"$MG_LAB_DIR/meshgate.log") lines)" $leaked 0

# Exit as the user: XDP detached (CAP_NET_ADMIN), UAPI socket unlinked (owner of the directory).
if lab_stop_meshgate; then pass "leak check: meshgate stopped cleanly as $PD_USER"
else fail "leak check: meshgate did not stop cleanly"; fi
T_ROUTER_UP=0
expect_eq "UAPI socket removed from the user's directory" "$(ls -A "$RUNDIR")" ""

# An unknown user is a loud startup error, not a silent root daemon.
pd_user_save=$PD_USER; PD_USER=no-such-user-mg
pd_start >/dev/null 2>&1
wait "$MG_PID" 2>/dev/null; st=$?
PD_USER=$pd_user_save; T_ROUTER_UP=0; rm -f "$MG_LAB_DIR/meshgate.pid"; MG_PID=
check "User = no-such-user-mg: meshgate exits non-zero" test "$st" != 0
check "... and says why" grep -q "User = no-such-user-mg: no such user" "$MG_LAB_DIR/meshgate.log"
check "... and leaves no XDP program behind" sh -c '! ip -n mg-rtr -d link show dev eth0 | grep -q prog/xdp'
t_end
