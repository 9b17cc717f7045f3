#!/usr/bin/env bash
# run.sh - integration tests of smtp-harness against real servers on loopback.
#
# Called by tests/run-all.sh with HARNESS_BIN set to the sanitized binary
# (default: build/smtp-harness). Debian 12, as root, after
# tests/setup-debian.sh. Starts the targets through the target-*.sh
# scripts and lib.sh's spawn, and stops on exit exactly what it started
# (a target that was already running is used and left running).
#
# Checks, one line each ("ok - ..." / "not ok - ..."), then "N passed, M failed":
#   a. the suite scenarios/conformance against Postfix (+ smtp-sink relay),
#      aiosmtpd and a standalone smtp-sink: exit status, every verdict and
#      finding against expected/<target>.json, no ERROR, the JUnit report,
#      one pcap per scenario (tshark follows one, and decrypts a STARTTLS one
#      with the key log beside it);
#   b. an unreachable target (refused, and a listener that never answers
#      the SYN): exit 3, ERROR, within the connect timeout;
#   c. a target that stops answering mid-session (smtp-sink -w) and one
#      that hangs up (smtp-sink -q): FAIL with a finding, exit 1;
#   d. a malformed scenario and usage errors: exit 2, FILE:LINE:COL;
#   e. a target given as a host name (localhost:PORT);
#   f. --jobs 1 and --jobs 8 give the same verdicts.
#
# Environment: HARNESS_BIN; HARNESS_SINK_PORT (Postfix's relay sink, 2526);
# HARNESS_IT_SINK_PORT (standalone smtp-sink, 2527); HARNESS_IT_SLOW_PORT
# (2531) and HARNESS_IT_HANGUP_PORT (2532) for the faulty sinks;
# HARNESS_IT_KEEP=1 keeps the work directory (reports, captures).
# Exit status: 0 when every check passed, 1 otherwise.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
harness_prog=run.sh
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh"

bin=${HARNESS_BIN:-$top/build/smtp-harness}
suite=$top/scenarios/conformance
expected_dir=$here/expected
host=127.0.0.1
postfix_port=2525
aiosmtpd_port=2529
sink_port=${HARNESS_IT_SINK_PORT:-2527}
slow_port=${HARNESS_IT_SLOW_PORT:-2531}
hangup_port=${HARNESS_IT_HANGUP_PORT:-2532}
# Every harness invocation is bounded, so a hang is a failure, not a stall.
run_limit=120
py=/usr/bin/python3
[ -x "$py" ] || py=python3

passed=0
failed=0
sanitizer_hits=()
harness_runs=0
t_start=$(date +%s%N)

ok() {
	echo "ok - $*"
	passed=$((passed + 1))
}

not_ok() {
	echo "not ok - $*"
	failed=$((failed + 1))
}

# check DESC CMD...: ok when CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# hrun NAME ARGS...: run the harness with ARGS, stdout and stderr to
# $work/NAME.out and .err; sets h_rc (exit status) and h_ms (wall time).
hrun() {
	local name=$1 t0
	shift
	t0=$(now_ms)
	timeout -k 5 "$run_limit" "$bin" "$@" >"$work/$name.out" 2>"$work/$name.err"
	h_rc=$?
	h_ms=$(($(now_ms) - t0))
	harness_runs=$((harness_runs + 1))
	if grep -qE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:' "$work/$name.err"; then
		sanitizer_hits+=("$name")
	fi
}

# pycheck MODE ARGS...: the JSON/XML/pcap assertions of report-check.py (stdlib
# only). Prints "ok - " / "not ok - " lines, which harness_tally counts; a crash
# of the checker is itself a failure.
pycheck() {
	local out=$work/pycheck.out
	"$py" "$here/report-check.py" "$@" >"$out" 2>"$work/pycheck.err"
	local rc=$?
	harness_tally "$out"
	if [ "$rc" -ne 0 ]; then
		not_ok "python checker ($1 ${2:-}) crashed: $(tail -n 1 "$work/pycheck.err")"
	fi
}

# ---------------------------------------------------------------- set-up

missing=()
[ -x "$bin" ] || missing+=("the harness binary $bin (set HARNESS_BIN)")
for c in tshark timeout flock "$py" postfix /usr/sbin/smtp-sink; do
	command -v "$c" >/dev/null 2>&1 || missing+=("$c (run tests/setup-debian.sh)")
done
if [ "${#missing[@]}" -gt 0 ]; then
	for c in "${missing[@]}"; do
		echo "not ok - not found: $c"
	done
	echo "0 passed, ${#missing[@]} failed"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-it.XXXXXX") || harness_die "mktemp failed"
cleanup_work() {
	if [ "${HARNESS_IT_KEEP:-0}" = 1 ] || [ "$failed" -gt 0 ]; then
		echo "# reports and captures kept in $work"
	else
		rm -rf "$work"
	fi
}
harness_on_exit cleanup_work
# INT and TERM end the script through exit, so that the EXIT trap stops
# the servers.
trap 'exit 130' INT
trap 'exit 143' TERM

# One run at a time: the targets (the machine's Postfix above all) are shared.
mkdir -p "$HARNESS_STATE_DIR"
exec 9>"$HARNESS_STATE_DIR/integration.lock"
if ! flock -n 9; then
	echo "# another integration run holds $HARNESS_STATE_DIR/integration.lock; waiting (up to 300 s)"
	flock -w 300 9 || harness_die "the integration lock is still held"
fi

echo "# harness: $bin"
echo "# work directory: $work"

sink_script=$here/target-smtp-sink.sh
# start_postfix, start_script SCRIPT PORT: start a target unless it
# already runs, and register its stop only when this run started it.
start_postfix() {
	local was_running=0
	postfix status >/dev/null 2>&1 && was_running=1
	if ! bash "$here/target-postfix.sh" start "$postfix_port" >"$work/start-postfix.log" 2>&1; then
		cat "$work/start-postfix.log"
		return 1
	fi
	if [ "$was_running" = 0 ]; then
		harness_on_exit "bash '$here/target-postfix.sh' stop '$postfix_port' >/dev/null"
	fi
}

start_script() {
	local script=$1 port=$2
	if bash "$script" status "$port" >/dev/null 2>&1; then
		echo "# $(basename "$script") already running on $port: used, left running"
		return 0
	fi
	if ! bash "$script" start "$port" >"$work/start-$port.log" 2>&1; then
		cat "$work/start-$port.log"
		return 1
	fi
	harness_on_exit "bash '$script' stop '$port' >/dev/null"
}

# spawn_sink PORT ARGS...: an smtp-sink with fault options, as the target
# script would run it (its pid file, so that target-smtp-sink.sh stop and
# lib.sh's harness_stop_all know it too).
spawn_sink() {
	local port=$1 dir pidfile
	shift
	dir=$(state_dir smtp-sink)
	pidfile=$dir/smtp-sink-$port.pid
	if port_open "$host" "$port"; then
		echo "# $host:$port is already in use"
		return 1
	fi
	local user=()
	[ "$(id -u)" -eq 0 ] && user=(-u nobody)
	: >"$dir/smtp-sink-$port.log"
	spawn "$pidfile" "$dir/smtp-sink-$port.log" /usr/sbin/smtp-sink "${user[@]}" "$@" "$host:$port" 100 ||
		return 1
	harness_on_exit "bash '$sink_script' stop '$port' >/dev/null"
	wait_port "$host" "$port" 10
}

# started DESC CMD...: like check, and sets up=0 when CMD succeeded, 1
# otherwise. The servers must not inherit the lock (fd 9).
started() {
	local desc=$1
	shift
	if "$@" 9>&-; then
		ok "$desc"
		up=0
	else
		not_ok "$desc"
		up=1
	fi
}

t0=$(now_ms)
started "start Postfix on $host:$postfix_port (relay smtp-sink on ${HARNESS_SINK_PORT:-2526})" start_postfix
postfix_up=$up
started "start aiosmtpd on $host:$aiosmtpd_port" start_script "$here/target-aiosmtpd.sh" "$aiosmtpd_port"
aiosmtpd_up=$up
started "start smtp-sink on $host:$sink_port" start_script "$sink_script" "$sink_port"
sink_up=$up
echo "# targets up in $(($(now_ms) - t0)) ms"

# ---------------------------------------------------------------- a. the suite

# suite LABEL PORT EXPECTED_EXIT UP
suite_run() {
	local label=$1 port=$2 want=$3 up=$4 d
	if [ "$up" != 0 ]; then
		not_ok "$label: suite not run (the target did not start)"
		return
	fi
	d=$work/$label
	mkdir -p "$d"
	hrun "$label" run --target "$host:$port" --report "json:$d/report.json" \
		--report "junit:$d/report.xml" --report "text:$d/report.txt" \
		--capture "$d/captures" "$suite"
	if [ "$h_rc" = "$want" ]; then
		ok "$label: exit status $want ($(tail -n 1 "$work/$label.out"); ${h_ms} ms)"
	else
		not_ok "$label: exit status $h_rc, expected $want (stderr: $(head -c 300 "$work/$label.err"))"
	fi
	pycheck suite "$label" "$d/report.json" "$d/report.xml" "$d/captures" "$expected_dir/$label.json"
	local stray
	stray=$(find "$d" -maxdepth 1 -name '*.tmp.*' | head -n 3)
	check "$label: no temporary report files left" test -z "$stray"
	if [ -s "$d/report.txt" ] && [ "$(tail -n 1 "$d/report.txt")" = "$(tail -n 1 "$work/$label.out")" ]; then
		ok "$label: text report ends with the terminal's summary line"
	else
		not_ok "$label: text report's last line differs from the terminal's"
	fi
	local pcap=$d/captures/transaction.basic.pcap
	if tshark -r "$pcap" -q -z follow,tcp,raw,0 >"$d/follow.txt" 2>"$d/follow.err"; then
		pycheck follow "$label: transaction.basic.pcap" "$d/follow.txt"
	else
		not_ok "$label: tshark cannot read $pcap: $(tail -n 1 "$d/follow.err")"
	fi
	# After STARTTLS the pcap holds TLS records; the key log beside it
	# must let tshark read the SMTP inside.
	pcap=$d/captures/starttls.handshake.pcap
	if [ -e "${pcap%.pcap}.keys" ]; then
		if tshark -r "$pcap" -o "tls.keylog_file:${pcap%.pcap}.keys" -d "tcp.port==$port,smtp" \
		    -Y smtp.req -T fields -e smtp.req.command >"$d/tls.txt" 2>"$d/tls.err"; then
			pycheck tls-fields "$label: starttls.handshake.pcap" "$d/tls.txt"
		else
			not_ok "$label: tshark cannot read $pcap: $(tail -n 1 "$d/tls.err")"
		fi
	fi
}

# expected_exit TARGET: the exit status its expected file pins.
expected_exit() {
	"$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["exit_status"])' \
		"$expected_dir/$1.json"
}
postfix_exit=$(expected_exit postfix)
# every scenario file of the suite, as the loader counts them
suite_count=$(find "$suite" -name '*.json' ! -name '*.schema.json' | wc -l)
suite_run postfix "$postfix_port" "$postfix_exit" "$postfix_up"
suite_run aiosmtpd "$aiosmtpd_port" "$(expected_exit aiosmtpd)" "$aiosmtpd_up"
suite_run smtp-sink "$sink_port" "$(expected_exit smtp-sink)" "$sink_up"

# ---------------------------------------------------------------- b. unreachable

free_port() {
	"$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port=$(free_port)
if port_open "$host" "$port"; then
	not_ok "unreachable: port $port unexpectedly open"
else
	d=$work/unreachable
	mkdir -p "$d"
	hrun unreachable run --target "$host:$port" --connect-timeout 2000 --quiet \
		--report "json:$d/report.json" --report "junit:$d/report.xml" "$suite"
	if [ "$h_rc" = 3 ] && [ "$h_ms" -lt 10000 ]; then
		ok "unreachable ($host:$port, refused): exit status 3 in ${h_ms} ms"
	else
		not_ok "unreachable ($host:$port, refused): exit status $h_rc in ${h_ms} ms, expected 3 within 10 s"
	fi
	check "unreachable: stderr says it could not connect" grep -q "could not connect" "$work/unreachable.err"
	pycheck all-error unreachable "$d/report.json" "$suite_count" "could not connect to 127\\.0\\.0\\.1:$port: connection refused"
	pycheck junit-errors unreachable "$d/report.xml" "$suite_count"
fi

# A listener whose accept queue is full: the kernel drops further SYNs, so
# the connect itself never completes and --connect-timeout has to fire.
d=$work/blackhole
mkdir -p "$d"
cat >"$d/blackhole.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(4):  # fill the accept queue; never accept
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fill.append(c)
time.sleep(0.2)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % port)
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)
PY
if spawn "$d/blackhole.pid" "$d/blackhole.log" "$py" "$d/blackhole.py" "$d/port" 9>&-; then
	harness_on_exit "stop_pid '$d/blackhole.pid' 2"
	tries=50
	while [ ! -s "$d/port" ] && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	read -r bport <"$d/port" || bport=
	if [ -n "$bport" ]; then
		hrun blackhole run --target "$host:$bport" --connect-timeout 2000 --quiet \
			--report "json:$d/report.json" \
			"$suite/transaction/basic.json" "$suite/session/noop.json"
		if [ "$h_rc" = 3 ] && [ "$h_ms" -ge 1900 ] && [ "$h_ms" -lt 6000 ]; then
			ok "connect timeout (SYN never answered): exit status 3 after ${h_ms} ms (--connect-timeout 2000)"
		else
			not_ok "connect timeout (SYN never answered): exit status $h_rc after ${h_ms} ms, expected 3 after 2000-6000 ms"
		fi
		pycheck all-error "connect timeout" "$d/report.json" 2 "2000 ms"
	else
		not_ok "connect timeout: the never-answering listener did not start"
	fi
	stop_pid "$d/blackhole.pid" 2
else
	not_ok "connect timeout: could not start the never-answering listener"
fi

# ---------------------------------------------------------------- c. faulty targets

# smtp-sink -w 10: waits 10 s before answering DATA; the step deadline is 2 s.
d=$work/slow
mkdir -p "$d"
if spawn_sink "$slow_port" -w 10 9>&-; then
	hrun slow run --target "$host:$slow_port" --step-timeout 2000 \
		--report "json:$d/report.json" "$suite/transaction/basic.json"
	if [ "$h_rc" = 1 ] && [ "$h_ms" -ge 1900 ] && [ "$h_ms" -lt 5000 ]; then
		ok "silent target (smtp-sink -w 10, --step-timeout 2000): exit status 1 after ${h_ms} ms"
	else
		not_ok "silent target (smtp-sink -w 10, --step-timeout 2000): exit status $h_rc after ${h_ms} ms, expected 1 after 2000-5000 ms"
	fi
	pycheck one "silent target" "$d/report.json" transaction.basic FAIL "2000 ms"
	# The same silence with the whole-session deadline passing first: the
	# server still owes the reply, so it is a FAIL too, not an ERROR.
	sed 's/"id": "transaction.basic",/"id": "transaction.basic", "deadline_ms": 2000,/' \
		"$suite/transaction/basic.json" >"$d/deadline.json"
	hrun deadline run --target "$host:$slow_port" --report "json:$d/deadline-report.json" \
		"$d/deadline.json"
	if [ "$h_rc" = 1 ] && [ "$h_ms" -ge 1900 ] && [ "$h_ms" -lt 5000 ]; then
		ok "silent target, scenario deadline 2000 ms: exit status 1 after ${h_ms} ms"
	else
		not_ok "silent target, scenario deadline 2000 ms: exit status $h_rc after ${h_ms} ms, expected 1 after 2000-5000 ms"
	fi
	pycheck one "silent target (deadline)" "$d/deadline-report.json" transaction.basic FAIL \
		"before the scenario deadline of 2000 ms"
else
	not_ok "silent target: could not start smtp-sink -w 10 on $host:$slow_port"
fi

# smtp-sink -q RCPT: hangs up, without a reply, when RCPT arrives.
d=$work/hangup
mkdir -p "$d"
if spawn_sink "$hangup_port" -q RCPT 9>&-; then
	hrun hangup run --target "$host:$hangup_port" --step-timeout 5000 \
		--report "json:$d/report.json" "$suite/transaction/basic.json"
	if [ "$h_rc" = 1 ] && [ "$h_ms" -lt 3000 ]; then
		ok "hang-up target (smtp-sink -q RCPT): exit status 1 after ${h_ms} ms"
	else
		not_ok "hang-up target (smtp-sink -q RCPT): exit status $h_rc after ${h_ms} ms, expected 1 within 3 s"
	fi
	pycheck one "hang-up target" "$d/report.json" transaction.basic FAIL "closed"
else
	not_ok "hang-up target: could not start smtp-sink -q RCPT on $host:$hangup_port"
fi

# ---------------------------------------------------------------- d. bad input

bad=$work/bad-code.json
cat >"$bad" <<'JSON'
{
  "id": "bad.code",
  "summary": "a reply code that is not a number",
  "refs": ["RFC 5321 §4.2"],
  "role": "client",
  "steps": [
    {"recv": {"code": 220}},
    {"send": "NOOP", "recv": {"code": "25x"}}
  ]
}
JSON
# "25x" is on line 8, column 39.
for cmd in run validate; do
	if [ "$cmd" = run ]; then
		hrun "bad-$cmd" run --target "$host:$postfix_port" "$bad"
	else
		hrun "bad-$cmd" validate "$bad"
	fi
	lines=$(wc -l <"$work/bad-$cmd.err")
	if [ "$h_rc" = 2 ] && [ "$lines" = 1 ] &&
		grep -qE "^$bad:[0-9]+:[0-9]+: " "$work/bad-$cmd.err"; then
		ok "malformed scenario ($cmd): exit status 2, one line: $(cat "$work/bad-$cmd.err")"
	else
		not_ok "malformed scenario ($cmd): exit status $h_rc, $lines stderr line(s): $(head -c 300 "$work/bad-$cmd.err")"
	fi
	check "malformed scenario ($cmd): the position is line 8, column 39 (the \"25x\")" \
		grep -q "^$bad:8:39: " "$work/bad-$cmd.err"
done

hrun usage-option run --target "$host:$postfix_port" --no-such-option "$suite"
if [ "$h_rc" = 2 ] && grep -q -- "--no-such-option" "$work/usage-option.err"; then
	ok "usage error (unknown option): exit status 2, the message names the option"
else
	not_ok "usage error (unknown option): exit status $h_rc: $(head -c 200 "$work/usage-option.err")"
fi
hrun usage-target run --target "$host:99999" "$suite"
check "usage error (--target with port 99999): exit status 2 (got $h_rc)" test "$h_rc" = 2
hrun usage-jobs run --target "$host:$postfix_port" --jobs 0 "$suite"
check "usage error (--jobs 0): exit status 2 (got $h_rc)" test "$h_rc" = 2
hrun usage-command no-such-command
check "usage error (unknown command): exit status 2 (got $h_rc)" test "$h_rc" = 2

# ---------------------------------------------------------------- e., f. Postfix again

if [ "$postfix_up" = 0 ]; then
	d=$work/localhost
	mkdir -p "$d"
	hrun localhost run --target "localhost:$postfix_port" --quiet \
		--report "json:$d/report.json" "$suite"
	check "host name target (localhost:$postfix_port): exit status $postfix_exit (got $h_rc, ${h_ms} ms)" \
		test "$h_rc" = "$postfix_exit"
	pycheck verdicts "localhost:$postfix_port" "$d/report.json" "$expected_dir/postfix.json"

	for j in 1 8; do
		d=$work/jobs$j
		mkdir -p "$d"
		hrun "jobs$j" run --target "$host:$postfix_port" --jobs "$j" --quiet \
			--report "json:$d/report.json" "$suite"
		check "postfix --jobs $j: exit status $postfix_exit (got $h_rc, ${h_ms} ms)" \
		    test "$h_rc" = "$postfix_exit"
	done
	pycheck same "postfix --jobs 1 vs --jobs 8" "$work/jobs1/report.json" "$work/jobs8/report.json"
	pycheck verdicts "postfix --jobs 8" "$work/jobs8/report.json" "$expected_dir/postfix.json"
else
	not_ok "host name target, --jobs 1/8: not run (Postfix did not start)"
fi

# ---------------------------------------------------------------- sanitizers

if [ "${#sanitizer_hits[@]}" -eq 0 ]; then
	ok "no sanitizer report in $harness_runs harness runs"
else
	not_ok "sanitizer reports from: ${sanitizer_hits[*]} (see $work/<name>.err)"
fi

echo "# wall time: $((($(date +%s%N) - t_start) / 1000000)) ms"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
