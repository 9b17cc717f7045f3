#!/bin/bash
# load-vs-source.sh - messages per second and peak RSS of `smtp-harness
# load` and of Postfix's smtp-source, each against the same smtp-sink, in
# one go on this machine, loopback only.
#
# Three cases, each run by both tools with the same numbers:
#   per-connection   one message per connection (smtp-source default;
#                    load --messages-per-session 1)
#   per-session      many messages per connection (smtp-source -d;
#                    load --sessions C --messages-per-session N/C)
#   100k             as per-session, with 100 KB messages
# and, for per-session, load with --pipelining off too (smtp-source does
# not pipeline; load pipelines when the server offers it). Last, the peak
# RSS of load holding IDLE sessions open at once (bench/idle-session.json:
# EHLO, 5 s idle, NOOP, QUIT; default 10000, skipped when `ulimit -n` is
# too low for both ends).
#
# Usage: bench/load-vs-source.sh [MESSAGES [CONCURRENCY [IDLE]]]
#        (defaults 20000 20; the 100k case sends MESSAGES/10)
# Environment: HARNESS_BIN (default build/smtp-harness; build it with
# -DCMAKE_BUILD_TYPE=RelWithDebInfo or Release).
# Prints one line per run: seconds, msg/s, peak RSS in KiB, the client's
# CPU seconds (user + sys, from /usr/bin/time -v) and smtp-sink's CPU
# seconds during that run (utime + stime from /proc/PID/stat, before and
# after), each also in microseconds per message, and how busy the sink
# was (its CPU seconds over the wall time; smtp-sink is one process, so
# near 100 % it sets the pace). Then the ratios load / smtp-source per
# case, of msg/s and of client CPU per message: when the sink is the
# bottleneck both tools reach about the same msg/s, and the CPU ratio is
# the one that tells them apart. Speed is measured here, never asserted. Stops what it starts, by
# pid.

set -uo pipefail
harness_prog='load-vs-source.sh'
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=SCRIPTDIR/../tests/integration/lib.sh
. "$top/tests/integration/lib.sh"

messages=${1:-20000}
conc=${2:-20}
idle=${3:-10000}
bin=${HARNESS_BIN:-$top/build/smtp-harness}
source_bin=/usr/sbin/smtp-source
sink_bin=/usr/sbin/smtp-sink
timev=/usr/bin/time

[ -x "$bin" ] || harness_die "$bin not found (build first, or set HARNESS_BIN)"
if [ ! -x "$source_bin" ] || [ ! -x "$sink_bin" ]; then
	harness_die "smtp-source/smtp-sink not found (apt-get install postfix)"
fi
[ -x "$timev" ] || harness_die "$timev not found (apt-get install time)"

work=$(mktemp -d /tmp/smtp-harness-bench.XXXXXX)
cleanup() {
	stop_pid "$work/sink.pid" 5 || true
	rm -rf "$work"
}
harness_on_exit cleanup

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

sink_port=$(free_port)
user=()
[ "$(id -u)" -eq 0 ] && user=(-u nobody)
sink_max=$((idle > 1024 ? idle + 100 : 1024))
spawn "$work/sink.pid" "$work/sink.log" "$sink_bin" "${user[@]}" -m "$sink_max" "127.0.0.1:$sink_port" "$sink_max" ||
	harness_die "could not start smtp-sink"
wait_port 127.0.0.1 "$sink_port" 10 || harness_die "smtp-sink did not listen"
target=127.0.0.1:$sink_port

sink_pid=$(pid_read "$work/sink.pid") || harness_die "smtp-sink is not running"
hz=$(getconf CLK_TCK)

# sink_ticks: smtp-sink's CPU time so far (utime + stime, fields 14 and
# 15 of /proc/PID/stat, after the command name, which may hold spaces).
sink_ticks() {
	local stat
	stat=$(cat "/proc/$sink_pid/stat") || harness_die "smtp-sink is gone"
	echo "${stat##*) }" | awk '{ print $12 + $13 }'
}

# timed NAME N CMD...: runs CMD under /usr/bin/time -v; prints
# "NAME seconds msg/s rss_kib client-CPU sink-CPU" and leaves msg/s in
# $rate and the client's CPU seconds per message in $cpu.
rate=0
cpu=0
timed() {
	local name=$1 n=$2 secs rss t0 t1 ccpu scpu
	shift 2
	t0=$(sink_ticks)
	"$timev" -v -o "$work/time" "$@" >"$work/out" 2>&1 ||
		{ [ "$(head -c 12 "$work/out")" = "load against" ] ||
		  harness_die "$name failed: $(tail -n 3 "$work/out")"; }
	secs=$(sed -n 's/^\s*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time" |
		awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
	t1=$(sink_ticks)
	rss=$(sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$work/time")
	ccpu=$(awk '/(User|System) time \(seconds\):/ { s += $NF } END { print s + 0 }' "$work/time")
	scpu=$(echo "($t1 - $t0) / $hz" | bc -l)
	rate=$(echo "$n / $secs" | bc -l)
	cpu=$(echo "$ccpu / $n" | bc -l)
	printf '  %-44s %7.2f s %9.0f msg/s %8d KiB  cpu %6.2f s (%5.1f us/msg)  sink %6.2f s (%5.1f us/msg, busy %3.0f %%)\n' \
		"$name" "$secs" "$rate" "$rss" "$ccpu" "$(echo "$cpu * 1000000" | bc -l)" \
		"$scpu" "$(echo "$scpu * 1000000 / $n" | bc -l)" "$(echo "$scpu * 100 / $secs" | bc -l)"
	if [ "$(head -c 12 "$work/out")" = "load against" ]; then
		local got
		got=$(sed -n 's/^messages: [0-9]* begun, \([0-9]*\) accepted.*/\1/p' "$work/out")
		[ "$got" = "$n" ] || harness_die "$name: $got of $n messages accepted"
	fi
}

# ratio RATE CPU SRC_RATE SRC_CPU: load / smtp-source, of msg/s and of
# client CPU per message (below 1: load is cheaper per message).
ratio() {
	local c=n/a
	[ "$(echo "$4 > 0" | bc -l)" = 1 ] && c=$(printf '%.2f' "$(echo "$2 / $4" | bc -l)")
	printf '  %-44s %7.2f msg/s   %5s cpu/msg\n' "load / smtp-source" \
		"$(echo "$1 / $3" | bc -l)" "$c"
}

src=("$source_bin" -f a@x.test -t b@y.test)
load=("$bin" load --no-progress --target "$target")
echo "loopback, smtp-sink; $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"

echo "per-connection: $messages messages of 1 KiB, $conc connections at once, one message each"
timed "smtp-source -s $conc -m $messages -l 1024" "$messages" \
	"${src[@]}" -s "$conc" -m "$messages" -l 1024 "$target"
r_src=$rate
c_src=$cpu
timed "load --sessions $messages --concurrency $conc" "$messages" \
	"${load[@]}" --sessions "$messages" --concurrency "$conc" --size 1024
ratio "$rate" "$cpu" "$r_src" "$c_src"

per=$((messages / conc))
n=$((per * conc))
echo "per-session: $n messages of 1 KiB over $conc connections"
timed "smtp-source -d -s $conc -m $n -l 1024" "$n" \
	"${src[@]}" -d -s "$conc" -m "$n" -l 1024 "$target"
r_src=$rate
c_src=$cpu
timed "load --sessions $conc --messages-per-session $per" "$n" \
	"${load[@]}" --sessions "$conc" --concurrency "$conc" --messages-per-session "$per" --size 1024
ratio "$rate" "$cpu" "$r_src" "$c_src"
timed "load ... --pipelining off" "$n" \
	"${load[@]}" --sessions "$conc" --concurrency "$conc" --messages-per-session "$per" \
	--size 1024 --pipelining off
ratio "$rate" "$cpu" "$r_src" "$c_src"

per=$((messages / 10 / conc))
n=$((per * conc))
echo "100k: $n messages of 100 KB over $conc connections"
timed "smtp-source -d -s $conc -m $n -l 102400" "$n" \
	"${src[@]}" -d -s "$conc" -m "$n" -l 102400 "$target"
r_src=$rate
c_src=$cpu
timed "load --sessions $conc --messages-per-session $per" "$n" \
	"${load[@]}" --sessions "$conc" --concurrency "$conc" --messages-per-session "$per" --size 102400
ratio "$rate" "$cpu" "$r_src" "$c_src"

if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((idle + 200)) ]; then
	echo "idle: skipped, ulimit -n is $(ulimit -n), $idle sessions need more"
	exit 0
fi
echo "idle: $idle sessions open at once (EHLO, 5 s idle, NOOP, QUIT)"
"$timev" -v -o "$work/time" "${load[@]}" --sessions "$idle" --concurrency "$idle" \
	--scenario "$top/bench/idle-session.json" >"$work/out" 2>&1
peak=$(sed -n 's/^sessions: .* at most \([0-9]*\) open at once/\1/p' "$work/out")
printf '  %-44s %8d KiB, %s open at once at most\n' "load, peak RSS" \
	"$(sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$work/time")" "$peak"
