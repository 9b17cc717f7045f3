#!/usr/bin/env bash
# matrix.sh - the results matrix: the conformance suite against six real
# servers, written to docs/results.md, and (with --check) compared with
# the pinned results in tests/integration/expected/<target>.json.
#
# Usage: tests/matrix.sh [--check] [--out FILE | --no-write] [--jobs N] [TARGET...]
#   TARGET: postfix aiosmtpd exim opensmtpd nodemailer haraka (default: all)
#   --check     compare each report with expected/<target>.json (every
#               verdict, finding, ERROR reason and explanation) and exit 1
#               on a difference; prints ok/not ok lines and "N passed, M failed"
#   --out FILE  where the matrix goes (default docs/results.md);
#   --no-write  no matrix at all
#   --jobs N    scenarios at once per target (default 4)
# Environment: HARNESS_BIN (default build/smtp-harness);
#   HARNESS_MATRIX_PORT (default 2620): the first of the seven loopback
#   ports used (Postfix, its smtp-sink, aiosmtpd, Exim, OpenSMTPD,
#   smtp-server, Haraka); HARNESS_MATRIX_KEEP=1 keeps the reports.
# Needs root and tests/setup-debian.sh. Postfix is a private instance
# (target-postfix-private.sh): the machine's Postfix is not touched.
# Each target is started, the suite runs with a JSON report, the target is
# stopped; every target this script started is stopped on exit, whatever
# happens. The targets run one at a time, in a state directory of their own
# ($HARNESS_STATE_DIR/matrix).
# Exit status: 0 all went well; 1 a target did not start, a FAIL or ERROR
# has no explanation, or (--check) a result differs from the expected one;
# 2 usage.

set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here=$top/tests/integration
harness_prog=matrix.sh
# shellcheck source=SCRIPTDIR/integration/lib.sh
. "$here/lib.sh"
# The targets of the matrix keep their own state, so that its stops never
# touch a server another test started.
HARNESS_STATE_DIR=$HARNESS_STATE_DIR/matrix
export HARNESS_STATE_DIR

all_targets=(postfix aiosmtpd exim opensmtpd nodemailer haraka)
bin=${HARNESS_BIN:-$top/build/smtp-harness}
suite=$top/scenarios/conformance
out=$top/docs/results.md
check=0
write=1
jobs=4
targets=()
# Every harness run is bounded, so a hang is a failure, not a stall.
run_limit=180

usage() {
	echo "usage: $harness_prog [--check] [--out FILE | --no-write] [--jobs N] [TARGET...]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--check) check=1 ;;
	--no-write) write=0 ;;
	--out) [ $# -ge 2 ] || usage; out=$2; shift ;;
	--jobs) [ $# -ge 2 ] || usage; jobs=$2; shift
		case "$jobs" in ''|*[!0-9]*|0) usage ;; esac ;;
	-h|--help) usage ;;
	-*) echo "$harness_prog: unknown option: $1" >&2; usage ;;
	*)
		case " ${all_targets[*]} " in
		*" $1 "*) targets+=("$1") ;;
		*) echo "$harness_prog: unknown target: $1 (one of: ${all_targets[*]})" >&2; usage ;;
		esac ;;
	esac
	shift
done
[ "${#targets[@]}" -gt 0 ] || targets=("${all_targets[@]}")

base=${HARNESS_MATRIX_PORT:-2620}
harness_check_port "$base"
harness_check_port "$((base + 6))"
declare -A port=(
	[postfix]=$base [aiosmtpd]=$((base + 2)) [exim]=$((base + 3))
	[opensmtpd]=$((base + 4)) [nodemailer]=$((base + 5)) [haraka]=$((base + 6))
)
declare -A script=(
	[postfix]=target-postfix-private.sh [aiosmtpd]=target-aiosmtpd.sh
	[exim]=target-exim.sh [opensmtpd]=target-opensmtpd.sh
	[nodemailer]=target-nodemailer.sh [haraka]=target-haraka.sh
)
export PRIVATE_POSTFIX_SINK_PORT=$((base + 1))

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

[ -x "$bin" ] || harness_die "no harness binary $bin (set HARNESS_BIN)"
[ "$(id -u)" -eq 0 ] || harness_die "must run as root (Postfix, Exim and OpenSMTPD need it)"
py=/usr/bin/python3
[ -x "$py" ] || harness_die "$py not found (run tests/setup-debian.sh)"

work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-matrix.XXXXXX") || harness_die "mktemp failed"
cleanup_work() {
	if [ "${HARNESS_MATRIX_KEEP:-0}" = 1 ] || [ "$failed" -gt 0 ]; then
		echo "# reports kept in $work"
	else
		rm -rf "$work"
	fi
}
harness_on_exit cleanup_work
trap 'exit 130' INT
trap 'exit 143' TERM

# pycheck MODE ARGS...: report-check.py, its lines counted; a crash of the
# checker is a failure too.
pycheck() {
	"$py" "$here/report-check.py" "$@" >"$work/pycheck.out" 2>"$work/pycheck.err"
	local rc=$?
	harness_tally "$work/pycheck.out"
	[ "$rc" -eq 0 ] || not_ok "report-check.py $1 crashed: $(tail -n 1 "$work/pycheck.err")"
}

matrix_args=()
for t in "${targets[@]}"; do
	p=${port[$t]}
	s=$here/${script[$t]}
	t0=$SECONDS
	if ! bash "$s" start "$p" >"$work/start-$t.log" 2>&1; then
		not_ok "$t: did not start on 127.0.0.1:$p: $(tail -n 2 "$work/start-$t.log" | tr '\n' ' ')"
		bash "$s" stop "$p" >/dev/null 2>&1
		matrix_args+=("$t=$work/$t.json=$here/expected/$t.json=${script[$t]}")
		continue
	fi
	harness_on_exit "bash '$s' stop '$p' >/dev/null 2>&1"
	timeout -k 5 "$run_limit" "$bin" run --target "127.0.0.1:$p" --jobs "$jobs" --quiet \
		--report "json:$work/$t.json" "$suite" >"$work/$t.out" 2>"$work/$t.err"
	rc=$?
	bash "$s" stop "$p" >/dev/null 2>&1 || not_ok "$t: stop failed"
	echo "# $t (127.0.0.1:$p): exit $rc, $(tail -n 1 "$work/$t.out"), $((SECONDS - t0)) s"
	if grep -qE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:' "$work/$t.err"; then
		not_ok "$t: sanitizer report in $work/$t.err"
	fi
	if [ "$check" = 1 ]; then
		want=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["exit_status"])' \
			"$here/expected/$t.json" 2>/dev/null)
		if [ "$rc" = "$want" ]; then
			ok "$t: exit status $rc"
		else
			not_ok "$t: exit status $rc, expected ${want:-?} (stderr: $(head -c 300 "$work/$t.err"))"
		fi
		pycheck expected "$t" "$work/$t.json" "$here/expected/$t.json"
	fi
	matrix_args+=("$t=$work/$t.json=$here/expected/$t.json=${script[$t]}")
done

if [ "$write" = 1 ]; then
	pycheck matrix "$out" "${matrix_args[@]}"
	echo "# matrix written to $out"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
