#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Backend = dpdk with `User = nobody`: the NIC's configuration moves to the exception TAP while
# meshgate is still root, and must come back at exit from the unprivileged process (CAP_NET_ADMIN
# alone), which also removes the state file from its StateDir (the user's, as
# configs/systemd/meshgate.tmpfiles makes it).
#
#   mg-rtr eth0 [DPDK af_packet, --no-huge] -> meshgate (root: EAL, TAP, takeover -> nobody)
#
. "$(dirname "$0")/lib.sh"

meshgate_only || { echo "SKIP: t-dpdk-privdrop: meshgate only"; exit 77; }
PD_USER=${PD_USER:-nobody}
id -u "$PD_USER" >/dev/null 2>&1 || { echo "SKIP: t-dpdk-privdrop: machine has no user $PD_USER"; exit 77; }
command -v setfacl >/dev/null || { echo "SKIP: t-dpdk-privdrop: machine lacks setfacl (see scripts/deps.sh)"; exit 77; }
ldd "$MESHGATE" | grep -q librte_ethdev ||
	{ echo "SKIP: t-dpdk-privdrop: meshgate built without DPDK (libdpdk-dev, meson -Ddpdk=enabled)"; exit 77; }

t_begin
TAP=$MG_IF-lan
EAL="--no-huge -m 512 --no-pci --no-telemetry --log-level=*:warning --vdev net_af_packet0,iface=eth0"
RUNDIR=$MG_LAB_DIR/run-wireguard
rm -rf "$RUNDIR"; mkdir -p "$RUNDIR"; chmod 0755 "$RUNDIR"
setfacl -m "u:$PD_USER:rwx,m::rwx" "$RUNDIR" || { fail "setfacl on $RUNDIR"; exit 1; }
ETCDIR=$(mktemp -d /tmp/meshgate-dpdk-privdrop.XXXXXX); chown "$PD_USER" "$ETCDIR"
STATE=$ETCDIR/state
mkdir "$STATE" && chown "$PD_USER" "$STATE" && chmod 0700 "$STATE"
CONF=$ETCDIR/meshgate.conf
trap 'rm -rf "$ETCDIR" "$RUNDIR"; t_cleanup; exit $?' EXIT

rtr nft -f - <<-EOT || { fail "nft: drop the kernel's view of eth0"; exit 1; }
	table netdev mgdpdk {
		chain in { type filter hook ingress device eth0 priority 0; policy drop; }
	}
	EOT
ip netns exec mg-lan ethtool -K p-rtr tso off tx-udp-segmentation off ||
	{ fail "ethtool: no TSO/USO towards the af_packet vdev"; exit 1; }
ipconf() {
	{
		rtr ip -o addr show dev "$1" scope global | awk '{ print $3, $4 }'
		rtr ip route show table all dev "$1" | grep -v 'proto kernel'
		rtr ip -6 route show table all dev "$1" | grep -v 'proto kernel'
	} | sed "s/ dev $1//" | sort
}
eth0_conf=$(ipconf eth0)

lab_write_meshgate_conf --dpdk "$EAL" --set "StateDir = $STATE" || { fail "config"; exit 1; }
sed "s/^Name = .*/&\nUser = $PD_USER/" "$MG_LAB_DIR/meshgate.conf" >"$CONF"
chown "$PD_USER" "$CONF"; chmod 0600 "$CONF"
ip netns exec mg-rtr sh -c 'mount --bind "$0" /run/wireguard && exec "$@"' "$RUNDIR" \
	"$MESHGATE" run -c "$CONF" >"$MG_LAB_DIR/meshgate.log" 2>&1 &
MG_PID=$!
wait_for 10 test -S "$RUNDIR/$MG_IF.sock" || { fail "meshgate did not start"; tail -n 20 "$MG_LAB_DIR/meshgate.log"; exit 1; }
check "running as $PD_USER" grep -q "running as user $PD_USER" "$MG_LAB_DIR/meshgate.log"
expect_eq "eth0's configuration is on $TAP" "$(ipconf "$TAP")" "$eth0_conf"
check "home host pings the router through the TAP" ping_ok host $RTR_LAN4
check "laptop -> host ping through the tunnel" ping_ok lap $HOST4 10

kill -TERM $MG_PID
wait $MG_PID; st=$?
MG_PID=
expect_eq "meshgate exits 0 on SIGTERM" "$st" 0
check "it gave eth0 its configuration back" grep -Eq "gave eth0 back its 2 addresses, 2 routes" "$MG_LAB_DIR/meshgate.log"
expect_eq "eth0 has its addresses and routes again" "$(ipconf eth0)" "$eth0_conf"
check_fails "the unprivileged process removed the state file" test -e "$STATE/dpdk-takeover.json"
check_fails "nothing went wrong on the way back" grep -Eq "removing|adding .* to eth0" "$MG_LAB_DIR/meshgate.log"
t_end
