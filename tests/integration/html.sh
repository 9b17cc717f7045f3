#!/usr/bin/env bash
# html.sh - HTML reports of real runs, rendered by a real browser.
#
# Writes three HTML reports (with JSON beside each):
#   reference  the conformance suite against the built-in reference server
#              (exit 0, everything PASS);
#   sink       the suite against Postfix's smtp-sink on an unusual loopback
#              port (exit 1: FAILs, with finding markers on the diagrams);
#   client     a server-role scenario with a "client" that never connects
#              and prints markup and control bytes (exit 1: its output
#              must show escaped).
# Each page must be well-formed and agree with its JSON report
# (tests/html-check.py page). Then headless Chromium renders each one:
# a screenshot must be a PNG that is not blank, and the DOM it dumps must
# hold the summary, the profile table and ladders with lines and paths
# (the client's: its output, escaped).
# Chromium runs under `timeout`, with a profile directory of its own in
# the work directory, and nothing of it may be left running.
#
# The sink report's screenshot and page are kept as html-report.png and
# html-report.html in $HARNESS_ARTIFACTS (default: the directory of the
# harness binary), for CI to keep.
# One line per check ("ok - ..." / "not ok - ..."), then "N passed, M failed".
# Environment: HARNESS_BIN (default build/smtp-harness);
# HARNESS_HTML_SINK_PORT (default 2542); HARNESS_ARTIFACTS.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${HARNESS_BIN:-$top/build/smtp-harness}
port=${HARNESS_HTML_SINK_PORT:-2542}
suite=$top/scenarios/conformance
check=$top/tests/html-check.py
py=/usr/bin/python3
[ -x "$bin" ] || { echo "html.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
art=${HARNESS_ARTIFACTS:-$(dirname "$bin")}
browser=$(command -v chromium || true)
[ -n "$browser" ] || { echo "html.sh: error: chromium missing (tests/setup-debian.sh installs it)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-html.XXXXXX") || exit 1
export HARNESS_STATE_DIR=$work/state
# Chromium processes are found by the profile directory only this run
# uses, so nothing another user or script started is touched.
leftovers() { pgrep -f -- "--user-data-dir=$work/chrome" || true; }
cleanup() {
	bash "$here/target-smtp-sink.sh" stop "$port" >/dev/null 2>&1
	for pid in $(leftovers); do kill "$pid" 2>/dev/null; done
	rm -rf -- "$work"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }

# report LABEL WANT ARGS...: a run writing LABEL.html and LABEL.json
report() {
	local label=$1 want=$2 status
	shift 2
	"$bin" run --quiet --report "html:$work/$label.html" --report "json:$work/$label.json" \
		"$@" >"$work/$label.out" 2>&1
	status=$?
	if [ "$status" -eq "$want" ]; then
		ok "run $label: exit $status"
	else
		notok "run $label: exit $status, expected $want"
		tail -n 5 "$work/$label.out" | sed 's/^/# /'
	fi
	if out=$(xmllint --noout "$work/$label.html" 2>&1 &&
		"$py" "$check" page "$work/$label.html" "$work/$label.json" 2>&1); then
		ok "$label.html is well-formed and draws every transcript of $label.json"
	else
		notok "$label.html: $(echo "$out" | head -n 3)"
	fi
	ls "$work/$label".html.tmp.* >/dev/null 2>&1 && notok "a temporary $label.html was left behind"
}

# render LABEL [--fails|--client]: screenshot and DOM of LABEL.html in Chromium
render() {
	local label=$1 fails=${2:-}
	local flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars
		--no-first-run --user-data-dir="$work/chrome" --window-size=1280,2000)
	timeout -k 5 60 "$browser" "${flags[@]}" --screenshot="$work/$label.png" \
		"file://$work/$label.html" >"$work/$label.chrome" 2>&1
	if [ -s "$work/$label.png" ] && out=$("$py" "$check" png "$work/$label.png" 2>&1); then
		ok "Chromium renders $label.html: a PNG that is not blank"
	else
		notok "screenshot of $label.html: ${out:-none written}"
		tail -n 3 "$work/$label.chrome" | sed 's/^/# /'
	fi
	timeout -k 5 60 "$browser" "${flags[@]}" --dump-dom "file://$work/$label.html" \
		>"$work/$label.dom" 2>"$work/$label.chrome"
	if out=$("$py" "$check" dom "$work/$label.dom" $fails 2>&1); then
		case $fails in
		--fails) ok "Chromium's DOM of $label.html has the summary, the profile, ladders and FAIL markers" ;;
		--client) ok "Chromium's DOM of $label.html has the summary, the profile and the client's output" ;;
		*) ok "Chromium's DOM of $label.html has the summary, the profile and ladders" ;;
		esac
	else
		notok "DOM of $label.html: $out"
	fi
}

if ! bash "$here/target-smtp-sink.sh" start "$port" >"$work/sink-start.out" 2>&1; then
	cat "$work/sink-start.out" >&2
	echo "html.sh: error: could not start smtp-sink on 127.0.0.1:$port" >&2
	exit 1
fi

report reference 0 --jobs 4 "$suite"
report sink 1 --jobs 4 --target "127.0.0.1:$port" "$suite"
bash "$here/target-smtp-sink.sh" stop "$port" >/dev/null 2>&1
report client 1 --client-cmd 'printf "<script>alert(1)</script>\001\033[2J\n"; exit 3' \
	"$top/scenarios/clients/delivery.basic.json"

if grep -q '&lt;script&gt;alert(1)&lt;/script&gt;\\x01\\x1b\[2J' "$work/client.html" &&
	! grep -q '<script' "$work/client.html"; then
	ok "the client's output shows escaped, and no <script> element is in the page"
else
	notok "the client's output is missing or not escaped in client.html"
fi
grep -q 'class="mark FAIL"' "$work/sink.html" &&
	ok "the sink report marks FAIL findings on its diagrams" ||
	notok "no FAIL finding marker in sink.html"

render reference
render sink --fails
render client --client

if [ -n "$(leftovers)" ]; then
	notok "Chromium processes left running: $(leftovers | tr '\n' ' ')"
else
	ok "no Chromium process left running"
fi

if [ -s "$work/sink.png" ] && mkdir -p "$art" &&
	cp "$work/sink.png" "$art/html-report.png" && cp "$work/sink.html" "$art/html-report.html"; then
	ok "kept $art/html-report.png and html-report.html"
else
	notok "could not keep the screenshot in $art"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
