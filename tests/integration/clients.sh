#!/usr/bin/env bash
# clients.sh - integration tests of the server role against real SMTP clients.
#
# Runs the server-role scenarios of scenarios/clients against each client
# under test -- swaks, Python's smtplib (Debian's /usr/bin/python3), curl,
# msmtp, and swaks once more with the bare command (no --from,
# no {message}: swaks sends its own message) -- and the STARTTLS scenarios
# of scenarios/clients-tls against the same four told to require TLS
# (swaks-tls, smtplib-tls, curl-tls, msmtp-tls) -- and scenarios/clients-inject
# against the four handed a recipient with CR LF in it (*-inject),
# scenarios/clients-utf8 with a UTF-8 one (*-utf8), and scenarios/clients-auth
# against the four told to require TLS and given credentials (*-auth; test
# values, masked in the reports) -- with `smtp-harness run
# --client-cmd`, and compares every verdict and the client's exit status
# with expected-clients/<client>.json (which says why, per scenario, by
# the RFCs). The clients run at the same time, each its own harness on
# its own ports, so the slowest client sets the time (about 55 s). The harness listens on 127.0.0.1 on
# ephemeral ports only; it starts each client itself and kills it at the
# scenario's deadline, so nothing is left running. A client that is not
# installed is reported as "not ok" (tests/setup-debian.sh installs them).
#
# Then the harness's own client role misbehaving on purpose against
# server-role scenarios: each must draw the passive check's finding
# (misbehave/expected.json).
#
# One line per check ("ok - ..." / "not ok - ..."), then "N passed, M failed".
# Environment: HARNESS_BIN (default build/smtp-harness); HARNESS_IT_KEEP=1
# keeps the work directory (reports, captures, received messages).
# Exit status: 0 when every check passed, 1 otherwise.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${HARNESS_BIN:-$top/build/smtp-harness}
expected_dir=$here/expected-clients

[ -x "$bin" ] || { echo "clients.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-clients.XXXXXX") || exit 1
cleanup() {
	if [ "${HARNESS_IT_KEEP:-0}" = 1 ]; then
		echo "clients.sh: work directory kept: $work"
	else
		rm -rf -- "$work"
	fi
}
trap cleanup EXIT

# The recipient the *-inject clients are handed: CR LF and a second RCPT in
# it, as /bin/sh builds it when it runs the command; the *-utf8 clients:
# a UTF-8 local part.
# shellcheck disable=SC2016
inject_rcpt='"$(printf '\''b@example.test>\r\nRCPT TO:<x@example.test'\'')"'
utf8_rcpt='usér@example.test'

# The command each client runs; the harness fills in {host} {port} {message}.
# Each names its EHLO domain: by default swaks sends the host's name (a
# single label on many test machines, which RFC 5321 §2.3.5 forbids as a
# local alias) and curl the URL's path (without one, the upload file's
# name), so the verdict would depend on the machine.
client_cmd() {
	case "$1" in
	swaks)
		echo 'swaks --server {host}:{port} --helo client.harness.test --from a@harness.test --to b@example.test,c@example.test --data @{message} --pipeline --timeout 10'
		;;
	smtplib)
		# "with" sends QUIT however sendmail ends (the documented use).
		echo '/usr/bin/python3 -c "import smtplib, sys
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10) as s: s.sendmail(\"a@harness.test\", [\"b@example.test\", \"c@example.test\"], open(sys.argv[3], \"rb\").read())" {host} {port} {message}'
		;;
	curl)
		echo 'curl -sS --max-time 20 smtp://{host}:{port}/client.harness.test --mail-from a@harness.test --mail-rcpt b@example.test --mail-rcpt c@example.test --upload-file {message}'
		;;
	msmtp)
		# By default msmtp adds From, Date and Message-ID to a message
		# that lacks them (allowed for a submission client, RFC 6409 §8);
		# switched off so that the message arrives as given.
		# Its default EHLO argument is "localhost", not a fully-qualified
		# name (rfc5321.4.1.1.1.ehlo-argument would FAIL every scenario);
		# --domain gives it one, as --helo does for swaks.
		echo 'msmtp --host={host} --port={port} --domain=client.harness.test --from=a@harness.test --auth=off --tls=off --set-from-header=off --set-date-header=off --set-msgid-header=off b@example.test c@example.test < {message}'
		;;
	swaks-default)
		# The bare command: swaks picks its own sender and message (no {message}).
		echo 'swaks --server {host}:{port} --to b@y.test'
		;;
	# The *-tls clients run scenarios/clients-tls, each told to require
	# STARTTLS and not to verify the harness's throwaway certificate.
	swaks-tls)
		echo 'swaks --server {host}:{port} --helo client.harness.test --from a@harness.test --to b@example.test,c@example.test --data @{message} --pipeline --tls --timeout 10'
		;;
	smtplib-tls)
		# starttls() with no context verifies nothing; it raises when
		# STARTTLS is not offered or not answered 220.
		echo '/usr/bin/python3 -c "import smtplib, sys
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10) as s: s.starttls(); s.sendmail(\"a@harness.test\", [\"b@example.test\", \"c@example.test\"], open(sys.argv[3], \"rb\").read())" {host} {port} {message}'
		;;
	curl-tls)
		echo 'curl -sS --max-time 20 --ssl-reqd -k smtp://{host}:{port}/client.harness.test --mail-from a@harness.test --mail-rcpt b@example.test --mail-rcpt c@example.test --upload-file {message}'
		;;
	msmtp-tls)
		echo 'msmtp --host={host} --port={port} --domain=client.harness.test --from=a@harness.test --auth=off --tls=on --tls-starttls=on --tls-certcheck=off --set-from-header=off --set-date-header=off --set-msgid-header=off b@example.test c@example.test < {message}'
		;;
	# The *-inject and *-utf8 clients run scenarios/clients-inject and
	# scenarios/clients-utf8, one recipient each (RFC 5321 §2.3.8, RFC
	# 6531 §3.2).
	swaks-inject | swaks-utf8)
		printf '%s\n' "swaks --server {host}:{port} --helo client.harness.test --from a@harness.test --to $(bad_rcpt "$1") --data @{message} --timeout 10"
		;;
	smtplib-inject | smtplib-utf8)
		printf '%s %s\n' '/usr/bin/python3 -c "import smtplib, sys
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10) as s: s.sendmail(\"a@harness.test\", [sys.argv[4]], open(sys.argv[3], \"rb\").read())" {host} {port} {message}' "$(bad_rcpt "$1")"
		;;
	curl-inject | curl-utf8)
		printf '%s\n' "curl -sS --max-time 20 smtp://{host}:{port}/client.harness.test --mail-from a@harness.test --mail-rcpt $(bad_rcpt "$1") --upload-file {message}"
		;;
	# The *-auth clients run scenarios/clients-auth: STARTTLS required,
	# as for the *-tls ones, and credentials (RFC 4954).
	swaks-auth)
		echo "swaks --server {host}:{port} --helo client.harness.test --from a@harness.test --to b@example.test,c@example.test --data @{message} --tls --auth --auth-user $auth_user --auth-password $auth_pass --timeout 10"
		;;
	smtplib-auth)
		printf '%s %s %s\n' '/usr/bin/python3 -c "import smtplib, sys
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10) as s: s.starttls(); s.login(sys.argv[4], sys.argv[5]); s.sendmail(\"a@harness.test\", [\"b@example.test\", \"c@example.test\"], open(sys.argv[3], \"rb\").read())" {host} {port} {message}' "$auth_user" "$auth_pass"
		;;
	curl-auth)
		echo "curl -sS --max-time 20 --ssl-reqd -k --user $auth_user:$auth_pass smtp://{host}:{port}/client.harness.test --mail-from a@harness.test --mail-rcpt b@example.test --mail-rcpt c@example.test --upload-file {message}"
		;;
	msmtp-auth)
		echo "msmtp --host={host} --port={port} --domain=client.harness.test --from=a@harness.test --auth=on --user=$auth_user --passwordeval='echo $auth_pass' --tls=on --tls-starttls=on --tls-certcheck=off --set-from-header=off --set-date-header=off --set-msgid-header=off b@example.test c@example.test < {message}"
		;;
	msmtp-inject | msmtp-utf8)
		printf '%s\n' "msmtp --host={host} --port={port} --domain=client.harness.test --from=a@harness.test --auth=off --tls=off --set-from-header=off --set-date-header=off --set-msgid-header=off $(bad_rcpt "$1") < {message}"
		;;
	esac
}

# The credentials the *-auth clients are given: test values, also handed
# to the harness (--var auth_user, auth_pass) so that it masks them in the
# client's command line and output, as it masks what the client sends.
auth_user=harness-user
auth_pass=harness-test-pw

bad_rcpt() {
	case "$1" in
	*-inject) printf '%s' "$inject_rcpt" ;;
	*-utf8) printf '%s' "$utf8_rcpt" ;;
	esac
}

client_tool() {
	case "$1" in
	swaks*) echo swaks ;;
	msmtp*) echo msmtp ;;
	smtplib*) echo /usr/bin/python3 ;;
	curl*) echo curl ;;
	esac
}

# One harness run per client, all at once; then the verdicts, in order.
# swaks without --helo says EHLO with the machine's host name, and whether
# that is a fully-qualified name (RFC 5321 §2.3.5, §4.1.4) depends on the
# machine ("vm" is not, and would FAIL every scenario under
# rfc5321.4.1.1.1.ehlo-argument, rightly). So the bare command runs in a
# UTS namespace of its own named client.harness.test: the same verdicts on
# every machine. The namespace goes away with the harness.
in_named_uts() {
	unshare --uts sh -c 'hostname client.harness.test && exec "$@"' sh "$@"
}

run_one() {
	local wrap='' dir=$top/scenarios/clients
	local -a vars=()
	[ "$1" = swaks-default ] && wrap=in_named_uts
	case "$1" in
	*-tls) dir=$top/scenarios/clients-tls ;;
	*-auth)
		dir=$top/scenarios/clients-auth
		vars=(--var "auth_user=$auth_user" --var "auth_pass=$auth_pass")
		;;
	*-inject) dir=$top/scenarios/clients-inject ;;
	*-utf8) dir=$top/scenarios/clients-utf8 ;;
	esac
	$wrap "$bin" run --jobs 4 --quiet "${vars[@]}" --client-cmd "$(client_cmd "$1")" \
	    --report "json:$work/$1.json" --report "junit:$work/$1.xml" \
	    --capture "$work/$1-captures" "$dir" \
	    >"$work/$1.out" 2>&1
	echo $? >"$work/$1.status"
}

run_clients() {
clients="swaks smtplib curl msmtp swaks-default swaks-tls smtplib-tls curl-tls msmtp-tls
	swaks-inject smtplib-inject curl-inject msmtp-inject
	swaks-utf8 smtplib-utf8 curl-utf8 msmtp-utf8
	swaks-auth smtplib-auth curl-auth msmtp-auth"
pids=""
for client in $clients; do
	tool=$(client_tool "$client")
	if command -v "$tool" >/dev/null 2>&1; then
		run_one "$client" &
		pids="$pids $!"
	fi
done
for pid in $pids; do
	wait "$pid"
done
for client in $clients; do
	tool=$(client_tool "$client")
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "not ok - $client: $tool not installed (run tests/setup-debian.sh)"
		continue
	fi
	report=$work/$client.json
	status=$(cat "$work/$client.status" 2>/dev/null || echo 2)
	if [ ! -s "$report" ]; then
		echo "not ok - $client: no JSON report (exit $status): $(tail -n 1 "$work/$client.out")"
		continue
	fi
	# One line per scenario: "ok|not ok - client scenario: ..."
	/usr/bin/python3 - "$report" "$expected_dir/$client.json" "$client" "$status" <<'PY'
import json, sys
report, expected_file, client, status = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
got = json.load(open(report, encoding="utf-8"))
want = json.load(open(expected_file, encoding="utf-8"))
seen = set()
for sc in got["scenarios"]:
    sid = sc["id"]
    seen.add(sid)
    exp = want["scenarios"].get(sid)
    cl = sc.get("client") or {}
    line = "%s %s: %s (client exit %s)" % (client, sid, sc["verdict"], cl.get("exit_status"))
    if exp is None:
        print("not ok - %s, not in %s" % (line, expected_file))
    elif exp["verdict"] != sc["verdict"]:
        why = "; ".join(f["message"] for f in sc["findings"])[:300] or sc.get("reason") or ""
        print("not ok - %s, expected %s: %s" % (line, exp["verdict"], why))
    else:
        print("ok - " + line)
for sid in sorted(set(want["scenarios"]) - seen):
    print("not ok - %s %s: expected in the run, not run" % (client, sid))
want_status = want.get("exit_status")
if want_status is not None:
    print("%s - %s: harness exit status %d (expected %d)" %
          ("ok" if want_status == status else "not ok", client, status, want_status))
PY
done
}

# The harness's own client role as a client that breaks the rules on
# purpose (tests/integration/misbehave/client.*.json): the server-role run
# must report exactly the findings listed in misbehave/expected.json, so
# a passive client check that stops seeing its offence fails here.
run_misbehaving() {
	local mis=$here/misbehave case server client args
	for case in $(/usr/bin/python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["cases"]))' "$mis/expected.json"); do
		server=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["cases"][sys.argv[2]]["server"])' "$mis/expected.json" "$case")
		# "client": the client-role file(s), run in order (default
		# client.<case>.json); "client_args": e.g. --var message={message},
		# so that the server role knows the client was handed the message
		client=$(/usr/bin/python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["cases"][sys.argv[2]].get("client", "client.%s.json" % sys.argv[2])
print(" ".join(sys.argv[3] + "/" + f for f in ([c] if isinstance(c, str) else c)))' "$mis/expected.json" "$case" "$mis")
		args=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["cases"][sys.argv[2]].get("client_args", ""))' "$mis/expected.json" "$case")
		"$bin" run --quiet --client-cmd "$bin run --quiet $args --target {host}:{port} $client" \
		    --report "json:$work/misbehave-$case.json" "$top/$server" >"$work/misbehave-$case.out" 2>&1
		if [ ! -s "$work/misbehave-$case.json" ]; then
			echo "not ok - misbehaving client $case: no JSON report: $(tail -n 1 "$work/misbehave-$case.out")"
			continue
		fi
		/usr/bin/python3 - "$work/misbehave-$case.json" "$mis/expected.json" "$case" <<'PY'
import json, sys
report, expected_file, case = sys.argv[1:4]
want = json.load(open(expected_file, encoding="utf-8"))["cases"][case]
sc = json.load(open(report, encoding="utf-8"))["scenarios"][0]
got = sorted((f["check"], f["verdict"]) for f in sc["findings"])
exp = sorted(tuple(x) for x in want["findings"])
ev = all(f.get("evidence") for f in sc["findings"] if f["check"] in {e[0] for e in exp})
if got == exp and sc["verdict"] == want["verdict"] and ev:
    print("ok - misbehaving client %s: %s %s" % (case, sc["verdict"], ", ".join("%s %s" % g for g in got)))
else:
    print("not ok - misbehaving client %s: expected %s %s, got %s %s%s" % (case, want["verdict"], exp,
          sc["verdict"], got, "" if ev else " (a finding without evidence)"))
PY
	done
}

{ run_clients; run_misbehaving; } 2>&1 | tee "$work/lines.txt"
passed=$(grep -c '^ok - ' "$work/lines.txt")
failed=$(grep -c '^not ok - ' "$work/lines.txt")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
