# SPDX-License-Identifier: GPL-2.0-only
#
# hold_lock_while_alive LOCKFILE WAIT_S PID: takes an flock on LOCKFILE (waiting up to WAIT_S
# seconds) in a helper process that keeps it while PID lives, so the lock goes with that shell
# however it ends, and no daemon the shell starts inherits it. Returns 0 once held, 1 if the
# wait ran out. Prints one "waiting" line to stderr after a second of waiting.
# Sourced by tests/lab/lab.sh and tests/interop/lib.sh.
hold_lock_while_alive() {
	local lock=$1 wait=$2 pid=$3 ready i
	ready=$(mktemp) || return 1
	( flock -w "$wait" "$lock" sh -c \
		'echo locked >"$2"; while kill -0 "$1" 2>/dev/null; do sleep 0.5; done' lock "$pid" "$ready" \
		</dev/null >/dev/null 2>&1 & )
	for i in $(seq $((wait * 5))); do
		if [ -s "$ready" ]; then rm -f "$ready"; return 0; fi
		[ $i = 5 ] && echo "waiting for another user of $lock to finish" >&2
		sleep 0.2
	done
	rm -f "$ready"
	return 1
}
