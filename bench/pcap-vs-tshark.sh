#!/bin/bash
# pcap-vs-tshark.sh - how fast `smtp-harness audit` reads a large capture,
# set against tshark reassembling the same file, with peak RSS of each.
#
# The capture: tcpdump on lo, filtered to the port of an smtp-sink this
# script starts, records `smtp-harness load` sending SESSIONS sessions of
# MESSAGES messages of SIZE octets each (20 sessions at once), so tens to
# hundreds of MB of real SMTP over TCP. Or --file FILE: measure a capture
# you already have.
#
# Then, each under /usr/bin/time -v (wall time, peak RSS):
#   audit --quiet                  read, reassemble, split into SMTP
#                                  sessions, every passive check; no report,
#                                  so each transcript is freed once judged
#   audit --quiet --report json    the same, keeping every transcript for
#                                  the report (memory grows with the file)
#   tshark -q -z io,stat,0,...     one pass with TCP reassembly and the SMTP
#                                  dissector on every packet (bench/README.md
#                                  says why this is the comparison)
#   tshark -q -z follow,tcp,raw,0  one stream followed: one pass per stream
#                                  is what following them all would cost
# and prints MB/s (10^6 bytes of capture file per second) and the ratio
# audit / tshark. It checks that audit found SESSIONS sessions, no gap
# unless tcpdump dropped packets. Speed is measured, never asserted.
#
# Usage: bench/pcap-vs-tshark.sh [SESSIONS [MESSAGES [SIZE]]]
#                                (defaults 4000 5 10000: about 210 MB)
#        bench/pcap-vs-tshark.sh --file FILE
# Environment: HARNESS_BIN (default build/smtp-harness; build it with
# -DCMAKE_BUILD_TYPE=RelWithDebInfo or Release); HARNESS_BENCH_PORT
# (default 2770); BENCH_KEEP=1 keeps the capture (its path is printed).
# Needs root for tcpdump (not with --file). Stops what it starts, by pid.

set -uo pipefail
# shellcheck disable=SC2034 # lib.sh names the script in its messages
harness_prog=pcap-vs-tshark.sh
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=SCRIPTDIR/../tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
# shellcheck source=SCRIPTDIR/../tests/integration/lib-tcpdump.sh
. "$top/tests/integration/lib-tcpdump.sh"

bin=${HARNESS_BIN:-$top/build/smtp-harness}
port=${HARNESS_BENCH_PORT:-2770}
timev=/usr/bin/time
file=
generated=0
if [ "${1:-}" = --file ]; then
	[ $# -eq 2 ] || harness_die "usage: pcap-vs-tshark.sh [SESSIONS [MESSAGES [SIZE]]] | --file FILE"
	file=$2
	[ -r "$file" ] || harness_die "cannot read $file"
fi
sessions='' messages='' size=''
if [ -z "$file" ]; then
	sessions=${1:-4000}
	messages=${2:-5}
	size=${3:-10000}
	for v in "$sessions" "$messages" "$size"; do
		case $v in ''|*[!0-9]*) harness_die "usage: pcap-vs-tshark.sh [SESSIONS [MESSAGES [SIZE]]] | --file FILE" ;; esac
	done
fi

[ -x "$bin" ] || harness_die "$bin not found (build first, or set HARNESS_BIN)"
[ -x "$timev" ] || harness_die "$timev not found (apt-get install time)"
harness_need_cmd tshark tcpdump

work=$(mktemp -d /tmp/smtp-harness-bench-pcap.XXXXXX)
chmod 755 "$work"
cleanup() {
	tcpdump_stop
	stop_pid "$work/sink.pid" 5 || true
	if [ "${BENCH_KEEP:-0}" = 1 ] && [ "$generated" = 1 ]; then
		mv -f "$work/load.pcap" /tmp/smtp-harness-bench.pcap 2>/dev/null &&
			echo "capture kept: /tmp/smtp-harness-bench.pcap"
	fi
	rm -rf "$work"
}
harness_on_exit cleanup

if [ -z "$file" ]; then
	[ "$(id -u)" -eq 0 ] || harness_die "tcpdump needs root (or use --file FILE)"
	harness_check_port "$port"
	port_open 127.0.0.1 "$port" && harness_die "127.0.0.1:$port is taken (set HARNESS_BENCH_PORT)"
	spawn "$work/sink.pid" "$work/sink.log" /usr/sbin/smtp-sink -u nobody "127.0.0.1:$port" 100 ||
		harness_die "could not start smtp-sink"
	wait_port 127.0.0.1 "$port" 10 || harness_die "smtp-sink did not listen on 127.0.0.1:$port"
	file=$work/load.pcap
	generated=1
	TCPDUMP_BUFFER_KIB=262144 tcpdump_start "$file" "tcp port $port" || harness_die "tcpdump did not start"
	echo "capture: load of $sessions sessions x $messages messages x $size octets against smtp-sink, tcpdump on lo"
	"$bin" load --no-progress --target "127.0.0.1:$port" --sessions "$sessions" --concurrency 20 \
		--messages-per-session "$messages" --size "$size" >"$work/load.out" 2>&1
	[ $? -le 1 ] || harness_die "load failed: $(tail -n 3 "$work/load.out")"
	tcpdump_stop
	stop_pid "$work/sink.pid" 5
	dropped=$(tcpdump_dropped "$file")
	echo "  $(sed -n 's/^messages: //p' "$work/load.out" | head -n 1); tcpdump dropped $dropped packet(s)"
fi
bytes=$(stat -L -c %s "$file")
mb=$(echo "$bytes / 1000000" | bc -l)
printf 'file: %s, %.1f MB; %s CPU(s), %s; load average %s\n' "$file" "$mb" "$(nproc)" \
	"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$(cut -d ' ' -f 1-3 /proc/loadavg)"

# timed NAME CMD...: runs CMD under /usr/bin/time -v; prints "NAME seconds
# MB/s rss" and leaves MB/s in $rate. Output in $work/out. A command that
# exits above 1 (audit's 1 is a conformance failure) ends the script.
rate=0
timed() {
	local name=$1 secs rss rc
	shift
	"$timev" -v -o "$work/time" "$@" >"$work/out" 2>&1
	rc=$?
	[ "$rc" -le 1 ] || harness_die "$name exited $rc: $(tail -n 3 "$work/out" | tr '\n' ' ')"
	secs=$(sed -n 's/^\s*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time" |
		awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
	rss=$(sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$work/time")
	rate=$(echo "$mb / ($secs + 0.005)" | bc -l)
	printf '  %-48s %7.2f s %8.1f MB/s %9d KiB\n' "$name" "$secs" "$rate" "$rss"
}

timed "smtp-harness audit --quiet" "$bin" audit "$file" --quiet
r_audit=$rate
found=$(sed -n 's/.*TCP segment(s), \([0-9]*\) SMTP session(s)$/\1/p' "$work/out")
echo "    $(grep -m 1 'TCP segment(s)' "$work/out" | sed 's/^.*: //')"
if [ -n "$sessions" ] && [ "${found:-0}" -ne "$sessions" ]; then
	echo "    warning: $sessions sessions were run, audit found ${found:-0}"
fi
timed "smtp-harness audit --quiet --report json" "$bin" audit "$file" --quiet \
	--report "json:$work/audit.json"
gaps=$(/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(sum(1 for s in r["scenarios"] if any(g["kind"] == "gap" for g in s["transcript"]["segments"])))' \
	"$work/audit.json" 2>/dev/null)
rm -f "$work/audit.json"
[ "${gaps:-0}" -gt 0 ] && echo "    $gaps session(s) with bytes lost from the capture (see tcpdump's drops)"
# tshark takes only ports 25, 465 and 587 for SMTP: the server's port
# (that of the first SYN, unless BENCH_SMTP_PORT says) is decoded as SMTP.
[ "$generated" = 1 ] && smtp_port=$port
smtp_port=${BENCH_SMTP_PORT:-${smtp_port:-$(tshark -n -r "$file" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" \
	-T fields -e tcp.dstport -c 1 2>/dev/null)}}
harness_check_port "$smtp_port"
timed "tshark -q -z io,stat,0,smtp.req.command" tshark -n -r "$file" -d "tcp.port==$smtp_port,smtp" -q \
	-z "io,stat,0,COUNT(smtp.req.command)smtp.req.command"
r_tshark=$rate
echo "    SMTP commands tshark dissected (port $smtp_port): $(sed -n 's/^| [0-9.]* <> [0-9.]* |[[:space:]]*\([0-9]*\) |.*/\1/p' "$work/out" | tail -n 1)"
printf '  %-48s %7.2f\n' "audit / tshark (MB/s)" "$(echo "$r_audit / $r_tshark" | bc -l)"
timed "tshark -q -z follow,tcp,raw,0 (one stream)" tshark -n -r "$file" -q -z follow,tcp,raw,0
