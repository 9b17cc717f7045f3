# lib-netns.sh - sourced by the relay tests: what a relay run must leave
# behind (nothing). The sourcing script defines ok and not_ok.

# netns_nothing_left NS WHAT MTA PIDS_CMD: the namespace NS, its
# /etc/netns entry and the MTA's processes (listed by PIDS_CMD, one per
# line) are gone, within 15 s.
netns_nothing_left() {
	local ns=$1 what=$2 mta=$3 pids=$4 left
	for _ in $(seq 1 150); do
		left=""
		[ -n "$ns" ] && ip netns list | grep -q "^$ns\b" && left="$left namespace $ns;"
		[ -n "$ns" ] && [ -e "/etc/netns/$ns" ] && left="$left /etc/netns/$ns;"
		[ -n "$($pids)" ] && left="$left $mta processes $($pids | tr '\n' ' ');"
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$ns" ] && [ -z "$left" ]; then
		ok "$what: nothing left behind ($ns, /etc/netns/$ns, $mta)"
	else
		not_ok "$what: left behind:${left:- (no namespace name in the run output)}"
	fi
}
