#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Configuration churn during traffic (wireguard-go's
# TestConcurrencySafety): while 32 MiB cross the tunnel each way on two workers, the control side
# takes 1,000 `wg set` changes: the laptop's keepalive, its allowed IPs set again (unchanged),
# and other peers added and removed with routes of their own. Nothing of the laptop's traffic may
# be lost or changed, no packet of it dropped, and the peer table ends where it should. CI also
# runs this under TSan (tests/sanitize.sh).
#
#   mg-lap ==wg (32 MiB each way)==> mg-rtr: meshgate, Queues = 2 <== 1,000 x wg set
. "$(dirname "$0")/lib.sh"
meshgate_only || { skip "meshgate only"; exit 0; }
export LAB_RTR_QUEUES=2
t_begin
t_start_router_or_die --queues 2
check "tunnel up (laptop -> host ping)" ping_ok lap $HOST4

N=${CHURN_N:-1000}
churn() {
	local i lap key errs=0 keys
	lap=$(lab_lap_pub)
	mapfile -t keys < <(random_keys $((N / 4)))
	for ((i = 0; i < N; i += 4)); do
		key=${keys[i / 4]}
		wg set $RIF peer "$lap" persistent-keepalive $((i % 3 ? 25 : 0)) || errs=$((errs + 1))
		wg set $RIF peer "$lap" allowed-ips "$RTR_ALLOWED" || errs=$((errs + 1))
		wg set $RIF peer "$key" allowed-ips "100.70.$((i / 250)).$((i % 250))/32,fd7a:115c:a1e0::70:$i/128" ||
			errs=$((errs + 1))
		wg set $RIF peer "$key" remove || errs=$((errs + 1))
	done
	echo $errs >"$MG_LAB_DIR/churn.errs"
}
drops0=$(lab_metric meshgate_inbound_dropped_packets_total 'reason="no_route"')
churn &
cpid=$!
f=$(random_file 32)
want=$(sha256sum <"$f" | cut -d' ' -f1)
expect_eq "32 MiB laptop -> host during the churn, sha256" "$(tcp_transfer lap host $HOST4 "$f" 5001)" "$want"
expect_eq "32 MiB host -> laptop during the churn, sha256" "$(tcp_transfer host lap $LAP_TS4 "$f" 5002)" "$want"
wait $cpid
expect_eq "$N wg set changes, none refused" "$(cat "$MG_LAB_DIR/churn.errs")" 0
expect_eq "only the laptop is left" "$(wg show $RIF peers)" "$(lab_lap_pub)"
expect_eq "its allowed IPs as configured" \
	"$(wg show $RIF allowed-ips | cut -f2 | tr ' ' '\n' | sort | xargs)" \
	"$(tr ',' '\n' <<<"$RTR_ALLOWED" | tr -d ' ' | sort | xargs)"
# Replacing a peer's allowed IPs used to remove them all before inserting the new list: 700-800
# packets of the transfer found no route. A stray LAN packet (ND, multicast) may still count.
lost=$(($(lab_metric meshgate_inbound_dropped_packets_total 'reason="no_route"') - drops0))
check "no packet lost its route during the churn (no_route +$lost <= 5)" test "$lost" -le 5
for q in 0 1; do
	rx=$(lab_metric meshgate_nic_received_packets_total "queue=\"$q\"")
	echo "# queue $q received $rx frames"
done
check "the tunnel still works after the churn" ping_ok lap $HOST4
t_end
