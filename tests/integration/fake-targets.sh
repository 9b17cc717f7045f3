#!/bin/bash
# fake-targets.sh - conformance scenarios against stand-in servers that give
# one chosen reply, to show that each scenario catches the deviation it is
# about and passes the replies the RFC allows.
#
# Each stand-in is a server-role scenario of tests/integration/fake-targets
# (the harness playing a server: `run --listen`), and the scenario under
# test runs against it with `run --target`:
#
#   session.vrfy-reply-form          250 with a bare name: FAIL; a source
#                                    route: FAIL; "Name <local@domain>" or a
#                                    bare local@domain: PASS; 252: PASS
#                                    (RFC 5321 §3.5.1, §3.5.2); 500 (VRFY
#                                    not known): SKIP, session.vrfy judges it
#   session.vrfy                     421 to the second VRFY, then the close:
#                                    WARN for the 421, INFO for the close
#                                    that RFC 5321 §3.8 allows, no FAIL
#   starttls.required-530            a server that insists on TLS and
#                                    refuses NOOP too: WARN (RFC 3207 §4)
#   limits.too-many-recipients-452   452 past the 1000th RCPT: PASS without
#                                    a finding; 552: WARN under the row
#                                    (RFC 5321 §4.5.3.1.10)
#   limits.orderly-defence           every RCPT 550 and a 421 at the 20th,
#                                    then the close: INFO for the close,
#                                    INFO under §7.8; six 550s, then a
#                                    close without 421: the same (a close
#                                    §7.8 allows); two 550s, then a close:
#                                    the silent close FAILs (§3.8)
#
# The stand-in's own run must end normally too, with its summary line,
# not abort.
#
# Prints "ok - ..." / "not ok - ..." per check and "N passed, M failed";
# exits 1 when any check failed. Environment: HARNESS_BIN (default
# build/smtp-harness), FAKE_PORT (default 2940).

set -uo pipefail
harness_prog="fake-targets.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$top/tests/integration/lib.sh"

bin=${HARNESS_BIN:-$top/build/smtp-harness}
py=/usr/bin/python3
port=${FAKE_PORT:-2940}
fakes=$top/tests/integration/fake-targets
suite=$top/scenarios/conformance

[ -x "$bin" ] || harness_die "$bin not found (build first, or set HARNESS_BIN)"
[ -x "$py" ] || harness_die "$py not found (run tests/setup-debian.sh)"
harness_check_port "$port"
port_open 127.0.0.1 "$port" && harness_die "127.0.0.1:$port is already in use"

work=$(mktemp -d /tmp/smtp-harness-fake-targets.XXXXXX)
cleanup() {
	rm -rf "$work"
}
harness_on_exit cleanup

# case FAKE SCENARIO VERDICT [CHECK:FINDING-VERDICT]: runs the stand-in
# FAKE.json and SCENARIO against it; the scenario's verdict must be
# VERDICT, and its findings exactly the one given (or none).
case_() {
	local fake=$1 scn=$2 want=$3 want_finding=${4:-} srv_pid got srv_rc
	"$bin" run --listen "127.0.0.1:$port" "$fakes/$fake.json" >"$work/$fake.srv" 2>&1 &
	srv_pid=$!
	# The stand-in expects exactly one connection: wait for its
	# "listening on" line rather than probing the port.
	for _ in $(seq 1 100); do
		grep -q 'listening on' "$work/$fake.srv" 2>/dev/null && break
		sleep 0.1
	done
	if ! grep -q 'listening on' "$work/$fake.srv" 2>/dev/null; then
		kill "$srv_pid" 2>/dev/null
		wait "$srv_pid" 2>/dev/null
		harness_not_ok "$fake: the stand-in listens on $port ($(tail -n 1 "$work/$fake.srv"))"
		return
	fi
	"$bin" run --target "127.0.0.1:$port" --report "json:$work/$fake.json" "$suite/$scn" \
		>"$work/$fake.out" 2>&1
	wait "$srv_pid"
	srv_rc=$?
	got=$("$py" -c 'import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
print(s["verdict"], *sorted("%s:%s" % (f["check"], f["verdict"]) for f in s["findings"]))' \
		"$work/$fake.json" 2>/dev/null)
	if [ "$got" = "$want${want_finding:+ $want_finding}" ]; then
		harness_ok "$fake: ${scn%.json} is $want${want_finding:+ with $want_finding}"
	else
		harness_not_ok "$fake: ${scn%.json} is $want${want_finding:+ with $want_finding}, got \"$got\""
	fi
	# The stand-in judges the harness's client, which drops the
	# connection after a FAIL without QUIT: its verdict varies, but its
	# run must end with its summary, not abort.
	if { [ "$srv_rc" = 0 ] || [ "$srv_rc" = 1 ]; } &&
		tail -n 1 "$work/$fake.srv" | grep -q '^[0-9]* passed, [0-9]* failed'; then
		harness_ok "$fake: the stand-in's own run ends with its summary (exit $srv_rc)"
	else
		harness_not_ok "$fake: the stand-in's own run ends with its summary, got exit $srv_rc: $(tail -n 1 "$work/$fake.srv")"
	fi
}

vrfy=session/vrfy-reply-form.json
case_ vrfy-bare-name "$vrfy" FAIL rfc5321.3.5.1.vrfy-reply-form:FAIL
case_ vrfy-source-route "$vrfy" FAIL rfc5321.3.5.1.vrfy-reply-form:FAIL
case_ vrfy-mailbox "$vrfy" PASS
case_ vrfy-bare-mailbox "$vrfy" PASS
case_ vrfy-252 "$vrfy" PASS
case_ vrfy-500 "$vrfy" SKIP
case_ vrfy-421 session/vrfy.json PASS "rfc5321.3.5.3.vrfy-truthful:WARN rfc5321.3.8.close-only-when-allowed:INFO"
case_ tls-required-noop-530 starttls/required-530.json PASS "rfc3207.4.required-530:WARN"
rcpt=limits/too-many-recipients-452.json
case_ rcpt-limit-452 "$rcpt" PASS
case_ rcpt-limit-552 "$rcpt" PASS "rfc5321.4.5.3.1.10.too-many-452:WARN rfc5321.4.5.3.1.10.too-many-452:WARN rfc5321.4.5.3.1.10.too-many-452:WARN rfc5321.4.5.3.1.10.too-many-452:WARN rfc5321.4.5.3.1.10.too-many-452:WARN"
defence=limits/orderly-defence.json
case_ defence-421 "$defence" PASS "rfc5321.3.8.close-only-when-allowed:INFO rfc5321.7.8.orderly-defence:INFO"
case_ defence-close "$defence" PASS "rfc5321.3.8.close-only-when-allowed:INFO rfc5321.7.8.orderly-defence:INFO"
case_ defence-silent "$defence" FAIL "rfc5321.3.8.close-only-when-allowed:FAIL rfc5321.4.2.one-reply-per-command:FAIL"

harness_summary
