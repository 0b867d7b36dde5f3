#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The router's private key changed at run time with stock `wg set` (as the
# kernel's netns.sh does it): the new public key is reported at once, the old
# sessions stop, and a laptop that knows the new key handshakes again straight away; a
# `/dev/null` key clears the identity (public key "(none)") and nothing is sent.
#
#   mg-lap wireguard-go ==wg==> gw ==> mg-rtr: meshgate <-- wg set meshgate0 private-key FILE
. "$(dirname "$0")/lib.sh"
t_begin
t_start_router_or_die
check "laptop -> host ping (first key)" ping_ok lap $HOST4
hs0=$(wg_field $RIF latest-handshakes)

old_pub=$(lab_rtr_pub)
(umask 077; wg genkey >"$MG_LAB_DIR/rtr2.key")
new_pub=$(wg pubkey <"$MG_LAB_DIR/rtr2.key")
check "wg set private-key (a new key)" wg set $RIF private-key "$MG_LAB_DIR/rtr2.key"
expect_eq "wg show public-key is the new one" "$(wg show $RIF public-key)" "$new_pub"
expect_eq "the peer survives the key change" "$(wg show $RIF peers)" "$(lab_lap_pub)"
# The laptop still holds a session made with the old key: it must not carry traffic any more.
check_fails "the old session no longer carries traffic" ping_ok lap $HOST4 2
# The laptop learns the new key (as Headscale would tell it) and handshakes again.
wg set $LAP_IF peer "$old_pub" remove &&
	wg set $LAP_IF peer "$new_pub" endpoint $GW_WAN4:$WG_PORT allowed-ips "$LAP_ALLOWED" ||
	fail "laptop: swap the router's key"
t0=$SECONDS
check "laptop -> host ping with the new key" wait_for 10 lap ping -n -q -c 1 -W 1 $HOST4
echo "# traffic again after $((SECONDS - t0)) s"
check "a new handshake ($(wg_field $RIF latest-handshakes) > $hs0)" \
	test "$(wg_field $RIF latest-handshakes)" -gt "$hs0"
check "host -> laptop too" ping_ok host $LAP_TS4

# No key at all: the identity is cleared, nothing is sent, meshgate keeps serving the socket.
echo "# key cleared at $(date +%T.%N)"
check "wg set private-key /dev/null" wg set $RIF private-key /dev/null
expect_eq "wg show public-key: (none)" "$(wg show $RIF public-key)" "(none)"
check_fails "no traffic without a key" ping_ok lap $HOST4 2
uapi_answers() { wg show $RIF listen-port >/dev/null; }
check "the UAPI socket still answers" uapi_answers
check "wg set private-key (the new key again)" wg set $RIF private-key "$MG_LAB_DIR/rtr2.key"
echo "# key back at $(date +%T.%N)"
# The laptop still sends on the session the cleared key ended: it handshakes again when its own
# timers give up on it (keepalive + rekey timeout, about 15 s), as with the kernel.
check "traffic resumes with the key back" wait_for 30 lap ping -n -q -c 1 -W 1 $HOST4
t_end
