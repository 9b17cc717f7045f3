# shellcheck shell=bash
# lib-tcpdump.sh - tcpdump on lo around a test's own sessions.
#
# Sourced, never run. One capture at a time per shell: tcpdump_start
# records the pid in $tcpdump_pid, and the caller's exit trap should call
# tcpdump_stop (a no-op when nothing runs). tcpdump writes each packet as
# it comes (-U, --immediate-mode), so stopping it by its pid with SIGINT
# loses nothing it saw; it says on stderr how many packets the kernel
# dropped, which tcpdump_dropped reads.

tcpdump_pid=

# tcpdump_start FILE FILTER [TOOL]: capture lo to FILE (tcpdump, pcap; or
# TOOL dumpcap, pcapng) with the BPF FILTER, and return once it captures
# (10 s at most). Its stderr goes to FILE.err. False if it never started.
# TCPDUMP_BUFFER_KIB sets tcpdump's kernel buffer (default 16384).
tcpdump_start() {
	local file=$1 filter=$2 tool=${3:-tcpdump}
	: >"$file.err"
	if [ "$tool" = dumpcap ]; then
		dumpcap -q -i lo -B 16 -s 0 -f "$filter" -w "$file" 2>"$file.err" &
	else
		tcpdump -i lo --immediate-mode -B "${TCPDUMP_BUFFER_KIB:-16384}" -U -n -s 0 -w "$file" \
			"$filter" 2>"$file.err" &
	fi
	tcpdump_pid=$!
	for _ in $(seq 1 100); do
		if grep -q "listening on" "$file.err"; then
			return 0
		fi
		# dumpcap says "Capturing on" before its filter is in place:
		# a connection made at once was seen missing its first packets.
		if grep -q "^Capturing on" "$file.err"; then
			sleep 1
			return 0
		fi
		kill -0 "$tcpdump_pid" 2>/dev/null || break
		sleep 0.1
	done
	tcpdump_stop
	sed 's/^/# /' "$file.err"
	return 1
}

# tcpdump_stop: give the last FIN and ACK a moment to reach the capture,
# then stop the capture by its pid and wait for it to write its end.
tcpdump_stop() {
	[ -n "$tcpdump_pid" ] || return 0
	sleep 1
	kill -INT "$tcpdump_pid" 2>/dev/null
	wait "$tcpdump_pid" 2>/dev/null
	tcpdump_pid=
}

# tcpdump_dropped FILE: how many packets were dropped, as tcpdump or
# dumpcap said on stopping (0 when it said nothing).
tcpdump_dropped() {
	local n
	n=$(sed -n -e 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' \
		-e "s/^Packets received\/dropped on interface .*: [0-9]*\/\([0-9]*\) .*/\1/p" "$1.err" | head -n 1)
	echo "${n:-0}"
}
