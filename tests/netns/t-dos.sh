#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Denial of service: a flood of mac1-valid handshake initiations from many sources puts
# the router under load; it answers them with 64-byte cookie replies, the real laptop still
# completes its handshake (wireguard-go handles cookies) and its pings keep flowing, and a
# sender that holds a cookie gets at most 20 handshakes a second (burst 5) per source: per IPv4
# address (two addresses, two allowances), per IPv6 /64 (two addresses in one /64 share one).
# Replays: a captured initiation re-sent gets no answer; a captured data message re-sent from
# another address is dropped and does not move the laptop's endpoint.
#
#   mg-lap  eth0 198.51.100.2   wireguard-go mglap :51820 ==ping==> mg-host
#           eth0 198.51.100.10-.73  forge flood (64 addresses x 4 ports, garbage + valid mac1)
#           eth0 198.51.100.200-.201  forge valid (a real peer of the router, with cookies)
#           eth0 2001:db8:100::a:1-2  forge valid over IPv6 (one /64)
#           eth0 198.51.100.201     forge replay
#     |
#   mg-gw  wan0 198.51.100.1:41641, [2001:db8:100::1]:41641 [tcpdump: cookie replies]
#     |    --DNAT--> mg-rtr meshgate 192.168.8.105, fd00:8::105
#
. "$(dirname "$0")/lib.sh"
FORGE=${FORGE:-$LAB_ROOT/build/tests/dos/forge}
FLOOD_RATE=${FLOOD_RATE:-40000}	# initiations/s: far more than one control thread's X25519 rate
FLOOD_SRC=198.51.100.10 FLOOD_N=64 VALID_SRC=198.51.100.200 REPLAY_SRC=198.51.100.201
VALID6_SRC=2001:db8:100::a:1	# and ::a:2, the same /64
RL_RATE=20 RL_BURST=5		# WireGuard's limiter: packets per second and burst per source
# The most one limiter's source can get from 4 s of sending. The limiter counts by the router's
# clock when control takes an initiation off the punt queue, not when forge sent it: under the
# flood that queue delays some initiations more than others, and the two senders of a pair start
# a few milliseconds apart, so 4 s of sends reach the limiter over a little more than 4 s. Half
# a second more allows for both (seen: 86 responses to a pair sharing one limit, where exactly 4 s
# would allow 85); one limit per source would give a pair about twice as many.
RL_MAX4=$((RL_BURST + RL_RATE * 45 / 10))

t_begin
[ -x "$FORGE" ] || { fail "no forge binary at $FORGE (tests/dos is built with the tree)"; exit 1; }
t_start_router_or_die
RPUB=$(lab_rtr_pub)
TO=$GW_WAN4:$WG_PORT
for i in $(seq 0 $((FLOOD_N - 1))); do
	ip -n mg-lap addr add 198.51.100.$((10 + i))/32 dev eth0 || fail "add flood address .$((10 + i))"
done
ip -n mg-lap addr add $VALID_SRC/32 dev eth0 && ip -n mg-lap addr add $REPLAY_SRC/32 dev eth0 &&
ip -n mg-lap addr add $VALID6_SRC/128 dev eth0 nodad && ip -n mg-lap addr add ${VALID6_SRC%1}2/128 dev eth0 nodad ||
	fail "add forger addresses"

# forge_field OUTPUT NAME: one count from forge's summary line.
forge_field() { sed -n "s/.*\b$2=\([0-9]*\).*/\1/p" <<<"$1"; }
hs_metric() { lab_metric meshgate_handshakes_total "message=\"$1\"" "direction=\"$2\""; }
quiet() { "$@" >/dev/null 2>&1; }
under_load() { [ "$(lab_metric meshgate_under_load)" = 1 ]; }

# ---- capture the laptop's fresh initiation and a data message -----------------------------------
cap="$MG_LAB_DIR/dos.pcap"
capture_start lap 15 "$cap.txt" -i eth0 -n -U -c 3 -w "$cap" \
	"udp dst port $WG_PORT and (udp[8] = 1 or (udp[8] = 4 and greater 100))" || fail "$CAPTURE_ERR"
lab_reset_laptop_session
check "ping laptop -> host (fresh handshake)" ping_ok lap $HOST4
wait $CAPTURE_PID
check "captured the laptop's initiation and a data message" test -s "$cap"
hs_before=$(wg_field $RIF latest-handshakes)

# ---- replays, with the router not under load ------------------------------------------------------
out=$(lap "$FORGE" replay --pcap "$cap" --type 1 --to $TO --from $REPLAY_SRC --wait 2)
expect_eq "replayed initiation gets no answer" \
	"$(($(forge_field "$out" response) + $(forge_field "$out" cookie) + $(forge_field "$out" other)))" 0
expect_eq "replayed initiation started no handshake" "$(wg_field $RIF latest-handshakes)" "$hs_before"
meshgate_only && d_replay=$(drops replay)
out=$(lap "$FORGE" replay --pcap "$cap" --type 4 --to $TO --from $REPLAY_SRC --wait 1)
expect_eq "replayed data message from another address: endpoint unchanged" \
	"$(wg_field $RIF endpoints)" "$LAP_WAN4:$LAP_PORT"
if meshgate_only; then
	expect_eq "replayed data message counted as reason=\"replay\"" $(($(drops replay) - d_replay)) 1
fi

# ---- a real peer of the router, for the per-source rate limit -------------------------------------
# Two peers: one per source in the pair tests below, or the peer's own flood guard (one consumed
# initiation per 20 ms) would eat the tokens of whichever source comes second.
for k in forge forge2; do
	(umask 077; wg genkey >"$MG_LAB_DIR/$k.key")
done
wg set $RIF peer "$(wg pubkey <"$MG_LAB_DIR/forge.key")" allowed-ips 100.64.0.99/32 \
	peer "$(wg pubkey <"$MG_LAB_DIR/forge2.key")" allowed-ips 100.64.0.98/32 ||
	fail "add the forgers' keys as peers"
# valid [--to A --from B] [--key K] [forge options]: genuine initiations of the peer whose key
# is $MG_LAB_DIR/K.key (default forge), from VALID_SRC by default.
valid() {
	local to=$TO from=$VALID_SRC key=forge
	[ "${1:-}" = --to ] && { to=$2 from=$4; shift 4; }
	[ "${1:-}" = --key ] && { key=$2; shift 2; }
	lap "$FORGE" valid --pub "$RPUB" --key "$MG_LAB_DIR/$key.key" --to "$to" --from "$from" "$@"
}
# pair TO FROM1 FROM2: two peers at 100 initiations/s each for 4 s, concurrently; prints the
# sum of the responses they got.
pair() {
	valid --to "$1" --from "$2" --key forge --rate 100 --seconds 4 >"$MG_LAB_DIR/pair1.txt" &
	valid --to "$1" --from "$3" --key forge2 --rate 100 --seconds 4 >"$MG_LAB_DIR/pair2.txt"
	wait $!
	echo $(($(forge_field "$(cat "$MG_LAB_DIR/pair1.txt")" response) + \
		$(forge_field "$(cat "$MG_LAB_DIR/pair2.txt")" response)))
}
out=$(valid --rate 100 --seconds 2)
free_resp=$(forge_field "$out" response)
check "not under load: 100 genuine initiations/s get more than the limit ($free_resp in 2 s > $((2 * RL_RATE + RL_BURST)))" \
	test "${free_resp:-0}" -gt $((2 * RL_RATE + RL_BURST))

# ---- a peer whose clock went back (a router without an RTC before NTP) ------------------
# Its initiations carry timestamps older than the last one accepted: refused like replays, as the
# kernel does, counted as reason="replay" and named in the log; it connects again once its clock
# passes the old time.
hs_drops() { lab_metric meshgate_handshake_dropped_total "reason=\"$1\""; }
out=$(valid --key forge2 --rate 10 --seconds 0.3)
check "clock: the peer handshakes with its clock right ($(forge_field "$out" response) responses)" \
	test "$(forge_field "$out" response)" -ge 1
if meshgate_only; then replay0=$(hs_drops replay); fi
out=$(valid --key forge2 --rate 10 --seconds 0.5 --clock-offset -3600)
expect_eq "clock: an hour back, no response" "$(forge_field "$out" response)" 0
if meshgate_only; then
	sent=$(forge_field "$out" sent)
	expect_eq "clock: each refused initiation counted as reason=\"replay\"" $(($(hs_drops replay) - replay0)) "$sent"
	f2=$(wg pubkey <"$MG_LAB_DIR/forge2.key")
	check "clock: the log names the peer and the cause" \
		grep -q "peer ${f2:0:8}: initiation refused, its timestamp is not newer .*clock went back" "$MG_LAB_DIR/meshgate.log"
	expect_eq "clock: logged once, not per initiation" \
		"$(grep -c "peer ${f2:0:8}: initiation refused" "$MG_LAB_DIR/meshgate.log")" 1
fi
out=$(valid --key forge2 --rate 10 --seconds 0.3)
check "clock: set right again, it handshakes ($(forge_field "$out" response) responses)" \
	test "$(forge_field "$out" response)" -ge 1

# ---- the flood ------------------------------------------------------------------------------------
if meshgate_only; then
	cookies_before=$(hs_metric cookie tx)
	rx_before=$(hs_metric initiation rx)
fi
# A simple command (ip execs forge), so $! is forge's pid and SIGTERM makes it print its counts.
ip netns exec mg-lap "$FORGE" flood --pub "$RPUB" --to $TO --from $FLOOD_SRC --count $FLOOD_N \
	--ports 4 --rate $FLOOD_RATE --seconds 60 >"$MG_LAB_DIR/flood.txt" 2>&1 &
fpid=$!
if meshgate_only; then
	check "under the flood meshgate goes under load (meshgate_under_load 1)" wait_for 10 under_load
fi

# The router's answers to the flood, on the gateway's WAN link: cookie replies, 64 bytes each.
# Only the flood's own addresses (.10-.73): the valid senders (.200, .201, IPv6) and the laptop
# have sessions, so keepalives or handshakes to them are not answers to the flood.
to_flood="udp src port $WG_PORT and not dst host $LAP_WAN4 and (dst net 198.51.100.0/26 or dst net 198.51.100.64/29 or dst net 198.51.100.72/31)"
replies=$(gw timeout 10 tcpdump -i wan0 -n -c 20 "$to_flood" 2>/dev/null)
n_replies=$(grep -c 'UDP' <<<"$replies")
n_cookies=$(grep -c 'UDP, length 64$' <<<"$replies")
check "the router answers the flood ($n_replies replies captured)" test "$n_replies" -ge 10
# Seen once in CI, when the capture also took in the valid senders' addresses: 19 of 20 answers
# were cookie replies. Whatever is not 64 bytes is printed; one such is still tolerated.
grep -v 'UDP, length 64$' <<<"$replies" | sed 's/^/# not a cookie reply: /'
check "the captured answers are 64-byte messages ($n_cookies of $n_replies, at most one other)" \
	test "$n_cookies" -ge $((n_replies - 1))
gw timeout 10 tcpdump -i wan0 -n -c 5 -w "$MG_LAB_DIR/cookies.pcap" "$to_flood" 2>/dev/null
types=$(tcpdump -r "$MG_LAB_DIR/cookies.pcap" -n -x 2>/dev/null | awk '/0x0010:/ { print $8 }' | sort -u)
# byte 28 of the IP packet (first of the UDP payload) is the WireGuard type: 0300 = type 3
expect_eq "the answers are cookie replies (type 3)" "$types" "0300"

# Rate limit: a sender with a cookie, 100 genuine initiations/s for 4 s from one address.
out=$(valid --rate 100 --seconds 4)
loaded_resp=$(forge_field "$out" response)
check "under load: a cookie was handed to the genuine sender ($(forge_field "$out" cookie))" \
	test "$(forge_field "$out" cookie)" -ge 1
check "under load: per-source rate limit holds ($loaded_resp responses in 4 s <= $RL_MAX4)" \
	test "${loaded_resp:-0}" -le $RL_MAX4
check "under load: the limited sender still gets through ($loaded_resp >= $((2 * RL_RATE)))" \
	test "${loaded_resp:-0}" -ge $((2 * RL_RATE))
# Two IPv4 addresses: two buckets, so together more than one allowance.
pair4=$(pair $TO $VALID_SRC $REPLAY_SRC)
check "under load: two IPv4 sources are limited separately ($pair4 in 4 s > $RL_MAX4)" \
	test "${pair4:-0}" -gt $RL_MAX4
# Two IPv6 addresses in one /64: one bucket.
pair6=$(pair "[$GW_WAN6]:$WG_PORT" $VALID6_SRC ${VALID6_SRC%1}2)
check "under load: two IPv6 sources in one /64 share one limit ($pair6 in 4 s <= $RL_MAX4)" \
	test "${pair6:-0}" -le $RL_MAX4
check "under load: the IPv6 sender gets through ($pair6 >= $((2 * RL_RATE)))" test "${pair6:-0}" -ge $((2 * RL_RATE))

# The laptop: a fresh handshake through the flood, then pings keep flowing.
lab_reset_laptop_session
check "under load: laptop completes a handshake (ping, cookie round trip)" \
	quiet lap ping -n -q -c 3 -i 0.5 -w 30 $HOST4
lap ping -n -q -i 0.2 -c 25 -w 15 $HOST4 >"$MG_LAB_DIR/dos-ping.txt" 2>&1
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$MG_LAB_DIR/dos-ping.txt")
check "under load: pings keep flowing (${recv:-0}/25 replies, >= 23)" test "${recv:-0}" -ge 23
if meshgate_only; then
	check "still under load during the checks" under_load
fi
kill $fpid 2>/dev/null; wait $fpid 2>/dev/null
out=$(tail -n 1 "$MG_LAB_DIR/flood.txt")
echo "# flood: $out"
check "flood: cookie replies came back to the forger ($(forge_field "$out" cookie))" \
	test "$(forge_field "$out" cookie)" -gt 0
expect_eq "flood: no malformed cookie reply" "$(forge_field "$out" cookie_bad)" 0
expect_eq "flood: no handshake response to garbage" "$(forge_field "$out" response)" 0
if meshgate_only; then
	c=$(($(hs_metric cookie tx) - cookies_before))
	r=$(($(hs_metric initiation rx) - rx_before))
	echo "# router: $r initiations received, $c cookie replies sent"
	check "meshgate_handshakes_total{message=\"cookie\",direction=\"tx\"} grew ($c)" test "$c" -gt 100
fi
t_router_stop
t_end
