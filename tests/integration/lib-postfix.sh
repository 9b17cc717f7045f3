# shellcheck shell=bash
# lib-postfix.sh - a private Postfix instance as an SMTP server under test.
#
# Sourced, never run. The instance lives in a directory of the caller's
# (DIR/etc is its config_directory, DIR/queue, DIR/data, DIR/etc/maillog),
# its only listener is smtpd on 127.0.0.1:PORT, and it discards every
# message it accepts, so nothing leaves the machine and no queue grows.
# /etc/postfix and the machine's own Postfix are not touched; several
# instances may run at once, each on its own port. Needs root.
#
# What it accepts: mail for postmaster@localhost and root@localhost (the
# harness's default ${rcpt}); an unknown user at localhost is refused at
# RCPT with 550 5.1.1 (the default ${bad_rcpt}); any other domain from
# 127.0.0.0/8. No STARTTLS, so a capture of it is plaintext to the end.
# Also smtp_whole_session, a readiness probe that leaves nothing behind.

# postfix_instance_make DIR PORT [NAME=VALUE]...: write the instance's
# configuration; each NAME=VALUE is one more main.cf setting (postconf -e).
# False, with a line on stderr, when postconf or postfix check refuses it.
postfix_instance_make() {
	local dir=$1 port=$2 etc=$1/etc
	shift 2
	mkdir -p "$etc" "$dir/queue" "$dir/data" || return 1
	chmod 755 "$dir"
	chown postfix "$dir/data"
	cp /etc/postfix/master.cf "$etc/master.cf"
	cat >"$etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $etc/maillog
maillog_file_prefixes = $dir
myhostname = mx.harness.test
mydomain = harness.test
myorigin = harness.test
mydestination = localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps = inline:{postmaster=root}
alias_database =
default_transport = discard:
local_transport = discard:
relay_transport = discard:
smtpd_tls_security_level = none
biff = no
EOF
	{
		postconf -c "$etc" -M# smtp/inet &&
		postconf -c "$etc" -Me "127.0.0.1:$port/inet = 127.0.0.1:$port inet n - n - - smtpd" &&
		postconf -c "$etc" -F '*/*/chroot = n' &&
		{ postconf -c "$etc" -M postlog/unix-dgram | grep -q . ||
		  postconf -c "$etc" -Me 'postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd'; } &&
		{ [ $# -eq 0 ] || postconf -c "$etc" -e "$@"; }
	} >/dev/null || { echo "postfix instance $dir: postconf failed" >&2; return 1; }
	touch "$etc/maillog"
	postfix -c "$etc" check >"$dir/check.out" 2>&1 ||
		{ echo "postfix instance $dir: postfix check: $(tail -n 2 "$dir/check.out" | tr '\n' ' ')" >&2; return 1; }
}

# smtp_whole_session PORT: one whole SMTP session (greeting, QUIT, 221)
# with whatever serves 127.0.0.1:PORT, 5 s at most for each reply; true
# when both replies came. master(8) starts smtpd on the first connection
# (Exim forks a child per connection), so a probe that only connected and
# closed is greeted later, into a capture started meanwhile; this one is
# over when it returns.
smtp_whole_session() {
	local rc
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	smtp_reply_is 220 && printf 'QUIT\r\n' >&3 && smtp_reply_is 221
	rc=$?
	exec 3<&-
	return $rc
}

# smtp_reply_is CODE: read one reply from fd 3 (20 lines at most, 5 s
# each); true when its last line is CODE followed by a space.
smtp_reply_is() {
	local line n=0
	while [ "$n" -lt 20 ] && IFS= read -r -t 5 line <&3; do
		n=$((n + 1))
		case $line in
		"$1-"*) continue ;;
		"$1 "*) return 0 ;;
		*) return 1 ;;
		esac
	done
	return 1
}

# postfix_instance_start DIR PORT: start it and wait (10 s at most) until
# it has answered a whole session on 127.0.0.1:PORT. False, with a line on
# stderr, if not.
postfix_instance_start() {
	local dir=$1 port=$2
	if ! postfix -c "$dir/etc" start >"$dir/start.out" 2>&1; then
		echo "postfix instance $dir: $(tail -n 2 "$dir/start.out" | tr '\n' ' ')" >&2
		return 1
	fi
	for _ in $(seq 1 20); do
		(smtp_whole_session "$port") 2>/dev/null && return 0
		sleep 0.5
	done
	echo "postfix instance $dir: no SMTP session on 127.0.0.1:$port after 10 s" >&2
	return 1
}

# postfix_instance_stop DIR: stop it if it runs (postfix -c DIR stop signals
# only that instance's master, by its own pid file).
postfix_instance_stop() {
	[ -d "$1/etc" ] || return 0
	postfix -c "$1/etc" status >/dev/null 2>&1 || return 0
	postfix -c "$1/etc" stop >/dev/null 2>&1
}
