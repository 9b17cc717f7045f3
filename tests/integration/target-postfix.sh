#!/bin/bash
# target-postfix.sh - the system Postfix as a test target on loopback.
#
# Configures the Postfix that tests/setup-debian.sh installed so that it
# listens only on 127.0.0.1:PORT (the port-25 listener is turned off),
# delivers postmaster@localhost and root@localhost locally, rejects unknown
# users at localhost with 550 5.1.1, and relays every other domain for
# 127.0.0.0/8 clients to smtp-sink on 127.0.0.1:$HARNESS_SINK_PORT (2526),
# which this script starts too. STARTTLS is offered with a throwaway
# certificate. All changes go through postconf and are idempotent.
#
# Usage: target-postfix.sh start|stop|status [PORT]   (default 2525)
# Environment: HARNESS_SINK_PORT (default 2526).
# Exit status: 0 done / running, 1 error, 3 (status only) not running.
# State: $HARNESS_STATE_DIR/postfix/ (cert.pem, key.pem, marker files).
# Log: /var/log/postfix-harness.log (Postfix's maillog_file).
#
# Limits: needs root (Postfix does). This is the machine's one Postfix:
# `stop` runs `postfix stop`, and its configuration is rewritten for the
# tests; do not run it on a machine whose Postfix carries real mail.

set -eu
harness_prog=target-postfix.sh
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

host=127.0.0.1
maillog=/var/log/postfix-harness.log

cmd=${1:-}
# The test listener this script configured, if any (for stop and status
# without a PORT).
configured_port() {
	postconf -M 2>/dev/null | awk '$1 ~ /^127\.0\.0\.1:[0-9]+$/ && $2 == "inet" {
		sub(/^127\.0\.0\.1:/, "", $1); print $1; exit }'
}
if [ -n "${2:-}" ]; then
	port=$2
elif [ "$cmd" != start ] && command -v postconf >/dev/null 2>&1; then
	port=$(configured_port)
	port=${port:-2525}
else
	port=2525
fi
sink_port=${HARNESS_SINK_PORT:-2526}
harness_check_port "$port"
harness_check_port "$sink_port"
[ "$port" != "$sink_port" ] || harness_die "PORT and HARNESS_SINK_PORT are both $port"
dir=$(state_dir postfix)
# Present while this script's start brought up smtp-sink, so that stop
# takes down only a sink it started.
sink_marker=$dir/started-sink-$sink_port

postfix_running() {
	postfix status >/dev/null 2>&1
}

pc() {
	postconf "$@" >/dev/null || harness_die "postconf $* failed"
}

configure() {
	make_cert "$dir" mx.harness.test
	pc -e \
		"inet_interfaces = loopback-only" \
		"inet_protocols = ipv4" \
		"mynetworks = 127.0.0.0/8" \
		"mydestination = localhost" \
		"myhostname = mx.harness.test" \
		"relayhost = [127.0.0.1]:$sink_port" \
		"default_transport = smtp" \
		"relay_transport = smtp" \
		"smtpd_tls_cert_file = $dir/cert.pem" \
		"smtpd_tls_key_file = $dir/key.pem" \
		"smtpd_tls_security_level = may" \
		"maillog_file = $maillog"
	# Chroot off everywhere (the queue has no copies of /etc files). Only
	# the services not yet off are touched: a wildcard `postconf -F`
	# reorders master.cf on every run.
	local svc
	for svc in $(postconf -F '*/*/chroot' 2>/dev/null |
	    awk '$3 != "n" { print $1 }'); do
		pc -F "$svc = n"
	done
	# The port-25 listener: off. -M# on an already commented entry is a
	# no-op, so check first to keep the output quiet.
	if postconf -M smtp/inet 2>/dev/null | grep -q .; then
		pc -M# smtp/inet
	fi
	# maillog_file needs the postlog service; Debian 12's master.cf has
	# it, older ones may not.
	if ! postconf -M postlog/unix-dgram 2>/dev/null | grep -q .; then
		pc -Me 'postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd'
	fi
	# Listeners a previous start added on other loopback ports: remove,
	# so that exactly one test listener exists.
	for svc in $(postconf -M 2>/dev/null |
	    awk '$1 ~ /^127\.0\.0\.1:[0-9]+$/ && $2 == "inet" { print $1 }'); do
		[ "$svc" = "$host:$port" ] || pc -MX "$svc/inet"
	done
	pc -Me "$host:$port/inet = $host:$port inet n - n - - smtpd"
	newaliases || harness_die "newaliases failed"
	postfix check || harness_die "postfix check found problems"
}

start() {
	[ "$(id -u)" -eq 0 ] || harness_die "must run as root (Postfix needs it)"
	harness_need_cmd postconf postfix newaliases
	# The relay target first, so mail accepted below can leave the queue.
	if ! pid_alive "$HARNESS_STATE_DIR/smtp-sink/smtp-sink-$sink_port.pid"; then
		bash "$HARNESS_LIB_DIR/target-smtp-sink.sh" start "$sink_port" ||
			harness_die "could not start smtp-sink on $host:$sink_port"
		touch "$sink_marker"
	fi
	if ! postfix_running && port_open "$host" "$port"; then
		harness_die "$host:$port is already in use by a process that is not Postfix"
	fi
	# reload does not apply these two; a change needs a stop and start.
	local before how=started
	before=$(postconf -h inet_interfaces inet_protocols)
	configure
	if postfix_running &&
	    [ "$before" != "$(postconf -h inet_interfaces inet_protocols)" ]; then
		postfix stop >/dev/null 2>&1 || harness_die "postfix stop failed (see $maillog)"
		how=restarted
	fi
	if postfix_running; then
		postfix reload >/dev/null 2>&1 || harness_die "postfix reload failed (see $maillog)"
		how="already running, reloaded"
	else
		postfix start >/dev/null 2>&1 || harness_die "postfix start failed (see $maillog)"
	fi
	if ! wait_port "$host" "$port" 15; then
		log_tail "$maillog"
		harness_die "Postfix did not listen on $host:$port within 15 s"
	fi
	harness_info "$how on $host:$port (relay to $host:$sink_port, log $maillog)"
}

stop() {
	harness_need_cmd postfix
	if postfix_running; then
		postfix stop >/dev/null 2>&1 || harness_die "postfix stop failed (see $maillog)"
		wait_port_closed "$host" "$port" 10 ||
			harness_die "$host:$port still open after postfix stop"
		harness_info "stopped on $host:$port"
	else
		harness_info "not running"
	fi
	# Every sink a start of this script brought up, whatever its port.
	local m p
	for m in "$dir"/started-sink-*; do
		[ -e "$m" ] || continue
		p=${m##*-}
		bash "$HARNESS_LIB_DIR/target-smtp-sink.sh" stop "$p" ||
			harness_die "could not stop smtp-sink on $host:$p"
		rm -f "$m"
	done
}

status() {
	if postfix_running && port_open "$host" "$port"; then
		harness_info "running on $host:$port"
		return 0
	fi
	harness_info "not running on $host:$port"
	return 3
}

case "$cmd" in
start) start ;;
stop) stop ;;
status) status ;;
*) echo "usage: $harness_prog start|stop|status [PORT]" >&2; exit 1 ;;
esac
