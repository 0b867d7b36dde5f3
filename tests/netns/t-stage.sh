#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The stage queue is bounded per peer: packets for a peer without a session wait for
# its handshake, at most STAGE_PER_PEER (128) per peer and worker, so one peer flooded from the
# LAN cannot take the queue from the others. The home host floods a session-less peer whose
# endpoint never answers (its packets wait 3 s and are dropped: the queue stays full of them),
# while the laptop, which has no session with the fresh router either, is pinged exactly once:
# that one packet must be staged, survive the handshake and arrive.
# Then the laptop floods a LAN address nobody holds: those packets wait for an ARP answer that
# never comes, at most 32 per next hop and worker, and resolve requests reach the control thread
# (on the ring handshakes use) once per next hop per 100 ms and worker, not once per packet.
#
#   mg-host --UDP 10.61.0.0/24, ~4000/s--> mg-rtr meshgate (peer X: no session, endpoint dead)
#   mg-host --1 ping--> mg-rtr meshgate ==handshake, then the ping==> mg-lap
#   mg-lap ==UDP to 192.168.8.199 (no such host), ~3000/s, 4 s==> mg-rtr meshgate --ARP?--> LAN
#
. "$(dirname "$0")/lib.sh"
meshgate_only || { echo "SKIP: t-stage: meshgate only (its stage queue)"; exit 77; }
t_begin
lab_reset_laptop_session
t_start_router_or_die --endpoint

wg set $RIF peer "$(wg genkey | wg pubkey)" endpoint $HOST4:6100 allowed-ips 10.61.0.0/24 ||
	fail "wg set flooded peer"
host ip route add 10.61.0.0/24 via $RTR_LAN4
full0=$(drops stage_full)

host python3 - 10 4000 <<'PY' &
import socket, sys, time
secs, rate = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
end, n, t0 = time.time() + secs, 0, time.time()
while time.time() < end:
    try:
        s.sendto(b"f" * 64, ("10.61.0.%d" % (1 + n % 250), 9))
    except OSError:
        pass
    n += 1
    ahead = n / rate - (time.time() - t0)
    if ahead > 0:
        time.sleep(ahead)
PY
flpid=$!
sleep 4    # more than the 3 s a staged packet waits: the flooded peer's share is full by now

check "during the flood, one ping to the laptop (no session yet) is staged and answered" \
	host ping -n -c 1 -W 8 $LAP_TS4
full=$(drops stage_full)
check "the flooded peer's overflow is dropped and counted (stage_full +$((full - full0)))" \
	test $((full - full0)) -gt 1000
wait $flpid
host ip route del 10.61.0.0/24 via $RTR_LAN4
check "laptop -> host ping after the flood" ping_ok lap $HOST4

# The unresolvable LAN address. Bound: 4 s at one request per 100 ms plus one, per worker (the
# lab's LAN veth has one queue: one worker; twice that leaves room for the clock's granularity).
req0=$(lab_metric meshgate_resolve_requests_total) sup0=$(lab_metric meshgate_resolve_suppressed_total)
full0=$(drops stage_full)
lap python3 - 4 3000 <<'PY'
import socket, sys, time
secs, rate = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
end, n, t0 = time.time() + secs, 0, time.time()
while time.time() < end:
    try:
        s.sendto(b"a" * 64, ("192.168.8.199", 9))
    except OSError:
        pass
    n += 1
    ahead = n / rate - (time.time() - t0)
    if ahead > 0:
        time.sleep(ahead)
print("# sent %d packets to 192.168.8.199" % n)
PY
req=$(($(lab_metric meshgate_resolve_requests_total) - req0))
sup=$(($(lab_metric meshgate_resolve_suppressed_total) - sup0))
full=$(($(drops stage_full) - full0))
echo "# resolve requests $req, suppressed $sup, stage_full +$full"
check "resolve requests for one unresolvable address stay bounded ($req <= $((2 * (40 + 2))))" \
	test "$req" -le $((2 * (40 + 2)))
check "the other resolve requests were suppressed and counted ($sup)" test "$sup" -gt 1000
check "the flood beyond 32 waiting packets per next hop is dropped as stage_full (+$full)" \
	test "$full" -gt 1000
check "laptop -> host ping after the unresolvable flood" ping_ok lap $HOST4
t_router_stop
t_end
