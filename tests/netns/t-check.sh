#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `meshgate check -c FILE` on bad configs: a non-zero exit (not a crash) and
# a message that names FILE:LINE of the fault; a good config passes.
# No namespaces: the config parser alone.
#
#   bad-N.conf --> meshgate check --> "bad-N.conf:LINE: ..." , exit 1..127
#
. "$(dirname "$0")/lib.sh"
if ! meshgate_only; then skip "meshgate check (wireguard-go has no config checker)"; exit 0; fi
[ -x "$MESHGATE" ] || { fail "no meshgate binary at $MESHGATE (run: meson setup build && ninja -C build)"; exit 1; }
command -v wg >/dev/null || { skip "machine lacks wg (key generation)"; exit 77; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
K1=$(wg genkey) P2=$(wg genkey | wg pubkey)

# Each case: NAME, the line expected in the message, then the file.
cases=(
"bad-port" 3 "[Interface]
PrivateKey = $K1
ListenPort = notaport"
"bad-key-base64" 2 "[Interface]
PrivateKey = not*base64*at*all
ListenPort = 41641"
"short-public-key" 6 "[Interface]
PrivateKey = $K1
ListenPort = 41641

[Peer]
PublicKey = $(head -c 31 /dev/zero | base64)
AllowedIPs = 100.64.0.2/32"
"unknown-key" 4 "[Interface]
PrivateKey = $K1
ListenPort = 41641
Frobnicate = yes"
"unknown-section" 5 "[Interface]
PrivateKey = $K1
ListenPort = 41641

[Bogus]
Key = value"
"no-equals" 3 "[Interface]
PrivateKey = $K1
ListenPort 41641"
"bad-prefix" 8 "[Interface]
PrivateKey = $K1
ListenPort = 41641
Address = 100.64.0.5/32

[Peer]
PublicKey = $P2
AllowedIPs = 100.64.0.2/33"
"bad-endpoint" 7 "[Interface]
PrivateKey = $K1
ListenPort = 41641

[Peer]
PublicKey = $P2
Endpoint = 198.51.100.2
AllowedIPs = 100.64.0.2/32"
"bad-address" 3 "[Interface]
PrivateKey = $K1
Address = 100.64.0.300/32
ListenPort = 41641"
)

for ((i = 0; i < ${#cases[@]}; i += 3)); do
	name=${cases[i]} line=${cases[i + 1]} f="$dir/${cases[i]}.conf"
	printf '%s\n' "${cases[i + 2]}" >"$f"
	out=$("$MESHGATE" check -c "$f" 2>&1); rc=$?
	check "$name: exit status 1..127 (got $rc)" test $rc -ge 1 -a $rc -le 127
	if grep -qF "$f:$line:" <<<"$out"; then pass "$name: message names $name.conf:$line"
	else fail "$name: message names $name.conf:$line (got: $(head -n 2 <<<"$out"))"; fi
done

# The lab's own router config is valid.
MG_LAB_DIR=$dir lab_keys && MG_LAB_DIR=$dir lab_write_meshgate_conf --endpoint --rekey 8
out=$("$MESHGATE" check -c "$dir/meshgate.conf" 2>&1); rc=$?
expect_eq "the lab's config passes check${out:+ ($out)}" "$rc" 0
"$MESHGATE" check -c "$dir/does-not-exist.conf" >/dev/null 2>&1; rc=$?
check "a missing file fails (got $rc)" test $rc -ge 1 -a $rc -le 127
t_end
