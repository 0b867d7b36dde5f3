#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# check-dashboard.sh DASHBOARD.json SCRAPE.txt...: every metric name that a panel query or a
# template variable of the Grafana dashboard uses must appear as a sample in one of the scrapes
# (the exposition text of a live meshgate, e.g. /metrics and /metrics?peers=1). Prints each
# name with ok/MISSING; exits 1 if any is missing or if no query was found at all.
#
# PromQL is reduced to metric names by dropping strings, label matchers {..}, ranges [..],
# grouping clauses (by/without/on/ignoring/group_left/group_right (..)), function names and
# operators. `up` is Prometheus' own series, not meshgate's.
set -u
dash=$1; shift
[ -s "$dash" ] && [ $# -gt 0 ] || { echo "usage: $0 DASHBOARD.json SCRAPE..." >&2; exit 2; }

exported=$(cat "$@" | grep -v '^#' | sed 's/[{ ].*//' | sort -u)
exprs=$(jq -r '.. | objects | select(has("expr")) | .expr' "$dash") || exit 1
vars=$(jq -r '.templating.list[] | select(.type == "query") | (.query.query? // .query)' "$dash" |
	sed -n 's/^label_values(\([a-zA-Z_:][a-zA-Z0-9_:]*\).*/\1/p; s/^label_values(\([a-zA-Z_:][a-zA-Z0-9_:]*\){.*/\1/p')
[ -n "$exprs" ] || { echo "no panel queries in $dash"; exit 1; }

names=$( { printf '%s\n' "$exprs" |
	sed -E 's/"[^"]*"//g; s/\{[^}]*\}//g; s/\[[^]]*\]//g;
		s/\b(by|without|on|ignoring|group_left|group_right) *\([^)]*\)//g' |
	grep -oE '[a-zA-Z_:][a-zA-Z0-9_:]* *\(?' | grep -v '($' | tr -d ' ' |
	grep -vxE 'and|or|unless|bool|offset|by|without|inf|nan|Inf|NaN'
	printf '%s\n' "$vars"; } | sort -u | grep -v '^$')

bad=0
for n in $names; do
	if [ "$n" = up ] || grep -qx "$n" <<<"$exported"; then
		echo "ok      $n"
	else
		echo "MISSING $n"; bad=1
	fi
done
exit $bad
