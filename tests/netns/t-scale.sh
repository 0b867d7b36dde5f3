#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Config-API scale (the kernel selftest's netns.sh numbers): through stock `wg addconf` on
# meshgate's UAPI socket, one peer with 130,560 allowed IPs (65,280 IPv4 /32 + 65,280 IPv6 /128)
# and 40 peers with 52 each (26 + 26); `wg show allowed-ips` lists back exactly those sets
# (sorted and compared), and the laptop's traffic still flows. Low-order public keys never send:
# a peer whose key is a low-order point gets no handshake initiation at its endpoint, while a
# peer with an ordinary key does (the same listener sees it: the check can fail). A peer with
# our own public key is accepted and ignored.
#
#   mg-lap ==wg==> [gw] ==> mg-rtr meshgate  <== wg addconf (130,560 + 40 x 52 allowed IPs)
#                                |  initiations to 192.168.8.80:5555 / :5556 ?
#                              mg-host 192.168.8.80 (tcpdump on udp 5555-5556; pings 10.250/10.251)
#
. "$(dirname "$0")/lib.sh"

meshgate_only || { echo "SKIP: t-scale: meshgate only"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: t-scale: machine lacks python3"; exit 77; }
t_begin
t_start_router_or_die
W=$MG_LAB_DIR/scale
rm -rf "$W"; mkdir -p "$W"

# ---- low-order keys never send; an ordinary key does (the control) --------------------------------
# Points of small order on Curve25519 (RFC 7748 section 7's list): 0 and 1.
LOW0=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
LOW1=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
CTRL=$(wg genkey | wg pubkey)
host ip route add 10.250.0.0/16 via $RTR_LAN4
host ip route add 10.251.0.0/24 via $RTR_LAN4
capture_start host 20 "$W/tcpdump" -n -l -i eth0 'udp and (dst port 5555 or dst port 5556)' || fail "$CAPTURE_ERR"
tdpid=$CAPTURE_PID
check "wg set: low-order peer (key 0) accepted" wg set $RIF peer $LOW0 endpoint $HOST4:5555 allowed-ips 10.250.0.0/24
check "wg set: low-order peer (key 1) accepted" wg set $RIF peer $LOW1 endpoint $HOST4:5555 allowed-ips 10.250.1.0/24
check "wg set: ordinary peer accepted" wg set $RIF peer $CTRL endpoint $HOST4:5556 allowed-ips 10.251.0.0/24
for i in 1 2 3; do
	host ping -n -c 1 -W 1 10.250.0.1 >/dev/null 2>&1
	host ping -n -c 1 -W 1 10.250.1.1 >/dev/null 2>&1
	host ping -n -c 1 -W 1 10.251.0.1 >/dev/null 2>&1
done
sleep 2
kill $tdpid 2>/dev/null; wait $tdpid 2>/dev/null
n_low=$(grep -c '\.5555: UDP' "$W/tcpdump"); n_ctrl=$(grep -c '\.5556: UDP' "$W/tcpdump")
check "ordinary peer: an initiation reached its endpoint (got $n_ctrl)" test "$n_ctrl" -ge 1
expect_eq "low-order peers: nothing ever sent to their endpoint" "$n_low" 0
check "meshgate still running" kill -0 "$MG_PID"

# ---- our own public key as a peer: accepted, ignored ---------------------------------------------
OWN=$(wg pubkey <"$MG_LAB_DIR/rtr.key")
check "wg set: a peer with our own public key is accepted" wg set $RIF peer "$OWN" allowed-ips 10.252.0.0/24
check_fails "... and not listed" sh -c "wg show $RIF peers | grep -qx '$OWN'"
check_fails "... and gets no route" sh -c "ip -n mg-rtr route show 10.252.0.0/24 | grep -q ."
expect_eq "peers: the laptop and the three above" "$(wg show $RIF peers | wc -l)" 4

# ---- scale -----------------------------------------------------------------------------------

# The config file and the expected sets, in wg's own text form (python's ipaddress compresses
# IPv6 as wg prints it).
python3 - "$W" <<'EOF'
import ipaddress, subprocess, sys
w = sys.argv[1]
def key():
    k = subprocess.run(["wg", "genkey"], capture_output=True, text=True).stdout
    return subprocess.run(["wg", "pubkey"], input=k, capture_output=True, text=True).stdout.strip()
big = ["10.%d.%d.%d/32" % (i // 65536, (i // 256) % 256, i % 256) for i in range(65280)]
big += ["%s/128" % ipaddress.IPv6Address(int(ipaddress.IPv6Address("fd00:1::")) + i) for i in range(65280)]
peers = [(key(), big)]
for p in range(40):
    ips = ["172.16.%d.%d/32" % (p, i) for i in range(26)]
    ips += ["%s/128" % ipaddress.IPv6Address(int(ipaddress.IPv6Address("fd00:2:%x::" % p)) + i) for i in range(26)]
    peers.append((key(), ips))
with open(w + "/add.conf", "w") as f:
    for k, ips in peers:
        f.write("[Peer]\nPublicKey = %s\nAllowedIPs = %s\n\n" % (k, ", ".join(ips)))
for n, (k, ips) in enumerate(peers):
    with open("%s/want.%d" % (w, n), "w") as f:
        f.write("\n".join(sorted(ips)) + "\n")
    with open("%s/key.%d" % (w, n), "w") as f:
        f.write(k + "\n")
EOF
[ -s "$W/add.conf" ] || { fail "generating the peers"; exit 1; }

t0=$(date +%s.%N)
check "wg addconf: 1 peer x 130,560 + 40 peers x 52 allowed IPs" wg addconf $RIF "$W/add.conf"
t1=$(date +%s.%N)
# Generous: the kernel and wireguard-go answer this in about a second.
timeout 90 wg show $RIF allowed-ips >"$W/got" 2>&1
st=$?
t2=$(date +%s.%N)
check "wg show allowed-ips answers within 90 s" test $st = 0
awk -v a=$t0 -v b=$t1 -v c=$t2 'BEGIN { printf "# wg addconf took %.1f s, wg show allowed-ips %.1f s\n", b - a, c - b }'

# got_set N: the sorted allowed IPs `wg show` lists for peer N.
got_set() {
	awk -v k="$(cat "$W/key.$1")" '$1 == k { for (i = 2; i <= NF; i++) print $i }' "$W/got" | sort
}
expect_eq "peer 0 lists back exactly its 130,560 allowed IPs" \
	"$(got_set 0 | sha256sum | cut -d' ' -f1)/$(got_set 0 | wc -l)" \
	"$(sha256sum <"$W/want.0" | cut -d' ' -f1)/130560"
bad=0
for n in $(seq 40); do
	[ "$(got_set $n)" = "$(cat "$W/want.$n")" ] || { bad=$((bad + 1)); echo "# peer $n differs"; }
done
expect_eq "40 peers list back exactly their 52 allowed IPs each" $bad 0
expect_eq "45 peers in all (laptop, the three above, 41)" "$(timeout 30 wg show $RIF peers | wc -l)" 45
check "laptop -> host ping still flows" ping_ok lap $HOST4
check "laptop -> host IPv6 ping still flows" ping_ok lap $HOST6
expect_eq "laptop's own allowed IPs untouched" \
	"$(timeout 30 wg show $RIF allowed-ips | awk -v k="$(lab_lap_pub)" '$1 == k { $1 = ""; print }' | xargs)" \
	"$LAP_TS4/32 $LAP_TS6/128"

# ---- and back: removing the big peer returns its memory and routes -------------------------------
check "wg set remove: the 130,560-IP peer" timeout 60 wg set $RIF peer "$(cat "$W/key.0")" remove
expect_eq "its allowed IPs are gone" "$(timeout 60 wg show $RIF allowed-ips | grep -c "$(cat "$W/key.0")")" 0
check "laptop -> host ping after the removal" ping_ok lap $HOST4
rm -rf "$W"
t_end
