#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "fake-dns/dns_server.h"
#include "fake-dns/dns_wire.h"
#include "fake-dns/dns_zone.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

/* One client at a time on the test's loop: what it sent, what came back. */
typedef struct client {
	uv_loop_t *loop;
	dns_server *sv;
	uv_udp_t udp;
	uv_tcp_t tcp;
	uv_connect_t conn;
	uv_write_t wr;
	uv_timer_t guard;
	vbuf out;		/* bytes to send over TCP */
	vbuf in;		/* TCP bytes received */
	dns_msg answers[4];
	size_t nanswers;
	size_t want;
	size_t counted;		/* answers seen when want > 4: counted only */
	int closed;		/* the server closed the TCP connection */
	int handles;
	char buf[65536];
} client;

static dns_zone *zone;

static void
load_zone(void)
{
	char err[1024] = "";

	if (dns_zone_load_file(HARNESS_SOURCE_DIR "/fake-dns/examples/example.test.json", &zone,
	    err, sizeof(err)) != 0)
		ck_abort_msg("%s", err);
}

static void
query_bytes(vbuf *out, uint16_t id, const char *name, uint16_t type)
{
	dns_msg q;

	memset(&q, 0, sizeof(q));
	q.id = id;
	q.flags = DNS_FLAG_RD;
	q.q = xcalloc(1, sizeof(dns_question));
	q.nq = 1;
	snprintf(q.q[0].name, sizeof(q.q[0].name), "%s", name);
	q.q[0].type = type;
	q.q[0].class_ = DNS_CLASS_IN;
	ck_assert_int_eq(dns_wire_encode(&q, DNS_MSG_MAX, out, NULL), 0);
	dns_msg_free(&q);
}

static void
handle_closed_cb(uv_handle_t *h)
{
	client *c = h->data;

	c->handles--;
}

static void
client_done(client *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->guard)) {
		uv_close((uv_handle_t *)&c->guard, handle_closed_cb);
		if (c->udp.type == UV_UDP)
			uv_close((uv_handle_t *)&c->udp, handle_closed_cb);
		if (c->tcp.type == UV_TCP)
			uv_close((uv_handle_t *)&c->tcp, handle_closed_cb);
		dns_server_stop(c->sv);
	}
}

static void
got_answer(client *c, const uint8_t *p, size_t len)
{
	char err[256];

	if (c->want > 4) {
		if (++c->counted == c->want)
			client_done(c);
		return;
	}
	ck_assert_uint_lt(c->nanswers, 4);
	if (dns_wire_parse(p, len, &c->answers[c->nanswers], err, sizeof(err)) != 0)
		ck_abort_msg("answer does not parse: %s", err);
	if (++c->nanswers == c->want)
		client_done(c);
}

static void
guard_cb(uv_timer_t *t)
{
	client_done(t->data);
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	client *c = h->data;

	*buf = uv_buf_init(c->buf, sizeof(c->buf));
}

static void
udp_recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
    unsigned flags)
{
	if (nread > 0)
		got_answer(h->data, (const uint8_t *)buf->base, (size_t)nread);
}

typedef struct udp_send {
	uv_udp_send_t req;
	vbuf data;
} udp_send;

static void
udp_sent_cb(uv_udp_send_t *req, int status)
{
	udp_send *us = (udp_send *)req;

	ck_assert_int_eq(status, 0);
	vbuf_free(&us->data);
	xfree(us);
}

static void
udp_query(client *c, const struct sockaddr_in *sa, uint16_t id, const char *name, uint16_t type)
{
	udp_send *us = xcalloc(1, sizeof(*us));
	uv_buf_t b;

	query_bytes(&us->data, id, name, type);
	b = uv_buf_init(us->data.data, (unsigned)us->data.len);
	ck_assert_int_eq(uv_udp_send(&us->req, &c->udp, &b, 1, (const struct sockaddr *)sa,
	    udp_sent_cb), 0);
}

static void
tcp_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	client *c = s->data;

	if (nread < 0) {
		c->closed = 1;
		client_done(c);
		return;
	}
	vbuf_append(&c->in, buf->base, (size_t)nread);
	while (c->in.len >= 2) {
		size_t n = ((uint8_t)c->in.data[0] << 8) | (uint8_t)c->in.data[1];

		if (c->in.len < 2 + n)
			break;
		got_answer(c, (const uint8_t *)c->in.data + 2, n);
		vbuf_consume(&c->in, 2 + n);
	}
}

static void
tcp_written_cb(uv_write_t *req, int status)
{
	ck_assert_int_eq(status, 0);
}

static void
tcp_connected_cb(uv_connect_t *req, int status)
{
	client *c = req->data;
	uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);

	ck_assert_int_eq(status, 0);
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, tcp_read_cb);
	if (c->out.len > 0)
		uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, tcp_written_cb);
}

/* Starts the server on a free port of 127.0.0.1 with the example zone. */
static void
start(uv_loop_t *loop, client *c, uint32_t idle_ms)
{
	dns_server_config cfg;
	char err[256];

	memset(c, 0, sizeof(*c));
	c->loop = loop;
	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = "0";
	cfg.zone = zone;
	cfg.tcp_idle_ms = idle_ms;
	ck_assert_int_eq(uv_loop_init(loop), 0);
	if (dns_server_start(loop, &cfg, &c->sv, err, sizeof(err)) != 0)
		ck_abort_msg("%s", err);
	ck_assert_int_gt(dns_server_port(c->sv), 0);
	uv_timer_init(loop, &c->guard);
	c->guard.data = c;
	c->handles = 1;
	uv_timer_start(&c->guard, guard_cb, 5000, 0);
}

static void
finish(uv_loop_t *loop, client *c)
{
	uv_run(loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(c->handles, 0);
	for (size_t i = 0; i < c->nanswers; i++)
		dns_msg_free(&c->answers[i]);
	vbuf_free(&c->in);
	vbuf_free(&c->out);
	dns_server_free(c->sv);
	ck_assert_int_eq(uv_loop_close(loop), 0);
}

static void
server_addr(client *c, struct sockaddr_in *sa)
{
	uv_ip4_addr("127.0.0.1", dns_server_port(c->sv), sa);
}

START_TEST(test_dns_server_udp)
{
	uv_loop_t loop;
	client c;
	struct sockaddr_in sa;
	const dns_log_entry *log;
	size_t n;

	load_zone();
	start(&loop, &c, 0);
	server_addr(&c, &sa);
	uv_udp_init(&loop, &c.udp);
	c.udp.data = &c;
	c.handles++;
	uv_udp_recv_start(&c.udp, alloc_cb, udp_recv_cb);
	c.want = 2;
	udp_query(&c, &sa, 1, "silent.example.test", DNS_TYPE_A);	/* never answered */
	udp_query(&c, &sa, 2, "example.test", DNS_TYPE_MX);
	udp_query(&c, &sa, 3, "gone.example.test", DNS_TYPE_A);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(c.nanswers, 2);
	ck_assert_uint_eq(c.answers[0].id, 2);
	ck_assert_uint_eq(c.answers[0].nrr[0], 2);
	ck_assert_uint_eq(c.answers[1].id, 3);
	ck_assert_int_eq(dns_msg_rcode(&c.answers[1]), DNS_RCODE_NXDOMAIN);
	log = dns_server_log(c.sv, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(log[0].dropped, 1);
	ck_assert_int_eq(log[0].rcode, -1);
	ck_assert_uint_eq(log[0].answer_ms, 0);
	ck_assert_int_eq(log[1].transport, DNS_TRANSPORT_UDP);
	ck_assert_str_eq(log[1].qname, "example.test");
	ck_assert_uint_eq(log[1].qtype, DNS_TYPE_MX);
	ck_assert_int_eq(log[1].rcode, DNS_RCODE_NOERROR);
	ck_assert_str_eq(log[1].answers, "example.test 300 IN MX 10 mx1.example.test; "
	    "example.test 300 IN MX 20 mx2.example.test");
	ck_assert_uint_ge(log[1].answer_ms, log[1].query_ms);
	ck_assert_int_eq(log[2].rcode, DNS_RCODE_NXDOMAIN);
	ck_assert_ptr_nonnull(strstr(log[2].client, "127.0.0.1:"));
	finish(&loop, &c);
	dns_zone_free(zone);
}
END_TEST

START_TEST(test_dns_server_tcp_several_and_delay)
{
	uv_loop_t loop;
	client c;
	struct sockaddr_in sa;
	vbuf one = VBUF_INIT;
	const dns_log_entry *log;
	size_t n;

	load_zone();
	start(&loop, &c, 0);
	server_addr(&c, &sa);
	/* three queries in one write: the delayed one is answered last */
	static const struct {
		uint16_t id;
		const char *name;
		uint16_t type;
	} qs[3] = { { 10, "slow.example.test", DNS_TYPE_A }, { 11, "tc.example.test", DNS_TYPE_A },
		{ 12, "big.example.test", DNS_TYPE_A } };
	for (int i = 0; i < 3; i++) {
		vbuf_reset(&one);
		query_bytes(&one, qs[i].id, qs[i].name, qs[i].type);
		vbuf_append_byte(&c.out, (char)(one.len >> 8));
		vbuf_append_byte(&c.out, (char)one.len);
		vbuf_append(&c.out, one.data, one.len);
	}
	vbuf_free(&one);
	c.want = 3;
	uv_tcp_init(&loop, &c.tcp);
	c.tcp.data = c.conn.data = &c;
	c.handles++;
	ck_assert_int_eq(uv_tcp_connect(&c.conn, &c.tcp, (struct sockaddr *)&sa, tcp_connected_cb), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(c.nanswers, 3);
	/* TC over UDP only: over TCP the records */
	ck_assert_uint_eq(c.answers[0].id, 11);
	ck_assert_uint_eq(c.answers[0].nrr[0], 1);
	ck_assert(!(c.answers[0].flags & DNS_FLAG_TC));
	ck_assert_uint_eq(c.answers[1].id, 12);
	ck_assert_uint_eq(c.answers[1].nrr[0], 32);
	ck_assert_uint_eq(c.answers[2].id, 10);
	log = dns_server_log(c.sv, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(log[0].transport, DNS_TRANSPORT_TCP);
	ck_assert_uint_eq(log[0].delay_ms, 300);
	ck_assert_uint_ge(log[0].answer_ms, log[0].query_ms + 290);
	finish(&loop, &c);
	dns_zone_free(zone);
}
END_TEST

START_TEST(test_dns_server_tcp_idle_and_garbage)
{
	uv_loop_t loop;
	client c;
	struct sockaddr_in sa;
	const dns_log_entry *log;
	size_t n;

	load_zone();
	/* a message that is not DNS: FORMERR with its id, then the idle
	 * deadline closes the connection */
	start(&loop, &c, 200);
	server_addr(&c, &sa);
	vbuf_append(&c.out, "\0\x0e\xab\xcd\x01\0\0\x01\0\0\0\0\0\0\xc0\x0c", 16);
	c.want = 2;	/* never reached: the close ends the client */
	uv_tcp_init(&loop, &c.tcp);
	c.tcp.data = c.conn.data = &c;
	c.handles++;
	ck_assert_int_eq(uv_tcp_connect(&c.conn, &c.tcp, (struct sockaddr *)&sa, tcp_connected_cb), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(c.nanswers, 1);
	ck_assert_int_eq(c.closed, 1);
	ck_assert_uint_eq(c.answers[0].id, 0xabcd);
	ck_assert_int_eq(dns_msg_rcode(&c.answers[0]), DNS_RCODE_FORMERR);
	log = dns_server_log(c.sv, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_null(log[0].qname);
	ck_assert_str_eq(log[0].error, "offset 12: compression pointer to 12 does not point backwards");
	{
		vbuf line = VBUF_INIT;

		dns_server_log_format(&log[0], &line);
		ck_assert_ptr_nonnull(strstr(vbuf_str(&line), " tcp 127.0.0.1:"));
		ck_assert_ptr_nonnull(strstr(vbuf_str(&line), " id=43981 - (unreadable: offset 12: "
		    "compression pointer to 12 does not point backwards) -> FORMERR"));
		vbuf_free(&line);
	}
	finish(&loop, &c);
	dns_zone_free(zone);
}
END_TEST

START_TEST(test_dns_server_port_taken)
{
	uv_loop_t loop;
	client c;
	dns_server_config cfg;
	dns_server *second = NULL;
	char port[8], err[256];

	load_zone();
	start(&loop, &c, 0);
	snprintf(port, sizeof(port), "%d", dns_server_port(c.sv));
	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = port;
	cfg.zone = zone;
	ck_assert_int_eq(dns_server_start(&loop, &cfg, &second, err, sizeof(err)), -1);
	ck_assert_ptr_null(second);
	ck_assert_ptr_nonnull(strstr(err, "address already in use"));
	client_done(&c);
	finish(&loop, &c);
	dns_zone_free(zone);
}
END_TEST

static void
stop_soon_cb(uv_timer_t *t)
{
	client_done(t->data);
}

START_TEST(test_dns_server_stop_with_delayed_answer)
{
	uv_loop_t loop;
	client c;
	struct sockaddr_in sa;
	const dns_log_entry *log;
	size_t n;

	/* SIGTERM while an answer is delayed: nothing sent, every handle
	 * closed (finish asserts uv_loop_close() == 0) */
	load_zone();
	start(&loop, &c, 0);
	server_addr(&c, &sa);
	uv_udp_init(&loop, &c.udp);
	c.udp.data = &c;
	c.handles++;
	uv_udp_recv_start(&c.udp, alloc_cb, udp_recv_cb);
	c.want = 1;
	udp_query(&c, &sa, 7, "slow.example.test", DNS_TYPE_A);
	uv_timer_start(&c.guard, stop_soon_cb, 100, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(c.nanswers, 0);
	log = dns_server_log(c.sv, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(log[0].delay_ms, 300);
	ck_assert_uint_eq(log[0].answer_ms, 0);
	finish(&loop, &c);
	dns_zone_free(zone);
}
END_TEST

START_TEST(test_dns_server_tcp_idle_waits_for_delayed)
{
	uv_loop_t loop;
	client c;
	struct sockaddr_in sa;

	/* idle deadline 100 ms, answer delayed 300 ms: the answer comes,
	 * then the deadline closes the connection */
	load_zone();
	start(&loop, &c, 100);
	server_addr(&c, &sa);
	query_bytes(&c.in, 9, "slow.example.test", DNS_TYPE_A);
	vbuf_append_byte(&c.out, (char)(c.in.len >> 8));
	vbuf_append_byte(&c.out, (char)c.in.len);
	vbuf_append(&c.out, c.in.data, c.in.len);
	vbuf_reset(&c.in);
	c.want = 2;	/* one answer, then the close ends the client */
	uv_tcp_init(&loop, &c.tcp);
	c.tcp.data = c.conn.data = &c;
	c.handles++;
	ck_assert_int_eq(uv_tcp_connect(&c.conn, &c.tcp, (struct sockaddr *)&sa, tcp_connected_cb), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(c.nanswers, 1);
	ck_assert_uint_eq(c.answers[0].id, 9);
	ck_assert_int_eq(c.closed, 1);
	finish(&loop, &c);
	dns_zone_free(zone);
}
END_TEST

START_TEST(test_dns_server_tcp_query_limit)
{
	uv_loop_t loop;
	client c;
	struct sockaddr_in sa;
	vbuf one = VBUF_INIT;
	size_t n;

	/* DNS_TCP_QUERIES_MAX + 5 queries in one write: the first
	 * DNS_TCP_QUERIES_MAX are answered, then the server closes */
	load_zone();
	start(&loop, &c, 0);
	server_addr(&c, &sa);
	query_bytes(&one, 1, "mx1.example.test", DNS_TYPE_A);
	for (int i = 0; i < DNS_TCP_QUERIES_MAX + 5; i++) {
		vbuf_append_byte(&c.out, (char)(one.len >> 8));
		vbuf_append_byte(&c.out, (char)one.len);
		vbuf_append(&c.out, one.data, one.len);
	}
	vbuf_free(&one);
	c.want = DNS_TCP_QUERIES_MAX + 5;
	uv_tcp_init(&loop, &c.tcp);
	c.tcp.data = c.conn.data = &c;
	c.handles++;
	ck_assert_int_eq(uv_tcp_connect(&c.conn, &c.tcp, (struct sockaddr *)&sa, tcp_connected_cb), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_uint_eq(c.counted, DNS_TCP_QUERIES_MAX);
	ck_assert_int_eq(c.closed, 1);
	dns_server_log(c.sv, &n);
	ck_assert_uint_eq(n, DNS_TCP_QUERIES_MAX);
	finish(&loop, &c);
	dns_zone_free(zone);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dns_server");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_dns_server_udp);
	tcase_add_test(tc, test_dns_server_tcp_several_and_delay);
	tcase_add_test(tc, test_dns_server_tcp_idle_and_garbage);
	tcase_add_test(tc, test_dns_server_port_taken);
	tcase_add_test(tc, test_dns_server_stop_with_delayed_answer);
	tcase_add_test(tc, test_dns_server_tcp_idle_waits_for_delayed);
	tcase_add_test(tc, test_dns_server_tcp_query_limit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
