#!/usr/bin/env bash
# load.sh - `smtp-harness load` counts what the server counted.
#
# Against Postfix's smtp-sink (-c: its own running counters) and against
# `smtp-harness serve --spool DIR` (one Maildir file per message), checks
# that N messages sent is N in the server's own count and N accepted in
# the load report; pipelined, lock-step, several recipients, 100 KB
# messages, --duration, --rate, --scenario and SIGINT (the summary still
# comes); an unreachable target exits 3 and a bad option 2. Every run must
# end cleanly: no sanitizer report (run it with
# HARNESS_BIN=build-asan/smtp-harness ASAN_OPTIONS=detect_leaks=1: memory
# left allocated is a LeakSanitizer report), no abort (the load aborts when
# handles are left open on its loop), and within a time limit (a session
# whose handle is never closed never reports its end).
# Loopback only, free ports; the servers are stopped by pid.
#
# One line per check ("ok - ..." / "not ok - ..."), then "N passed, M failed".
# Environment: HARNESS_BIN (default build/smtp-harness); LOAD_SOAK_SECONDS
# (default 0: no soak) adds a soak of that many seconds against smtp-sink.
set -uo pipefail
harness_prog=load.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh"
bin=${HARNESS_BIN:-$top/build/smtp-harness}
sink_bin=/usr/sbin/smtp-sink
[ -x "$bin" ] || harness_die "no harness binary $bin (set HARNESS_BIN)"
[ -x "$sink_bin" ] || harness_die "$sink_bin not found (run tests/setup-debian.sh)"

work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-load.XXXXXX") || exit 1
cleanup() {
	stop_pid "$work/sink.pid" 5 || true
	stop_pid "$work/serve.pid" 5 || true
	rm -rf -- "$work"
}
harness_on_exit cleanup

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# field FILE PATH...: a number from the JSON report, e.g. field r.json messages accepted
field() {
	/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    d = d[k]
print(d)' "$@"
}

# load NAME EXPECTED_EXIT ARGS...: runs the load; checks its exit status
# and that the sanitizers said nothing. Output in $work/NAME.out/.err,
# report in $work/NAME.json. A run gets run_limit seconds: a session that
# never reports its end (a handle it did not close keeps the run waiting
# for it) is a failure here, not a hang.
run_limit=120
load() {
	local name=$1 want=$2 rc
	shift 2
	timeout -k 5 "$run_limit" "$bin" load --no-progress --report "json:$work/$name.json" "$@" \
		>"$work/$name.out" 2>"$work/$name.err"
	rc=$?
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		notok "$name: still running after $run_limit s (a session that never ended?)"
	elif grep -q 'Sanitizer\|runtime error\|internal error' "$work/$name.err"; then
		notok "$name: sanitizer or internal error: $(grep -m 3 'Sanitizer\|runtime error\|internal error' "$work/$name.err")"
	elif [[ " $want " != *" $rc "* ]]; then
		notok "$name: exit $rc, expected $want: $(tail -n 3 "$work/$name.err" "$work/$name.out")"
	else
		ok "$name: exit $rc, clean end"
	fi
}

# expect WHAT GOT WANT
expect() {
	if [ "$2" = "$3" ]; then ok "$1: $2"; else notok "$1: got $2, expected $3"; fi
}

# ---- smtp-sink: its own counters (-c), the last "sess=N quit=N mesg=N"
# line it prints
sink_port=$(free_port)
user=()
[ "$(id -u)" -eq 0 ] && user=(-u nobody)
spawn "$work/sink.pid" "$work/sink.log" "$sink_bin" -c "${user[@]}" "127.0.0.1:$sink_port" 256 ||
	harness_die "could not start smtp-sink"
wait_port 127.0.0.1 "$sink_port" 10 || harness_die "smtp-sink did not listen on 127.0.0.1:$sink_port"

# smtp-sink's EHLO reply and codes draw findings: its sessions FAIL (exit 1).
load sink-pipelined "1" --target "127.0.0.1:$sink_port" --sessions 40 --concurrency 10 \
	--messages-per-session 5
expect "sink, pipelined: messages accepted in the report" "$(field "$work/sink-pipelined.json" messages accepted)" 200
expect "sink, pipelined: sessions finished" "$(field "$work/sink-pipelined.json" sessions finished)" 40
expect "sink, pipelined: pipelining was used" "$(field "$work/sink-pipelined.json" config pipelining_fell_back)" False
load sink-lockstep "1" --target "127.0.0.1:$sink_port" --sessions 20 --concurrency 20 \
	--messages-per-session 2 --recipients 3 --size 100000 --pipelining off
expect "sink, lock-step, 3 recipients, 100 kB: messages accepted" "$(field "$work/sink-lockstep.json" messages accepted)" 40
expect "sink, lock-step: RCPT answered 2xx" "$(field "$work/sink-lockstep.json" recipients accepted)" 120
expect "sink, lock-step: one latency sample per RCPT" "$(field "$work/sink-lockstep.json" latency_us rcpt count)" 120
stop_pid "$work/sink.pid" 5 || notok "smtp-sink did not stop"
# "sess" also counts the connection wait_port made; QUIT and messages do not.
sink_count=$(tr '\r' '\n' <"$work/sink.log" | grep '^sess=' | tail -n 1 | sed 's/^sess=[0-9]* //')
expect "smtp-sink's own count after both runs" "$sink_count" "quit=60 mesg=240"

# ---- smtp-sink -p offers no PIPELINING: "auto" falls back to lock-step,
# and the first session, which found that out, is not counted
sink_port=$(free_port)
spawn "$work/sink.pid" "$work/sinkp.log" "$sink_bin" -c -p "${user[@]}" "127.0.0.1:$sink_port" 256 ||
	harness_die "could not start smtp-sink -p"
wait_port 127.0.0.1 "$sink_port" 10 || harness_die "smtp-sink -p did not listen on 127.0.0.1:$sink_port"
load sink-no-pipelining "1" --target "127.0.0.1:$sink_port" --sessions 12 --concurrency 4 \
	--messages-per-session 2
expect "sink -p: pipelining fell back to lock-step" "$(field "$work/sink-no-pipelining.json" config pipelining_fell_back)" True
expect "sink -p: messages accepted" "$(field "$work/sink-no-pipelining.json" messages accepted)" 24
stop_pid "$work/sink.pid" 5 || notok "smtp-sink -p did not stop"
sink_count=$(tr '\r' '\n' <"$work/sinkp.log" | grep '^sess=' | tail -n 1 | sed 's/^sess=[0-9]* //')
expect "smtp-sink -p's own count (the probe session sent no message)" "$sink_count" "quit=13 mesg=24"

# ---- the reference server: one Maildir file per message
spool=$work/spool
spawn "$work/serve.pid" "$work/serve.log" "$bin" serve --quiet --listen 127.0.0.1:0 --spool "$spool" ||
	harness_die "could not start smtp-harness serve"
serve_port=
for _ in $(seq 1 100); do
	serve_port=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/serve.log")
	[ -n "$serve_port" ] && break
	sleep 0.1
done
[ -n "$serve_port" ] || harness_die "smtp-harness serve did not report its port"
spooled() { find "$spool/new" -type f | wc -l; }

# The reference server draws no findings: every session passes (exit 0).
load serve-pipelined "0" --target "127.0.0.1:$serve_port" --sessions 30 --concurrency 8 \
	--messages-per-session 3 --recipients 2
expect "serve: messages accepted in the report" "$(field "$work/serve-pipelined.json" messages accepted)" 90
expect "serve: files in the spool" "$(spooled)" 90
expect "serve: no findings" "$(field "$work/serve-pipelined.json" findings | tr -d ' ')" "{}"
load serve-rate "0" --target "127.0.0.1:$serve_port" --sessions 10 --concurrency 4 --rate 40 \
	--pipelining off
expect "serve, --rate 40: messages accepted" "$(field "$work/serve-rate.json" messages accepted)" 10
expect "serve, --rate 40: files in the spool" "$(spooled)" 100
load serve-duration "0" --target "127.0.0.1:$serve_port" --duration 1 --concurrency 3 --size 2000
n=$(field "$work/serve-duration.json" messages accepted)
if [ "$n" -gt 0 ] 2>/dev/null; then ok "serve, --duration 1: $n messages"; else notok "serve, --duration 1: no messages ($n)"; fi
expect "serve, --duration 1: the spool grew by what the report says" "$(spooled)" "$((100 + n))"
# SIGINT: no new session, the open ones end, and the summary still comes.
before=$(spooled)
"$bin" load --no-progress --report "json:$work/serve-sigint.json" --target "127.0.0.1:$serve_port" \
	--duration 60 --concurrency 4 --rate 200 >"$work/serve-sigint.out" 2>"$work/serve-sigint.err" &
load_pid=$!
sleep 1.5
kill -INT "$load_pid"
waited=0
while kill -0 "$load_pid" 2>/dev/null && [ "$waited" -lt $((run_limit * 10)) ]; do
	sleep 0.1
	waited=$((waited + 1))
done
kill -0 "$load_pid" 2>/dev/null && kill -KILL "$load_pid"
wait "$load_pid"
rc=$?
if [ "$rc" -eq 137 ]; then
	notok "serve, SIGINT: still running $run_limit s after the signal"
elif [ "$rc" -eq 0 ] && ! grep -q 'Sanitizer\|runtime error\|internal error' "$work/serve-sigint.err"; then
	ok "serve, SIGINT: exit 0, clean end"
else
	notok "serve, SIGINT: exit $rc: $(tail -n 3 "$work/serve-sigint.err")"
fi
n=$(field "$work/serve-sigint.json" messages accepted 2>/dev/null)
if [ -n "$n" ] && [ "$(spooled)" -eq "$((before + n))" ] 2>/dev/null; then
	ok "serve, SIGINT: the report ($n accepted) matches the spool"
else
	notok "serve, SIGINT: report says '$n' accepted, the spool grew by $(($(spooled) - before))"
fi

before=$(spooled)
load serve-scenario "0" --target "127.0.0.1:$serve_port" --sessions 6 --concurrency 3 \
	--scenario "$top/scenarios/conformance/pipelining/mail-rcpt-data.json"
expect "serve, --scenario: sessions passed" "$(field "$work/serve-scenario.json" sessions pass)" 6
expect "serve, --scenario: files in the spool" "$(spooled)" "$((before + $(field "$work/serve-scenario.json" messages accepted)))"
stop_pid "$work/serve.pid" 5 || notok "smtp-harness serve did not stop"

# ---- soak (only when LOAD_SOAK_SECONDS is set, e.g. a nightly run under
# ASan): smtp-sink for that long, 100 sessions open, mixed sizes through
# the session's messages; its count must still be the report's.
soak=${LOAD_SOAK_SECONDS:-0}
if [ "$soak" -gt 0 ] 2>/dev/null; then
	sink_port=$(free_port)
	spawn "$work/sink.pid" "$work/sinks.log" "$sink_bin" -c "${user[@]}" -m 512 "127.0.0.1:$sink_port" 512 ||
		harness_die "could not start smtp-sink for the soak"
	wait_port 127.0.0.1 "$sink_port" 10 || harness_die "smtp-sink did not listen on 127.0.0.1:$sink_port"
	run_limit=$((soak + 120))
	load soak "1" --target "127.0.0.1:$sink_port" --duration "$soak" --concurrency 100 \
		--messages-per-session 5 --recipients 2 --size 20000
	stop_pid "$work/sink.pid" 5 || notok "smtp-sink (soak) did not stop"
	n=$(field "$work/soak.json" messages accepted)
	sink_count=$(tr '\r' '\n' <"$work/sinks.log" | grep '^sess=' | tail -n 1 | sed 's/^sess=[0-9]* quit=[0-9]* //')
	expect "soak of $soak s: smtp-sink's count is the report's" "$sink_count" "mesg=$n"
	run_limit=120
fi

# ---- nothing listening, and usage errors
dead_port=$(free_port)
load unreachable "3" --target "127.0.0.1:$dead_port" --sessions 5
load bad-option "2" --target "127.0.0.1:$dead_port" --pipelining sometimes
load no-target "2" --sessions 5

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
