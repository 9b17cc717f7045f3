#!/usr/bin/env bash
# audit.sh - `smtp-harness audit` on real captures, end to end on loopback.
#
# For each of two targets on an unusual loopback port -- Postfix's
# smtp-sink (which fails several passive checks) and the built-in
# reference server (`smtp-harness serve`, which fails none) -- it:
#   - starts tcpdump on lo with a filter on that port only, and waits
#     until it is capturing;
#   - runs scenarios/conformance/transaction against the target with a
#     JSON report and --capture;
#   - stops tcpdump by its pid with SIGINT and waits for it;
#   - audits tcpdump's file with --side server and checks that every
#     session of the run was found, with no gap, and that each session's
#     passive findings (check id and verdict) are those the live run
#     reported for its scenario, and the exit status follows from them;
#   - audits each of the harness's own --capture pcaps the same way.
# The tcpdump capture converted to pcapng (editcap) audits the same, and
# the audit's JSON and JUnit reports hold to reports/report.schema.json
# and reports/junit-10.xsd. Then a file that is no capture, and one cut
# short, are exit 2 with one line naming the file.
# One line per check ("ok - ..." / "not ok - ..."), then "N passed, M failed".
# Stops what it started (tcpdump, the sink, the server) by pid.
# Environment: HARNESS_BIN (default build/smtp-harness);
# HARNESS_AUDIT_SINK_PORT (default 2547), HARNESS_AUDIT_SERVE_PORT (2548).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${HARNESS_BIN:-$top/build/smtp-harness}
sink_port=${HARNESS_AUDIT_SINK_PORT:-2547}
serve_port=${HARNESS_AUDIT_SERVE_PORT:-2548}
suite=$top/scenarios/conformance/transaction
py=/usr/bin/python3
[ -x "$bin" ] || { echo "audit.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
command -v tcpdump >/dev/null 2>&1 ||
	{ echo "audit.sh: error: tcpdump not found (run tests/setup-debian.sh)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-audit.XXXXXX") || exit 1
export HARNESS_STATE_DIR=$work/state
# shellcheck source=lib-tcpdump.sh
. "$here/lib-tcpdump.sh"
serve_pid=
cleanup() {
	tcpdump_stop
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	bash "$here/target-smtp-sink.sh" stop "$sink_port" >/dev/null 2>&1
	rm -rf -- "$work"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }

# compare LIVE.json AUDIT.json MODE: MODE "clients" matches sessions to
# scenarios by client address (one capture, many sessions), "one" matches
# the single session of a per-scenario capture to scenario ID ($4).
# Prints "OK <n>" or a reason.
compare() {
	"$py" "$here/audit-compare.py" "$@"
}

# schema_check NAME JSON XML: the audit's reports against the schemas the
# run's reports are held to, where the validators are installed.
schema_check() {
	local out
	if "$py" -c 'import jsonschema' 2>/dev/null; then
		if out=$("$py" -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
errs = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2])))]
print("; ".join(errs[:3])); sys.exit(1 if errs else 0)' "$top/reports/report.schema.json" "$2" 2>&1); then
			ok "$1: the audit's JSON report is valid against reports/report.schema.json"
		else
			notok "$1: JSON report: $out"
		fi
	fi
	if command -v xmllint >/dev/null 2>&1; then
		if out=$(xmllint --noout --schema "$top/reports/junit-10.xsd" "$3" 2>&1); then
			ok "$1: the audit's JUnit report is valid against reports/junit-10.xsd"
		else
			notok "$1: JUnit report: $(echo "$out" | head -n 3)"
		fi
	fi
}

# one_target NAME PORT
one_target() {
	local name=$1 port=$2 pcap=$work/$1.pcap live=$work/$1.live.json rc out nf try dropped
	# tcpdump itself drops packets on a loaded machine (it says so:
	# "N packets dropped by kernel"); the reader then reports gaps,
	# rightly. Such a capture is taken again, up to three times. A
	# capture tcpdump calls whole must audit with no gap at all.
	for try in 1 2 3; do
		rm -rf "$work/$name.cap"
		mkdir -p "$work/$name.cap"
		if ! tcpdump_start "$pcap" "tcp port $port"; then
			notok "$name: tcpdump did not start capturing on lo"
			return
		fi
		"$bin" run --quiet --target "127.0.0.1:$port" --report "json:$live" \
			--capture "$work/$name.cap" "$suite" >"$work/$name.run.out" 2>&1
		rc=$?
		tcpdump_stop
		sed 's/^/# /' "$pcap.err"
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
			notok "$name: the live run exited $rc"
			tail -n 5 "$work/$name.run.out" | sed 's/^/# /'
			return
		fi
		dropped=$(tcpdump_dropped "$pcap")
		[ "$dropped" -eq 0 ] && break
		echo "# $name: try $try: tcpdump dropped $dropped packets, capturing again"
	done
	"$bin" audit "$pcap" --side server --report "json:$work/$name.audit.json" \
		>"$work/$name.audit.out" 2>&1
	rc=$?
	out=$(compare "$live" "$work/$name.audit.json" clients)
	ok "$name: live run captured by tcpdump ($(stat -c %s "$pcap") bytes, ${dropped:-0} dropped, try $try)"

	case $out in
	OK*)
		set -- $out
		ok "$name: tcpdump's capture: $2 sessions, each with the live run's passive verdicts"
		nf=$3
		if { [ "$nf" -gt 0 ] && [ "$rc" -eq 1 ]; } || { [ "$nf" -eq 0 ] && [ "$rc" -eq 0 ]; }; then
			ok "$name: audit exit $rc with $nf FAIL session(s)"
		else
			notok "$name: audit exit $rc with $nf FAIL session(s)"
		fi
		;;
	*)
		notok "$name: tcpdump's capture: $out"
		tail -n 5 "$work/$name.audit.out" | sed 's/^/# /'
		;;
	esac

	if command -v editcap >/dev/null 2>&1; then
		editcap -F pcapng "$pcap" "$work/$name.pcapng" 2>/dev/null
		"$bin" audit "$work/$name.pcapng" --side server --quiet \
			--report "json:$work/$name.ng.json" --report "junit:$work/$name.ng.xml" \
			>"$work/$name.ng.out" 2>&1
		out=$(compare "$live" "$work/$name.ng.json" clients)
		case $out in
		OK*) ok "$name: the same capture as pcapng audits the same" ;;
		*) notok "$name: pcapng: $out" ;;
		esac
		schema_check "$name" "$work/$name.ng.json" "$work/$name.ng.xml"
	fi

	local bad=0 n=0 f id
	for f in "$work/$name.cap"/*.pcap; do
		id=$(basename "$f" .pcap)
		n=$((n + 1))
		"$bin" audit "$f" --side server --quiet --report "json:$f.json" >"$f.out" 2>&1
		rc=$?
		out=$(compare "$live" "$f.json" one "$id")
		case $out in
		OK*)
			set -- $out
			if { [ "$3" -gt 0 ] && [ "$rc" -ne 1 ]; } || { [ "$3" -eq 0 ] && [ "$rc" -ne 0 ]; }; then
				echo "# $id: audit exit $rc with $3 FAIL session(s)"
				bad=$((bad + 1))
			fi
			;;
		*)
			echo "# $id: $out"
			bad=$((bad + 1))
			;;
		esac
	done
	if [ "$bad" -eq 0 ] && [ "$n" -gt 0 ]; then
		ok "$name: the harness's own $n --capture pcaps audit to the live run's passive verdicts"
	else
		notok "$name: $bad of $n --capture pcaps differ"
	fi
}

# 1. Postfix's smtp-sink
if bash "$here/target-smtp-sink.sh" start "$sink_port" >"$work/sink.out" 2>&1; then
	one_target smtp-sink "$sink_port"
	bash "$here/target-smtp-sink.sh" stop "$sink_port" >/dev/null 2>&1
else
	notok "smtp-sink did not start on 127.0.0.1:$sink_port"
	cat "$work/sink.out" | sed 's/^/# /'
fi

# 2. The built-in reference server
"$bin" serve --listen "127.0.0.1:$serve_port" >"$work/serve.out" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$serve_port") 2>/dev/null && break
	sleep 0.1
done
one_target reference "$serve_port"
kill "$serve_pid" 2>/dev/null
wait "$serve_pid" 2>/dev/null
serve_pid=

# 3. Lost bytes: a gap segment, an INFO note, judged up to the gap.
gap=$top/tests/fuzz/corpus/pcap_read/gap-ipv6.pcap
"$bin" audit "$gap" --report "json:$work/gap.json" --report "junit:$work/gap.xml" >"$work/gap.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$("$py" -c '
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
print(any(g["kind"] == "gap" and g["length"] == 40 for g in s["transcript"]["segments"]) and
      any(f["check"] == "audit.capture" and f["verdict"] == "INFO" and "judged only up to segment" in f["message"]
          for f in s["findings"]))' "$work/gap.json")" = True ]; then
	ok "a capture with lost bytes: a gap of 40 in the transcript, an INFO note, exit 0"
else
	notok "a capture with lost bytes: exit $rc"
	sed 's/^/# /' "$work/gap.out"
fi
schema_check "gap" "$work/gap.json" "$work/gap.xml"

# 4. Bad input: exit 2, one line naming the file.
printf 'not a capture\n' >"$work/text.pcap"
"$bin" audit "$work/text.pcap" >"$work/bad1.out" 2>"$work/bad1.err"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$work/bad1.err")" -eq 1 ] &&
	grep -q "^smtp-harness: $work/text.pcap: expected a pcap or pcapng capture" "$work/bad1.err"; then
	ok "a file that is no capture: exit 2, one line naming it"
else
	notok "no capture: exit $rc, $(cat "$work/bad1.err")"
fi
if [ -s "$work/reference.pcap" ]; then
	head -c "$(($(stat -c %s "$work/reference.pcap") - 7))" "$work/reference.pcap" >"$work/cut.pcap"
	"$bin" audit "$work/cut.pcap" --report "json:$work/cut.json" >"$work/bad2.out" 2>"$work/bad2.err"
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$work/bad2.err")" -eq 1 ] && [ ! -e "$work/cut.json" ] &&
		grep -q "^smtp-harness: $work/cut.pcap: expected a whole record at byte offset [0-9]*" "$work/bad2.err"; then
		ok "a capture cut short: exit 2, the offset of the cut record, no report"
	else
		notok "cut capture: exit $rc, $(cat "$work/bad2.err")"
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
