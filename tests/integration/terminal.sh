#!/usr/bin/env bash
# terminal.sh - what `run` prints on a terminal, and off one.
#
# Runs a few scenarios against the built-in reference server under a
# pseudo-terminal (util-linux `script`), and checks: live progress lines
# ("[done/total] running: ...", each erased with CR ESC[K) and coloured
# verdicts on a terminal; no colour with NO_COLOR set or TERM=dumb; and
# off a terminal (a pipe), plain lines with no escape sequence at all.
# Loopback only (the built-in server listens on 127.0.0.1).
#
# One line per check ("ok - ..." / "not ok - ..."), then "N passed, M failed".
# Environment: HARNESS_BIN (default build/smtp-harness).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${HARNESS_BIN:-$top/build/smtp-harness}
[ -x "$bin" ] || { echo "terminal.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
command -v script >/dev/null || { echo "not ok - script (util-linux) not installed"; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-terminal.XXXXXX") || exit 1
trap 'rm -rf -- "$work"' EXIT

passed=0
failed=0
check() {	# check NAME PYTHON-EXPR-ON-s (s: the output bytes)
	if /usr/bin/python3 -c "import sys; s = open(sys.argv[1], 'rb').read(); sys.exit(0 if ($2) else 1)" "$work/$1"; then
		echo "ok - $3"
		passed=$((passed + 1))
	else
		echo "not ok - $3: $(head -c 300 "$work/$1" | od -c | head -n 4)"
		failed=$((failed + 1))
	fi
}

cmd="'$bin' run --jobs 2 '$top/scenarios/conformance/transaction'"
TERM=xterm script -qec "$cmd" /dev/null >"$work/tty" 2>&1
TERM=xterm NO_COLOR=1 script -qec "$cmd" /dev/null >"$work/nocolor" 2>&1
TERM=dumb script -qec "unset NO_COLOR; $cmd" /dev/null >"$work/dumb" 2>&1
env -u NO_COLOR TERM=xterm bash -c "$cmd" >"$work/pipe" 2>&1

check tty "b'\\x1b[32mPASS\\x1b[0m' in s" "a terminal: verdicts in colour"
check tty "b'/8] running: transaction.' in s and b'\\r\\x1b[K' in s" "a terminal: live progress, each line erased"
check tty "b'8 passed, 0 failed' in s" "a terminal: the summary"
check nocolor "b'\\x1b[32m' not in s and b'PASS  transaction.basic' in s" "NO_COLOR: no colour"
check dumb "b'\\x1b[32m' not in s" "TERM=dumb: no colour"
check pipe "b'\\x1b' not in s and b'\\r' not in s and b'PASS  transaction.basic' in s" "a pipe: plain lines, no escape sequence"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
