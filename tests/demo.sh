#!/usr/bin/env bash
# The main job, end to end on a Debian 12 machine: install what is needed,
# build, run the shipped conformance suite against the built-in reference
# server (no --target: it needs nothing else) as a baseline, then start
# Postfix on 127.0.0.1:2525 (relaying to smtp-sink on :2526), run the suite
# against it, print the summary, write the reports and captures into
# ./out/ (the baseline's into ./out/reference/), and stop what it started.
# Exit status: the harness's own for the Postfix run (0 all passed, 1 a
# conformance failure, ...); the baseline must pass, or the demo stops.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
out=${HARNESS_OUT:-$top/out}
port=${HARNESS_DEMO_PORT:-2525}

bash tests/setup-debian.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" -- --no-print-directory >/dev/null

mkdir -p "$out/reference"
echo "== the suite against the built-in reference server (the baseline)"
build/smtp-harness run --quiet --report "json:$out/reference/report.json" \
	--report "junit:$out/reference/report.xml" scenarios/conformance

echo
echo "== the suite against Postfix on 127.0.0.1:$port"
stop() { bash tests/integration/target-postfix.sh stop "$port" >/dev/null 2>&1 || true; }
trap stop EXIT
bash tests/integration/target-postfix.sh start "$port"

rc=0
build/smtp-harness run --target "127.0.0.1:$port" \
	--report "json:$out/report.json" --report "junit:$out/report.xml" \
	--report "text:$out/report.txt" --capture "$out/captures" \
	scenarios/conformance || rc=$?
echo "reports: $out/report.json $out/report.xml $out/report.txt; captures: $out/captures/"
exit $rc
