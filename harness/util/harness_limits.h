/*
 * harness_limits - every limit the harness enforces, in one place.
 *
 * The harness talks to broken and hostile peers on purpose, so every
 * buffer has a bound. The RFC minimums (what a conformant peer must accept)
 * and the harness's own hard caps (what we accept before calling the peer
 * wrong and stopping) are kept apart: exceeding an RFC size is a finding
 * about the peer; exceeding a hard cap ends the session with a finding,
 * never a crash, a silent cut or unbounded memory.
 */
#ifndef HARNESS_UTIL_LIMITS_H
#define HARNESS_UTIL_LIMITS_H

/* RFC 5321 §4.5.3.1 sizes, all counting the CRLF. */
#define SMTP_COMMAND_LINE_MAX	512	/* §4.5.3.1.4 */
#define SMTP_REPLY_LINE_MAX	512	/* §4.5.3.1.5 */
#define SMTP_TEXT_LINE_MAX	1000	/* §4.5.3.1.6 */
#define SMTP_LOCAL_PART_MAX	64	/* §4.5.3.1.1 */
#define SMTP_DOMAIN_MAX		255	/* §4.5.3.1.2 */
#define SMTP_PATH_MAX		256	/* §4.5.3.1.3 */
#define SMTP_RECIPIENTS_MIN	100	/* §4.5.3.1.8 */

/*
 * The fake DNS (fake-dns/). RFC 1035 §2.3.4 sizes; RFC 6891 for EDNS0.
 * A packet that breaks one of these is answered FORMERR (or dropped when
 * not even its header is there), never read past.
 */
#define DNS_LABEL_MAX		63	/* octets in one label */
#define DNS_NAME_WIRE_MAX	255	/* octets of a name on the wire, root label included */
#define DNS_NAME_TEXT_MAX	1024	/* a name in text, every octet escaped as \DDD, NUL */
#define DNS_UDP_PLAIN_MAX	512	/* UDP answer without EDNS0 (§4.2.1) */
#define DNS_EDNS_UDP_SIZE	1232	/* UDP payload size we offer and honour at most */
#define DNS_MSG_MAX		65535	/* any message: what a TCP length prefix can say */
#define DNS_QUESTIONS_MAX	1	/* questions per query; more is FORMERR */
#define DNS_RRS_MAX		1024	/* records in one message, all sections */
#define DNS_POINTER_HOPS_MAX	126	/* compression pointers followed in one name */
#define DNS_COMPRESS_NAMES_MAX	256	/* name suffixes the writer remembers */
#define DNS_CNAME_CHAIN_MAX	8	/* CNAMEs chased for one answer */
#define DNS_ZONE_FILE_MAX	(4 * 1024 * 1024) /* size of one zone file */
#define DNS_ZONE_RECORDS_MAX	10000	/* records in one zone */
#define DNS_TXT_STRINGS_MAX	64	/* strings in one TXT record */
#define DNS_DELAY_MAX_MS	60000	/* a zone's delay_ms */
#define DNS_FOR_MS_MAX		86400000 /* a behaviour's for_ms: a day */
#define DNS_FOR_QUERIES_MAX	1000000	/* a behaviour's for_queries */
#define DNS_TCP_CONNS_MAX	64	/* TCP connections at once; more are closed at once */
#define DNS_TCP_IDLE_MS		10000	/* TCP: next query within this, else close (RFC 7766 §6.2.3) */
#define DNS_TCP_QUERIES_MAX	1000	/* queries on one TCP connection, then close */
#define DNS_TCP_WRITE_QUEUE_MAX	(64 * 1024) /* unsent TCP answer octets before reading pauses */
#define DNS_UDP_QUEUE_MAX	1024	/* UDP answers waiting to be sent; more are dropped */
#define DNS_PENDING_MAX		1024	/* delayed answers waiting at once; more are dropped */
#define DNS_LOG_MAX		100000	/* queries kept in the in-memory record */

/* Hard caps of the harness itself. */
#define HARNESS_LINE_HARD_MAX	(64 * 1024)	/* any one line, either side */
#define HARNESS_REPLY_LINES_MAX	1000		/* lines in one multi-line reply */
#define HARNESS_STREAM_MAX	(64 * 1024 * 1024) /* bytes kept per direction per session */
#define HARNESS_SEGMENTS_MAX	(1024 * 1024)	/* transcript segments per session */
#define HARNESS_VERB_MAX	16		/* longest verb we name in reports */
#define HARNESS_EVIDENCE_MAX	200		/* bytes of evidence quoted in a finding */
#define HARNESS_HTML_ARROWS_MAX	400		/* transcript segments drawn in one HTML ladder */
#define HARNESS_HTML_LABEL_MAX	64		/* bytes of a segment shown on its arrow */
#define HARNESS_HTML_TITLE_MAX	512		/* bytes of a segment in its arrow's tooltip */
#define HARNESS_VARS_MAX	64		/* variables per scenario */
#define HARNESS_CREDENTIALS_MAX	8		/* "credentials" names per scenario */
#define HARNESS_VAR_VALUE_MAX	1024		/* bytes in one captured variable */
#define HARNESS_SCENARIO_FILE_MAX (4 * 1024 * 1024) /* size of one scenario file */
#define HARNESS_BASELINE_FILE_MAX (4 * 1024 * 1024) /* size of one baseline file */
#define HARNESS_BASELINE_MAX	100000		/* entries in one baseline */
#define HARNESS_REPORT_FILE_MAX	(256 * 1024 * 1024) /* a JSON report read by diff */
#define HARNESS_STEPS_MAX	10000		/* steps in one scenario */
#define HARNESS_PROBE_WAIT_MS	10000		/* probe: default wait for a connection or a reply */
#define HARNESS_PROBE_LINES_MAX	10000		/* probe: lines in one :data or :pipe */
#define HARNESS_REPEAT_MAX	1000000		/* N of ${repeat:TEXT:N} in a template */
#define HARNESS_REGEX_MAX	1024		/* bytes of one regular expression in a scenario */
#define HARNESS_REGEX_REPEAT_MAX 10000		/* product of the {n,m} bounds of one regex */
#define HARNESS_REGEX_EXPANDED_MAX 512		/* one regex with its repetitions written out */
#define HARNESS_REGEX_BUDGET	(16ULL * HARNESS_REGEX_EXPANDED_MAX * HARNESS_REGEX_EXPANDED_MAX)
						/* sum of squared expanded sizes, one scenario */
#define HARNESS_EXPAND_MAX	(HARNESS_STREAM_MAX / 2) /* bytes one template expands to */
#define HARNESS_JSON_PATH_MAX	4096		/* longest JSON path jsonpos records */
#define HARNESS_JSON_PATHS_MAX	(64 * 1024 * 1024) /* bytes of paths jsonpos records per file */
#define HARNESS_STEP_WAIT_MAX	3600000		/* ms: longest timeout, delay or pause a scenario may ask */
#define HARNESS_DIALOG_ITEMS_MAX 100000		/* exchanges plus extra replies in one dialog */
#define HARNESS_DIALOG_LINES_MAX 1000000	/* reply lines kept in one dialog */
#define HARNESS_TLS_IN_MAX	(1024 * 1024)	/* TLS bytes read and not yet consumed by OpenSSL */
#define HARNESS_TLS_OUT_MAX	(1024 * 1024)	/* TLS bytes waiting to be written */
#define HARNESS_TLS_SNI_MAX	255		/* a TLS server name (RFC 6066 §3) */

/*
 * The built-in reference server (harness/smtp/server.c, harness/engine/serve.c).
 * Its command line limit is above RFC 5321's 512 because it advertises DSN:
 * RFC 3461 §5.4 asks for at least 1036 (by its own sum 1042) octets.
 */
#define HARNESS_SRV_LINE_MAX	2048		/* command line, CRLF included */
#define HARNESS_SRV_SIZE_MAX	(10 * 1024 * 1024) /* SIZE: message content octets */
#define HARNESS_SRV_RCPT_MAX	1000		/* recipients per transaction (>= SMTP_RECIPIENTS_MIN) */
#define HARNESS_SRV_ERRORS_MAX	20		/* refused commands before 421 */
#define HARNESS_SRV_SESSIONS_MAX 1000		/* connections at once; more get 421 */
#define HARNESS_SRV_WRITE_QUEUE_MAX (256 * 1024) /* unsent reply octets before reading pauses */
#define HARNESS_SRV_READ_BUF	(64 * 1024)	/* one read */

/* The server role and the client under test (harness/engine/srole.c, proc.c). */
#define HARNESS_CLIENT_OUTPUT_MAX (64 * 1024)	/* stdout, and stderr, kept of the client command */
#define HARNESS_CLIENT_TIMEOUT_MS 30000		/* the client connects; the client command runs */
#define HARNESS_CLIENT_KILL_GRACE_MS 2000	/* SIGTERM, then SIGKILL this much later */
#define HARNESS_NETNS_KILL_GRACE_MS 3000	/* processes in a namespace: SIGTERM, then SIGKILL */
#define HARNESS_NETNS_TARGET_SETTLE_MS 3000	/* --target-cmd: wait this long for it to exit (a
						 * daemon starter) before running anyway */
#define HARNESS_NETNS_DNS_READY_MS 3000		/* --zone: the fake DNS binds 127.0.0.1:53 */
#define HARNESS_RELAY_HOSTS_MAX	32		/* hosts one relay scenario plays */
#define HARNESS_RELAY_EXPECT_MAX 64		/* rows of a relay scenario's expect */
#define HARNESS_RELAY_LINES_MAX	10000		/* lines of a relay scenario's message */
#define HARNESS_RELAY_WITHIN_MAX 600000		/* ms a relay run watches at most */
#define HARNESS_RELAY_CONNS_MAX	256		/* connections one relay run records */
#define HARNESS_RELAY_SUBMIT_MS	30000		/* the submission command must end within */
#define HARNESS_RELAY_IDLE_MS	60000		/* a relay host closes a silent connection after */
#define HARNESS_SROLE_MESSAGE_MAX (HARNESS_STREAM_MAX / 2) /* one received message */

/*
 * The pcap reader (captures/pcap_read.c). It streams: what it holds at
 * once is bounded by these, whatever the capture's size. Passing one is
 * a note in the session concerned (or on the capture), never a crash.
 */
#define HARNESS_PCAP_CONNS_MAX	4096		/* TCP connections followed at once */
#define HARNESS_PCAP_OOO_MAX	(1024 * 1024)	/* out-of-order bytes held per direction */
#define HARNESS_PCAP_SESSION_MAX (16 * 1024 * 1024) /* bytes kept of one session, both directions */
#define HARNESS_PCAP_HELD_MAX	(512 * 1024 * 1024) /* bytes held across all open sessions */
#define HARNESS_PCAP_SNIFF_MAX	4096		/* bytes held while deciding whether it is SMTP */
#define HARNESS_PCAP_WINDOW_MAX	(16 * 1024 * 1024) /* a segment further ahead than this is ignored */
#define HARNESS_PCAP_NOTES_MAX	32		/* notes kept per session */
#define HARNESS_PCAP_EXT_HDRS_MAX 16		/* IPv6 extension headers walked */

/*
 * The delivery oracle (harness/check/mailbox.c, harness/engine/oracle.c):
 * where the target delivers, read back after the sessions. A file past
 * its size limit is read only in its last HARNESS_ORACLE_FILE_MAX octets
 * (an mbox) or not at all (a message file), with a note; nothing is ever
 * read unbounded from a mailbox that other mail shares.
 */
#define HARNESS_ORACLE_FILE_MAX	(64 * 1024 * 1024) /* octets read of one file */
#define HARNESS_ORACLE_FILES_MAX 100000		/* directory entries looked at per scan */
#define HARNESS_ORACLE_DEPTH_MAX 4		/* dir: levels of subdirectories walked */
#define HARNESS_ORACLE_MESSAGES_MAX 100000	/* messages split out of one mbox */
#define HARNESS_ORACLE_COPIES_MAX 64		/* copies kept per scenario */
#define HARNESS_ORACLE_WAIT_MS	5000		/* default --oracle-wait */
#define HARNESS_ORACLE_POLL_MS	100		/* between scans while waiting */

/* RFC 5321 §6.3: a limit on a message's Received fields SHOULD be at
 * least 100. A refused message with fewer than that, but at least the
 * probe minimum (far above what ordinary mail carries), is judged. */
#define HARNESS_HOPS_SHOULD_ACCEPT	100
#define HARNESS_HOPS_PROBE_MIN		20

/* RFC 5321 §7.8: a server may close a session that sends many invalid
 * RCPTs "after generating an appropriate number of 5yz replies". A close
 * right after at least this many refused RCPTs in a row is taken for that
 * defence, not for a silent close (§3.8). */
#define HARNESS_DEFENCE_REFUSALS_MIN	5

/* Default deadlines, in milliseconds; scenarios and the CLI may change them. */
#define HARNESS_CONNECT_TIMEOUT_MS	10000
#define HARNESS_STEP_TIMEOUT_MS		30000
#define HARNESS_SCENARIO_TIMEOUT_MS	300000
#define HARNESS_QUIT_CLOSE_MS		5000	/* server closes after 221 (5321 §4.1.1.10) */
#define HARNESS_SRV_IDLE_TIMEOUT_MS	300000	/* reference server: next command, 5321 §4.5.3.2.7 */
#define HARNESS_SRV_CLOSE_WAIT_MS	10000	/* reference server: flushing its last reply */

#endif
