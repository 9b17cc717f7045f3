#!/usr/bin/env bash
# Sets up a Debian 12 machine and runs every test of smtp-harness:
#   1. installs what the build and the tests need (tests/setup-debian.sh)
#   2. builds, and runs the unit tests (CTest)
#   3. builds with ASan+UBSan, and runs the unit tests again
#   4. integration, all with the sanitized binary: the suite against real
#      servers on loopback (Postfix, smtp-sink, aiosmtpd; then Exim,
#      OpenSMTPD, smtp-server and Haraka through tests/matrix.sh --check);
#      the reference server against real clients;
#      server-role scenarios against real clients (swaks, smtplib, curl,
#      msmtp, the harness itself misbehaving, and Postfix's own SMTP client
#      in a private instance); random faults repeated by seed; the delivery
#      oracle reading back what serve, aiosmtpd and a private Postfix
#      delivered (and failing a server that loses mail); the fake DNS
#      against dig; a private Postfix relaying through the fake DNS to the
#      server role, all in a network namespace the harness makes and
#      removes (also on SIGINT and SIGKILL); the relay scenarios against
#      that Postfix and against Exim, each verdict asserted; baselines and diff against
#      smtp-sink and the reference server; HTML reports rendered by headless
#      Chromium (the screenshot is kept as build-asan/html-report.png);
#      progress and colour on a terminal; `audit` of a tcpdump capture of a
#      live run and of the harness's own captures, against the live run's
#      verdicts; the probe console against the reference server and
#      smtp-sink; `load` against smtp-sink and the reference server,
#      counted on both sides (LOAD_SOAK_SECONDS, default 0, adds a soak of
#      the load against smtp-sink; --nightly runs one as a phase of its
#      own, see 6); `import` and `replay`
#      of tcpdump captures against the same and a differently configured
#      server, and with two private Postfix instances, audit, import and
#      replay of a capture of a run against one of them; the capture
#      fixtures (tests/fixtures) taken afresh and audited as committed; `run --capture-iface lo` recording the run's own sessions
#      live, and its one line of warning without the privilege
#   5. fuzz: each libFuzzer target for FUZZ_SECONDS (default 30) on its corpus
#   6. only with --nightly (or HARNESS_NIGHTLY=1), not in the default run:
#      a soak of `load` against smtp-sink for LOAD_SOAK_SECONDS (default
#      240 here) and the timeouts scenarios' full mode
#      (scenarios/timeouts/server-idle-5min.json, about 10 minutes, started
#      at the beginning of this step so it overlaps the soak) against the
#      reference server, both with the sanitized binary; about 10 more
#      minutes in all
# Ends with one line "N passed, M failed" counting the phases above.
#
# Usage: tests/run-all.sh [--nightly]
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${FUZZ_SECONDS:-30}
nightly=${HARNESS_NIGHTLY:-0}
for arg in "$@"; do
	case $arg in
	--nightly) nightly=1 ;;
	*) echo "run-all.sh: unknown argument '$arg' (expected --nightly)" >&2; exit 2 ;;
	esac
done
case $nightly in
0|1) ;;
*) echo "run-all.sh: HARNESS_NIGHTLY is '$nightly', expected 0 or 1" >&2; exit 2 ;;
esac
# The default run's load phase soaks only when asked to; a nightly run
# soaks in a phase of its own.
load_soak=${LOAD_SOAK_SECONDS:-0}
nightly_soak=${LOAD_SOAK_SECONDS:-240}
[ "$nightly" = 1 ] && load_soak=0
passed=0
failed=0
failed_names=()

phase() {
	local name=$1 t0=$SECONDS
	shift
	echo "=== $name"
	if "$@"; then
		echo "=== $name: ok ($((SECONDS - t0)) s)"
		passed=$((passed + 1))
	else
		echo "=== $name: FAILED ($((SECONDS - t0)) s)"
		failed=$((failed + 1))
		failed_names+=("$name")
	fi
}

build() {
	local dir=$1
	shift
	cmake -S "$top" -B "$top/$dir" "$@" >/dev/null &&
		cmake --build "$top/$dir" -j "$jobs" -- --no-print-directory >/dev/null
}

unit() {
	local dir=$1
	(cd "$top/$dir" && ctest --output-on-failure -j "$jobs")
}

# ctest with the sanitizers' options: leaks reported, UB fatal.
unit_sanitized() {
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 unit "$@"
}

# One fuzz target on a copy of its seed corpus; its log in build-fuzz/.
fuzz_one() {
	local t=$1 name=${1##*/fuzz_} work rc
	local corpus="$top/tests/fuzz/corpus/$name"
	[ -d "$corpus" ] || { echo "fuzz_$name: no seed corpus at $corpus"; return 1; }
	work=$(mktemp -d)
	cp -r "$corpus/." "$work/"
	"$t" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$top/build-fuzz/crash-$name-" "$work" >"$top/build-fuzz/fuzz-$name.log" 2>&1
	rc=$?
	rm -rf "$work"
	if [ "$rc" -ne 0 ]; then
		echo "fuzz_$name: FAILED (see build-fuzz/fuzz-$name.log)"
		tail -n 30 "$top/build-fuzz/fuzz-$name.log"
		return 1
	fi
	echo "fuzz_$name: ${fuzz_seconds}s, no crash"
}

# Every target for FUZZ_SECONDS each, as many at once as there are CPUs.
fuzz_all() {
	local ok=0 t pids=() names=() i
	ls "$top"/build-fuzz/tests/fuzz_* >/dev/null 2>&1 || { echo "no fuzz targets were built"; return 1; }
	for t in "$top"/build-fuzz/tests/fuzz_*; do
		[ -x "$t" ] || continue
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
			wait -n
		done
		fuzz_one "$t" &
		pids+=($!)
		names+=("${t##*/}")
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { echo "${names[$i]}: failed"; ok=1; }
	done
	return $ok
}

phase "setup" bash tests/setup-debian.sh
phase "build" build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHARNESS_WERROR=ON
phase "unit tests" unit build
phase "build (asan+ubsan)" build build-asan -DCMAKE_BUILD_TYPE=Debug -DHARNESS_SANITIZE=ON -DHARNESS_WERROR=ON
phase "unit tests (asan+ubsan)" unit_sanitized build-asan
phase "integration (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/run.sh
phase "integration: the suite against Exim, OpenSMTPD, smtp-server and Haraka (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/matrix.sh --check --no-write exim opensmtpd nodemailer haraka
phase "integration: reference server and real clients (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/serve.sh
phase "integration: server role against real clients (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/clients.sh
phase "integration: random faults repeat by seed (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/faults.sh
phase "integration: the delivery oracle against serve, aiosmtpd and a private Postfix (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/oracle.sh
phase "integration: Postfix's SMTP client against the server role (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/postfix-client.sh
phase "integration: fake DNS against dig (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/dns.sh
phase "integration: relay through a fake MX in a network namespace, with Postfix (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/netns.sh
phase "integration: relay scenarios against Postfix: fake DNS, MX hosts, checks (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/relay.sh
phase "integration: relay scenarios against Exim: fake DNS, MX hosts, checks (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/relay-exim.sh
phase "integration: baselines and diff (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/reports.sh
phase "integration: HTML reports in headless Chromium (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/html.sh
phase "integration: progress and colour on a terminal (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/terminal.sh
phase "integration: audit of tcpdump's and the harness's captures (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/audit.sh
phase "integration: the probe console (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/console.sh
phase "integration: load counts what smtp-sink and the reference server counted (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	LOAD_SOAK_SECONDS="$load_soak" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/load.sh
phase "integration: import and replay of tcpdump's captures (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/replay.sh
phase "integration: capture, audit and replay against private Postfix instances (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/replay-postfix.sh
phase "integration: the capture fixtures taken afresh from Postfix and aiosmtpd (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/fixtures/capture.sh --check
phase "integration: live capture of the run's own traffic on lo (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/live-capture.sh
phase "integration: AUTH scenarios against aiosmtpd and a private Postfix with sasldb (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/auth.sh
phase "integration: timeout scenarios, fast mode, against smtplib (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/timeouts.sh
phase "integration: scenarios against stand-in servers with one chosen reply (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	bash tests/integration/fake-targets.sh
phase "build (fuzz)" build build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DHARNESS_FUZZ=ON
phase "fuzz" fuzz_all

# ---- nightly only
timeouts_pid=
timeouts_log=$top/build-asan/nightly-timeouts.log

# The full-mode timeouts scenario against the reference server (`run`
# with no --target starts it), in the background; at most 15 minutes, as
# its deadline_ms says.
timeouts_start() {
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		timeout -k 10 960 "$top/build-asan/smtp-harness" run \
		"$top/scenarios/timeouts/server-idle-5min.json" >"$timeouts_log" 2>&1 &
	timeouts_pid=$!
}

# Its verdict: exit 0, and the one scenario passed with no warning (the
# reference server keeps an idle session for 5 minutes).
timeouts_wait() {
	local rc
	[ -n "$timeouts_pid" ] || { echo "the timeouts scenario was not started"; return 1; }
	wait "$timeouts_pid"
	rc=$?
	cat "$timeouts_log"
	if grep -q 'Sanitizer\|runtime error\|internal error' "$timeouts_log"; then
		echo "sanitizer or internal error (see $timeouts_log)"
		return 1
	fi
	[ "$rc" -eq 0 ] || { echo "exit $rc, expected 0"; return 1; }
	grep -q '^1 scenario: 1 passed, 0 failed, 0 errors, 0 skipped, 0 warnings$' "$timeouts_log" ||
		{ echo "expected 1 scenario passed with no warning"; return 1; }
}

if [ "$nightly" = 1 ]; then
	timeouts_start
	phase "nightly: load soak of $nightly_soak s against smtp-sink (asan+ubsan)" env HARNESS_BIN="$top/build-asan/smtp-harness" \
		LOAD_SOAK_SECONDS="$nightly_soak" \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		bash tests/integration/load.sh
	phase "nightly: timeouts full mode, 5 minutes idle, against the reference server (asan+ubsan)" timeouts_wait
fi

echo
if [ "$failed" -gt 0 ]; then
	echo "failed phases: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
