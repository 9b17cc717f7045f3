/*
 * fuzz_dns - the DNS packet parser, and the answer to whatever it reads.
 *
 * The input is one DNS message. A parse that fails must say where; one
 * that succeeds must give a message that writes back out and reads again
 * to the same counts and names. Every message that parses is then asked
 * of a fixed zone over UDP and TCP: the answer must write within the size
 * its transport allows and parse again; one that does not parse gets
 * FORMERR when it has a header and is not a response.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-dns/dns_answer.h"
#include "fake-dns/dns_wire.h"
#include "fake-dns/dns_zone.h"
#include "harness/util/vbuf.h"

#define FUZZ_CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "fuzz_dns: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

static const char fuzz_zone_text[] =
    "{\"zone\": \"example.test\", \"records\": ["
    "{\"name\": \"example.test\", \"type\": \"MX\", \"preference\": 10, \"exchange\": \"mx1.example.test\"},"
    "{\"name\": \"mx1.example.test\", \"type\": \"A\", \"address\": \"127.0.0.2\"},"
    "{\"name\": \"mx1.example.test\", \"type\": \"AAAA\", \"address\": \"::1\"},"
    "{\"name\": \"a.example.test\", \"type\": \"CNAME\", \"target\": \"b.example.test\"},"
    "{\"name\": \"b.example.test\", \"type\": \"CNAME\", \"target\": \"a.example.test\"},"
    "{\"name\": \"mail.example.test\", \"type\": \"CNAME\", \"target\": \"mx1.example.test\"},"
    "{\"name\": \"example.test\", \"type\": \"TXT\", \"text\": [\"v=spf1 -all\", \"x\"]},"
    "{\"name\": \"nullmx.example.test\", \"type\": \"MX\", \"preference\": 0, \"exchange\": \".\"}],"
    "\"behaviours\": [{\"name\": \"tc.example.test\", \"truncate_udp\": true},"
    "{\"name\": \"gone.example.test\", \"rcode\": \"NXDOMAIN\"},"
    "{\"name\": \"silent.example.test\", \"drop\": true}]}";

static dns_zone *fuzz_zone;

static void
fuzz_answer(const dns_msg *q, int udp)
{
	dns_answer a;
	dns_msg back;
	vbuf out = VBUF_INIT;
	char err[256];

	dns_answer_build(fuzz_zone, q, udp, &a);
	if (!a.drop) {
		FUZZ_CHECK(dns_answer_encode(&a, &out) == 0);
		FUZZ_CHECK(out.len <= a.max);
		FUZZ_CHECK(a.max >= DNS_UDP_PLAIN_MAX);
		FUZZ_CHECK(!udp || a.max <= DNS_EDNS_UDP_SIZE);
		FUZZ_CHECK(dns_wire_parse((const uint8_t *)out.data, out.len, &back, err,
		    sizeof(err)) == 0);
		FUZZ_CHECK(back.id == q->id);
		FUZZ_CHECK(back.flags & DNS_FLAG_QR);
		FUZZ_CHECK(back.edns.present == q->edns.present);
		dns_msg_free(&back);
	}
	dns_answer_free(&a);
	vbuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dns_msg m, back;
	vbuf out = VBUF_INIT;
	char err[256];
	int tc = 0;

	if (fuzz_zone == NULL) {
		err[0] = '\0';
		FUZZ_CHECK(dns_zone_load_buffer("fuzz-zone.json", fuzz_zone_text,
		    sizeof(fuzz_zone_text) - 1, &fuzz_zone, err, sizeof(err)) == 0);
	}
	err[0] = '\0';
	if (dns_wire_parse(data, size, &m, err, sizeof(err)) != 0) {
		FUZZ_CHECK(strncmp(err, "offset ", 7) == 0);
		FUZZ_CHECK(m.nq == 0 && m.q == NULL);
		if (dns_answer_formerr(data, size, &out) == 0)
			FUZZ_CHECK(out.len == 12 && size >= 12 && (out.data[2] & 0x80));
		else
			FUZZ_CHECK(size < 12 || (data[2] & 0x80));
		vbuf_free(&out);
		return 0;
	}
	FUZZ_CHECK(m.nq <= DNS_QUESTIONS_MAX);
	FUZZ_CHECK(m.nrr[0] + m.nrr[1] + m.nrr[2] <= DNS_RRS_MAX);
	FUZZ_CHECK(dns_wire_encode(&m, DNS_MSG_MAX, &out, &tc) == 0);
	FUZZ_CHECK(dns_wire_parse((const uint8_t *)out.data, out.len, &back, err, sizeof(err)) == 0);
	FUZZ_CHECK(back.id == m.id && back.nq == m.nq);
	if (!tc) {
		/* compression is never longer than the message it came from,
		 * except that an OPT is written without its original padding */
		for (int s = 0; s < 3; s++) {
			FUZZ_CHECK(back.nrr[s] == m.nrr[s]);
			for (size_t i = 0; i < m.nrr[s]; i++) {
				FUZZ_CHECK(dns_name_eq(back.rr[s][i].name, m.rr[s][i].name));
				FUZZ_CHECK(back.rr[s][i].type == m.rr[s][i].type);
				FUZZ_CHECK(back.rr[s][i].rdlen == m.rr[s][i].rdlen);
			}
		}
	}
	for (size_t i = 0; i < m.nq; i++)
		FUZZ_CHECK(strcmp(back.q[i].name, m.q[i].name) == 0);
	dns_msg_free(&back);
	fuzz_answer(&m, 1);
	fuzz_answer(&m, 0);
	dns_msg_free(&m);
	vbuf_free(&out);
	return 0;
}
