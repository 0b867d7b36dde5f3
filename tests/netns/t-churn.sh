#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Memory stays flat under peer churn: 10 rounds of adding 500 peers with `wg set` and removing
# them again (10,000 changes) while the laptop keeps its session. The first round sets the high
# water mark (500 live peers, their routes, the allocator's arenas); after it, RSS may not grow
# by more than CHURN_SLACK_KIB in all, and the laptop still reaches the home host.
#
#   wg set (UAPI) --500 add / 500 remove x 10--> mg-rtr: meshgate   VmRSS from /proc/PID/status
. "$(dirname "$0")/lib.sh"
meshgate_only || { skip "meshgate only (RSS of meshgate's process)"; exit 0; }
t_begin
N=500 ROUNDS=10 CHURN_SLACK_KIB=${CHURN_SLACK_KIB:-128}
t_start_router_or_die
check "laptop -> host ping before the churn" ping_ok lap $HOST4
rss() { awk '/^VmRSS/ {print $2}' /proc/$MG_PID/status; }

errs=0
for ((r = 1; r <= ROUNDS; r++)); do
	mapfile -t keys < <(random_keys $N)
	errs=$((errs + $(peers_set add 50 "${keys[@]}") + $(peers_set remove 50 "${keys[@]}")))
	sleep 0.3       # freed peers go after an RCU grace period
	rss_r[r]=$(rss)
	echo "# round $r: VmRSS ${rss_r[r]} KiB after $((r * 2 * N)) changes"
done
expect_eq "$((ROUNDS * 2 * N)) changes applied without error" "$errs" 0
expect_eq "only the laptop is left" "$(wg show $MG_IF peers)" "$(lab_lap_pub)"
growth=$((rss_r[ROUNDS] - rss_r[1]))
check "RSS flat after the first round (+$growth KiB over $(((ROUNDS - 1) * 2 * N)) changes <= $CHURN_SLACK_KIB)" \
	test "$growth" -le "$CHURN_SLACK_KIB"
check "laptop -> host ping after the churn" ping_ok lap $HOST4
t_end
