#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `meshgate doctor` on the lab's router, each condition broken on purpose: the verdict (OK / WARN /
# FAIL) of the check concerned, the fix it names, and the exit status (1 exactly when a check
# FAILs). meshgate itself is not started; doctor only reads.
#
#   mg-rtr: eth0 (veth, 1 RX queue, offloads at their defaults) -- mg-lan br0
#           meshgate doctor -c doctor.conf   (lab config + one change per case)
#
# Not breakable here, checked for their OK verdict only: kernel and BTF (another kernel), the
# crypto backend (the CPU's flags), IRQ affinity (a veth has no interrupts).
. "$(dirname "$0")/lib.sh"

meshgate_only || { echo "SKIP: $T_NAME: meshgate only"; exit 77; }
for c in jq prlimit setpriv; do
	command -v $c >/dev/null || { echo "SKIP: $T_NAME: machine lacks $c (see scripts/deps.sh)"; exit 77; }
done
t_begin
CONF=$MG_LAB_DIR/doctor.conf
OUT=$MG_LAB_DIR/doctor.out
lab_write_meshgate_conf || { fail "lab config"; exit 1; }
BASE=$(cat "$MG_LAB_DIR/meshgate.conf")

# conf [SED-SCRIPT]: the lab's config, changed by SED-SCRIPT, as $CONF.
conf() { echo "$BASE" | sed "${1:-}" >"$CONF"; }

# doc [PREFIX...]: meshgate doctor --json on $CONF in mg-rtr (PREFIX: prlimit, setpriv, env...).
# Sets RC; the JSON is in $OUT.
doc() {
	# stdout only: it is the JSON; stderr carries logs (Crypto = auto's calibration line)
	ip netns exec mg-rtr "$@" "$MESHGATE" doctor -c "$CONF" --json >"$OUT" 2>"$OUT.err"
	RC=$?
}

# st CHECK / fix CHECK: the statuses (comma-separated) and the fixes of CHECK's verdicts.
st() { jq -r --arg c "$1" '[.checks[] | select(.check == $c) | .status] | join(",")' "$OUT" 2>/dev/null; }
fixes() { jq -r --arg c "$1" '.checks[] | select(.check == $c) | .fix' "$OUT" 2>/dev/null; }
detail() { jq -r --arg c "$1" '.checks[] | select(.check == $c) | .detail' "$OUT" 2>/dev/null; }

# verdict DESC CHECK STATUS [FIX-TEXT]: CHECK reported STATUS, and its fix contains FIX-TEXT.
verdict() {
	local got
	got=$(st "$2")
	if [ "$got" != "$3" ]; then
		fail "$1: $2 is '$got', want $3 ($(detail "$2" | head -n 1))"
	elif [ -n "${4:-}" ] && ! fixes "$2" | grep -qF -- "$4"; then
		fail "$1: $2's fix '$(fixes "$2" | head -n 1)' lacks '$4'"
	else
		pass "$1: $2 $3${4:+, fix: $4}"
	fi
}
# exit_is DESC WANT: doctor's exit status.
exit_is() { expect_eq "$1: exit status" "$RC" "$2"; }

# ---- the lab as it is: nothing FAILs ----------------------------------------------------------
conf
doc
verdict "lab router" kernel OK
expect_eq "lab router: kernel names this kernel" "$(detail kernel)" "$(uname -r)"
if [ -r /sys/kernel/btf/vmlinux ]; then verdict "lab router" btf OK; else verdict "lab router" btf WARN; fi
verdict "lab router" xdp OK
verdict "lab router (veth: copy mode)" zerocopy WARN "Backend = dpdk"
verdict "lab router (1 queue, 1 channel)" channels OK
verdict "lab router (default offloads)" offload OK
verdict "lab router (MTU 1500, tunnel 1280)" mtu OK
verdict "lab router (veth)" irq OK
verdict "lab router" listenport OK
verdict "lab router" routes OK
want=avx2; grep -qw avx2 /proc/cpuinfo || want=WARN
if [ $want = WARN ]; then verdict "lab router (no AVX2)" crypto WARN "--cpu host"
else verdict "lab router (AVX2)" crypto OK; fi
exit_is "lab router" 0
expect_eq "lab router: the JSON counts add up" \
	"$(jq '(.ok + .warn + .fail) == (.checks | length)' "$OUT")" true
ip netns exec mg-rtr "$MESHGATE" doctor -c "$CONF" >"$MG_LAB_DIR/doctor.txt" 2>&1
sed 's/^/# /' "$MG_LAB_DIR/doctor.txt"
expect_eq "lab router: text summary line matches the JSON" "$(tail -n 1 "$MG_LAB_DIR/doctor.txt")" \
	"$(jq -r '"doctor: \(.ok) OK, \(.warn) WARN, \(.fail) FAIL"' "$OUT")"

# ---- bpffs ---------------------------------------------------------------------------------------
# Each `ip netns exec` gets a fresh /sys without the BPF filesystem.
verdict "no bpffs in mg-rtr" bpffs WARN "mount -t bpf bpf /sys/fs/bpf"
doc sh -c 'mount -t bpf bpf /sys/fs/bpf && exec "$@"' sh
verdict "bpffs mounted" bpffs OK
doc setpriv --bounding-set -sys_admin
verdict "no bpffs and no CAP_SYS_ADMIN to mount it" bpffs FAIL "mount -t bpf bpf /sys/fs/bpf"

# ---- capabilities ------------------------------------------------------------------------------
doc setpriv --bounding-set -net_admin
verdict "without CAP_NET_ADMIN" caps FAIL "run meshgate as root"
exit_is "without CAP_NET_ADMIN" 1
doc env -u LIBXDP_SKIP_DISPATCHER setpriv --bounding-set -sys_admin
verdict "without CAP_SYS_ADMIN, dispatcher on" caps WARN "LIBXDP_SKIP_DISPATCHER=1"
doc env LIBXDP_SKIP_DISPATCHER=1 setpriv --bounding-set -sys_admin
verdict "without CAP_SYS_ADMIN, LIBXDP_SKIP_DISPATCHER=1" caps OK

# ---- memlock -------------------------------------------------------------------------------------
doc prlimit --memlock=65536:65536 setpriv --bounding-set -ipc_lock,-sys_resource
verdict "memlock 64 KiB, no CAP_IPC_LOCK" memlock FAIL "ulimit -l unlimited"
exit_is "memlock 64 KiB" 1
doc prlimit --memlock=65536:65536
verdict "memlock 64 KiB, root's capabilities (CAP_IPC_LOCK exempts the UMEM)" memlock OK

# ---- the NIC -------------------------------------------------------------------------------------
conf 's/^Queues = .*//; s/^\[Interface\]/&\nQueues = 4/'
doc
verdict "Queues = 4 on a 1-queue veth" channels FAIL "set Queues = 1"
exit_is "Queues = 4" 1

# A 4-queue veth pair beside the lab's: fewer Queues than channels leaves traffic to the kernel.
rtr ip link add mgq0 numrxqueues 4 numtxqueues 4 type veth peer name mgq1 numrxqueues 4 numtxqueues 4
conf 's/^Device = .*/Device = mgq0/; s/^\[Interface\]/&\nQueues = 2/'
doc
verdict "Queues = 2 on a 4-queue veth" channels WARN "set Queues = 4"
conf 's/^Device = .*/Device = mgq0/; s/^\[Interface\]/&\nQueues = 4/'
doc
verdict "Queues = 4 on a 4-queue veth" channels OK
rtr ip link del mgq0

rtr ethtool -K eth0 gro on >/dev/null
conf; doc
verdict "GRO on" offload WARN "ethtool -K eth0 gro off"
exit_is "GRO on (a WARN)" 0
rtr ethtool -K eth0 gro off >/dev/null

rtr ethtool -K eth0 tx on >/dev/null
doc
verdict "TX checksum offload on the veth (meshgate completes partial checksums)" offload OK
rtr ethtool -K eth0 tx off tso off gso off >/dev/null

rtr ip link set dev eth0 mtu 4000
doc
verdict "NIC MTU 4000" mtu FAIL "ip link set dev eth0 mtu 1500"
exit_is "NIC MTU 4000" 1
rtr ip link set dev eth0 mtu 1500

conf 's/^MTU = .*/MTU = 1500/'
doc
verdict "tunnel MTU 1500 on a 1500 NIC" mtu WARN "set MTU = 1420"

# A bridge has no XDP driver hook: generic mode only.
rtr ip link add mgdoc0 type bridge
conf 's/^Device = .*/Device = mgdoc0/'
doc
verdict "a bridge device (no native XDP)" xdp WARN "PCI passthrough"
rtr ip link del mgdoc0

conf 's/^Device = .*/Device = nosuch0/'
doc
verdict "Device that does not exist" device FAIL "ip -br link"
exit_is "no such Device" 1

# ---- ListenPort ----------------------------------------------------------------------------------
ip netns exec mg-rtr python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 41641)); time.sleep(30)' &
squat=$!
wait_for 5 sh -c "ip netns exec mg-rtr ss -Huln 'sport = :$WG_PORT' | grep -q ."
conf; doc
verdict "ListenPort held by another process" listenport FAIL "ss -ulpn 'sport = :$WG_PORT'"
check "ListenPort: doctor names the holder (python3, pid $squat)" sh -c "grep -q 'python3, pid $squat' '$OUT'"
exit_is "ListenPort taken" 1
kill $squat; wait $squat 2>/dev/null

# ---- advertised routes ---------------------------------------------------------------------------
conf 's|^AdvertiseRoutes = .*|AdvertiseRoutes = 192.168.8.0/24, 100.64.5.0/24, fd7a:115c:a1e0:ab::/64|'
doc
verdict "routes inside the tailnet ranges" routes FAIL,FAIL "remove 100.64.5.0/24 from AdvertiseRoutes"
check "routes: the IPv6 overlap is named too" sh -c "jq -r '.checks[].fix' '$OUT' | grep -qF 'remove fd7a:115c:a1e0:ab::/64'"
exit_is "routes overlap" 1

# ---- Backend = dpdk ------------------------------------------------------------------------------
conf 's|^\[Interface\]|&\nBackend = dpdk\nDPDKArgs = -a 0000:00:1f.7|'
doc
if jq -e '.checks[] | select(.check == "dpdk")' "$OUT" >/dev/null; then
	verdict "Backend = dpdk in a build without DPDK" dpdk FAIL "-Ddpdk=enabled"
else
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	size=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
	if [ $((free * size)) -lt $((512 * 1024)) ]; then
		verdict "Backend = dpdk, $free free hugepages" hugepages FAIL "/sys/kernel/mm/hugepages/hugepages-${size}kB/nr_hugepages"
	else
		verdict "Backend = dpdk, $free free hugepages" hugepages OK
	fi
	verdict "Backend = dpdk, -a 0000:00:1f.7 (absent)" vfio FAIL "lspci -D"
	conf 's|^\[Interface\]|&\nBackend = dpdk\nDPDKArgs = --no-huge -m 512 --vdev net_af_packet0,iface=eth0|'
	doc
	verdict "Backend = dpdk --no-huge" hugepages OK
	verdict "Backend = dpdk on a vdev" vfio OK
fi

# ---- beside the running daemon: nothing of its own counts as a fault ------------------------------
t_start_router_or_die
conf; doc
verdict "meshgate running (its port is not a conflict)" listenport OK
exit_is "meshgate running" 0
t_router_stop

# ---- usage ---------------------------------------------------------------------------------------
ip netns exec mg-rtr "$MESHGATE" doctor --bogus >/dev/null 2>&1
expect_eq "doctor --bogus: usage, exit 2" "$?" 2
ip netns exec mg-rtr "$MESHGATE" doctor -c "$MG_LAB_DIR/nonexistent.conf" >/dev/null 2>&1
expect_eq "doctor -c on a missing file: exit 1" "$?" 1
t_end
