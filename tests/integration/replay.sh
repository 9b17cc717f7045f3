#!/usr/bin/env bash
# replay.sh - `smtp-harness import` and `replay` on real captures, end to
# end on loopback.
#
# 1. The built-in reference server (`smtp-harness serve`) on an unusual
#    port: tcpdump on lo, that port only, records a run of
#    scenarios/conformance/transaction and pipelining; the capture is
#    imported (every scenario validates, and holds to the JSON Schema);
#    the client-role scenarios run against the same server and pass, and
#    against their own server-role scenarios (the recorded client meets
#    the recorded server: no finding of a step, client exit 0), and
#    against the server renamed (`serve --hostname`); the
#    capture replays against it with no regression (exit 0), and against
#    the same server with a smaller message size limit (`serve --size-max
#    100`) with exit 1 and exactly that difference: one regression per
#    message, each a 552 to its content, nothing else; --redact
#    leaves no message text behind and still validates.
# 2. Postfix's smtp-sink: a capture of the transaction suite replays
#    against the same sink with no regression (exit 0), and against a
#    sink configured differently -- `-f .`, which refuses every message
#    after its final dot, as a server with a smaller size limit refuses a
#    message too big -- with exit 1 and exactly that difference: every
#    regression (in the text and in the JSON report) is the reply to
#    message content, and there is one per message of the capture.
#    (The machine's Postfix is not used here: other tests own it.)
# 3. Bad input: a file that is no capture, and import without -o, are
#    exit 2 with one line.
# One line per check ("ok - ..." / "not ok - ..."), then "N passed, M failed".
# Stops what it started (tcpdump, the sinks, the server) by pid.
# Environment: HARNESS_BIN (default build/smtp-harness);
# HARNESS_REPLAY_SERVE_PORT (default 2557), HARNESS_REPLAY_SINK_PORT
# (2558), HARNESS_REPLAY_ALT_PORT (2559), HARNESS_REPLAY_SMALL_PORT (2560).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${HARNESS_BIN:-$top/build/smtp-harness}
serve_port=${HARNESS_REPLAY_SERVE_PORT:-2557}
sink_port=${HARNESS_REPLAY_SINK_PORT:-2558}
alt_port=${HARNESS_REPLAY_ALT_PORT:-2559}
small_port=${HARNESS_REPLAY_SMALL_PORT:-2560}
sink=/usr/sbin/smtp-sink
py=/usr/bin/python3
[ -x "$bin" ] || { echo "replay.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
command -v tcpdump >/dev/null 2>&1 ||
	{ echo "replay.sh: error: tcpdump not found (run tests/setup-debian.sh)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-replay.XXXXXX") || exit 1
export HARNESS_STATE_DIR=$work/state
# shellcheck source=lib-tcpdump.sh
. "$here/lib-tcpdump.sh"
serve_pid=
alt_pid=
small_pid=
cleanup() {
	tcpdump_stop
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	[ -n "$alt_pid" ] && kill "$alt_pid" 2>/dev/null && wait "$alt_pid" 2>/dev/null
	[ -n "$small_pid" ] && kill "$small_pid" 2>/dev/null && wait "$small_pid" 2>/dev/null
	bash "$here/target-smtp-sink.sh" stop "$sink_port" >/dev/null 2>&1
	rm -rf -- "$work"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }

wait_port() {
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# capture NAME PORT SUITE...: tcpdump on lo, PORT only, around a run of
# the suites against 127.0.0.1:PORT; retaken (up to three times) when
# tcpdump says it dropped packets. Leaves $work/NAME.pcap.
capture() {
	local name=$1 port=$2 try dropped rc
	shift 2
	for try in 1 2 3; do
		tcpdump_start "$work/$name.pcap" "tcp port $port" || return 1
		"$bin" run --quiet --target "127.0.0.1:$port" "$@" >"$work/$name.run.out" 2>&1
		rc=$?
		tcpdump_stop
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
			echo "# $name: the live run exited $rc"
			return 1
		fi
		dropped=$(tcpdump_dropped "$work/$name.pcap")
		[ "$dropped" -eq 0 ] && return 0
		echo "# $name: try $try: tcpdump dropped $dropped packets, capturing again"
	done
	return 1
}

# regressions JSON: "N M" -- replay.regression findings, and how many of
# them are not about message content.
regressions() {
	"$py" -c '
import json, sys
r = json.load(open(sys.argv[1]))
f = [f for s in r["scenarios"] for f in s["findings"] if f["check"] == "replay.regression"]
print(len(f), sum(1 for x in f if not x["message"].startswith("(message content")))' "$1"
}

# 1. The built-in reference server
"$bin" serve --listen "127.0.0.1:$serve_port" --quiet >"$work/serve.out" 2>&1 &
serve_pid=$!
if ! wait_port "$serve_port"; then
	notok "the reference server did not listen on 127.0.0.1:$serve_port"
elif ! capture reference "$serve_port" "$top/scenarios/conformance/transaction" \
	"$top/scenarios/conformance/pipelining"; then
	notok "reference: no capture of the live run"
else
	ok "reference: live run captured by tcpdump ($(stat -c %s "$work/reference.pcap") bytes)"
	"$bin" import "$work/reference.pcap" -o "$work/imported" >"$work/import.out" 2>&1
	rc=$?
	nfiles=$(find "$work/imported" -name '*.json' 2>/dev/null | wc -l)
	nclient=$(find "$work/imported" -name '*.client.json' 2>/dev/null | wc -l)
	if [ "$rc" -eq 0 ] && [ "$nclient" -gt 0 ] && [ "$nfiles" -eq $((2 * nclient)) ]; then
		ok "import: exit 0, $nclient sessions, a client-role and a server-role scenario each"
	else
		notok "import: exit $rc, $nfiles files"
		sed 's/^/# /' "$work/import.out" | tail -n 5
	fi
	if out=$("$bin" validate "$work/imported" 2>&1); then
		ok "import: $out"
	else
		notok "import: validate: $out"
	fi
	if "$py" -c 'import jsonschema' 2>/dev/null; then
		if out=$("$py" -c '
import glob, json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
errs = [f + ": " + e.message for f in sorted(glob.glob(sys.argv[2] + "/*.json"))
        for e in v.iter_errors(json.load(open(f)))]
print("; ".join(errs[:3])); sys.exit(1 if errs else 0)' "$top/scenarios/scenario.schema.json" "$work/imported" 2>&1); then
			ok "import: every scenario holds to scenarios/scenario.schema.json"
		else
			notok "import: schema: $out"
		fi
	fi
	"$bin" run --quiet --target "127.0.0.1:$serve_port" "$work/imported"/*.client.json \
		>"$work/rerun.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "import: the client-role scenarios pass against the same server ($(tail -n 1 "$work/rerun.out"))"
	else
		notok "import: the client-role scenarios against the same server: exit $rc"
		grep -E "^(FAIL|ERROR)|expected" "$work/rerun.out" | head -n 5 | sed 's/^/# /'
	fi
	# The server-role scenarios, played to the client-role ones: each
	# recorded client meets its recorded server. Passive findings on the
	# client are what the recorded client did (some scenarios misbehave
	# on purpose); a finding of a step, or a client that failed, is not.
	bad=0
	n=0
	for f in "$work/imported"/*.server.json; do
		c=${f%.server.json}.client.json
		n=$((n + 1))
		"$bin" run --quiet --client-cmd "$bin run --quiet --target {host}:{port} $c" \
			--report "json:$f.report" "$f" >/dev/null 2>&1
		if ! out=$("$py" -c '
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
bad = [f["check"] + ": " + f["message"] for f in s["findings"] if f["step"] != 0]
if (s.get("client") or {}).get("exit_status") != 0:
    bad.append("the client-role scenario exited %s" % (s.get("client") or {}).get("exit_status"))
print("; ".join(bad)[:300]); sys.exit(1 if bad else 0)' "$f.report" 2>&1); then
			echo "# $(basename "$f"): $out"
			bad=$((bad + 1))
		fi
	done
	if [ "$bad" -eq 0 ] && [ "$n" -gt 0 ]; then
		ok "import: each of the $n server-role scenarios plays its session to its client-role one"
	else
		notok "import: $bad of $n server-role scenarios differ from their sessions"
	fi
	"$bin" replay "$work/reference.pcap" --target "127.0.0.1:$serve_port" \
		--report "json:$work/replay-same.json" >"$work/replay-same.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q " 0 regression(s)$" "$work/replay-same.out"; then
		ok "replay against the same server: exit 0, $(grep -o '[0-9]* session(s), 0 regression(s)' "$work/replay-same.out")"
	else
		notok "replay against the same server: exit $rc"
		grep -A2 REGRESSION "$work/replay-same.out" | head -n 6 | sed 's/^/# /'
	fi
	# A new build under another name: the host name in the replies is
	# no part of what the imported scenarios assert.
	"$bin" serve --listen "127.0.0.1:$small_port" --hostname renamed.example.test --quiet \
		>"$work/renamed.out" 2>&1 &
	small_pid=$!
	if wait_port "$small_port" && "$bin" run --quiet --target "127.0.0.1:$small_port" \
		"$work/imported"/*.client.json >"$work/renamed.run" 2>&1; then
		ok "import: the client-role scenarios pass against the server renamed (serve --hostname)"
	else
		notok "import: the client-role scenarios against the server renamed"
		grep -E "expected" "$work/renamed.run" | head -n 3 | sed 's/^/# /'
	fi
	kill "$small_pid" 2>/dev/null
	wait "$small_pid" 2>/dev/null
	# The same capture against the same server with a smaller message
	# size limit: exactly that difference.
	"$bin" serve --listen "127.0.0.1:$small_port" --size-max 100 --quiet >"$work/small.out" 2>&1 &
	small_pid=$!
	if ! wait_port "$small_port"; then
		notok "serve --size-max 100 did not listen on 127.0.0.1:$small_port"
	else
		"$bin" replay "$work/reference.pcap" --target "127.0.0.1:$small_port" --quiet \
			--report "json:$work/replay-small.json" >"$work/replay-small.out" 2>&1
		rc=$?
		# the messages over the limit (serve counts the content's octets)
		nmsg=$(sed -n 's/^  same        (message content, \([0-9][0-9]*\) octets).*/\1/p' "$work/replay-same.out" |
			awk '$1 > 100' | wc -l)
		set -- $(regressions "$work/replay-small.json")
		if [ "$rc" -eq 1 ] && [ "${1:-0}" -gt 0 ] && [ "${1:-0}" -eq "$nmsg" ] && [ "${2:-1}" -eq 0 ] &&
			grep -q "now      552 5.3.4" "$work/replay-small.out"; then
			ok "replay against serve --size-max 100: exit 1, $1 regression(s), each a 552 to one of the $nmsg messages over 100 octets, nothing else"
		else
			notok "replay against serve --size-max 100: exit $rc, regressions ${1:-?} (${2:-?} not about content), $nmsg messages"
			grep -A2 REGRESSION "$work/replay-small.out" | head -n 9 | sed 's/^/# /'
		fi
	fi
	kill "$small_pid" 2>/dev/null
	wait "$small_pid" 2>/dev/null
	small_pid=
	"$bin" import "$work/reference.pcap" -o "$work/redacted" --redact >/dev/null 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && "$bin" validate "$work/redacted" >/dev/null 2>&1 &&
		! grep -rq "This message was sent by a conformance scenario" "$work/redacted" &&
		grep -rq '"generate"' "$work/redacted"; then
		ok "import --redact: validates, message bodies replaced by generated content of their length"
	else
		notok "import --redact: exit $rc"
	fi
fi
kill "$serve_pid" 2>/dev/null
wait "$serve_pid" 2>/dev/null
serve_pid=

# 2. smtp-sink, and smtp-sink refusing every message after its dot
user=()
[ "$(id -u)" -eq 0 ] && user=(-u nobody)
if ! bash "$here/target-smtp-sink.sh" start "$sink_port" >"$work/sink.out" 2>&1; then
	notok "smtp-sink did not start on 127.0.0.1:$sink_port"
	sed 's/^/# /' "$work/sink.out"
elif ! capture sink "$sink_port" "$top/scenarios/conformance/transaction"; then
	notok "smtp-sink: no capture of the live run"
else
	ok "smtp-sink: live run captured by tcpdump ($(stat -c %s "$work/sink.pcap") bytes)"
	"$bin" replay "$work/sink.pcap" --target "127.0.0.1:$sink_port" \
		--report "json:$work/replay-sink.json" >"$work/replay-sink.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ "$(regressions "$work/replay-sink.json")" = "0 0" ]; then
		ok "replay against the same smtp-sink: exit 0, no regression"
	else
		notok "replay against the same smtp-sink: exit $rc"
		grep -A2 REGRESSION "$work/replay-sink.out" | head -n 6 | sed 's/^/# /'
	fi
	"$sink" "${user[@]}" -f . "127.0.0.1:$alt_port" 100 >"$work/alt.out" 2>&1 &
	alt_pid=$!
	if ! wait_port "$alt_port"; then
		notok "smtp-sink -f . did not listen on 127.0.0.1:$alt_port"
	else
		"$bin" replay "$work/sink.pcap" --target "127.0.0.1:$alt_port" --quiet \
			--report "json:$work/replay-alt.json" >"$work/replay-alt.out" 2>&1
		rc=$?
		# One message per 250 recorded after content, in the capture.
		nmsg=$("$bin" replay "$work/sink.pcap" --target "127.0.0.1:$sink_port" 2>/dev/null |
			grep -c '^  same        (message content')
		set -- $(regressions "$work/replay-alt.json")
		if [ "$rc" -eq 1 ] && [ "${1:-0}" -gt 0 ] && [ "${1:-0}" -eq "$nmsg" ] && [ "${2:-1}" -eq 0 ] &&
			grep -q "^  REGRESSION  (message content" "$work/replay-alt.out"; then
			ok "replay against smtp-sink -f .: exit 1, $1 regression(s), each the reply to one of the $nmsg messages, nothing else"
		else
			notok "replay against smtp-sink -f .: exit $rc, regressions ${1:-?} (${2:-?} not about content), $nmsg messages"
			grep -A2 REGRESSION "$work/replay-alt.out" | head -n 9 | sed 's/^/# /'
		fi
	fi
	if [ -s "$work/replay-alt.json" ] && "$py" -c 'import jsonschema' 2>/dev/null; then
		if out=$("$py" -c '
import json, sys, jsonschema
errs = [e.message for e in jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).iter_errors(
        json.load(open(sys.argv[2])))]
print("; ".join(errs[:3])); sys.exit(1 if errs else 0)' "$top/reports/report.schema.json" "$work/replay-alt.json" 2>&1); then
			ok "replay's JSON report is valid against reports/report.schema.json"
		else
			notok "replay's JSON report: $out"
		fi
	fi
	kill "$alt_pid" 2>/dev/null
	wait "$alt_pid" 2>/dev/null
	alt_pid=
fi
bash "$here/target-smtp-sink.sh" stop "$sink_port" >/dev/null 2>&1

# 3. Bad input: exit 2, one line.
printf 'not a capture\n' >"$work/text.pcap"
"$bin" import "$work/text.pcap" -o "$work/none" >/dev/null 2>"$work/bad1.err"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$work/bad1.err")" -eq 1 ] && [ ! -e "$work/none" ] &&
	grep -q "^smtp-harness: $work/text.pcap: " "$work/bad1.err"; then
	ok "import of a file that is no capture: exit 2, one line naming it, nothing written"
else
	notok "import of no capture: exit $rc, $(cat "$work/bad1.err")"
fi
"$bin" import "$work/text.pcap" >/dev/null 2>"$work/bad2.err"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$work/bad2.err")" -eq 1 ]; then
	ok "import without -o: exit 2, $(cat "$work/bad2.err")"
else
	notok "import without -o: exit $rc"
fi
"$bin" replay "$work/text.pcap" --target "127.0.0.1:$alt_port" >/dev/null 2>"$work/bad3.err"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$work/bad3.err")" -eq 1 ]; then
	ok "replay of a file that is no capture: exit 2, one line"
else
	notok "replay of no capture: exit $rc"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
