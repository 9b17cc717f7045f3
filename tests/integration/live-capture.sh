#!/usr/bin/env bash
# live-capture.sh - `smtp-harness run --capture-iface` end to end on lo.
#
# As root: scenarios/conformance/transaction against the built-in server
# (no --target) with --capture DIR --capture-iface lo, then with tshark:
#   - DIR/live.pcap exists (and no temporary file is left beside it);
#   - it holds one SYN and one EHLO per session (the synthesized pcaps in
#     DIR count the sessions), all on the built-in server's port;
#   - the client's bytes of one session, as tshark follows them in
#     live.pcap, are those of the same stream in the synthesized pcap.
# Then the paths without a capture: as user nobody (setpriv, a copy of the
# binary and the suite readable by nobody) and with an interface that does
# not exist: exactly one line of warning on stderr, the exit status of the
# same run without the option, the synthesized pcaps still written, and no
# live.pcap.
# One line per check ("ok - ..." / "not ok - ..."), then "N passed, M failed".
# Environment: HARNESS_BIN (default build/smtp-harness).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${HARNESS_BIN:-$top/build/smtp-harness}
suite=$top/scenarios/conformance/transaction
[ -x "$bin" ] || { echo "live-capture.sh: error: no harness binary $bin (set HARNESS_BIN)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "live-capture.sh: error: needs root (a live capture on lo)" >&2; exit 1; }
for c in tshark setpriv; do
	command -v "$c" >/dev/null 2>&1 ||
		{ echo "live-capture.sh: error: $c not found (run tests/setup-debian.sh)" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/smtp-harness-live.XXXXXX") || exit 1
chmod 755 "$work"
export HARNESS_STATE_DIR=$work/state
trap 'rm -rf -- "$work"' EXIT

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }

# ---- privileged: a live capture of the run's own sessions -------------
cap=$work/cap
"$bin" run --quiet --capture "$cap" --capture-iface lo "$suite" >"$work/run.out" 2>"$work/run.err"
rc=$?
check "run with --capture-iface lo exits 0 (got $rc)" [ "$rc" = 0 ]
check "nothing on stderr as root" [ ! -s "$work/run.err" ]
check "live.pcap written" [ -s "$cap/live.pcap" ]
check "no temporary file left" [ ! -e "$cap/live.pcap.tmp" ]
sessions=$(find "$cap" -name '*.pcap' ! -name live.pcap | wc -l)
check "synthesized pcaps written ($sessions)" [ "$sessions" -gt 0 ]
# The built-in server's port: where every SYN went.
ports=$(tshark -r "$cap/live.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' \
	-T fields -e tcp.dstport 2>/dev/null | sort -u)
syns=$(tshark -r "$cap/live.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' 2>/dev/null | wc -l)
check "one port in live.pcap (got \"$(echo $ports)\")" [ "$(echo "$ports" | wc -w)" = 1 ]
check "one SYN per session ($syns of $sessions)" [ "$syns" = "$sessions" ]
ehlo=$(tshark -r "$cap/live.pcap" -d "tcp.port==$ports,smtp" -Y 'smtp.req.command==EHLO' 2>/dev/null | wc -l)
check "one EHLO per session ($ehlo of $sessions)" [ "$ehlo" = "$sessions" ]
fins=$(tshark -r "$cap/live.pcap" -Y 'tcp.flags.fin==1' 2>/dev/null | wc -l)
check "both FINs of every session ($fins of $((2 * sessions)))" [ "$fins" = $((2 * sessions)) ]

# The client's bytes of one session, followed in both captures. The live
# stream is found by its SYN's source port, the synthesized pcap's one
# stream is number 0.
follow() { # FILE STREAM PORT -> client's bytes in hex
	tshark -r "$1" -d "tcp.port==$3,smtp" -q -z "follow,tcp,raw,$2" 2>/dev/null |
		awk '/^====/ { n++; next } n == 1 && /^[0-9a-f]+$/ { printf "%s", $0 } END { print "" }'
}
one=$cap/transaction.basic.pcap
synth_port=$(tshark -r "$one" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.dstport 2>/dev/null | head -1)
synth=$(follow "$one" 0 "$synth_port")
echo "  # transaction.basic: the client sent ${#synth} hex digits"
match=0
for s in $(seq 0 $((syns - 1))); do
	[ "$(follow "$cap/live.pcap" "$s" "$ports")" = "$synth" ] && { match=1; break; }
done
check "transaction.basic's bytes as followed in live.pcap match its synthesized pcap" \
	[ -n "$synth" -a "$match" = 1 ]

# ---- unprivileged: one line, the same exit status ---------------------
plain=$work/plain
"$bin" run --quiet --capture "$plain" "$suite" >/dev/null 2>&1
want=$?
# As nobody: a copy of the binary and the suite nobody can read.
mkdir -p "$work/nobody"
cp "$bin" "$work/nobody/smtp-harness"
cp -r "$suite" "$work/nobody/suite"
chmod -R a+rX "$work/nobody"
chown nobody "$work/nobody"
setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	env HARNESS_STATE_DIR="$work/nobody/state" HOME="$work/nobody" \
	"$work/nobody/smtp-harness" run --quiet --capture "$work/nobody/cap" --capture-iface lo \
	"$work/nobody/suite" >/dev/null 2>"$work/nobody.err"
rc=$?
check "as nobody: the exit status of the run without the option ($rc, $want)" [ "$rc" = "$want" ]
check "as nobody: exactly one line on stderr ($(wc -l <"$work/nobody.err"))" \
	[ "$(wc -l <"$work/nobody.err")" = 1 ]
check "as nobody: it says there is no live capture" grep -q "no live capture" "$work/nobody.err"
check "as nobody: no live.pcap, no temporary file" \
	[ ! -e "$work/nobody/cap/live.pcap" -a ! -e "$work/nobody/cap/live.pcap.tmp" ]
check "as nobody: the synthesized pcaps still written" \
	[ "$(find "$work/nobody/cap" -name '*.pcap' | wc -l)" = "$sessions" ]
sed 's/^/  # /' "$work/nobody.err"

"$bin" run --quiet --capture "$work/noif" --capture-iface no-such-if0 "$suite" >/dev/null 2>"$work/noif.err"
rc=$?
check "no such interface: the exit status of the run without the option ($rc, $want)" [ "$rc" = "$want" ]
check "no such interface: exactly one line on stderr ($(wc -l <"$work/noif.err"))" \
	[ "$(wc -l <"$work/noif.err")" = 1 ]
check "no such interface: no live.pcap" [ ! -e "$work/noif/live.pcap" ]
sed 's/^/  # /' "$work/noif.err"

"$bin" run --quiet --capture-iface lo "$suite" >/dev/null 2>&1
rc=$?
check "--capture-iface without --capture is a usage error (2, got $rc)" [ "$rc" = 2 ]

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
