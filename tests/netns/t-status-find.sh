#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `meshgate status` without -c finds the running daemon as `wg show` does, by the UAPI sockets
# in /var/run/wireguard: none -> exit 1; one -> shown; two -> exit 3 listing both, -i NAME picks
# one; -i of a name not running -> exit 1; -c with -i -> exit 2. A wireguard-go socket in the
# same directory is not taken for a meshgate.
#
# Two meshgate instances in namespaces of their own (mgsf-a, mgsf-b: a veth pair each, meshgate
# on eth0), and a wireguard-go in mgsf-b. Every daemon and every `meshgate status` runs in one
# private mount namespace with a tmpfs on /run/wireguard (held by a sleeping process), so sockets
# of other people's daemons on this machine are not seen and ours are not left behind.
#
#   mgsf-a: eth0 -- peer0   meshgate mgsfa0  (-c a.conf, relative to its working directory;
#                                             MetricsListen 127.0.0.1:9599)
#   mgsf-b: eth0 -- peer0   meshgate mgsfb0, wireguard-go mgsfw0
. "$(dirname "$0")/lib.sh"
meshgate_only || { echo "SKIP: $T_NAME: meshgate only"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: $T_NAME: needs root (network namespaces)"; exit 77; }
for c in ip wg wireguard-go unshare nsenter jq; do
	command -v $c >/dev/null || { echo "SKIP: $T_NAME: machine lacks $c (see scripts/deps.sh)"; exit 77; }
done
[ -x "$MESHGATE" ] || { fail "no meshgate binary at $MESHGATE"; exit 1; }

D=$(mktemp -d /tmp/mg-status-find.XXXXXX)
NS=(mgsf-a mgsf-b)
HOLDER=

stop_pid() {	# stop_pid FILE: SIGTERM the pid in FILE and wait for it (10 s)
	local pid i
	[ -s "$1" ] || return 0
	pid=$(cat "$1"); rm -f "$1"
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
}
cleanup() {
	local ns
	stop_pid "$D/a.pid"; stop_pid "$D/b.pid"; stop_pid "$D/w.pid"
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
	wait 2>/dev/null
	for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	# leak check: no daemon of this run outlives it
	if pgrep -f "wireguard-go -f mgsfw0|meshgate run -c [ab]\.conf$|$D/" >/dev/null; then
		fail "leak check: processes left: $(pgrep -f "wireguard-go -f mgsfw0|meshgate run -c [ab]\.conf$|$D/" | tr '\n' ' ')"
	else pass "leak check: no process left"; fi
	rm -rf "$D"
}
trap 'cleanup; exit $((T_FAILS > 0))' EXIT
trap 'exit 1' INT TERM

for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null; done   # a leftover of an earlier run
setup() {
	local ns
	for ns in "${NS[@]}"; do
		ip netns add "$ns" &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" link add eth0 type veth peer name peer0 &&
		ip -n "$ns" addr add 192.0.2.1/24 dev eth0 &&
		ip -n "$ns" link set eth0 up && ip -n "$ns" link set peer0 up || return 1
	done
}
check "namespaces mgsf-a, mgsf-b with a veth pair each" setup

# The private mount namespace: namespaces above exist before it, so `ip netns exec` works in it.
unshare -m --propagation private sh -c \
	'mkdir -p /run/wireguard && mount -t tmpfs -o mode=0755 mgsf /run/wireguard && exec sleep 3600' &
HOLDER=$!
holder_ready() { [ "$(nsenter --mount=/proc/$HOLDER/ns/mnt findmnt -n -o SOURCE /run/wireguard)" = mgsf ]; }
check "private mount namespace with its own /run/wireguard" wait_for 5 holder_ready
inpriv() { nsenter --mount=/proc/$HOLDER/ns/mnt "$@"; }
# st NS ARGS...: meshgate status in netns NS (or "root") inside the private mount namespace;
# RC, stdout in $D/out, stderr in $D/err.
st() {
	local ns=$1; shift
	if [ "$ns" = root ]; then inpriv "$MESHGATE" status "$@" >"$D/out" 2>"$D/err"
	else inpriv ip netns exec "$ns" "$MESHGATE" status "$@" >"$D/out" 2>"$D/err"; fi
	RC=$?
}

conf() {	# conf NAME PORT METRICS: a minimal config
	printf '[Interface]\nName = %s\nPrivateKey = %s\nListenPort = %s\nAddress = 100.64.9.1/32\nDevice = eth0\nMetricsListen = %s\n' \
		"$1" "$(wg genkey)" "$2" "$3"
}
mkdir -p "$D/a" "$D/b"
conf mgsfa0 41701 127.0.0.1:9599 >"$D/a/a.conf"
conf mgsfb0 41702 127.0.0.1:9586 >"$D/b/b.conf"
start() {	# start a|b: meshgate in mgsf-X from $D/X with the relative -c X.conf
	local x=$1 i
	(exec nsenter --mount=/proc/$HOLDER/ns/mnt --wd="$D/$x" ip netns exec "mgsf-$x" sh -c \
		'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' mg \
		"$MESHGATE" run -c "$x.conf" >"$D/$x.log" 2>&1) &
	echo $! >"$D/$x.pid"
	for i in $(seq 100); do
		inpriv test -S "/run/wireguard/mgsf${x}0.sock" && return 0
		kill -0 "$(cat "$D/$x.pid")" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$D/$x.log" | sed 's/^/# log: /'
	return 1
}

# None running; a wireguard-go socket does not count.
st root
expect_eq "none running: exit 1" "$RC" 1
check "none running: one line that says so ($(cat "$D/err"))" \
	test "$(grep -c 'meshgate is not running (no meshgate UAPI socket in /var/run/wireguard)' "$D/err")" = 1
# A simple command (not inpriv): $! is then wireguard-go's own pid, which cleanup stops.
nsenter --mount=/proc/$HOLDER/ns/mnt ip netns exec mgsf-b wireguard-go -f mgsfw0 >"$D/w.log" 2>&1 &
echo $! >"$D/w.pid"
check "wireguard-go up in the same socket directory" wait_for 5 inpriv test -S /run/wireguard/mgsfw0.sock
st root
expect_eq "only wireguard-go running: still exit 1" "$RC" 1

# One meshgate.
check "meshgate mgsfa0 starts in mgsf-a" start a
st mgsf-a
expect_eq "one running: exit 0" "$RC" 0
sed 's/^/# /' "$D/out"
check "one running: its self line (listening :41701)" grep -q "listening :41701" "$D/out"
check "one running: no /metrics complaint inside its namespace" sh -c "! grep -q 'cannot read /metrics' '$D/out'"
st mgsf-a --json
expect_eq "one running: --json Self.Device" "$(jq -r .Self.Device "$D/out")" mgsfa0
expect_eq "one running: --json ListenPort" "$(jq -r .Self.ListenPort "$D/out")" 41701
# From another network namespace its MetricsListen (from its own -c a.conf, found through
# /proc/PID/cmdline and cwd) is not reachable: status says which address it tried.
st root
check "its config found: the health check names its MetricsListen 127.0.0.1:9599" \
	grep -q "cannot read /metrics at 127.0.0.1:9599" "$D/out"
# Not root: the daemon's socket (srwx------) refuses; status says so instead of "not running".
if command -v setpriv >/dev/null; then
	inpriv setpriv --reuid 65534 --regid 65534 --clear-groups "$MESHGATE" status >"$D/out" 2>"$D/err"; RC=$?
	expect_eq "not root: exit 1" "$RC" 1
	check "not root: 'permission denied (run as root)' ($(cat "$D/err"))" grep -q "refused the connection: permission denied (run as root)" "$D/err"
else
	skip "machine lacks setpriv: the not-root case"
fi

# Two.
check "meshgate mgsfb0 starts in mgsf-b" start b
st root
expect_eq "two running: exit 3" "$RC" 3
sed 's/^/# /' "$D/err"
check "two running: both listed with their pid and config" sh -c \
	"grep -q '^  mgsfa0 *pid $(cat "$D/a.pid")\\b.*-c $D/a/a.conf' '$D/err' && grep -q '^  mgsfb0 *pid [0-9]*, -c $D/b/b.conf' '$D/err'"
check "two running: asks for -i NAME" grep -q "pick one with -i NAME" "$D/err"
check "two running: nothing on stdout" test ! -s "$D/out"
st mgsf-b -i mgsfb0 --json
expect_eq "-i mgsfb0: exit 0" "$RC" 0
expect_eq "-i mgsfb0: that daemon (ListenPort 41702)" "$(jq -r .Self.ListenPort "$D/out")" 41702
st mgsf-a --interface mgsfa0
check "--interface mgsfa0: that daemon (listening :41701)" grep -q "listening :41701" "$D/out"
st root -i mgsfw0
expect_eq "-i of wireguard-go's interface: exit 1" "$RC" 1
check "... not running as a meshgate" grep -q "meshgate mgsfw0 is not running" "$D/err"
st root -i nosuch0
expect_eq "-i of a name nobody serves: exit 1" "$RC" 1
st root -i mgsfa0 -c "$D/a/a.conf"
expect_eq "-c with -i: usage, exit 2" "$RC" 2
check "usage names the exit statuses" grep -q "exit status: 0 shown, 1 not running or no answer, 2 usage, 3 several running" "$D/err"
st mgsf-b -c "$D/b/b.conf"
expect_eq "-c FILE still works with two running" "$RC" 0
# Bash completion of -i offers the running interfaces (their sockets).
comp=$(inpriv bash -c '. "$1"; COMP_WORDS=(meshgate status -i ""); COMP_CWORD=3; _meshgate; echo "${COMPREPLY[*]}"' \
	comp "$(cd "$(dirname "$0")/../.." && pwd)/configs/bash-completion/meshgate")
check "bash completion of 'status -i' offers mgsfa0 and mgsfb0 ($comp)" sh -c "echo '$comp' | grep -qw mgsfa0 && echo '$comp' | grep -qw mgsfb0"

# Back to one, then none.
stop_pid "$D/a.pid"
check "mgsfa0 stopped, its socket gone" wait_for 5 inpriv test ! -e /run/wireguard/mgsfa0.sock
st mgsf-b
expect_eq "one left: exit 0" "$RC" 0
check "one left: it is mgsfb0 (listening :41702)" grep -q "listening :41702" "$D/out"
stop_pid "$D/b.pid"
check "mgsfb0 stopped, its socket gone" wait_for 5 inpriv test ! -e /run/wireguard/mgsfb0.sock
st root
expect_eq "none left: exit 1" "$RC" 1
t_end
