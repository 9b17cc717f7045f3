#!/usr/bin/env bash
# postfix-client.sh - Postfix's own SMTP client under the client scenarios.
#
# Builds a private Postfix instance in a temporary directory (its own
# config_directory, queue, data directory and log; no smtpd listener at
# all), whose relayhost is the harness on 127.0.0.1:PORT, and runs
# the scenarios of scenarios/clients with `smtp-harness run --listen
# 127.0.0.1:PORT --client-cmd '... --send DIR {message}'`. The machine's
# own Postfix configuration (/etc/postfix) is not touched, and nothing is
# started but this instance, which is stopped with `postfix -c DIR stop`
# on every way out (trap).
#
# The client command injects the message with /usr/sbin/sendmail, then
# waits for Postfix's verdict in the instance's log and exits with it:
# 0 when every recipient was "sent" (Postfix took the 250 after the dot as
# handing the message over), 75 when one was "deferred" (kept in the
# queue for a retry: what a 4yz, a dropped connection or a missing reply
# must lead to, RFC 5321 §4.2.5, §6.1), 69 when one "bounced" (a 5yz);
# then it deletes whatever is left in the queue, so that no retry reaches
# the next scenario. Bounces to the sender's domain harness.test are
# discarded (transport_maps), so they never connect to the harness.
#
# The scenarios: all of scenarios/clients, as each shows Postfix's
# behaviour within seconds (one that waited for Postfix's minute-long
# timeouts would have to be left out), then scenarios/clients-queue.
# Then scenarios/clients-tls with smtp_tls_security_level = encrypt.
# Last, scenarios/clients-auth, TLS still required, with SASL credentials
# for the relay host (smtp_sasl_auth_enable, a password map; test values,
# handed to the harness too so that it masks them).
# Verdicts and exit statuses are pinned in expected-clients/postfix.json,
# with the reasons.
#
# Usage: postfix-client.sh                 run the scenarios (needs root)
#        postfix-client.sh --send DIR MSG  (the client command, internal)
# Environment: HARNESS_BIN (default build/smtp-harness),
#   HARNESS_POSTFIX_CLIENT_PORT (default 2540), HARNESS_IT_KEEP=1 keeps
#   the work directory.
# Output: one line per check ("ok - ..." / "not ok - ..."), then
# "N passed, M failed". Exit status 0 when every check passed, else 1.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

# --send DIR MSG: inject MSG into the instance at DIR and exit with its
# fate: the first status of each recipient. --send-final: the last one,
# after Postfix's retries (deferred is not final).
send() {
	local dir=$1 msg=$2 final=$3 log=$1/maillog i n st
	local rcpts=' to=<[bc]@example\.test>,.* status='
	[ "$final" = 1 ] && rcpts=' to=<[bc]@example\.test>,.* status=(sent|bounced)'
	local start
	start=$(stat -c %s "$log" 2>/dev/null || echo 0)
	/usr/sbin/sendmail -i -C "$dir" -f a@harness.test b@example.test c@example.test <"$msg" ||
		exit 2
	# One status line per recipient (not counting the bounce to the
	# sender, discarded); 25 s at most (the scenario waits 30).
	st=""
	for i in $(seq 1 250); do
		n=$(tail -c +"$((start + 1))" "$log" 2>/dev/null | grep -cE "$rcpts")
		if [ "$n" -ge 2 ]; then
			st=$(tail -c +"$((start + 1))" "$log" | grep -E "$rcpts" | grep -o ' status=[a-z]*')
			break
		fi
		sleep 0.1
	done
	postsuper -c "$dir" -d ALL >/dev/null 2>&1
	# Postfix's own words, for the report's client stdout.
	tail -c +"$((start + 1))" "$log" | grep ' to=<[bc]@example\.test>,.* status='
	case "$st" in
	*bounced*) exit 69 ;;
	*deferred*) exit 75 ;;
	*sent*) exit 0 ;;
	*) exit 3 ;;	# no verdict in time
	esac
}
case "${1:-}" in
--send) send "$2" "$3" 0 ;;
--send-final) send "$2" "$3" 1 ;;
esac

bin=${HARNESS_BIN:-$top/build/smtp-harness}
port=${HARNESS_POSTFIX_CLIENT_PORT:-2540}
expected=$here/expected-clients/postfix.json
[ -x "$bin" ] || { echo "postfix-client.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - postfix: must run as root (Postfix needs it)"
	echo "0 passed, 1 failed"
	exit 1
fi
for c in postfix postconf postsuper /usr/sbin/sendmail; do
	command -v "$c" >/dev/null 2>&1 || {
		echo "not ok - postfix: $c not installed (run tests/setup-debian.sh)"
		echo "0 passed, 1 failed"
		exit 1
	}
done

work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-postfix-client.XXXXXX") || exit 1
chmod 755 "$work"
dir=$work/etc
started=0
cleanup() {
	if [ "$started" = 1 ]; then
		postfix -c "$dir" stop >/dev/null 2>&1 ||
			echo "postfix-client.sh: warning: postfix -c $dir stop failed" >&2
	fi
	if [ "${HARNESS_IT_KEEP:-0}" = 1 ]; then
		echo "postfix-client.sh: work directory kept: $work"
	else
		rm -rf -- "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The instance: Debian's master.cf without the smtpd listener, chroot off.
mkdir -p "$dir" "$work/queue" "$work/data"
chown postfix "$work/data"
cp /etc/postfix/master.cf "$dir/master.cf"
cat >"$dir/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $work/queue
data_directory = $work/data
maillog_file = $work/etc/maillog
maillog_file_prefixes = $work
myhostname = client.harness.test
mydomain = harness.test
myorigin = harness.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
alias_database =
relayhost = [127.0.0.1]:$port
transport_maps = inline:{harness.test=discard:}
smtp_tls_security_level = none
smtp_connection_cache_on_demand = no
biff = no
EOF
{
	postconf -c "$dir" -M# smtp/inet &&
	postconf -c "$dir" -F '*/*/chroot = n' &&
	{ postconf -c "$dir" -M postlog/unix-dgram | grep -q . ||
	  postconf -c "$dir" -Me 'postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd'; }
} >/dev/null || { echo "not ok - postfix: could not write the instance's configuration"; exit 1; }
touch "$dir/maillog"
if ! postfix -c "$dir" check >"$work/check.out" 2>&1 ||
    ! postfix -c "$dir" start >"$work/start.out" 2>&1; then
	echo "not ok - postfix: the private instance did not start: $(tail -n 2 "$work/check.out" "$work/start.out" | tr '\n' ' ')"
	echo "0 passed, 1 failed"
	exit 1
fi
started=1

"$bin" run --quiet --listen "127.0.0.1:$port" \
    --client-cmd "bash '$here/postfix-client.sh' --send '$dir' {message}" \
    --report "json:$work/postfix.json" --capture "$work/captures" "$top/scenarios/clients" \
    >"$work/run.out" 2>&1
status=$?
# The retry scenario (scenarios/clients-queue): Postfix's backoff cut to
# seconds, so that it comes back within the scenario's 30 s.
postconf -c "$dir" -e minimal_backoff_time=2s maximal_backoff_time=4s queue_run_delay=1s \
    >/dev/null && postfix -c "$dir" reload >/dev/null 2>&1
"$bin" run --quiet --listen "127.0.0.1:$port" \
    --client-cmd "bash '$here/postfix-client.sh' --send-final '$dir' {message}" \
    --report "json:$work/postfix-retry.json" --capture "$work/captures" \
    "$top/scenarios/clients-queue" >"$work/run-retry.out" 2>&1
status_retry=$?
# The STARTTLS scenarios (scenarios/clients-tls): Postfix told to
# require TLS towards the relay host (smtp_tls_security_level = encrypt;
# "encrypt" verifies no certificate, so the harness's throwaway one does).
postconf -c "$dir" -e smtp_tls_security_level=encrypt >/dev/null &&
    postfix -c "$dir" reload >/dev/null 2>&1
"$bin" run --quiet --listen "127.0.0.1:$port" \
    --client-cmd "bash '$here/postfix-client.sh' --send '$dir' {message}" \
    --report "json:$work/postfix-tls.json" --capture "$work/captures" \
    "$top/scenarios/clients-tls" >"$work/run-tls.out" 2>&1
status_tls=$?
# The AUTH scenarios (scenarios/clients-auth): TLS still required, and
# credentials for the relay host. Postfix's default SASL security options
# refuse plaintext mechanisms even inside TLS (noplaintext); the harness
# offers only PLAIN and LOGIN, so they are allowed here. The backoff goes
# back to Postfix's defaults: a reconnect after a failed AUTH within the
# scenario is then Postfix's own doing, not the shortened queue's.
postconf -c "$dir" -X minimal_backoff_time maximal_backoff_time queue_run_delay >/dev/null
auth_user=harness-user
auth_pass=harness-test-pw
postconf -c "$dir" -e smtp_sasl_auth_enable=yes \
    "smtp_sasl_password_maps = inline:{[127.0.0.1]:$port=$auth_user:$auth_pass}" \
    smtp_sasl_security_options=noanonymous smtp_sasl_tls_security_options=noanonymous \
    >/dev/null && postfix -c "$dir" reload >/dev/null 2>&1
"$bin" run --quiet --listen "127.0.0.1:$port" --var "auth_user=$auth_user" --var "auth_pass=$auth_pass" \
    --client-cmd "bash '$here/postfix-client.sh' --send '$dir' {message}" \
    --report "json:$work/postfix-auth.json" --capture "$work/captures" \
    "$top/scenarios/clients-auth" >"$work/run-auth.out" 2>&1
status_auth=$?
if [ ! -s "$work/postfix.json" ] || [ ! -s "$work/postfix-retry.json" ] ||
    [ ! -s "$work/postfix-tls.json" ] || [ ! -s "$work/postfix-auth.json" ]; then
	echo "not ok - postfix: no JSON report (exit $status, $status_retry, $status_tls, $status_auth): $(tail -n 1 "$work/run.out" "$work/run-retry.out" "$work/run-tls.out" "$work/run-auth.out" | tr '\n' ' ')"
	echo "0 passed, 1 failed"
	exit 1
fi
/usr/bin/python3 - "$work/postfix.json" "$expected" "$status" "$work/postfix-retry.json" "$status_retry" \
    "$work/postfix-tls.json" "$status_tls" "$work/postfix-auth.json" "$status_auth" <<'PY' | tee "$work/lines.txt"
import json, sys
report, expected_file, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
retry, status_retry = sys.argv[4], int(sys.argv[5])
tls, status_tls = sys.argv[6], int(sys.argv[7])
auth, status_auth = sys.argv[8], int(sys.argv[9])
got = json.load(open(report, encoding="utf-8"))
got_retry = json.load(open(retry, encoding="utf-8"))
got_tls = json.load(open(tls, encoding="utf-8"))
got_auth = json.load(open(auth, encoding="utf-8"))
want = json.load(open(expected_file, encoding="utf-8"))
seen = set()
for sc in got["scenarios"] + got_retry["scenarios"] + got_tls["scenarios"] + got_auth["scenarios"]:
    sid = sc["id"]
    seen.add(sid)
    exp = want["scenarios"].get(sid)
    cl = sc.get("client") or {}
    line = "postfix %s: %s (client exit %s)" % (sid, sc["verdict"], cl.get("exit_status"))
    if exp is None:
        print("not ok - %s, not in %s" % (line, expected_file))
    elif exp["verdict"] != sc["verdict"] or exp.get("client_exit") != cl.get("exit_status"):
        why = "; ".join(f["message"] for f in sc["findings"])[:300] or sc.get("reason") or ""
        print("not ok - %s, expected %s (client exit %s): %s" %
              (line, exp["verdict"], exp.get("client_exit"), why))
    else:
        print("ok - " + line)
for sid in sorted(set(want["scenarios"]) - seen):
    print("not ok - postfix %s: expected in the run, not run" % sid)
for what, st, key in (("", status, "exit_status"), (" (clients-queue)", status_retry, "exit_status_queue"),
                      (" (clients-tls)", status_tls, "exit_status_tls"),
                      (" (clients-auth)", status_auth, "exit_status_auth")):
    want_status = want.get(key)
    if want_status is not None:
        print("%s - postfix: harness exit status%s %d (expected %d)" %
              ("ok" if want_status == st else "not ok", what, st, want_status))
PY
passed=$(grep -c '^ok - ' "$work/lines.txt")
failed=$(grep -c '^not ok - ' "$work/lines.txt")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
