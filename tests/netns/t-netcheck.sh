#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `meshgate netcheck` against the project's test STUN/DERP servers (tests/derp/derpd.py), in
# namespaces of its own (mgnc-*, not the lab's), behind a NAT in a namespace:
#
#   mgnc-c: meshgate netcheck          10.99.0.2, fd99::2
#      |
#   mgnc-n: NAT (nftables snat to 203.0.113.7) and router; IPv6 routed, not translated
#      |  n1 (no delay)                 \  n2 (tc netem 60 ms; see below)
#   mgnc-s1: derpd region 901 "near"    mgnc-s2: derpd region 900 "far"
#            DERP TLS :8443, STUN :3478 (IPv4 and IPv6) on each
#   region 902: an address nothing answers at (listed, no latency)
#
# 1. The NAT keeps the source port (plain snat): the mapped address is 203.0.113.7 with the same
#    port for both servers, MappingVariesByDestIP false; IPv6 mapped to the client's own address.
# 2. The NAT picks a new random port per flow (snat ... fully-random, symmetric-like):
#    MappingVariesByDestIP true.
# 3. Latency: the near region (the higher id, so not picked by id) is nearest; moving the delay
#    to the other link moves the nearest with it.
# 4. UDP blocked at the NAT: UDP false, latencies by TCP connect to the DERP servers, exit 0.
# 5. Everything blocked: exit 1 with a message. No map: exit 3 naming the file. Bad option: 2.
# 6. The map from StateDir (-c FILE), as the daemon saves it.
# A kernel without sch_netem gets the delay from the far server itself (derpd --stun-delay-ms):
# the STUN ordering is still checked, the TCP ordering under blocked UDP is a counted SKIP.
. "$(dirname "$0")/lib.sh"
meshgate_only || { echo "SKIP: $T_NAME: meshgate only"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: $T_NAME: needs root (network namespaces)"; exit 77; }
for c in ip nft tc jq openssl; do
	command -v $c >/dev/null || { echo "SKIP: $T_NAME: machine lacks $c (see scripts/deps.sh)"; exit 77; }
done
PY=/usr/bin/python3
$PY -c 'import nacl' 2>/dev/null || { echo "SKIP: $T_NAME: machine lacks python3-nacl (derpd.py)"; exit 77; }
[ -x "$MESHGATE" ] || { fail "no meshgate binary at $MESHGATE"; exit 1; }
command -v modprobe >/dev/null && modprobe sch_netem 2>/dev/null

NS=(mgnc-c mgnc-n mgnc-s1 mgnc-s2)
D=$(mktemp -d /tmp/mg-netcheck.XXXXXX)
DELAY_MS=60
PUB4=203.0.113.7

cleanup() {
	local ns
	for f in "$D"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	# leak check: no server of this run outlives it
	if pgrep -f "$D/" >/dev/null; then fail "leak check: processes left: $(pgrep -f "$D/" | tr '\n' ' ')"
	else pass "leak check: no process left"; fi
	rm -rf "$D" /etc/netns/mgnc-c
}
trap 'cleanup; exit $((T_FAILS > 0))' EXIT
trap 'exit 1' INT TERM

# Our own namespaces only; a leftover of an earlier run of this test goes first.
for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
nx() { local ns=$1; shift; ip netns exec "mgnc-$ns" "$@"; }
setup() {
	local ns
	for ns in "${NS[@]}"; do ip netns add "$ns" && nx "${ns#mgnc-}" ip link set lo up || return 1; done
	ip link add c0 netns mgnc-c type veth peer n0 netns mgnc-n &&
	ip link add s1 netns mgnc-s1 type veth peer n1 netns mgnc-n &&
	ip link add s2 netns mgnc-s2 type veth peer n2 netns mgnc-n || return 1
	nx n sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 &&
	nx c ip addr add 10.99.0.2/24 dev c0 && nx c ip -6 addr add fd99::2/64 dev c0 nodad &&
	nx n ip addr add 10.99.0.1/24 dev n0 && nx n ip -6 addr add fd99::1/64 dev n0 nodad &&
	nx n ip addr add 198.18.1.1/24 dev n1 && nx n ip -6 addr add fd99:1::1/64 dev n1 nodad &&
	nx n ip addr add 198.18.2.1/24 dev n2 && nx n ip -6 addr add fd99:2::1/64 dev n2 nodad &&
	nx s1 ip addr add 198.18.1.2/24 dev s1 && nx s1 ip -6 addr add fd99:1::2/64 dev s1 nodad &&
	nx s2 ip addr add 198.18.2.2/24 dev s2 && nx s2 ip -6 addr add fd99:2::2/64 dev s2 nodad || return 1
	for ns in c n s1 s2; do
		for l in $(nx $ns ip -o link show | awk -F': ' '$2 != "lo" { sub(/@.*/, "", $2); print $2 }'); do
			nx $ns ip link set "$l" up || return 1
		done
	done
	nx c ip route add default via 10.99.0.1 && nx c ip -6 route add default via fd99::1 &&
	nx s1 ip route add default via 198.18.1.1 && nx s1 ip -6 route add default via fd99:1::1 &&
	nx s2 ip route add default via 198.18.2.1 && nx s2 ip -6 route add default via fd99:2::1
}
# delay_on s1|s2: the ${DELAY_MS} ms go to that server's side (netem on the NAT's link to it, or
# the server's own answer delay), and off the other's.
NETEM=0
delay_on() {
	local other=s1 ns
	[ "$1" = s1 ] && other=s2
	if [ $NETEM = 1 ]; then
		nx n tc qdisc del dev "n${other#s}" root 2>/dev/null
		nx n tc qdisc replace dev "n${1#s}" root netem delay ${DELAY_MS}ms
		return
	fi
	for ns in s1 s2; do
		kill "$(cat "$D/derp-$ns.pid")" 2>/dev/null
		wait "$(cat "$D/derp-$ns.pid")" 2>/dev/null
	done
	derpd "$1" $DELAY_MS
	derpd "$other" 0
	wait_for 10 sh -c "grep -q '^READY' '$D/derp-s1.out' && grep -q '^READY' '$D/derp-s2.out'"
}
# nat [fully-random]: the NAT's IPv4 source translation, replaced.
nat() {
	nx n nft delete table ip mgnc 2>/dev/null
	nx n nft -f - <<-EOF
	table ip mgnc {
		chain post {
			type nat hook postrouting priority srcnat;
			oifname { "n1", "n2" } ip saddr 10.99.0.0/24 snat to $PUB4 ${1:-}
		}
	}
	EOF
}
# block udp|all: the NAT forwards no UDP (or nothing) until unblock.
block() {
	local what="meta l4proto udp"
	[ "$1" = all ] && what=""
	nx n nft -f - <<-EOF
	table inet mgncblock {
		chain forward_cut {
			type filter hook forward priority filter;
			$what drop
		}
	}
	EOF
}
unblock() { nx n nft delete table inet mgncblock; }

certs() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/key.pem" \
		-out "$D/cert.pem" -days 2 -subj "/CN=derp.netcheck.test" >/dev/null 2>&1
}
derpd() {	# derpd NS [STUN-DELAY-MS]: DERP TLS :8443 and STUN :3478 (IPv4, IPv6) in mgnc-NS
	# A simple command (not nx): $! is then the server's own pid (ip execs python).
	ip netns exec "mgnc-$1" $PY "$(dirname "$0")/../derp/derpd.py" serve --listen 0.0.0.0:8443 --cert "$D/cert.pem" \
		--key "$D/key.pem" --stun 0.0.0.0:3478 --stun '[::]:3478' --stun-delay-ms "${2:-0}" \
		>"$D/derp-$1.out" 2>"$D/derp-$1.log" &
	echo $! >"$D/derp-$1.pid"
}
node_json() {	# node_json REGION IPV4 IPV6
	echo "{\"Name\":\"${1}a\",\"RegionID\":$1,\"HostName\":\"derp.netcheck.test\",\"IPv4\":\"$2\",\"IPv6\":\"$3\",\"STUNPort\":3478,\"DERPPort\":8443}"
}
write_map() {
	cat >"$D/derpmap.json" <<-EOF
	{"Regions":{
	 "900":{"RegionID":900,"RegionCode":"far","RegionName":"Far lab","Nodes":[$(node_json 900 198.18.2.2 fd99:2::2)]},
	 "901":{"RegionID":901,"RegionCode":"nr","RegionName":"Near lab","Nodes":[$(node_json 901 198.18.1.2 fd99:1::2)]},
	 "902":{"RegionID":902,"RegionCode":"gone","RegionName":"Gone lab","Nodes":[$(node_json 902 198.18.3.2 none)]}}}
	EOF
}
# nc ARGS...: meshgate netcheck in the client namespace; RC, stdout in $D/out, stderr in $D/err.
nc() { nx c "$MESHGATE" netcheck "$@" >"$D/out" 2>"$D/err"; RC=$?; }
js() { jq -r "$1" "$D/out"; }
ms() { jq -r --arg r "$1" '.RegionLatency[$r] // 0 | . / 1000000 | floor' "$D/out"; }

check "namespaces, veths, routes" setup
nat
check "test certificate (openssl)" certs
if nx n tc qdisc add dev n2 root netem delay ${DELAY_MS}ms 2>/dev/null; then
	NETEM=1
else
	skip "kernel lacks sch_netem: the ${DELAY_MS} ms come from the far STUN server's answer delay instead of the link"
fi
derpd s1
derpd s2 $([ $NETEM = 1 ] || echo $DELAY_MS)
check "two DERP/STUN servers up (derpd.py), ${DELAY_MS} ms towards region 900" \
	wait_for 10 sh -c "grep -q '^READY' '$D/derp-s1.out' && grep -q '^READY' '$D/derp-s2.out'"
write_map

# 1. A NAT that keeps the port.
nc --derp-map "$D/derpmap.json" --json
expect_eq "exit 0 (regions answered)" "$RC" 0
echo "# $(cat "$D/out")"
expect_eq "UDP true" "$(js .UDP)" true
check "GlobalV4 is the NAT's address ($(js .GlobalV4))" grep -q "^$PUB4:[0-9]*\$" <<<"$(js .GlobalV4)"
expect_eq "MappingVariesByDestIP false behind a port-keeping NAT" "$(js .MappingVariesByDestIP)" false
check "both STUN servers saw $PUB4 at one port" sh -c \
	"[ \"\$(grep -ho '^STUN $PUB4:[0-9]*' '$D/derp-s1.out' '$D/derp-s2.out' | sort -u | wc -l)\" = 1 ]"
check "IPv6: mapped to the client's own address ($(js .GlobalV6))" grep -q '^\[fd99::2\]:[0-9]*$' <<<"$(js .GlobalV6)"
expect_eq "PreferredDERP 901 (near), not the lower id 900" "$(js .PreferredDERP)" 901
far=$(ms 900) near=$(ms 901)
check "region 900 latency >= ${DELAY_MS} ms (${far} ms), region 901 below it (${near} ms)" \
	test "$far" -ge $DELAY_MS -a "$near" -lt $DELAY_MS
expect_eq "region 902 (nobody there) has no latency" "$(js '.RegionLatency["902"] // "none"')" none
check "TCP connect times measured for the two live regions" test "$(js '.RegionTCPLatency | length')" = 2

nc --derp-map "$D/derpmap.json"
echo "$(cat "$D/out")" | sed 's/^/# /'
check "text: MappingVariesByDestIP: false" grep -q "^	\* MappingVariesByDestIP: false$" "$D/out"
check "text: Nearest DERP: Near lab" grep -q "^	\* Nearest DERP: Near lab$" "$D/out"
check "text: IPv4: yes, $PUB4:PORT" grep -q "^	\* IPv4: yes, $PUB4:[0-9]*$" "$D/out"
check "text: latencies nearest first, the silent region last" \
	test "$(grep -o '^		- *[a-z]*:' "$D/out" | tr -d '\t -:' | tr '\n' ' ')" = "nr far gone "

# Without an IPv6 route the report says why IPv6 is "no"; with -4 it says none was probed.
nx c ip -6 route del default via fd99::1
nc --derp-map "$D/derpmap.json" --timeout 1
check "no IPv6 route: 'IPv6: no, but OS has support (no IPv6 route to the STUN servers)'" \
	grep -q "^	\* IPv6: no, but OS has support (no IPv6 route to the STUN servers)$" "$D/out"
nx c ip -6 route add default via fd99::1
nc --derp-map "$D/derpmap.json" -4
check "-4: 'IPv6: no, but OS has support (no IPv6 STUN server probed)'" \
	grep -q "^	\* IPv6: no, but OS has support (no IPv6 STUN server probed)$" "$D/out"

# 2. A NAT that maps every flow to a new port.
nat fully-random
nc --derp-map "$D/derpmap.json" --json -4
expect_eq "exit 0 behind a per-destination NAT" "$RC" 0
echo "# $(cat "$D/out")"
expect_eq "MappingVariesByDestIP true behind a per-destination NAT" "$(js .MappingVariesByDestIP)" true
check "GlobalV4 still the NAT's address" grep -q "^$PUB4:[0-9]*\$" <<<"$(js .GlobalV4)"
expect_eq "-4: no IPv6 probe" "$(js .GlobalV6)" ""
nc --derp-map "$D/derpmap.json" -4
check "text: MappingVariesByDestIP: true" grep -q "^	\* MappingVariesByDestIP: true$" "$D/out"
nat

# 3. The delay moves to the other region's link: so does the nearest region.
check "the delay moves to region 901's side" delay_on s1
nc --derp-map "$D/derpmap.json" --json
expect_eq "delay on 901's link: PreferredDERP 900" "$(js .PreferredDERP)" 900
check "region 901 now >= ${DELAY_MS} ms ($(ms 901) ms), 900 below ($(ms 900) ms)" \
	test "$(ms 901)" -ge $DELAY_MS -a "$(ms 900)" -lt $DELAY_MS

# 4. No UDP through the NAT: TCP connect times to the DERP servers stand in.
block udp
nc --derp-map "$D/derpmap.json" --json --timeout 1.5
expect_eq "UDP blocked: exit 0 (TCP reached the DERP servers)" "$RC" 0
expect_eq "UDP blocked: UDP false" "$(js .UDP)" false
expect_eq "UDP blocked: MappingVariesByDestIP unknown (null)" "$(js .MappingVariesByDestIP)" null
if [ $NETEM = 1 ]; then
	expect_eq "UDP blocked: nearest by TCP is 900 (901's link is delayed)" "$(js .PreferredDERP)" 900
else
	skip "nearest by TCP connect time: without sch_netem no link is slower"
	check "UDP blocked: a nearest region by TCP ($(js .PreferredDERP))" grep -qE '^90[01]$' <<<"$(js .PreferredDERP)"
fi
nc --derp-map "$D/derpmap.json" --timeout 1.5
check "text marks TCP-measured latencies [tcp]" grep -q "far: .*(Far lab) \[tcp\]" "$D/out"
unblock

# 5. Nothing gets through; no map; bad options.
block all
nc --derp-map "$D/derpmap.json" --timeout 1
expect_eq "all blocked: exit 1" "$RC" 1
check "all blocked: says no region answered" grep -q "no DERP region answered" "$D/err"
check "all blocked: Nearest DERP unknown" grep -q "Nearest DERP: unknown" "$D/out"
unblock
mkdir -p "$D/state-empty" "$D/state"
printf '[Interface]\nName = mgnc0\nStateDir = %s\n' "$D/state-empty" >"$D/empty.conf"
nc -c "$D/empty.conf"
expect_eq "no map in StateDir: exit 3" "$RC" 3
check "no map: names $D/state-empty/derpmap.json" grep -q "no DERP map: $D/state-empty/derpmap.json" "$D/err"
echo '{"Regions": [' >"$D/bad.json"
nc --derp-map "$D/bad.json"
expect_eq "malformed map: exit 3" "$RC" 3
check "malformed map: says not JSON" grep -q "bad.json:.*not JSON" "$D/err"
nc --timeout abc --derp-map "$D/derpmap.json"
expect_eq "--timeout abc: exit 2" "$RC" 2
nc -4 -6 --derp-map "$D/derpmap.json"
expect_eq "-4 -6 together: exit 2 (usage)" "$RC" 2

# 5b. A region named only by HostName, with a name server that never answers (one 1 s try): the
# lookup happens before any probe starts, so it does not inflate the other regions' TCP times.
mkdir -p /etc/netns/mgnc-c
printf 'nameserver 10.99.0.77\noptions timeout:1 attempts:1\n' >/etc/netns/mgnc-c/resolv.conf
jq '.Regions["903"] = {"RegionID":903,"RegionCode":"dns","RegionName":"By name","Nodes":[{"Name":"903a","RegionID":903,"HostName":"derp.netcheck.invalid","IPv4":"","IPv6":"","STUNPort":3478,"DERPPort":8443}]}' \
	"$D/derpmap.json" >"$D/dnsmap.json"
t0=$(date +%s%N)
nc --derp-map "$D/dnsmap.json" --json
echo "# with a silent name server: $(cat "$D/out") ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
expect_eq "silent name server: exit 0" "$RC" 0
check "silent name server: TCP times of the other regions stay below 1 s" \
	jq -e '.RegionTCPLatency["900"] < 1000000000 and .RegionTCPLatency["901"] < 1000000000' "$D/out"
expect_eq "silent name server: the unresolved region has no latency" "$(js '.RegionLatency["903"] // "none"')" none
rm -rf /etc/netns/mgnc-c

# 6. The map where the daemon keeps it.
cp "$D/derpmap.json" "$D/state/derpmap.json"
printf '[Interface]\nName = mgnc0\nStateDir = %s\n' "$D/state" >"$D/state.conf"
nc -c "$D/state.conf" --json
expect_eq "-c FILE: the map from its StateDir: exit 0" "$RC" 0
expect_eq "-c FILE: the report names the StateDir copy" "$(js .DERPMap)" "$D/state/derpmap.json"

# Bash completion knows the command and its options.
comp() { bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _meshgate; echo "${COMPREPLY[*]}"' \
	comp "$(dirname "$0")/../../configs/bash-completion/meshgate" "$@"; }
expect_eq "bash completion: 'meshgate netc' -> netcheck" "$(comp meshgate netc)" netcheck
expect_eq "bash completion: 'meshgate netcheck --d' -> --derp-map" "$(comp meshgate netcheck --d)" --derp-map

t_end
