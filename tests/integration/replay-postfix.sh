#!/usr/bin/env bash
# replay-postfix.sh - capture, audit, import and replay, end to end, with
# real Postfix on both sides of the comparison.
#
# Two private Postfix instances (tests/integration/lib-postfix.sh; the
# machine's Postfix and /etc/postfix are not touched): A on 127.0.0.1:PORT
# as configured there, B on PORT+1 the same but for message_size_limit =
# 32768. tcpdump on lo, filtered to A's port, records `smtp-harness run`
# of the transaction and pipelining suites, limits.content-64k (a
# message of 65,536 octets) and session.etrn-advertised (Postfix answers
# ETRN without an enhanced status code: a passive FAIL, so that audit
# has a failure to agree on) against A, with a JSON report; the capture is
# retaken (up to three times) when tcpdump says it dropped packets. Then:
#   (a) `audit --side server` of the capture finds one session per
#       scenario, with no gap, each with exactly the passive findings
#       (check id and verdict) and the verdict the live run reported for
#       it; audit's exit status follows from them;
#   (b) `import` writes two scenarios per session, which validate, and
#       `replay` against A shows no regression: exit 0;
#   (c) `replay` against B shows exactly the difference in configuration:
#       exit 1, one replay finding in all -- a regression, in the session
#       of the 64 KiB message, on the reply to its content, now 552 -- and
#       no other reply changed.
# One line per check ("ok - ..." / "not ok - ..."), then "N passed, M
# failed". Needs root (tcpdump, Postfix). Stops what it started, on every
# way out: tcpdump by its pid, each instance with `postfix -c DIR stop`.
# Environment: HARNESS_BIN (default build/smtp-harness);
# HARNESS_REPLAY_POSTFIX_PORT (default 2750; B takes the next port).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${HARNESS_BIN:-$top/build/smtp-harness}
port=${HARNESS_REPLAY_POSTFIX_PORT:-2750}
small_port=$((port + 1))
size_limit=32768
py=/usr/bin/python3
# shellcheck source=lib-postfix.sh
. "$here/lib-postfix.sh"
# shellcheck source=lib-tcpdump.sh
. "$here/lib-tcpdump.sh"

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

[ -x "$bin" ] || { echo "replay-postfix.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	notok "replay-postfix: must run as root (tcpdump, Postfix)"
	finish
fi
for c in postfix postconf tcpdump "$py"; do
	command -v "$c" >/dev/null 2>&1 || { notok "replay-postfix: $c not installed (run tests/setup-debian.sh)"; finish; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-replay-postfix.XXXXXX") || exit 1
chmod 755 "$work"
cleanup() {
	tcpdump_stop
	postfix_instance_stop "$work/a"
	postfix_instance_stop "$work/b"
	rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! postfix_instance_make "$work/a" "$port" 2>"$work/a.err" ||
	! postfix_instance_start "$work/a" "$port" 2>>"$work/a.err"; then
	notok "Postfix A did not start on 127.0.0.1:$port: $(cat "$work/a.err")"
	finish
fi
if ! postfix_instance_make "$work/b" "$small_port" "message_size_limit = $size_limit" 2>"$work/b.err" ||
	! postfix_instance_start "$work/b" "$small_port" 2>>"$work/b.err"; then
	notok "Postfix B did not start on 127.0.0.1:$small_port: $(cat "$work/b.err")"
	finish
fi
ok "two private Postfix instances: A on 127.0.0.1:$port, B on 127.0.0.1:$small_port with message_size_limit = $size_limit"

pcap=$work/postfix.pcap
live=$work/live.json
for try in 1 2 3; do
	if ! tcpdump_start "$pcap" "tcp port $port"; then
		notok "tcpdump did not start capturing on lo"
		finish
	fi
	"$bin" run --quiet --target "127.0.0.1:$port" --report "json:$live" \
		"$top/scenarios/conformance/transaction" "$top/scenarios/conformance/pipelining" \
		"$top/scenarios/conformance/limits/content-64k.json" \
		"$top/scenarios/conformance/session/etrn-advertised.json" >"$work/run.out" 2>&1
	rc=$?
	tcpdump_stop
	dropped=$(tcpdump_dropped "$pcap")
	[ "$dropped" -eq 0 ] && break
	echo "# try $try: tcpdump dropped $dropped packets, capturing again"
done
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
	notok "the live run against A exited $rc"
	tail -n 5 "$work/run.out" | sed 's/^/# /'
	finish
fi
nscen=$("$py" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["scenarios"]))' "$live")
ok "live run against A: exit $rc, $nscen scenarios, captured by tcpdump ($(stat -c %s "$pcap") bytes, $dropped dropped, try $try)"

# (a) audit gives the live run's verdicts and findings
"$bin" audit "$pcap" --side server --quiet --report "json:$work/audit.json" >"$work/audit.out" 2>&1
arc=$?
out=$("$py" "$here/audit-compare.py" "$live" "$work/audit.json" clients)
case $out in
OK*)
	set -- $out
	ok "audit: $2 sessions, each with the passive findings and the verdict of its scenario in the live run"
	if { [ "$3" -gt 0 ] && [ "$arc" -eq 1 ]; } || { [ "$3" -eq 0 ] && [ "$arc" -eq 0 ]; }; then
		ok "audit: exit $arc with $3 FAIL session(s)"
	else
		notok "audit: exit $arc with $3 FAIL session(s)"
	fi
	;;
*)
	notok "audit: $out"
	tail -n 5 "$work/audit.out" | sed 's/^/# /'
	;;
esac

# (b) import validates; replay against the same Postfix: no regression
"$bin" import "$pcap" -o "$work/imported" >"$work/import.out" 2>&1
rc=$?
nclient=$(find "$work/imported" -name '*.client.json' 2>/dev/null | wc -l)
if [ "$rc" -eq 0 ] && [ "$nclient" -eq "$nscen" ] && out=$("$bin" validate "$work/imported" 2>&1); then
	ok "import: exit 0, a client-role and a server-role scenario for each of the $nclient sessions; $out"
else
	notok "import: exit $rc, $nclient client-role scenarios for $nscen sessions: $(tail -n 2 "$work/import.out")"
fi
"$bin" replay "$pcap" --target "127.0.0.1:$port" --report "json:$work/replay-a.json" \
	>"$work/replay-a.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q "^replay of .*: $nscen session(s), 0 regression(s)$" "$work/replay-a.out"; then
	ok "replay against A: exit 0, $nscen sessions, 0 regressions"
else
	notok "replay against A: exit $rc, $(grep '^replay of' "$work/replay-a.out")"
	grep -A2 REGRESSION "$work/replay-a.out" | head -n 6 | sed 's/^/# /'
fi

# (c) replay against B: exactly the smaller message size limit
"$bin" replay "$pcap" --target "127.0.0.1:$small_port" --report "json:$work/replay-b.json" \
	>"$work/replay-b.out" 2>&1
rc=$?
out=$("$py" - "$work/replay-b.json" "$live" <<'EOF'
import json, sys
replay = json.load(open(sys.argv[1]))
live = json.load(open(sys.argv[2]))
# The run plays several scenarios at once, so the order sessions began in
# is not that of the report: a replayed session names its recorded client
# address in its summary, a live scenario in its transcript.
client = [s["transcript"]["client"] for s in live["scenarios"] if s["id"] == "limits.content-64k"]
want = [i for i, s in enumerate(replay["scenarios"])
        if any("(client %s," % c in (s.get("summary") or "") for c in client)]
found = [(i, f) for i, s in enumerate(replay["scenarios"]) for f in s["findings"]
         if f["check"].startswith("replay.")]
problems = []
if len(replay["scenarios"]) != len(live["scenarios"]):
    problems.append("%d sessions replayed for %d scenarios" % (len(replay["scenarios"]), len(live["scenarios"])))
if len(found) != 1:
    problems.append("%d replay findings, not 1: %s" % (len(found), [f["message"][:120] for _, f in found]))
else:
    i, f = found[0]
    ev = (f.get("evidence") or {}).get("text", "")
    if f["check"] != "replay.regression" or f["verdict"] != "FAIL":
        problems.append("%s %s, not a regression" % (f["check"], f["verdict"]))
    if [i] != want:
        problems.append("in session %d, not in that of limits.content-64k (%s, client %s)" % (i + 1, [w + 1 for w in want], client))
    if not f["message"].startswith("(message content, "):
        problems.append("on %r, not on the message's content" % f["message"][:80])
    if "552" not in f["message"]:
        problems.append("no 552 in %r" % f["message"][:200])
print("; ".join(problems)[:1500] if problems else "OK " + found[0][1]["message"].replace("\n", " ")[:200])
EOF
)
case $out in
OK*)
	if [ "$rc" -eq 1 ]; then
		ok "replay against B: exit 1, one finding in all, the regression of the 64 KiB message: ${out#OK }"
	else
		notok "replay against B: exit $rc with ${out#OK }"
	fi
	;;
*)
	notok "replay against B: exit $rc: $out"
	grep -B1 -A2 "REGRESSION\|changed\|text " "$work/replay-b.out" | head -n 12 | sed 's/^/# /'
	;;
esac
finish
