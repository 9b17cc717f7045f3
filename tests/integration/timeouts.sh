#!/bin/bash
# timeouts.sh - the timeout scenarios (scenarios/timeouts) against real
# software, in one of two modes:
#
#   fast (default)  scenarios/timeouts/fast/client-*: each reply the RFC
#                   5321 §4.5.3.2 rows name (greeting, MAIL, RCPT, 354,
#                   after the dot) held 15 s, all at once (--jobs), with
#                   Python's smtplib as the client: with a 60 s timeout it
#                   must pass them all without a finding; with a 5 s
#                   timeout each must end in a WARN under its row. About
#                   16 s. Shows only "the client waited at least 15 s".
#   full (--full)   scenarios/timeouts/full/: the replies held for nearly
#                   the RFC minimums (5 min, 2 min, 10 min), smtplib with
#                   no timeout of its own, and timeouts.server-idle-5min
#                   against aiosmtpd. About 11 minutes: for nightly runs.
#
# Prints "ok - ..." / "not ok - ..." per check and "N passed, M failed";
# exits 1 when any check failed. Stops what it starts, by pid.
# Environment: HARNESS_BIN (default build/smtp-harness), TIMEOUTS_PORT
# (full mode: aiosmtpd's port, default 2920).

set -uo pipefail
harness_prog=timeouts.sh
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$top/tests/integration/lib.sh"

bin=${HARNESS_BIN:-$top/build/smtp-harness}
py=/usr/bin/python3
mode=fast
case ${1:-} in
"") ;;
--full) mode=full ;;
*)
	echo "usage: timeouts.sh [--full]" >&2
	exit 2
	;;
esac

# expect_eq GOT WANT WHAT: ok WHAT when GOT is WANT.
expect_eq() {
	if [ "$1" = "$2" ]; then harness_ok "$3"; else harness_not_ok "$3, got $1"; fi
}

[ -x "$bin" ] || harness_die "$bin not found (build first, or set HARNESS_BIN)"
[ -x "$py" ] || harness_die "$py not found (run tests/setup-debian.sh)"

work=$(mktemp -d /tmp/smtp-harness-timeouts.XXXXXX)
cleanup() {
	[ -e "$work/aiosmtpd.pid" ] && stop_pid "$work/aiosmtpd.pid" 5
	rm -rf "$work"
}
harness_on_exit cleanup

# The client under test: smtplib, with the socket timeout given (seconds;
# "none" for none of its own, as its default).
cat >"$work/client.py" <<'EOF'
import smtplib, sys
t = None if sys.argv[4] == "none" else float(sys.argv[4])
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=t) as s:
    s.sendmail("a@harness.test", ["b@example.test"], open(sys.argv[3], "rb").read())
EOF

# run NAME TIMEOUT SCENARIOS...: all at once, JSON report in $work/NAME.json.
run() {
	local name=$1 t=$2
	shift 2
	"$bin" run --jobs 6 --report "json:$work/$name.json" \
		--client-cmd "$py $work/client.py {host} {port} {message} $t" "$@" \
		>"$work/$name.out" 2>&1
	echo $? >"$work/$name.rc"
}

# summary NAME: "ID VERDICT CHECK-OF-EACH-FINDING..." per scenario, sorted.
summary() {
	"$py" -c 'import json, sys
d = json.load(open(sys.argv[1]))
for s in sorted(d["scenarios"], key=lambda s: s["id"]):
    print(s["id"], s["verdict"], *sorted("%s:%s" % (f["check"], f["verdict"]) for f in s["findings"]))' \
		"$work/$1.json" 2>/dev/null
}

if [ "$mode" = fast ]; then
	dir=$top/scenarios/timeouts/fast
	run patient 60 "$dir"/client-*.json &
	patient_pid=$!
	run hasty 5 "$dir"/client-*.json &
	wait "$patient_pid" $!
	n=0
	while read -r id verdict rest; do
		n=$((n + 1))
		if [ "$verdict" = PASS ] && [ -z "$rest" ]; then
			harness_ok "a 60 s client: $id passes without a finding"
		else
			harness_not_ok "a 60 s client: $id passes without a finding, got $verdict $rest"
		fi
	done < <(summary patient)
	expect_eq "$n" 5 "a 60 s client: 5 scenarios judged"
	n=0
	while read -r id verdict rest; do
		n=$((n + 1))
		row=$("$py" -c 'import json, sys, glob
for f in glob.glob(sys.argv[1] + "/client-*.json"):
    d = json.load(open(f))
    if d["id"] == sys.argv[2]:
        print(next(s["check"] for s in d["steps"] if s.get("check")))' "$dir" "$id")
		case " $rest " in
		*" $row:WARN "*)
			if [ "$verdict" = PASS ]; then
				harness_ok "a 5 s client: $id draws a WARN under $row"
			else
				harness_not_ok "a 5 s client: $id is a PASS with a WARN, got $verdict $rest"
			fi
			;;
		*) harness_not_ok "a 5 s client: $id draws a WARN under ${row:-its row}, got $verdict $rest" ;;
		esac
	done < <(summary hasty)
	expect_eq "$n" 5 "a 5 s client: 5 scenarios judged"
	# A SHOULD broken is a warning: the run still exits 0.
	expect_eq "$(cat "$work/hasty.rc")" 0 "a 5 s client: run exits 0 (WARNs only)"
else
	port=${TIMEOUTS_PORT:-2920}
	harness_check_port "$port"
	port_open 127.0.0.1 "$port" && harness_die "127.0.0.1:$port is already in use"
	spawn "$work/aiosmtpd.pid" "$work/aiosmtpd.log" "$py" -m aiosmtpd -n -c aiosmtpd.handlers.Sink \
		-l "127.0.0.1:$port" || harness_die "could not start aiosmtpd"
	wait_port 127.0.0.1 "$port" 15 || harness_die "aiosmtpd did not listen on 127.0.0.1:$port"
	dir=$top/scenarios/timeouts/full
	run clients none "$dir"/client-*.json &
	clients_pid=$!
	"$bin" run --target "127.0.0.1:$port" --report "json:$work/server.json" \
		"$dir/server-idle-5min.json" >"$work/server.out" 2>&1 &
	server_pid=$!
	# Not a bare `wait`: aiosmtpd, spawned above, is a child too.
	wait "$clients_pid" "$server_pid"
	n=0
	while read -r id verdict rest; do
		n=$((n + 1))
		if [ "$verdict" = PASS ] && [ -z "$rest" ]; then
			harness_ok "smtplib without a timeout: $id passes without a finding"
		else
			harness_not_ok "smtplib without a timeout: $id passes without a finding, got $verdict $rest"
		fi
	done < <(summary clients)
	expect_eq "$n" 5 "smtplib: 5 scenarios judged"
	got=$(summary server)
	case $got in
	"timeouts.server-idle-5min PASS") harness_ok "aiosmtpd: $got" ;;
	*) harness_not_ok "aiosmtpd: timeouts.server-idle-5min PASS, got \"$got\"" ;;
	esac
fi

harness_summary
