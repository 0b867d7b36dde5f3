#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Backend = dpdk on a host without free hugepages, DPDKArgs without --no-huge: the EAL refuses
# (it reports "Permission denied"), and meshgate must say the real cause in one line: no free
# hugepages, how many to reserve with which command, and --no-huge for a vdev port. Nothing of
# the router's LAN configuration may move when the start fails.
#
# Hugepages are one pool for the whole machine: if any are free (another test reserved them),
# the failure cannot be provoked and the test says so.
. "$(dirname "$0")/lib.sh"
meshgate_only || { skip "meshgate only"; exit 0; }
ldd "$MESHGATE" | grep -q librte_ethdev ||
	{ echo "SKIP: $T_NAME: meshgate built without DPDK (libdpdk-dev, meson -Ddpdk=enabled)"; exit 77; }
free=$(awk '/^HugePages_Free/ { print $2 }' /proc/meminfo)
[ "${free:-0}" = 0 ] || { echo "SKIP: $T_NAME: $free hugepages are free on this machine, the EAL would not fail"; exit 77; }
t_begin
addr0=$(rtr ip -o addr show dev eth0 scope global | awk '{ print $4 }' | sort)
STATE="$MG_LAB_DIR/state"
rm -rf "$STATE"

# run_eal ARGS: meshgate with these DPDKArgs, in the router's namespace, to its end (it must not
# start); its output in $MG_LAB_DIR/eal.log, its exit status printed.
run_eal() {
	lab_write_meshgate_conf --dpdk "$1" --set "StateDir = $STATE" || return 1
	ip netns exec mg-rtr timeout 60 "$MESHGATE" run -c "$MG_LAB_DIR/meshgate.conf" >"$MG_LAB_DIR/eal.log" 2>&1
	echo $?
}
# one_line PATTERN: exactly one line of the output matches (extended regular expression).
one_line() { test "$(grep -Ec "$1" "$MG_LAB_DIR/eal.log")" = 1; }

st=$(run_eal "--no-pci --no-telemetry --log-level=*:warning --vdev net_af_packet0,iface=eth0")
expect_eq "meshgate refuses to start without hugepages (exit status)" "$st" 1
sed 's/^/# /' "$MG_LAB_DIR/eal.log" | grep -v '^# EAL' | head -n 5
check "one line names the cause: no free hugepages" \
	one_line "DPDK EAL init \(DPDKArgs = [^)]*\): no free hugepages \(HugePages_Free 0 of [0-9]+ in /proc/meminfo"
check "... with the count and the commands that reserve them" \
	one_line "reserve them with \`sysctl -w vm.nr_hugepages=[0-9]+\` \(or \`echo [0-9]+ > /proc/sys/vm/nr_hugepages\`"
check "... and --no-huge for this vdev port" one_line "or add --no-huge to DPDKArgs"
check_fails "the EAL's 'Permission denied' is not what meshgate reports" \
	grep -q "DPDK EAL init (DPDKArgs = .*): Permission denied" "$MG_LAB_DIR/eal.log"

# -m 64: the EAL asks 64 MiB up front; 32 pages of 2 MiB (on a machine whose pages are 2 MiB).
st=$(run_eal "-m 64 --no-pci --no-telemetry --log-level=*:warning --vdev net_af_packet0,iface=eth0")
expect_eq "again with -m 64 (exit status)" "$st" 1
if [ "$(awk '/^Hugepagesize/ { print $2 }' /proc/meminfo)" = 2048 ]; then
	total=$(awk '/^HugePages_Total/ { print $2 }' /proc/meminfo)
	check "-m 64 asks for $((total + 32)) pages in all" one_line "DPDKArgs ask for 64 MiB\): reserve them with \`sysctl -w vm.nr_hugepages=$((total + 32))\`"
else
	skip "hugepages are not 2 MiB here: the -m 64 page count is not checked"
fi

expect_eq "eth0 keeps its addresses (nothing moved)" \
	"$(rtr ip -o addr show dev eth0 scope global | awk '{ print $4 }' | sort)" "$addr0"
check_fails "no exception TAP left" rtr test -e "/sys/class/net/$MG_IF-lan"
check_fails "no takeover state written" test -e "$STATE/dpdk-takeover.json"
t_end
