#!/bin/bash
# target-postfix-private.sh - a private Postfix instance as a test target
# on loopback, configured like target-postfix.sh but leaving the
# machine's Postfix (/etc/postfix, its queue, its listeners) alone.
#
# The instance lives in $HARNESS_STATE_DIR/postfix-private/PORT/: its own
# main.cf and master.cf (Debian's master.cf, port-25 listener commented
# out, chroot off, one smtpd on 127.0.0.1:PORT), queue, data directory
# and maillog. As with target-postfix.sh: myhostname mx.harness.test,
# mydestination localhost (postmaster and root exist, unknown users get
# 550 5.1.1), mynetworks 127.0.0.0/8, STARTTLS offered with a throwaway
# certificate. Every accepted message, local ones included, is relayed to
# an smtp-sink this script starts (target-smtp-sink.sh), so nothing is
# delivered on the machine.
#
# Usage: target-postfix-private.sh start|stop|status [PORT]   (default 2610)
# Environment: PRIVATE_POSTFIX_SINK_PORT (default PORT+1).
# Exit status: 0 done / running, 1 error, 3 (status only) not running.
# Limits: needs root (Postfix does).

set -eu
harness_prog=target-postfix-private.sh
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

host=127.0.0.1
cmd=${1:-}
port=${2:-2610}
harness_check_port "$port"
sink_port=${PRIVATE_POSTFIX_SINK_PORT:-$((port + 1))}
harness_check_port "$sink_port"
base=$(state_dir postfix-private)
inst=$base/$port
conf=$inst/etc

running() {
	[ -d "$conf" ] && postfix -c "$conf" status >/dev/null 2>&1
}

configure() {
	mkdir -p "$conf" "$inst/queue" "$inst/data" || harness_die "cannot create $inst"
	chmod 755 "$base" "$inst"
	chown postfix "$inst/data"
	make_cert "$inst" mx.harness.test
	cp /etc/postfix/master.cf "$conf/master.cf"
	cat >"$conf/main.cf.tmp" <<EOC
compatibility_level = 3.6
queue_directory = $inst/queue
data_directory = $inst/data
maillog_file = $inst/maillog
maillog_file_prefixes = $inst
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mx.harness.test
mydomain = harness.test
myorigin = harness.test
mydestination = localhost
mynetworks = 127.0.0.0/8
alias_maps = inline:{postmaster=root}
alias_database =
relayhost = [$host]:$sink_port
transport_maps = inline:{localhost=smtp:[$host]:$sink_port}
smtpd_tls_cert_file = $inst/cert.pem
smtpd_tls_key_file = $inst/key.pem
smtpd_tls_security_level = may
smtp_tls_security_level = none
biff = no
EOC
	mv -f "$conf/main.cf.tmp" "$conf/main.cf"
	{
		postconf -c "$conf" -M# smtp/inet &&
		postconf -c "$conf" -F '*/*/chroot = n' &&
		{ postconf -c "$conf" -M postlog/unix-dgram | grep -q . ||
		  postconf -c "$conf" -Me 'postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd'; } &&
		postconf -c "$conf" -Me "$host:$port/inet = $host:$port inet n - n - - smtpd"
	} >/dev/null || harness_die "could not write $conf"
	touch "$inst/maillog"
	postfix -c "$conf" check >/dev/null 2>&1 || harness_die "postfix -c $conf check found problems"
}

start() {
	[ "$(id -u)" -eq 0 ] || harness_die "must run as root (Postfix needs it)"
	harness_need_cmd postconf postfix
	if running; then
		harness_info "already running on $host:$port"
		return 0
	fi
	port_open "$host" "$port" &&
		harness_die "$host:$port is already in use by a process this script did not start"
	bash "$HARNESS_LIB_DIR/target-smtp-sink.sh" start "$sink_port" >/dev/null ||
		harness_die "could not start smtp-sink on $host:$sink_port"
	configure
	postfix -c "$conf" start >/dev/null 2>&1 || harness_die "postfix -c $conf start failed (see $inst/maillog)"
	if ! wait_port "$host" "$port" 15; then
		log_tail "$inst/maillog"
		harness_die "Postfix did not listen on $host:$port within 15 s"
	fi
	harness_info "started on $host:$port (instance $conf, relay to $host:$sink_port, log $inst/maillog)"
}

stop() {
	if running; then
		postfix -c "$conf" stop >/dev/null 2>&1 || harness_die "postfix -c $conf stop failed"
		wait_port_closed "$host" "$port" 10 || harness_die "$host:$port still open after stop"
		harness_info "stopped on $host:$port"
	else
		harness_info "not running on $host:$port"
	fi
	bash "$HARNESS_LIB_DIR/target-smtp-sink.sh" stop "$sink_port" >/dev/null ||
		harness_die "could not stop smtp-sink on $host:$sink_port"
}

status() {
	if running && port_open "$host" "$port"; then
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
