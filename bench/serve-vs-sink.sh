#!/bin/bash
# serve-vs-sink.sh - messages per second through `smtp-harness serve` (no
# spool) and through Postfix's smtp-sink, driven by smtp-source with the
# same parameters in the same run, on loopback.
#
# Usage: bench/serve-vs-sink.sh [SESSIONS [MESSAGES [SIZE]]]
#        (defaults 20 20000 1024: smtp-source -s 20 -m 20000 -l 1024)
# Environment: HARNESS_BIN (default build/smtp-harness).
# Prints one line per server and the ratio; stops what it starts, by pid.

set -uo pipefail
harness_prog=serve-vs-sink.sh
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=SCRIPTDIR/../tests/integration/lib.sh
. "$top/tests/integration/lib.sh"

sessions=${1:-20}
messages=${2:-20000}
size=${3:-1024}
bin=${HARNESS_BIN:-$top/build/smtp-harness}
source_bin=/usr/sbin/smtp-source
sink_bin=/usr/sbin/smtp-sink

[ -x "$bin" ] || harness_die "$bin not found (build first, or set HARNESS_BIN)"
if [ ! -x "$source_bin" ] || [ ! -x "$sink_bin" ]; then
	harness_die "smtp-source/smtp-sink not found (apt-get install postfix)"
fi

work=$(mktemp -d /tmp/smtp-harness-bench.XXXXXX)
cleanup() {
	stop_pid "$work/serve.pid" 5 || true
	stop_pid "$work/sink.pid" 5 || true
	rm -rf "$work"
}
harness_on_exit cleanup

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now() {
	date +%s.%N
}

# run_source PORT: time smtp-source against PORT; prints seconds.
run_source() {
	local t0 t1
	t0=$(now)
	"$source_bin" -s "$sessions" -m "$messages" -l "$size" -f a@x.test -t b@y.test \
		"127.0.0.1:$1" || harness_die "smtp-source against 127.0.0.1:$1 failed"
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}

# smtp-sink
sink_port=$(free_port)
user=()
[ "$(id -u)" -eq 0 ] && user=(-u nobody)
spawn "$work/sink.pid" "$work/sink.log" "$sink_bin" "${user[@]}" "127.0.0.1:$sink_port" 256 ||
	harness_die "could not start smtp-sink"
wait_port 127.0.0.1 "$sink_port" 10 || harness_die "smtp-sink did not listen"

# smtp-harness serve
spawn "$work/serve.pid" "$work/serve.log" "$bin" serve --quiet --listen 127.0.0.1:0 ||
	harness_die "could not start smtp-harness serve"
serve_port=
for _ in $(seq 1 100); do
	serve_port=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/serve.log")
	[ -n "$serve_port" ] && break
	sleep 0.1
done
[ -n "$serve_port" ] || harness_die "smtp-harness serve did not report its port"

echo "smtp-source -s $sessions -m $messages -l $size, loopback; $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
t_sink=$(run_source "$sink_port")
t_serve=$(run_source "$serve_port")
r_sink=$(echo "$messages / $t_sink" | bc -l)
r_serve=$(echo "$messages / $t_serve" | bc -l)
printf 'smtp-sink            %8.2f s  %9.0f messages/s\n' "$t_sink" "$r_sink"
printf 'smtp-harness serve   %8.2f s  %9.0f messages/s\n' "$t_serve" "$r_serve"
printf 'serve / sink         %8.2f\n' "$(echo "$r_serve / $r_sink" | bc -l)"
