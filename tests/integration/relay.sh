#!/usr/bin/env bash
# relay.sh - `smtp-harness relay`: the relay scenarios of scenarios/relay
# against a private Postfix instance, in network namespaces the harness
# makes and removes.
#
# The instance (its own config_directory, queue, data directory and log
# in a temporary directory; smtpd only on the namespace's 127.0.0.1:25;
# chroot off; the machine's
# /etc/postfix and its running Postfix are not touched) is the MTA under
# test. For each scenario `smtp-harness relay` makes a namespace, serves
# the scenario's zone on 127.0.0.1:53 inside it on its own loop, plays
# the scenario's hosts on 127.0.0.x:25, starts the instance there with a
# fresh queue (--target-cmd), submits the message with sendmail inside
# the namespace, and judges what the hosts saw. The instance retries
# deferred mail after about 2 s (queue_run_delay 1s, minimal_backoff_time
# 2s) so that the retry scenarios end in seconds.
#
# Checks: every scenario of scenarios/relay passes against Postfix (a
# conformant MTA gets no FAIL), with the rows' catalog ids in the JSON
# report and the fake DNS's queries in its timeline (a WARN, a SHOULD
# Postfix does not follow, is shown as a "#" line). Then the same
# instance made to misbehave where a setting can: with the domain's own
# address as smtp_fallback_relay the no-apex row FAILs; with
# always_add_missing_headers the relay-no-fixups row FAILs; with
# smtp_discard_ehlo_keywords = dsn the DSN-parameter row FAILs; with
# soft_bounce (a 5yz kept as a 4yz, no notice) the bounce row FAILs;
# with a recipient_canonical_maps that strips +tags the local-part row
# FAILs; with ignore_mx_lookup_error (a SERVFAIL on the MX read as no
# MX) and with the fallback host as smtp_fallback_relay (an NXDOMAIN
# domain relayed there) the DNS-error rows FAIL; with soft_bounce the
# rows of recipients refused after acceptance (all-or-nothing, NOTIFY
# rules, a hop without DSN) FAIL and the RET/ENVID row WARNs.
# A run interrupted by SIGINT leaves nothing behind either. Two
# scenarios in one `run --netns`, the harness's own client submitting
# (--submit-smtp), PASS in one report. After every run no namespace,
# /etc/netns entry or instance process is left.
#
# Usage: relay.sh [SCENARIO.json...]   (default: scenarios/relay/*.json)
# Environment: HARNESS_BIN (default build/smtp-harness), HARNESS_IT_KEEP=1
#   keeps the work directory.
# Output: "ok - ..." / "not ok - ..." per check, then "N passed, M
# failed"; exit status 0 when every check passed, else 1. Stops only what
# it started, by pid; the namespaces are removed by the harness.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/lib-netns.sh
. "$here/lib-netns.sh"
bin=${HARNESS_BIN:-$top/build/smtp-harness}
passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

[ -x "$bin" ] || { echo "relay.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	not_ok "relay: must run as root (network namespaces, Postfix)"
	finish
fi
for c in ip postfix postconf /usr/sbin/sendmail python3; do
	command -v "$c" >/dev/null 2>&1 || { not_ok "relay: $c not installed (run tests/setup-debian.sh)"; finish; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-relay.XXXXXX") || exit 1
chmod 755 "$work"
dir=$work/etc
queue=$work/queue
harness_pid=
cleanup() {
	if [ -n "$harness_pid" ] && kill -0 "$harness_pid" 2>/dev/null; then
		kill -TERM "$harness_pid" 2>/dev/null
		wait "$harness_pid" 2>/dev/null
	fi
	if [ -s "$queue/pid/master.pid" ] && instance_pids | grep -q .; then
		postfix -c "$dir" stop >/dev/null 2>&1
	fi
	if [ "${HARNESS_IT_KEEP:-0}" = 1 ]; then
		echo "relay.sh: work directory kept: $work"
	else
		rm -rf -- "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The instance's processes: every Postfix daemon runs in its queue
# directory.
instance_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/cwd" 2>/dev/null)" = "$queue" ] && echo "${p#/proc/}"
	done
}

# configure [EXTRA-MAIN.CF-LINES]: the instance, from Debian's master.cf,
# chroot off; its smtpd on 127.0.0.1:25 of the namespace relays for
# 127/8 (the scenarios that submit by SMTP); no relayhost, so mail goes
# where the MX says; bounces go out by SMTP too (hb.test's MX).
configure() {
	rm -rf "$dir"
	mkdir -p "$dir" "$queue" "$work/data"
	chown postfix "$work/data"
	cp /etc/postfix/master.cf "$dir/master.cf"
	cat >"$dir/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $queue
data_directory = $work/data
maillog_file = $dir/maillog
maillog_file_prefixes = $work
myhostname = relay.harness.test
mydomain = harness.test
myorigin = harness.test
mydestination =
mynetworks = 127.0.0.0/8
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
alias_database =
smtp_tls_security_level = none
smtp_connection_cache_on_demand = no
queue_run_delay = 1s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
smtp_connect_timeout = 5s
# Postfix shuffles equal-preference addresses by default, a multihomed
# host's own among them, which RFC 5321 §5.1 says are tried in the order
# the resolver gave (multihomed-order FAILs about half the time so).
smtp_randomize_addresses = no
biff = no
$1
EOC
	# The machine's master.cf may carry test listeners of its own
	# (target-postfix.sh): only smtpd on port 25 here.
	postconf -c "$dir" -M | awk '$2 == "inet" { print $1 "/inet" }' |
		xargs -r postconf -c "$dir" -MX >/dev/null || return 1
	{
		postconf -c "$dir" -Me 'smtp/inet = smtp inet n - n - - smtpd' &&
		postconf -c "$dir" -F '*/*/chroot = n' &&
		{ postconf -c "$dir" -M postlog/unix-dgram | grep -q . ||
		  postconf -c "$dir" -Me 'postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd'; }
	} >/dev/null || return 1
	touch "$dir/maillog"
	postfix -c "$dir" check >"$work/check.out" 2>&1
}

# nothing_left NAME WHAT: nothing of the run is left (lib-netns.sh).
nothing_left() {
	netns_nothing_left "$1" "$2" "the Postfix instance" instance_pids
}

# relay NAME SCENARIO: one run with a fresh queue; output in $work/NAME.*,
# status in $status, namespace in $ns.
relay() {
	local name=$1 scn=$2
	"$bin" relay --target-cmd "rm -rf '$queue' && mkdir '$queue' && postfix -c '$dir' start" \
	    --submit-cmd "/usr/sbin/sendmail -i -C '$dir' -f {from} {to} <{message}" \
	    --report "json:$work/$name.json" --capture "$work/cap-$name" "$scn" \
	    >"$work/$name.out" 2>"$work/$name.err"
	status=$?
	ns=$(grep -o 'in network namespace smtp-harness-[0-9]*' "$work/$name.err" | head -n 1 | awk '{print $4}')
}

# report_has NAME PYTHON-EXPR: the JSON report's first scenario as `s`.
report_has() {
	python3 - "$work/$1.json" "$2" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}

# 0. A scenario with an error: one FILE:LINE:COL line, exit 2, before any
# namespace; `run` without --netns refuses a relay scenario and names it.
sed 's/"listen": "127.0.0.2:25"/"listen": "10.0.0.2:25"/' "$top/scenarios/relay/implicit-mx.json" >"$work/bad.json"
"$bin" relay --target-cmd true --submit-cmd true "$work/bad.json" >"$work/bad.out" 2>"$work/bad.err"
status=$?
if [ "$status" -eq 2 ] && [ "$(wc -l <"$work/bad.err")" -eq 1 ] &&
    grep -q "^$work/bad.json:[0-9]*:[0-9]*: \$.hosts\[0\].listen: expected an address in 127/8" "$work/bad.err" &&
    ! grep -q 'network namespace' "$work/bad.err"; then
	ok "relay: a bad scenario is one line with file:line:col and the JSON path, exit 2, no namespace"
else
	not_ok "relay: bad scenario: exit $status: $(tr '\n' ' ' <"$work/bad.err")"
fi
"$bin" run "$top/scenarios/relay/implicit-mx.json" >"$work/run.out" 2>"$work/run.err"
status=$?
if [ "$status" -eq 2 ] && grep -q 'is a relay scenario: it runs in a network namespace: add --netns' "$work/run.err"; then
	ok "relay: run without --netns refuses a relay scenario (exit 2) and names --netns"
else
	not_ok "relay: run on a relay scenario: exit $status: $(tr '\n' ' ' <"$work/run.err")"
fi

if ! configure ""; then
	not_ok "relay: postfix check: $(tail -n 2 "$work/check.out" | tr '\n' ' ')"
	finish
fi

# 1. Every relay scenario passes against a conformant Postfix.
if [ "$#" -gt 0 ]; then scenarios=("$@"); else scenarios=("$top"/scenarios/relay/*.json); fi
for scn in "${scenarios[@]}"; do
	name=$(basename "$scn" .json)
	relay "$name" "$scn"
	if [ "$status" -eq 0 ] && grep -q '^PASS ' "$work/$name.out"; then
		ok "relay $name: PASS against Postfix ($(grep -c '^  t=' "$work/$name.out") timeline entries)"
	else
		not_ok "relay $name: exit $status: $(grep -v '^  t=' "$work/$name.out" | tr '\n' ' ') $(tail -n 3 "$work/$name.err" | tr '\n' ' ')"
	fi
	if report_has "$name" 'any(" dns " in l and " MX " in l for l in s["timeline"]) and len(s["checks"]) > 0 and all(c["verdict"] in ("PASS", "WARN") for c in s["checks"])'; then
		ok "relay $name: the report names the checks and the fake DNS's queries"
	else
		not_ok "relay $name: the JSON report lacks the checks or the DNS queries"
	fi
	# Warnings (a SHOULD not met) are Postfix's to keep: shown, not failed.
	grep '^    [a-z]' "$work/$name.out" | sed "s/^ */# $name: WARN /"
	nothing_left "$ns" "relay $name"
done

# The connections as pcaps: mx1's 421 and mx2's session, as tshark reads them.
cap=$work/cap-mx-preference-fallback
case " ${scenarios[*]} " in
*/mx-preference-fallback.json\ *)
if [ -f "$cap/relay.mx.preference-fallback.pcap" ] && [ -f "$cap/relay.mx.preference-fallback.2.pcap" ] &&
    tshark -r "$cap/relay.mx.preference-fallback.pcap" -Y 'smtp.response.code == 421' 2>/dev/null | grep -q . &&
    tshark -r "$cap/relay.mx.preference-fallback.2.pcap" -Y 'smtp.req.command == "DATA"' 2>/dev/null | grep -q .; then
	ok "relay --capture: a pcap per connection, tshark sees mx1's 421 and the DATA to mx2"
else
	not_ok "relay --capture: $(ls "$cap" 2>&1 | tr '\n' ' ')"
fi ;;
esac

# Two scenarios in one `run --netns`, submitted by the harness's own
# client over SMTP to Postfix's smtpd inside the namespace: a namespace
# and a fresh queue each, one report.
"$bin" run --netns --target-cmd "rm -rf '$queue' && mkdir '$queue' && postfix -c '$dir' start" \
    --submit-smtp 127.0.0.1:25 --report "json:$work/smtp.json" \
    "$top/scenarios/relay/mx-preference-fallback.json" "$top/scenarios/relay/one-copy-per-host.json" \
    >"$work/smtp.out" 2>"$work/smtp.err"
status=$?
if [ "$status" -eq 0 ] && grep -q '^2 scenarios: 2 passed' "$work/smtp.out" &&
    [ "$(grep -c 'in network namespace smtp-harness-' "$work/smtp.err")" -eq 2 ] &&
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); sys.exit(len(r["scenarios"]) != 2)' "$work/smtp.json"; then
	ok "run --netns --submit-smtp: two scenarios, the harness's client submitting to Postfix, both PASS in one report"
else
	not_ok "run --netns --submit-smtp: exit $status: $(grep -v '^  t=' "$work/smtp.out" | tr '\n' ' ' | cut -c1-400) $(tail -n 3 "$work/smtp.err" | tr '\n' ' ')"
fi
ns=$(grep -o 'in network namespace smtp-harness-[0-9]*' "$work/smtp.err" | head -n 1 | awk '{print $4}')
nothing_left "$ns" "run --netns --submit-smtp"

# A run interrupted by SIGINT while it watches (once Postfix has asked
# for the MX): the namespace, its
# /etc/netns entry and Postfix go all the same (the watchdog's work).
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["within_ms"] = 60000
print(json.dumps(d))' "$top/scenarios/relay/no-apex-fallback.json" >"$work/sigint.json"
mkdir "$work/sigint-tmp"
TMPDIR=$work/sigint-tmp "$bin" relay --target-cmd "rm -rf '$queue' && mkdir '$queue' && postfix -c '$dir' start" \
    --submit-cmd "/usr/sbin/sendmail -i -C '$dir' -f {from} {to} <{message}" \
    "$work/sigint.json" >"$work/sigint.out" 2>"$work/sigint.err" &
harness_pid=$!
for _ in $(seq 1 150); do
	grep -q ' example\.test MX -> ' "$work/sigint.err" && break
	sleep 0.1
done
ns=$(grep -o 'in network namespace smtp-harness-[0-9]*' "$work/sigint.err" | head -n 1 | awk '{print $4}')
kill -INT "$harness_pid"
wait "$harness_pid"
status=$?
harness_pid=
if [ "$status" -eq 130 ] && [ -n "$ns" ]; then
	ok "relay SIGINT: the harness ended by the signal (status 130) in $ns"
else
	not_ok "relay SIGINT: status $status, namespace '${ns}': $(tail -n 3 "$work/sigint.err" | tr '\n' ' ')"
fi
nothing_left "$ns" "relay SIGINT"
# The message file the submission read goes too ($TMPDIR is where the
# harness makes its directory).
left=$(find "$work/sigint-tmp" -mindepth 1 2>/dev/null)
if [ -z "$left" ]; then
	ok "relay SIGINT: the message file and its directory removed"
else
	not_ok "relay SIGINT: left in \$TMPDIR: $(echo $left)"
fi

# 2. Postfix made to misbehave, where a setting can: each relevant row
# FAILs. Windows are shortened where the failure is an absence.
# misbehave NAME SCENARIO WITHIN_MS MAIN.CF-LINES CHECK-ID [VERDICT]
# (VERDICT FAIL, or WARN for a row whose catalog keyword is a SHOULD).
misbehave() {
	local name=$1 scn=$2 within=$3 conf=$4 check=$5 verdict=${6:-FAIL}
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["within_ms"] = int(sys.argv[2])
print(json.dumps(d))' "$scn" "$within" >"$work/$name.scenario.json"
	if ! configure "$conf"; then
		not_ok "misbehaving $name: postfix check: $(tail -n 2 "$work/check.out" | tr '\n' ' ')"
		return
	fi
	relay "$name" "$work/$name.scenario.json"
	if { [ "$verdict" = WARN ] || { [ "$status" -eq 1 ] && grep -q "^FAIL " "$work/$name.out"; }; } &&
	    { [ "$status" -eq 0 ] || [ "$status" -eq 1 ]; } &&
	    report_has "$name" "any(f['check'] == '$check' and f['verdict'] == '$verdict' for f in s['findings'])"; then
		ok "misbehaving $name: $verdict of $check ($(grep -m1 "^  *$check" "$work/$name.out" | sed 's/^ *//' | cut -c1-160))"
	else
		not_ok "misbehaving $name: exit $status, expected a $verdict of $check: $(grep -v '^  t=' "$work/$name.out" | tr '\n' ' ' | cut -c1-400)"
	fi
	nothing_left "$ns" "misbehaving $name"
}
# The domain's own address as a fallback when the MX is down.
misbehave apex-fallback "$top/scenarios/relay/no-apex-fallback.json" 4000 \
    'smtp_fallback_relay = [127.0.0.5]:25' rfc5321.5.1.no-apex-fallback
# Date and Message-ID added to mail relayed for another host.
misbehave fixups "$top/scenarios/relay/relay-no-fixups.json" 20000 \
    'always_add_missing_headers = yes' rfc5321.6.4.relay-no-fixups
# DSN parameters dropped on the way out (the hop's DSN keyword ignored).
misbehave dsn-dropped "$top/scenarios/relay/dsn-params-relayed.json" 20000 \
    'smtp_discard_ehlo_keywords = dsn' rfc3461.5.2.1.relay-propagates
# A 5yz taken as a 4yz: retried, no notice.
misbehave soft-bounce "$top/scenarios/relay/bounce-on-5xx.json" 4000 \
    'soft_bounce = yes' rfc5321.6.1.bounce-envelope
# The +tag cut off every recipient on the way through (a canonical map
# written for local delivery, applied to relayed mail too).
printf '%s\n' '/^([^+@]*)\+[^@]*@(.*)$/ ${1}@${2}' >"$work/strip-tag.regexp"
misbehave strip-tag "$top/scenarios/relay/localpart-preserved.json" 20000 \
    "recipient_canonical_maps = regexp:$work/strip-tag.regexp" rfc5321.2.4.localpart-preserved
# A failed MX lookup taken for no MX: the domain's A record used at once.
misbehave mx-error-ignored "$top/scenarios/relay/dns-servfail-retry.json" 8000 \
    'ignore_mx_lookup_error = yes' rfc5321.5.1.dns-errors
# A domain that does not exist sent to a fallback relay instead of
# being reported.
misbehave nxdomain-fallback "$top/scenarios/relay/dns-nxdomain.json" 8000 \
    'smtp_fallback_relay = [127.0.0.5]:25' rfc5321.5.1.dns-errors
# A 5yz after acceptance kept as a 4yz: the refused recipient is neither
# reported as failed nor, with NOTIFY=FAILURE, given its DSN, nor past a
# hop without DSN; RET and ENVID cannot be honoured in a DSN not sent
# (a SHOULD: WARN).
misbehave soft-bounce-partial "$top/scenarios/relay/all-or-nothing.json" 5000 \
    'soft_bounce = yes' rfc5321.4.1.1.4.all-or-nothing
misbehave soft-bounce-notify "$top/scenarios/relay/failure-dsn-rules.json" 5000 \
    'soft_bounce = yes' rfc3461.5.2.6.failure-dsn-rules
misbehave soft-bounce-non-dsn "$top/scenarios/relay/relay-to-non-dsn.json" 5000 \
    'soft_bounce = yes' rfc3461.5.2.2.relay-to-non-dsn
misbehave soft-bounce-ret "$top/scenarios/relay/ret-envid.json" 5000 \
    'soft_bounce = yes' rfc3461.4.ret-envid-honoured WARN
# No Postfix setting bounces a NOTIFY=NEVER recipient, so the submission
# command plays such an MTA: after the submission it hands the sender's
# MX a DSN naming f3@ (NOTIFY=NEVER) as failed.
python3 - "$top/scenarios/relay/failure-dsn-rules.json" >"$work/never-bounced.json" <<'EOF'
import json, shlex, sys
d = json.load(open(sys.argv[1]))
dsn = ("From: MAILER-DAEMON@relay.harness.test\r\nTo: <a@hb.test>\r\nSubject: failed\r\n"
       "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
       "--b\r\nContent-Type: text/plain\r\n\r\nf3 failed\r\n--b\r\n"
       "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.harness.test\r\n\r\n"
       "Final-Recipient: rfc822; f3@example.test\r\nAction: failed\r\nStatus: 5.0.0\r\n--b--\r\n")
d["submission"]["command"] += (" && python3 -c 'import smtplib, sys; s = smtplib.SMTP(\"127.0.0.9\", 25, "
    "timeout=10); s.sendmail(\"\", [\"a@hb.test\"], sys.argv[1].encode()); s.quit()' " + shlex.quote(dsn))
print(json.dumps(d))
EOF
misbehave never-bounced "$work/never-bounced.json" 20000 '' rfc3461.5.2.6.failure-dsn-rules
finish
