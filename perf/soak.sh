#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Soak test of meshgate in the lab: mixed traffic (ping, TCP, UDP), roaming, rekeys and peer
# churn for a set time, then the checks of tests/netns/t-soak.sh (no unexplained loss or drop,
# RSS flat, counters reconcile, UMEM frames accounted). CI runs that script for 60 s; this runs
# it for 10 minutes by default.
#
#   sudo perf/soak.sh [--time SECONDS]       (default 600)
#
# The scenario lives in tests/netns/ so that it shares the lab helpers and runs in private labs.
secs=600
[ "${1:-}" = --time ] && secs=${2:?--time SECONDS}
exec "$(dirname "$0")/../tests/netns/t-soak.sh" --time "$secs"
