/*
 * dns_zone - zones from JSON; see dns_zone.h and docs/dns.md.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake-dns/dns_zone.h"
#include "harness/util/jsonpos.h"
#include "harness/util/vbuf.h"
#include "harness/util/xalloc.h"

#define ZONE_TTL_DEFAULT	300
#define ZONE_NEGATIVE_TTL	60
#define ZONE_TTL_MAX		2147483647	/* RFC 2181 §8 */

typedef struct zl {
	const char *name;
	char *root;		/* the zone object's path: "$", or e.g. "$.zone" inline */
	char *p_comment;	/* root + ".comment", ".records", ".behaviours" */
	char *p_records;
	char *p_behaviours;
	jsonpos jp;
	char *err;
	size_t errlen;
	dns_zone *z;
} zl;

static char *
zl_key(const char *parent, const char *key)
{
	vbuf b = VBUF_INIT;

	vbuf_append_str(&b, parent);
	jsonpos_path_key(&b, key);
	return vbuf_take(&b);
}

static char *
zl_index(const char *parent, size_t i)
{
	vbuf b = VBUF_INIT;

	vbuf_append_str(&b, parent);
	jsonpos_path_index(&b, i);
	return vbuf_take(&b);
}

/* Writes "NAME:LINE:COL: PATH: message" and returns -1. */
static int __attribute__((format(printf, 3, 4)))
zl_fail(zl *l, const char *path, const char *fmt, ...)
{
	char msg[768];
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jsonpos_find(&l->jp, path, &line, &col);
	snprintf(l->err, l->errlen, "%s:%d:%d: %s: %s", l->name, line, col, path, msg);
	return -1;
}

static int
zl_expected(zl *l, const char *path, const char *what, const cJSON *v)
{
	char got[96];

	jsonpos_describe(v, got, sizeof(got));
	return zl_fail(l, path, "expected %s, got %s", what, got);
}

/* Every member of obj must be one of keys, once. */
static int
zl_keys(zl *l, const cJSON *obj, const char *path, const char *const *keys)
{
	for (const cJSON *m = obj->child; m; m = m->next) {
		size_t i;
		char *p;
		int rc;

		for (i = 0; keys[i]; i++)
			if (strcmp(keys[i], m->string) == 0)
				break;
		p = zl_key(path, m->string);
		if (keys[i] == NULL) {
			vbuf want = VBUF_INIT;
			char got[96];

			for (i = 0; keys[i]; i++)
				vbuf_printf(&want, "%s\"%s\"", i ? ", " : "", keys[i]);
			jsonpos_describe(&(cJSON){ .type = cJSON_String, .valuestring = m->string }, got,
			    sizeof(got));
			rc = zl_fail(l, p, "unknown key %s (expected one of %s)", got, vbuf_str(&want));
			vbuf_free(&want);
			xfree(p);
			return rc;
		}
		for (const cJSON *o = obj->child; o != m; o = o->next) {
			if (strcmp(o->string, m->string) == 0) {
				rc = zl_fail(l, p, "key \"%s\" appears twice in one object", m->string);
				xfree(p);
				return rc;
			}
		}
		xfree(p);
	}
	return 0;
}

/* obj[key] as an integer in [lo, hi]; absent leaves *out alone, unless
 * required. */
static int
zl_int(zl *l, const cJSON *obj, const char *key, const char *path, long long lo, long long hi,
    int required, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char what[96], *p;
	int rc = 0;

	if (v == NULL && !required)
		return 0;
	p = zl_key(path, key);
	snprintf(what, sizeof(what), "an integer %lld-%lld", lo, hi);
	/* range first: converting an out-of-range double is undefined */
	if (v == NULL || !cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo &&
	    v->valuedouble <= (double)hi) || v->valuedouble != (double)(long long)v->valuedouble)
		rc = v == NULL ? zl_fail(l, path, "expected a member \"%s\", got none", key) :
		    zl_expected(l, p, what, v);
	else
		*out = (long long)v->valuedouble;
	xfree(p);
	return rc;
}

static int
zl_bool(zl *l, const cJSON *obj, const char *key, const char *path, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *p;
	int rc = 0;

	if (v == NULL)
		return 0;
	p = zl_key(path, key);
	if (!cJSON_IsBool(v))
		rc = zl_expected(l, p, "true or false", v);
	else
		*out = cJSON_IsTrue(v);
	xfree(p);
	return rc;
}

/* obj[key] as a domain name into out (DNS_NAME_TEXT_MAX). "." is allowed
 * only where root_ok; below is the apex it must sit under, or NULL. */
static int
zl_name(zl *l, const cJSON *obj, const char *key, const char *path, int root_ok,
    const char *below, char *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	uint8_t w[DNS_NAME_WIRE_MAX];
	char *p;
	int rc = 0;

	if (v == NULL)
		return zl_fail(l, path, "expected a member \"%s\", got none", key);
	p = zl_key(path, key);
	if (!cJSON_IsString(v) || dns_name_to_wire(v->valuestring, w) < 0 ||
	    strlen(v->valuestring) >= DNS_NAME_TEXT_MAX)
		rc = zl_expected(l, p, "a domain name (labels of 1-63 octets, 255 in all)", v);
	else if (!root_ok && strcmp(v->valuestring, ".") == 0)
		rc = zl_expected(l, p, "a domain name other than the root", v);
	else if (below != NULL && !dns_name_in(v->valuestring, below)) {
		char what[DNS_NAME_TEXT_MAX + 32];

		snprintf(what, sizeof(what), "a name at or below %s", below);
		rc = zl_expected(l, p, what, v);
	} else {
		size_t n = strlen(v->valuestring);

		/* kept without a trailing dot, as the codec writes names */
		if (n > 1 && v->valuestring[n - 1] == '.' && v->valuestring[n - 2] != '\\')
			n--;
		memcpy(out, v->valuestring, n);
		out[n] = '\0';
	}
	xfree(p);
	return rc;
}

int
dns_zone_rcode_parse(const char *s)
{
	static const struct {
		const char *name;
		int rcode;
	} rc[] = {
		{ "NOERROR", DNS_RCODE_NOERROR }, { "NXDOMAIN", DNS_RCODE_NXDOMAIN },
		{ "SERVFAIL", DNS_RCODE_SERVFAIL }, { "REFUSED", DNS_RCODE_REFUSED },
	};

	for (size_t i = 0; i < sizeof(rc) / sizeof(rc[0]); i++)
		if (strcmp(s, rc[i].name) == 0)
			return rc[i].rcode;
	return -1;
}

static int
zl_txt(zl *l, const cJSON *obj, const char *path, dns_rr *rr)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "text");
	static const char what[] = "a string of at most 255 octets, or a non-empty array of "
	    "at most 64 of them";
	vbuf b = VBUF_INIT;
	char *p;
	int rc = 0;

	if (v == NULL)
		return zl_fail(l, path, "expected a member \"text\", got none");
	p = zl_key(path, "text");
	if (cJSON_IsString(v)) {
		size_t n = strlen(v->valuestring);

		if (n > 255) {
			rc = zl_expected(l, p, what, v);
		} else {
			vbuf_append_byte(&b, (char)n);
			vbuf_append(&b, v->valuestring, n);
		}
	} else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) >= 1 &&
	    cJSON_GetArraySize(v) <= DNS_TXT_STRINGS_MAX) {
		size_t i = 0;

		for (const cJSON *s = v->child; s && rc == 0; s = s->next, i++) {
			if (!cJSON_IsString(s) || strlen(s->valuestring) > 255) {
				char *q = zl_index(p, i);

				rc = zl_expected(l, q, "a string of at most 255 octets", s);
				xfree(q);
			} else {
				vbuf_append_byte(&b, (char)strlen(s->valuestring));
				vbuf_append_str(&b, s->valuestring);
			}
		}
	} else {
		rc = zl_expected(l, p, what, v);
	}
	if (rc == 0) {
		rr->rdlen = (uint16_t)b.len;
		rr->rdata = (uint8_t *)vbuf_take(&b);
	}
	vbuf_free(&b);
	xfree(p);
	return rc;
}

static int
zl_record(zl *l, const cJSON *r, const char *path, dns_rr *rr)
{
	static const char *const keys[] = { "name", "type", "ttl", "comment", "preference",
		"exchange", "address", "target", "text", NULL };
	static const char *const want[] = { "MX", "A", "AAAA", "CNAME", "TXT", "PTR" };
	const cJSON *t;
	long long n;
	char *p;

	memset(rr, 0, sizeof(*rr));
	if (!cJSON_IsObject(r))
		return zl_expected(l, path, "a record object", r);
	if (zl_keys(l, r, path, keys) != 0 ||
	    zl_name(l, r, "name", path, 0, l->z->apex, rr->name) != 0)
		return -1;
	t = cJSON_GetObjectItemCaseSensitive(r, "type");
	p = zl_key(path, "type");
	if (t == NULL) {
		xfree(p);
		return zl_fail(l, path, "expected a member \"type\", got none");
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (cJSON_IsString(t) && strcmp(t->valuestring, want[i]) == 0)
			rr->type = (uint16_t)dns_type_parse(want[i]);
	if (rr->type == 0) {
		int rc = zl_expected(l, p, "one of \"MX\", \"A\", \"AAAA\", \"CNAME\", \"TXT\", "
		    "\"PTR\"", t);

		xfree(p);
		return rc;
	}
	xfree(p);
	rr->class_ = DNS_CLASS_IN;
	n = l->z->ttl;
	if (zl_int(l, r, "ttl", path, 0, ZONE_TTL_MAX, 0, &n) != 0)
		return -1;
	rr->ttl = (uint32_t)n;
	switch (rr->type) {
	case DNS_TYPE_MX:
		if (zl_int(l, r, "preference", path, 0, 65535, 1, &n) != 0)
			return -1;
		rr->preference = (uint16_t)n;
		/* "." is the null MX of RFC 7505 */
		return zl_name(l, r, "exchange", path, 1, NULL, rr->target);
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA: {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "address");
		int af = rr->type == DNS_TYPE_A ? AF_INET : AF_INET6;
		int rc = 0;

		if (a == NULL)
			return zl_fail(l, path, "expected a member \"address\", got none");
		p = zl_key(path, "address");
		if (!cJSON_IsString(a) || inet_pton(af, a->valuestring, rr->addr) != 1)
			rc = zl_expected(l, p, af == AF_INET ? "an IPv4 address such as \"127.0.0.2\"" :
			    "an IPv6 address such as \"::1\"", a);
		xfree(p);
		return rc;
	}
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		return zl_name(l, r, "target", path, 0, NULL, rr->target);
	case DNS_TYPE_TXT:
		return zl_txt(l, r, path, rr);
	}
	return 0;
}

static int
zl_behaviour(zl *l, const cJSON *o, const char *path, dns_zone_behaviour *b)
{
	static const char *const keys[] = { "name", "type", "rcode", "truncate_udp", "delay_ms",
		"drop", "for_queries", "for_ms", "comment", NULL };
	const cJSON *v;
	long long n = 0;
	char *p;
	int rc = 0;

	memset(b, 0, sizeof(*b));
	b->type = -1;
	b->rcode = -1;
	if (!cJSON_IsObject(o))
		return zl_expected(l, path, "a behaviour object", o);
	if (zl_keys(l, o, path, keys) != 0 ||
	    zl_name(l, o, "name", path, 0, l->z->apex, b->name) != 0)
		return -1;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "type")) != NULL) {
		int t = cJSON_IsString(v) ? dns_type_parse(v->valuestring) : -1;

		p = zl_key(path, "type");
		if (t <= 0 || t == DNS_TYPE_OPT)
			rc = zl_expected(l, p, "a query type such as \"MX\", \"A\" or \"TYPE99\"", v);
		b->type = t;
		xfree(p);
		if (rc != 0)
			return rc;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "rcode")) != NULL) {
		b->rcode = cJSON_IsString(v) ? dns_zone_rcode_parse(v->valuestring) : -1;
		if (b->rcode < 0) {
			p = zl_key(path, "rcode");
			rc = zl_expected(l, p, "one of \"NOERROR\", \"NXDOMAIN\", \"SERVFAIL\", "
			    "\"REFUSED\"", v);
			xfree(p);
			return rc;
		}
	}
	if (zl_bool(l, o, "truncate_udp", path, &b->truncate_udp) != 0 ||
	    zl_bool(l, o, "drop", path, &b->drop) != 0 ||
	    zl_int(l, o, "delay_ms", path, 0, DNS_DELAY_MAX_MS, 0, &n) != 0)
		return -1;
	b->delay_ms = (uint32_t)n;
	if (b->rcode < 0 && !b->truncate_udp && !b->drop && b->delay_ms == 0)
		return zl_fail(l, path, "expected at least one of \"rcode\", \"truncate_udp\", "
		    "\"delay_ms\", \"drop\", got none");
	/* 0 is refused rather than read as "for ever": leaving the key out
	 * says that. */
	n = 0;
	if (zl_int(l, o, "for_queries", path, 1, DNS_FOR_QUERIES_MAX, 0, &n) != 0)
		return -1;
	b->for_queries = (uint32_t)n;
	n = 0;
	if (zl_int(l, o, "for_ms", path, 1, DNS_FOR_MS_MAX, 0, &n) != 0)
		return -1;
	b->for_ms = (uint32_t)n;
	return 0;
}

/* RFC 1034 §3.6.2: a CNAME is the only record at its name. */
static int
zl_cname_alone(zl *l, const char *rpath)
{
	dns_zone *z = l->z;

	for (size_t i = 0; i < z->nrr; i++) {
		for (size_t j = 0; j < i; j++) {
			const dns_rr *a = &z->rr[j], *b = &z->rr[i];
			char t[16], *p;
			int rc;

			if ((a->type != DNS_TYPE_CNAME && b->type != DNS_TYPE_CNAME) ||
			    !dns_name_eq(a->name, b->name))
				continue;
			p = zl_index(rpath, i);
			if (a->type == DNS_TYPE_CNAME)
				rc = zl_fail(l, p, "expected no other record at %s, which has a CNAME "
				    "(RFC 1034 §3.6.2), got %s", b->name, dns_type_str(b->type, t, sizeof(t)));
			else
				rc = zl_fail(l, p, "expected no CNAME at %s, which has other records "
				    "(RFC 1034 §3.6.2), got CNAME", b->name);
			xfree(p);
			return rc;
		}
	}
	return 0;
}

static int
zl_zone(zl *l, const cJSON *root)
{
	static const char *const keys[] = { "zone", "ttl", "negative_ttl", "comment", "records",
		"behaviours", NULL };
	dns_zone *z = l->z;
	const cJSON *recs, *behs, *c;
	long long n;
	size_t i;

	if (!cJSON_IsObject(root))
		return zl_expected(l, l->root, "a zone object {\"zone\": ..., \"records\": [...]}", root);
	if (zl_keys(l, root, l->root, keys) != 0 ||
	    zl_name(l, root, "zone", l->root, 1, NULL, z->apex) != 0)
		return -1;
	if ((c = cJSON_GetObjectItemCaseSensitive(root, "comment")) != NULL && !cJSON_IsString(c))
		return zl_expected(l, l->p_comment, "a string", c);
	n = ZONE_TTL_DEFAULT;
	if (zl_int(l, root, "ttl", l->root, 0, ZONE_TTL_MAX, 0, &n) != 0)
		return -1;
	z->ttl = (uint32_t)n;
	n = ZONE_NEGATIVE_TTL;
	if (zl_int(l, root, "negative_ttl", l->root, 0, ZONE_TTL_MAX, 0, &n) != 0)
		return -1;
	/* the SOA of negative answers (RFC 2308 §3: its TTL and minimum are
	 * the negative TTL) */
	memset(&z->soa, 0, sizeof(z->soa));
	snprintf(z->soa.name, sizeof(z->soa.name), "%s", z->apex);
	z->soa.type = DNS_TYPE_SOA;
	z->soa.class_ = DNS_CLASS_IN;
	z->soa.ttl = (uint32_t)n;
	if (strcmp(z->apex, ".") == 0) {
		snprintf(z->soa.target, sizeof(z->soa.target), "ns");
		snprintf(z->soa.rname, sizeof(z->soa.rname), "hostmaster");
	} else {
		int a = snprintf(z->soa.target, sizeof(z->soa.target), "ns.%s", z->apex);
		int b = snprintf(z->soa.rname, sizeof(z->soa.rname), "hostmaster.%s", z->apex);
		uint8_t w[DNS_NAME_WIRE_MAX];

		/* an apex too long for the prefixes names itself */
		if (a < 0 || (size_t)a >= sizeof(z->soa.target) || b < 0 ||
		    (size_t)b >= sizeof(z->soa.rname) || dns_name_to_wire(z->soa.target, w) < 0 ||
		    dns_name_to_wire(z->soa.rname, w) < 0) {
			snprintf(z->soa.target, sizeof(z->soa.target), "%s", z->apex);
			snprintf(z->soa.rname, sizeof(z->soa.rname), "%s", z->apex);
		}
	}
	z->soa.soa[0] = 1;
	z->soa.soa[1] = 3600;
	z->soa.soa[2] = 600;
	z->soa.soa[3] = 86400;
	z->soa.soa[4] = (uint32_t)n;

	recs = cJSON_GetObjectItemCaseSensitive(root, "records");
	if (recs == NULL)
		return zl_fail(l, l->root, "expected a member \"records\", got none");
	if (!cJSON_IsArray(recs) || cJSON_GetArraySize(recs) > DNS_ZONE_RECORDS_MAX) {
		char what[64];

		snprintf(what, sizeof(what), "an array of at most %d records", DNS_ZONE_RECORDS_MAX);
		return zl_expected(l, l->p_records, what, cJSON_IsArray(recs) ? &(cJSON){
		    .type = cJSON_Array } : recs);
	}
	z->rr = xcalloc((size_t)cJSON_GetArraySize(recs) + 1, sizeof(dns_rr));
	for (c = recs->child, i = 0; c; c = c->next, i++) {
		char *p = zl_index(l->p_records, i);
		int rc = zl_record(l, c, p, &z->rr[i]);

		xfree(p);
		if (rc != 0) {
			xfree(z->rr[i].rdata);
			return -1;
		}
		z->nrr++;
	}
	if (zl_cname_alone(l, l->p_records) != 0)
		return -1;

	behs = cJSON_GetObjectItemCaseSensitive(root, "behaviours");
	if (behs == NULL)
		return 0;
	if (!cJSON_IsArray(behs) || cJSON_GetArraySize(behs) > DNS_ZONE_RECORDS_MAX) {
		char what[64];

		snprintf(what, sizeof(what), "an array of at most %d behaviours",
		    DNS_ZONE_RECORDS_MAX);
		return zl_expected(l, l->p_behaviours, what, cJSON_IsArray(behs) ? &(cJSON){
		    .type = cJSON_Array } : behs);
	}
	z->beh = xcalloc((size_t)cJSON_GetArraySize(behs) + 1, sizeof(dns_zone_behaviour));
	for (c = behs->child, i = 0; c; c = c->next, i++) {
		char *p = zl_index(l->p_behaviours, i);
		dns_zone_behaviour *b = &z->beh[i];
		int rc = zl_behaviour(l, c, p, b);

		for (size_t j = 0; rc == 0 && j < i; j++)
			if (z->beh[j].type == b->type && dns_name_eq(z->beh[j].name, b->name))
				rc = zl_fail(l, p, "expected one behaviour per name and type, got a "
				    "second for %s", b->name);
		xfree(p);
		if (rc != 0)
			return -1;
		z->nbeh++;
	}
	return 0;
}

int
dns_zone_load_buffer(const char *name, const char *text, size_t len, dns_zone **out,
    char *err, size_t errlen)
{
	const char *end = NULL;
	char *copy;
	cJSON *root;
	int rc;

	*out = NULL;
	if (len > DNS_ZONE_FILE_MAX) {
		snprintf(err, errlen, "%s:1:1: $: expected a zone file of at most %d bytes, got %zu",
		    name, DNS_ZONE_FILE_MAX, len);
		return -1;
	}
	/* a NUL after the text makes cJSON stop at offset len when the text
	 * ends too soon (see scenario.c) */
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 0);
	end = end ? text + (end - copy) : NULL;
	xfree(copy);
	if (root == NULL) {
		size_t off = end ? (size_t)(end - text) : 0;
		char near[40];
		size_t k = 0;
		int line, col;

		if (off > len)
			off = len;
		jsonpos_offset_to_lc(text, len, off, &line, &col);
		for (size_t i = off; i < len && k + 1 < sizeof(near) && text[i] != '\n'; i++)
			near[k++] = isprint((unsigned char)text[i]) ? text[i] : '?';
		near[k] = '\0';
		snprintf(err, errlen, "%s:%d:%d: expected valid JSON, %s%s%s", name, line, col,
		    off >= len ? "got the end of the file" : "got \"", off >= len ? "" : near,
		    off >= len ? "" : "\"");
		return -1;
	}
	for (const char *t = end; t && t < text + len; t++) {
		if (*t != ' ' && *t != '\t' && *t != '\r' && *t != '\n') {
			int line, col;

			jsonpos_offset_to_lc(text, len, (size_t)(t - text), &line, &col);
			snprintf(err, errlen, "%s:%d:%d: expected the end of the file after the "
			    "zone object, got more", name, line, col);
			cJSON_Delete(root);
			return -1;
		}
	}
	rc = dns_zone_load_json(name, text, len, root, "$", out, err, errlen);
	cJSON_Delete(root);
	return rc;
}

int
dns_zone_load_json(const char *name, const char *text, size_t len, const struct cJSON *obj,
    const char *path, dns_zone **out, char *err, size_t errlen)
{
	zl l;
	int rc;

	*out = NULL;
	memset(&l, 0, sizeof(l));
	l.name = name;
	l.err = err;
	l.errlen = errlen;
	l.root = xstrdup(path);
	l.p_comment = zl_key(path, "comment");
	l.p_records = zl_key(path, "records");
	l.p_behaviours = zl_key(path, "behaviours");
	l.z = xcalloc(1, sizeof(dns_zone));
	l.z->file = xstrdup(name);
	jsonpos_build(&l.jp, text, len);
	rc = zl_zone(&l, obj);
	jsonpos_free(&l.jp);
	xfree(l.root);
	xfree(l.p_comment);
	xfree(l.p_records);
	xfree(l.p_behaviours);
	if (rc != 0) {
		dns_zone_free(l.z);
		return -1;
	}
	*out = l.z;
	return 0;
}

int
dns_zone_load_file(const char *path, dns_zone **out, char *err, size_t errlen)
{
	vbuf b = VBUF_INIT;
	int rc;

	*out = NULL;
	if (vbuf_read_file(&b, path, DNS_ZONE_FILE_MAX, err, errlen) != 0) {
		vbuf_free(&b);
		return -1;
	}
	rc = dns_zone_load_buffer(path, b.data ? b.data : "", b.len, out, err, errlen);
	vbuf_free(&b);
	return rc;
}

void
dns_zone_free(dns_zone *z)
{
	if (z == NULL)
		return;
	for (size_t i = 0; i < z->nrr; i++)
		xfree(z->rr[i].rdata);
	xfree(z->rr);
	xfree(z->beh);
	xfree(z->file);
	xfree(z);
}

const dns_zone_behaviour *
dns_zone_behaviour_find(const dns_zone *z, const char *name, int qtype)
{
	const dns_zone_behaviour *any = NULL;

	for (size_t i = 0; i < z->nbeh; i++) {
		if (!dns_name_eq(z->beh[i].name, name))
			continue;
		if (z->beh[i].type == qtype)
			return &z->beh[i];
		if (z->beh[i].type == -1)
			any = &z->beh[i];
	}
	return any;
}

size_t
dns_zone_find(const dns_zone *z, const char *name, int type, const dns_rr **out, size_t max)
{
	size_t n = 0;

	if ((type == DNS_TYPE_SOA || type == DNS_TYPE_ANY) && dns_name_eq(name, z->apex) && n < max)
		out[n++] = &z->soa;
	for (size_t i = 0; i < z->nrr && n < max; i++)
		if ((type == DNS_TYPE_ANY || z->rr[i].type == type) && dns_name_eq(z->rr[i].name, name))
			out[n++] = &z->rr[i];
	return n;
}

int
dns_zone_name_exists(const dns_zone *z, const char *name)
{
	if (dns_name_eq(name, z->apex))
		return 1;
	for (size_t i = 0; i < z->nrr; i++)
		if (dns_name_in(z->rr[i].name, name))
			return 1;
	for (size_t i = 0; i < z->nbeh; i++)
		if (z->beh[i].rcode == DNS_RCODE_NOERROR && dns_name_in(z->beh[i].name, name))
			return 1;
	return 0;
}
