#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The shipped configs/ are accepted by the tools that will read them, and the
# Grafana dashboard only queries metrics a live meshgate exports.
#
#   configs/meshgate.conf           -> meshgate check
#   configs/systemd/meshgate.service -> systemd-analyze verify
#   configs/nixos/meshgate.nix      -> nix-instantiate --parse (Debian nix-bin)
#   configs/prometheus/*.yml        -> promtool check config / rules
#   configs/grafana/*.json          -> jq, then check-dashboard.sh against
#        mg-rtr: meshgate --/metrics and /metrics?peers=1--> scrape files
#
# Tools missing from the machine are a SKIP line each (scripts/deps.sh installs
# them); the live dashboard check needs the lab and runs only for meshgate.
. "$(dirname "$0")/lib.sh"
CONFIGS="$LAB_ROOT/configs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

jqq() { jq -e "$@" >/dev/null; }
have() { command -v "$1" >/dev/null || { skip "machine lacks $1 (see scripts/deps.sh)"; return 1; }; }

# ---- example config: meshgate check, with a real key in place of the key file ----------------------
if [ -x "$MESHGATE" ]; then
	(umask 077; wg genkey >"$work/private.key")
	sed "s|^PrivateKeyFile = .*|PrivateKeyFile = $work/private.key|" "$CONFIGS/meshgate.conf" >"$work/meshgate.conf"
	quiet() { "$@" >/dev/null 2>&1; }
	check "meshgate check accepts configs/meshgate.conf" "$MESHGATE" check -c "$work/meshgate.conf"
	sed 's/^Queues = 2/Queues = two/' "$work/meshgate.conf" >"$work/bad.conf"
	check_fails "meshgate check rejects a broken copy of it" quiet "$MESHGATE" check -c "$work/bad.conf"
else
	fail "no meshgate binary at $MESHGATE (run: meson setup build && ninja -C build)"
fi

# ---- systemd unit --------------------------------------------------------------------------------
if have systemd-analyze; then
	# verify wants the ExecStart binaries to exist: point them at the built one.
	sed "s|/usr/bin/meshgate|$MESHGATE|g" "$CONFIGS/systemd/meshgate.service" >"$work/meshgate.service"
	check "systemd-analyze verify meshgate.service" sh -c "systemd-analyze verify '$work/meshgate.service' 2>&1 | tee '$work/verify.log' | grep -q . && exit 1 || exit 0"
	[ -s "$work/verify.log" ] && cat "$work/verify.log"
	unit() { grep -qx "$1" "$CONFIGS/systemd/meshgate.service"; }
	check "unit: Type=notify" unit "Type=notify"
	check "unit: Restart=always" unit "Restart=always"
	check "unit: watchdog" unit "WatchdogSec=10s"
	check "unit: only the AF_XDP capabilities and the switch to User =" unit \
		"CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_BPF CAP_IPC_LOCK CAP_SETUID CAP_SETGID"
	score=$(systemd-analyze security --offline=yes "$work/meshgate.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	check "systemd-analyze security: exposure ${score:-?} <= 3.0" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 3.0) }'
	# sysusers + tmpfiles in a scratch root: the user exists, StateDir is its own, and an ACL
	# entry (not ownership) gives it the shared UAPI directory.
	if have systemd-sysusers && have getfacl; then
		mkdir -p "$work/root/etc/meshgate"; touch "$work/root/etc/meshgate/meshgate.conf"
		systemd-sysusers --root="$work/root" "$CONFIGS/systemd/meshgate.sysusers" >/dev/null 2>&1
		check "sysusers: user meshgate created" grep -q '^meshgate:' "$work/root/etc/passwd"
		# ACL names resolve through the host's NSS, which has no meshgate: nobody stands in.
		sed 's/u:meshgate:/u:nobody:/' "$CONFIGS/systemd/meshgate.tmpfiles" >"$work/meshgate.tmpfiles"
		systemd-tmpfiles --create --root="$work/root" "$work/meshgate.tmpfiles" >/dev/null 2>&1
		muid=$(awk -F: '$1 == "meshgate" { print $3 }' "$work/root/etc/passwd")
		expect_eq "tmpfiles: StateDir 0700 meshgate" "$(stat -c '%a %u' "$work/root/var/lib/meshgate" 2>/dev/null)" "700 $muid"
		expect_eq "tmpfiles: config owned by meshgate, 0600" "$(stat -c '%a %u' "$work/root/etc/meshgate/meshgate.conf")" "600 $muid"
		expect_eq "tmpfiles: /run/wireguard stays root's" "$(stat -c '%u' "$work/root/run/wireguard" 2>/dev/null)" 0
		check "tmpfiles: ACL user:rwx for the user on /run/wireguard, mask rwx" sh -c \
			"getfacl -n '$work/root/run/wireguard' 2>/dev/null | grep -qx 'user:$(id -u nobody):rwx' &&
			 getfacl -n '$work/root/run/wireguard' 2>/dev/null | grep -qx 'mask::rwx'"
	fi
	check "unit: LimitMEMLOCK" unit "LimitMEMLOCK=infinity"
	check "unit: address families include AF_XDP and AF_NETLINK" unit \
		"RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6 AF_XDP"
	sed 's/^Type=notify/Type=notifyy/' "$work/meshgate.service" >"$work/broken.service"
	check "systemd-analyze verify rejects a broken copy" sh -c "systemd-analyze verify '$work/broken.service' 2>&1 | grep -q ."
fi

# ---- NixOS module --------------------------------------------------------------------------------
if have nix-instantiate; then
	nixparse() { NIX_CONFIG="build-users-group =" nix-instantiate --parse "$1" >/dev/null 2>"$work/nix.err"; }
	check "nix-instantiate --parse configs/nixos/meshgate.nix" nixparse "$CONFIGS/nixos/meshgate.nix"
	[ -s "$work/nix.err" ] && grep -v "build-users-group" "$work/nix.err"
	sed '$d' "$CONFIGS/nixos/meshgate.nix" >"$work/broken.nix"   # unbalanced braces
	check_fails "nix-instantiate rejects a broken copy" nixparse "$work/broken.nix"
	for o in enable package loginServer authKeyFile advertiseRoutes exitNode acceptRoutes interface queues \
		listenAddress openFirewall extraSettings user; do
		check "module option $o" grep -qE "^ *$o = mk(Option|EnableOption)" "$CONFIGS/nixos/meshgate.nix"
	done
	check "module sets IP forwarding" grep -q 'net.ipv4.conf.all.forwarding' "$CONFIGS/nixos/meshgate.nix"

	# Evaluated (tests/nixos/eval.nix stands in for nixpkgs' lib): the meshgate.conf it writes
	# passes `meshgate check`, and the unit matches the shipped one's privileges.
	nixeval() {
		NIX_CONFIG="build-users-group =" nix-instantiate --eval --strict --json \
			"$LAB_ROOT/tests/nixos/eval.nix" --arg settings "{ enable = true; interface = \"eth0\"; $1 }" 2>"$work/nix.err"
	}
	ev=$(nixeval 'advertiseRoutes = [ "192.168.8.0/24" "192.168.20.0/24" ]; exitNode = true;')
	check "module evaluates" jqq .conf <<<"$ev"
	jq -r .conf <<<"$ev" | sed -e "s|^PrivateKeyFile = .*|PrivateKeyFile = $work/private.key|" \
		-e "s|^StateDir = .*|StateDir = $work|" >"$work/nix.conf"
	if [ -x "$MESHGATE" ]; then
		check "meshgate check accepts the module's meshgate.conf" "$MESHGATE" check -c "$work/nix.conf"
	fi
	check "module's config: User = meshgate" grep -qx "User = meshgate" "$work/nix.conf"
	check "module's config: both routes" grep -qx "AdvertiseRoutes = 192.168.8.0/24, 192.168.20.0/24" "$work/nix.conf"
	unitcaps=$(sed -n 's/^CapabilityBoundingSet=//p' "$CONFIGS/systemd/meshgate.service" | tr ' ' '\n' | sort | xargs)
	expect_eq "module's bounding set = the shipped unit's" "$(jq -r '.unit.CapabilityBoundingSet[]' <<<"$ev" | sort | xargs)" "$unitcaps"
	expect_eq "no ambient capabilities (meshgate drops them itself)" "$(jq -r '.unit.AmbientCapabilities // "none"' <<<"$ev")" none
	expect_eq "module creates the meshgate system user" "$(jq -r '.users.meshgate.isSystemUser' <<<"$ev")" true
	check "tmpfiles: StateDir owned by the user" jqq '.tmpfiles | index("d /var/lib/meshgate 0700 meshgate meshgate -")' <<<"$ev"
	check "tmpfiles: the UAPI directory's ACL entry" jqq '.tmpfiles | map(test("^a\\+ /run/wireguard .*u:meshgate:rwx")) | any' <<<"$ev"
	check "key is made outside the sandbox (+ExecStartPre)" jqq '.unit.ExecStartPre[0] | startswith("+")' <<<"$ev"
	ev=$(nixeval 'user = null;')
	expect_eq "user = null: no User line" "$(jq -r .conf <<<"$ev" | grep -c '^User')" 0
	expect_eq "user = null: no SETUID/SETGID" "$(jq -r '.unit.CapabilityBoundingSet | map(select(test("SET"))) | length' <<<"$ev")" 0
	expect_eq "user = null: no user created" "$(jq -r '.users // {} | length' <<<"$ev")" 0
fi

# ---- Prometheus example and rules ------------------------------------------------------------------
if have promtool; then
	quiet() { "$@" >/dev/null 2>&1; }
	check "promtool check config configs/prometheus/prometheus.yml" quiet promtool check config "$CONFIGS/prometheus/prometheus.yml"
	check "promtool check rules configs/prometheus/meshgate-rules.yml" quiet promtool check rules "$CONFIGS/prometheus/meshgate-rules.yml"
	for a in MeshgateDown MeshgatePeersRelayOnly MeshgateDropsRising MeshgateNoMapUpdate; do
		check "alert $a exists" grep -q "alert: $a\$" "$CONFIGS/prometheus/meshgate-rules.yml"
	done
fi

# ---- Grafana dashboard ---------------------------------------------------------------------------
dash="$CONFIGS/grafana/meshgate-dashboard.json"
have jq || { t_end; }
check "dashboard JSON parses" jqq . "$dash"
check "dashboard has a Prometheus datasource variable" jqq \
	'.templating.list | any(.type == "datasource" and .query == "prometheus")' "$dash"
for r in "Overview" "Traffic by path" "Drops by reason" "Crypto & handshakes" "AF_XDP saturation" "Control plane"; do
	check "dashboard row '$r'" jqq --arg r "$r" '.panels | any(.type == "row" and .title == $r)' "$dash"
done
check "every panel query uses the datasource variable" jqq \
	'[.. | objects | select(has("expr")) | .datasource.uid] | all(. == "${datasource}")' "$dash"

# The live part: what a running meshgate exports.
if ! meshgate_only; then skip "live dashboard check (wireguard-go has no /metrics)"; t_end; fi
t_require_machine
trap 'rm -rf "$work"; t_cleanup; exit $?' EXIT
lab_up || { fail "lab setup"; exit 1; }
t_start_router_or_die
check "laptop -> host ping" ping_ok lap $HOST4
rtr curl -sf --max-time 3 "http://$METRICS_ADDR/metrics" >"$work/scrape.txt"
rtr curl -sf --max-time 3 "http://$METRICS_ADDR/metrics?peers=1" >"$work/scrape-peers.txt"
check "dashboard queries only exported metrics (live scrape)" \
	"$CONFIGS/grafana/check-dashboard.sh" "$dash" "$work/scrape.txt" "$work/scrape-peers.txt"
# The checker itself must catch a name meshgate does not export.
jq '(.panels[] | select(.type == "timeseries") | .targets[0].expr) |= "rate(meshgate_no_such_metric_total[5m])"' \
	"$dash" >"$work/bad.json"
check_fails "the checker catches a query of an unexported metric" \
	sh -c "'$CONFIGS/grafana/check-dashboard.sh' '$work/bad.json' '$work/scrape.txt' >/dev/null"
t_end
