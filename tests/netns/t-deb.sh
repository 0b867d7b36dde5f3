#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The Debian package as a user meets it: `dpkg-buildpackage -b -us -uc` builds it (lintian: no
# errors), dpkg installs it on this machine, the installed example passes `meshgate check`, the
# installed unit passes `systemd-analyze verify`, the installed binary and XDP object route the
# lab's traffic as the packaged user (User = meshgate, the tmpfiles ACL on /run/wireguard), and
# `dpkg --purge` leaves nothing behind: no file, user, group, state directory, unit state or ACL.
#
#   source tree --dpkg-buildpackage--> meshgate_*.deb --dpkg -i--> /usr/bin/meshgate, unit, ...
#   mg-lap ==wg==> [gw] ==> mg-rtr: /usr/bin/meshgate -c /etc/meshgate/meshgate.conf --> mg-host
#   dpkg --purge --> the machine as before
#
# The package is built once per source content and cached in $MG_DEB_CACHE (default
# /tmp/mg-deb-cache), keyed by the SHA-256 of the tree's files; MG_DEB=FILE tests a given .deb.
. "$(dirname "$0")/lib.sh"

meshgate_only || { echo "SKIP: $T_NAME: tests meshgate's package"; exit 77; }
t_require_machine
for c in dpkg-buildpackage dh go-md2man setfacl getfacl; do
	command -v $c >/dev/null || { echo "SKIP: $T_NAME: machine lacks $c (see scripts/deps.sh)"; exit 77; }
done
if dpkg-query -W -f '${Status}' meshgate 2>/dev/null | grep -q installed; then
	fail "a meshgate package is already installed; this test would replace it (dpkg --purge meshgate)"
	exit 1
fi
getent passwd meshgate >/dev/null && { fail "user meshgate exists before the install"; exit 1; }

MG_DEB_CACHE=${MG_DEB_CACHE:-/tmp/mg-deb-cache}
SRC=$LAB_ROOT
INSTALLED=0
FILES=$(mktemp)

deb_cleanup() {
	[ $INSTALLED = 1 ] && dpkg --purge meshgate >/dev/null 2>&1
	rm -f "$FILES" "${EXISTED:-}"
}
trap 'deb_cleanup; t_cleanup; exit $?' EXIT
trap 'exit 1' INT TERM

# deb_sources: the files of the tree a package build reads (git's view when there is one).
deb_sources() {
	if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$SRC" ls-files -co --exclude-standard
	else
		(cd "$SRC" && find . -path ./.git -prune -o -path './build*' -prune -o -path './obj-*' -prune \
			-o -type f -print | sed 's|^\./||')
	fi | grep -v '^debian/meshgate/' | LC_ALL=C sort
}

# deb_build: prints the path of the .deb for this tree, building it if the cache lacks it. The
# build tree is removed afterwards, so the installed binary cannot fall back to its XDP object.
deb_build() {
	local key dir work
	key=$(cd "$SRC" && deb_sources | tar --mtime=@0 --owner=0 --group=0 --numeric-owner \
		-cf - -T - | sha256sum | cut -c1-16)
	dir=$MG_DEB_CACHE/$key
	if ! ls "$dir"/meshgate_*_amd64.deb >/dev/null 2>&1; then
		work=$dir/work
		rm -rf "$dir"; mkdir -p "$work/meshgate"
		(cd "$SRC" && deb_sources | tar -cf - -T -) | tar -xf - -C "$work/meshgate" || return 1
		(cd "$work/meshgate" && dpkg-buildpackage -b -us -uc -j"$(nproc)") >"$dir/build.log" 2>&1 ||
			{ tail -n 20 "$dir/build.log" | sed 's/^/# /' >&2; return 1; }
		mv "$work"/*.deb "$dir"/ && rm -rf "$work" || return 1
		# Keep the three newest builds.
		ls -1dt "$MG_DEB_CACHE"/*/ | tail -n +4 | xargs -r rm -rf
	fi
	ls "$dir"/meshgate_*_amd64.deb
}

if [ -n "${MG_DEB:-}" ]; then
	DEB=$MG_DEB
else
	start=$SECONDS
	DEB=$(deb_build) || { fail "dpkg-buildpackage -b -us -uc"; exit 1; }
	pass "dpkg-buildpackage -b -us -uc built $(basename "$DEB") ($((SECONDS - start)) s, cached in $(dirname "$DEB"))"
fi

# lintian: errors fail the test; warnings are listed.
if command -v lintian >/dev/null; then
	lint=$(lintian --pedantic "$DEB" 2>/dev/null)
	echo "$lint" | grep -E '^[EWIPO]:' | sed 's/^/# lintian: /'
	expect_eq "lintian: no errors" "$(echo "$lint" | grep -c '^E:')" 0
else
	skip "lintian: machine lacks lintian (see scripts/deps.sh)"
fi

# The state before: what purge must restore. EXISTED: the package's paths already there
# (shared directories such as /usr/bin).
EXISTED=$(mktemp)
dpkg-deb --fsys-tarfile "$DEB" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' | grep -v '^/*$' |
	while read -r f; do [ -e "$f" ] && echo "$f"; done >"$EXISTED"
acl_before=$(getfacl -cn /run/wireguard 2>/dev/null)
run_wg_before=$([ -d /run/wireguard ] && echo dir || echo none)

check "dpkg -i $(basename "$DEB")" sh -c "dpkg -i '$DEB' >/dev/null"
INSTALLED=1
dpkg -L meshgate | grep -vx "/." >"$FILES"
for f in /usr/bin/meshgate /lib/systemd/system/meshgate.service /usr/lib/sysusers.d/meshgate.conf \
	/usr/lib/tmpfiles.d/meshgate.conf /usr/share/bash-completion/completions/meshgate \
	/usr/share/man/man8/meshgate.8.gz /usr/share/man/man5/meshgate.conf.5.gz; do
	grep -qx "$f" "$FILES" || fail "package lacks $f"
done
obj=$(grep '/meshgate/xdp_steer.bpf.o$' "$FILES")
check "package ships the XDP object ($obj), with BTF" sh -c "[ -s '$obj' ] && readelf -S '$obj' | grep -q '\.BTF'"
check "/etc/meshgate/meshgate.conf is a conffile" sh -c \
	"dpkg-query -W -f '\${Conffiles}' meshgate | grep -q '/etc/meshgate/meshgate.conf'"
check "postinst created the system user meshgate" sh -c \
	'[ "$(getent passwd meshgate | cut -d: -f6)" = /var/lib/meshgate ] && [ "$(id -u meshgate)" -lt 1000 ]'
expect_eq "/var/lib/meshgate: 0700 meshgate (tmpfiles)" "$(stat -c '%a %U' /var/lib/meshgate 2>&1)" "700 meshgate"
expect_eq "/etc/meshgate/meshgate.conf: 0600 meshgate (tmpfiles)" \
	"$(stat -c '%a %U' /etc/meshgate/meshgate.conf 2>&1)" "600 meshgate"
check "/run/wireguard carries the user's ACL entry (tmpfiles)" sh -c \
	'getfacl -c /run/wireguard 2>/dev/null | grep -qx "user:meshgate:rwx"'
check "unit installed disabled (no enablement symlink)" sh -c \
	'! ls /etc/systemd/system/*.wants/meshgate.service >/dev/null 2>&1'
check "man meshgate renders" sh -c 'man -P cat meshgate 2>/dev/null | grep -q "meshgate doctor"'
check "man meshgate.conf renders" sh -c 'man -P cat 5 meshgate.conf 2>/dev/null | grep -q AdvertiseRoutes'
check "bash completion offers doctor after 'meshgate d'" bash -c \
	'. /usr/share/bash-completion/completions/meshgate; COMP_WORDS=(meshgate d); COMP_CWORD=1; _meshgate
	 [ "${COMPREPLY[*]}" = doctor ]'

out=$(/usr/bin/meshgate check -c /etc/meshgate/meshgate.conf 2>&1)
expect_eq "meshgate check on the installed example" "$out" "/etc/meshgate/meshgate.conf: ok"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify /lib/systemd/system/meshgate.service 2>&1)
	if [ $? = 0 ] && [ -z "$out" ]; then pass "systemd-analyze verify meshgate.service: clean"
	else fail "systemd-analyze verify meshgate.service: $out"; fi
else
	skip "systemd-analyze verify: machine lacks systemd-analyze"
fi

# The installed files in the lab: the unit's way (as root, then User = meshgate, no libxdp
# dispatcher) but not through systemd, which need not be PID 1 here.
lab_up || { fail "lab setup"; exit 1; }
MESHGATE=/usr/bin/meshgate
lab_write_meshgate_conf || { fail "lab config"; exit 1; }
sed "s/^Name = .*/&\nUser = meshgate/" "$MG_LAB_DIR/meshgate.conf" >/etc/meshgate/meshgate.conf
ip netns exec mg-rtr env LIBXDP_SKIP_DISPATCHER=1 /usr/bin/meshgate doctor >"$MG_LAB_DIR/doctor.txt" 2>&1
expect_eq "installed meshgate doctor on /etc/meshgate/meshgate.conf (the default): no FAIL" "$?" 0
grep -E '^(WARN|FAIL)' "$MG_LAB_DIR/doctor.txt" | sed 's/^/# doctor: /'
rm -f "$WG_SOCK_DIR/$MG_IF.sock"
ip netns exec mg-rtr sh -c 'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' rtr \
	env LIBXDP_SKIP_DISPATCHER=1 /usr/bin/meshgate run -c /etc/meshgate/meshgate.conf \
	>"$MG_LAB_DIR/meshgate.log" 2>&1 &
MG_PID=$!
echo $MG_PID >"$MG_LAB_DIR/meshgate.pid"
if wait_for 10 test -S "$WG_SOCK_DIR/$MG_IF.sock"; then
	T_ROUTER_UP=1
	pass "installed meshgate started from /etc/meshgate/meshgate.conf"
	check "laptop -> home host ($HOST4) through the installed meshgate" ping_ok lap $HOST4
	check "an XDP program is attached to the router's eth0" lab_rtr_has_xdp
	expect_eq "meshgate runs as the packaged user" \
		"$(ps -o user= -p "$MG_PID" 2>/dev/null | tr -d ' ')" meshgate
	wg set $MG_IF peer "$(lab_lap_pub)" persistent-keepalive 25
	expect_eq "wg set through the UAPI socket in /run/wireguard" \
		"$(wg show $MG_IF persistent-keepalive | awk '{ print $2 }')" 25
else
	fail "installed meshgate did not come up"; tail -n 20 "$MG_LAB_DIR/meshgate.log" | sed 's/^/# log: /'
fi
t_router_stop
lab_down

check "dpkg --purge meshgate" sh -c "dpkg --purge meshgate >/dev/null"
INSTALLED=0
left=$(while read -r f; do [ -e "$f" ] || [ -L "$f" ] && echo "$f"; done <"$FILES" |
	grep -vxF -f "$EXISTED" | tr '\n' ' ')
expect_eq "purge: no packaged file left" "$left" ""
check_fails "purge: user meshgate removed" getent passwd meshgate
check_fails "purge: group meshgate removed" getent group meshgate
check_fails "purge: /var/lib/meshgate removed" test -e /var/lib/meshgate
check_fails "purge: /etc/meshgate removed" test -e /etc/meshgate
check_fails "purge: no unit state (enablement links, deb-systemd-helper)" sh -c \
	'ls /etc/systemd/system/*/meshgate.service /var/lib/systemd/deb-systemd-helper-enabled/meshgate.service* \
		/var/lib/systemd/deb-systemd-helper-masked/meshgate.service 2>/dev/null | grep -q .'
if [ "$run_wg_before" = dir ]; then
	expect_eq "purge: /run/wireguard's ACL as before the install" "$(getfacl -cn /run/wireguard 2>/dev/null)" "$acl_before"
else
	# Shared with other UAPI daemons, so it stays (tmpfs), but without the package's ACL.
	check_fails "purge: no extended ACL left on /run/wireguard" sh -c \
		'getfacl -cn /run/wireguard 2>/dev/null | grep -q -e "^user:[0-9]" -e "^mask:"'
fi
t_end
