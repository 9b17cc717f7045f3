/*
 * relay - relay scenario files; see relay.h and docs/relay.md.
 */
#include "harness/scenario/relay.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fake-dns/dns_wire.h"
#include "harness/check/catalog.h"
#include "harness/smtp/path.h"
#include "harness/util/harness_limits.h"
#include "harness/util/jsonpos.h"
#include "harness/util/xalloc.h"

typedef struct rl {
	const char *name;
	const char *text;
	size_t len;
	jsonpos jp;
	char *err;
	size_t errlen;
	rly_scenario *s;
} rl;

/* "FILE:LINE:COL: PATH: message" into the loader's err; returns -1. */
#define rl_fail(l, path, ...) jsonpos_fail(&(l)->jp, (l)->name, (path), (l)->err, (l)->errlen, \
    __VA_ARGS__)

static int
rl_expected(rl *l, const char *path, const char *what, const cJSON *v)
{
	char got[96];

	jsonpos_describe(v, got, sizeof(got));
	return rl_fail(l, path, "expected %s, got %s", what, got);
}

/* The same at parent.key (freed here). */
static int
rl_expected_at(rl *l, const char *parent, const char *key, const char *what, const cJSON *v)
{
	char *p = jsonpos_child_key(parent, key);
	int rc = rl_expected(l, p, what, v);

	xfree(p);
	return rc;
}

static void
rl_where(rl *l, const char *path, scn_where *w)
{
	w->path = xstrdup(path);
	jsonpos_find(&l->jp, path, &w->line, &w->col);
}

static int
rl_keys(rl *l, const cJSON *obj, const char *path, const char *const *keys)
{
	return jsonpos_check_keys(&l->jp, l->name, obj, path, keys, l->err, l->errlen);
}

/* A non-empty string member (required when `need`); *out a copy or NULL. */
static int
rl_str(rl *l, const cJSON *obj, const char *key, const char *path, int need, const char *what,
    char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (v == NULL && !need)
		return 0;
	if (v == NULL)
		return rl_fail(l, path, "expected a member \"%s\" (%s), got none", key, what);
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		return rl_expected_at(l, path, key, what, v);
	*out = xstrdup(v->valuestring);
	return 0;
}

static int
rl_int(rl *l, const cJSON *v, const char *path, long long lo, long long hi, long long *out)
{
	char what[96];

	snprintf(what, sizeof(what), "an integer %lld-%lld", lo, hi);
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo && v->valuedouble <= (double)hi) ||
	    v->valuedouble != (double)(long long)v->valuedouble)
		return rl_expected(l, path, what, v);
	*out = (long long)v->valuedouble;
	return 0;
}

/* An optional integer member. */
static int
rl_int_member(rl *l, const cJSON *obj, const char *key, const char *path, long long lo,
    long long hi, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *p;
	int rc;

	if (v == NULL)
		return 0;
	p = jsonpos_child_key(path, key);
	rc = rl_int(l, v, p, lo, hi, out);
	xfree(p);
	return rc;
}

/* A host's answer at one point: a code in [lo, 599], or "drop". */
static int
rl_fault(rl *l, const cJSON *obj, const char *key, const char *path, int hi, int drop_ok,
    int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char what[64];

	*out = RLY_ACCEPT;
	if (v == NULL)
		return 0;
	snprintf(what, sizeof(what), drop_ok ? "a code 400-%d or \"drop\"" : "a code 400-%d", hi);
	if (drop_ok && cJSON_IsString(v) && strcmp(v->valuestring, "drop") == 0) {
		*out = RLY_DROP;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble ||
	    v->valuedouble < 400 || v->valuedouble > hi)
		return rl_expected_at(l, path, key, what, v);
	*out = (int)v->valuedouble;
	return 0;
}

static int
rl_listen(rl *l, const cJSON *obj, const char *path, rly_host *h)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "listen");
	const char *what = "an address in 127/8 and a port, \"127.0.0.2:25\"";
	struct in_addr a;
	const char *colon;
	char *end;
	unsigned long port;

	if (v == NULL)
		return rl_fail(l, path, "expected a member \"listen\" (%s), got none", what);
	if (!cJSON_IsString(v) || (colon = strrchr(v->valuestring, ':')) == NULL)
		return rl_expected_at(l, path, "listen", what, v);
	h->addr = xstrndup(v->valuestring, (size_t)(colon - v->valuestring));
	port = strtoul(colon + 1, &end, 10);
	if (inet_pton(AF_INET, h->addr, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127 ||
	    colon[1] == '\0' || *end != '\0' || port == 0 || port > 65535)
		return rl_expected_at(l, path, "listen", what, v);
	h->port = xstrdup(colon + 1);
	return 0;
}

/* "rcpt_codes": {"MAILBOX": CODE, ...}, the reply to each one's RCPT. */
static int
rl_rcpt_codes(rl *l, const cJSON *o, const char *path, rly_host *h)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "rcpt_codes"), *c;
	char *p;
	size_t n = 0;
	int rc = 0;

	if (v == NULL)
		return 0;
	p = jsonpos_child_key(path, "rcpt_codes");
	if (!cJSON_IsObject(v) || v->child == NULL) {
		rc = rl_expected(l, p, "an object {\"MAILBOX\": CODE, ...}", v);
		xfree(p);
		return rc;
	}
	for (c = v->child; c; c = c->next)
		n++;
	h->rcpt_codes = xcalloc(n, sizeof(*h->rcpt_codes));
	for (c = v->child; c && rc == 0; c = c->next) {
		rly_rcpt_code *k = &h->rcpt_codes[h->nrcpt_codes++];

		k->mailbox = xstrdup(c->string);
		if (cJSON_IsString(c) && strcmp(c->valuestring, "drop") == 0)
			k->code = RLY_DROP;
		else if (!cJSON_IsNumber(c) || c->valuedouble != (double)(int)c->valuedouble ||
		    c->valuedouble < 400 || c->valuedouble > 599)
			rc = rl_expected_at(l, p, c->string, "a code 400-599 or \"drop\"", c);
		else
			k->code = (int)c->valuedouble;
	}
	xfree(p);
	return rc;
}

static int
rl_host(rl *l, const cJSON *o, const char *path, rly_host *h)
{
	static const char *const keys[] = { "name", "listen", "refuse", "greet", "mail", "rcpt",
		"rcpt_codes", "data", "dsn", "faults_for", "comment", NULL };
	const cJSON *v;
	long long n = 0;

	rl_where(l, path, &h->where);
	if (!cJSON_IsObject(o))
		return rl_expected(l, path, "a host object {\"name\": ..., \"listen\": ...}", o);
	if (rl_keys(l, o, path, keys) != 0 ||
	    rl_str(l, o, "name", path, 1, "a name for the rows of \"expect\"", &h->name) != 0 ||
	    rl_listen(l, o, path, h) != 0)
		return -1;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "refuse")) != NULL) {
		if (!cJSON_IsBool(v))
			return rl_expected_at(l, path, "refuse", "true or false", v);
		h->refuse = cJSON_IsTrue(v);
	}
	/* A greeting other than 220 is only a 4yz here (then the host
	 * closes): a 554 greeting keeps the session open for QUIT. */
	if (rl_fault(l, o, "greet", path, 499, 0, &h->greet) != 0 ||
	    rl_fault(l, o, "mail", path, 599, 1, &h->mail) != 0 ||
	    rl_fault(l, o, "rcpt", path, 599, 1, &h->rcpt) != 0 ||
	    rl_fault(l, o, "data", path, 599, 1, &h->data) != 0 ||
	    rl_int_member(l, o, "faults_for", path, 1, 1000, &n) != 0)
		return -1;
	h->faults_for = (uint32_t)n;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "dsn")) != NULL) {
		if (!cJSON_IsBool(v))
			return rl_expected_at(l, path, "dsn", "true or false", v);
		h->no_dsn = !cJSON_IsTrue(v);
	}
	if (rl_rcpt_codes(l, o, path, h) != 0)
		return -1;
	if (h->refuse && (h->greet || h->mail || h->rcpt || h->data || h->nrcpt_codes)) {
		char *p = jsonpos_child_key(path, "refuse");
		int rc = rl_fail(l, p, "expected no \"greet\", \"mail\", \"rcpt\" or \"data\" with "
		    "\"refuse\": true (nothing listens), got some");

		xfree(p);
		return rc;
	}
	return 0;
}

static int
rl_hosts(rl *l, const cJSON *root)
{
	const cJSON *hs = cJSON_GetObjectItemCaseSensitive(root, "hosts"), *c;
	char what[80];
	size_t i;

	snprintf(what, sizeof(what), "an array of 1-%d hosts", HARNESS_RELAY_HOSTS_MAX);
	if (hs == NULL)
		return rl_fail(l, "$", "expected a member \"hosts\" (%s), got none", what);
	if (!cJSON_IsArray(hs) || cJSON_GetArraySize(hs) < 1 ||
	    cJSON_GetArraySize(hs) > HARNESS_RELAY_HOSTS_MAX)
		return rl_expected(l, "$.hosts", what, cJSON_IsArray(hs) ? &(cJSON){
		    .type = cJSON_Array } : hs);
	l->s->hosts = xcalloc((size_t)cJSON_GetArraySize(hs), sizeof(rly_host));
	for (c = hs->child, i = 0; c; c = c->next, i++) {
		char *p = jsonpos_child_index("$.hosts", i);
		rly_host *h = &l->s->hosts[i];
		int rc;

		l->s->nhosts++;
		rc = rl_host(l, c, p, h);
		for (size_t j = 0; rc == 0 && j < i; j++) {
			const rly_host *o = &l->s->hosts[j];

			if (strcmp(o->name, h->name) == 0)
				rc = rl_fail(l, p, "expected a name of its own, got \"%s\" again (%s)",
				    h->name, o->where.path);
			else if (strcmp(o->addr, h->addr) == 0 && strcmp(o->port, h->port) == 0)
				rc = rl_fail(l, p, "expected an address of its own, got %s:%s again (%s)",
				    h->addr, h->port, o->where.path);
		}
		xfree(p);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* "zone": a zone object inline, or the path of a zone file, relative to
 * the scenario. */
static int
rl_zone(rl *l, const cJSON *root)
{
	const cJSON *z = cJSON_GetObjectItemCaseSensitive(root, "zone");
	const char *what = "a zone object (docs/dns.md) or the path of a zone file";

	if (z == NULL)
		return rl_fail(l, "$", "expected a member \"zone\" (%s), got none", what);
	if (cJSON_IsObject(z))
		return dns_zone_load_json(l->name, l->text, l->len, z, "$.zone", &l->s->zone, l->err,
		    l->errlen);
	if (cJSON_IsString(z) && z->valuestring[0] != '\0') {
		char *path = z->valuestring[0] == '/' ? xstrdup(z->valuestring) :
		    xasprintf("%s/%s", l->s->dir, z->valuestring);
		int rc = dns_zone_load_file(path, &l->s->zone, l->err, l->errlen);

		xfree(path);
		return rc;
	}
	return rl_expected(l, "$.zone", what, z);
}

static int
rl_message(rl *l, const cJSON *root)
{
	static const char *const keys[] = { "lines", "comment", NULL };
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message"), *ls, *c;
	char what[96];
	size_t i, total = 0;

	snprintf(what, sizeof(what), "an array of 1-%d strings without CR LF", HARNESS_RELAY_LINES_MAX);
	if (m == NULL)
		return rl_fail(l, "$", "expected a member \"message\" ({\"lines\": [...]}), got none");
	if (!cJSON_IsObject(m))
		return rl_expected(l, "$.message", "an object {\"lines\": [...]}", m);
	if (rl_keys(l, m, "$.message", keys) != 0)
		return -1;
	ls = cJSON_GetObjectItemCaseSensitive(m, "lines");
	if (ls == NULL)
		return rl_fail(l, "$.message", "expected a member \"lines\" (%s), got none", what);
	if (!cJSON_IsArray(ls) || cJSON_GetArraySize(ls) < 1 ||
	    cJSON_GetArraySize(ls) > HARNESS_RELAY_LINES_MAX)
		return rl_expected(l, "$.message.lines", what, cJSON_IsArray(ls) ? &(cJSON){
		    .type = cJSON_Array } : ls);
	l->s->lines = xcalloc((size_t)cJSON_GetArraySize(ls), sizeof(char *));
	for (c = ls->child, i = 0; c; c = c->next, i++) {
		/* A line ends at CR LF only: a bare CR or LF inside one is
		 * content (the smuggling rows send such bytes on purpose). */
		if (!cJSON_IsString(c) || strstr(c->valuestring, "\r\n") != NULL) {
			char *p = jsonpos_child_index("$.message.lines", i);
			int rc = rl_expected(l, p, "a string without CR LF", c);

			xfree(p);
			return rc;
		}
		total += strlen(c->valuestring) + 2;
		if (total > HARNESS_SROLE_MESSAGE_MAX)
			return rl_fail(l, "$.message.lines", "expected at most %d octets, got more",
			    HARNESS_SROLE_MESSAGE_MAX);
		l->s->lines[l->s->nlines++] = xstrdup(c->valuestring);
	}
	return 0;
}

/* A mailbox for the envelope (RFC 5321 §4.1.2): a dot-string or a
 * quoted local-part (`"Quoted Part"@rem.test`), "@", a domain or an
 * address literal; printable ASCII without "'". */
static int
rl_mailbox_ok(const char *s)
{
	size_t len = strlen(s), used = 0;
	smtp_path p;
	char *path;
	int ok;

	for (const char *c = s; *c; c++)
		if (*c < ' ' || *c > '~' || *c == '\'')
			return 0;
	path = xasprintf("<%s>", s);
	memset(&p, 0, sizeof(p));
	ok = smtp_path_parse(path, len + 2, 0, &p, &used) == 0 && used == len + 2 && !p.routed;
	smtp_path_clear(&p);
	xfree(path);
	return ok;
}

static int
rl_submission(rl *l, const cJSON *root)
{
	static const char *const keys[] = { "from", "to", "command", "comment", NULL };
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(root, "submission"), *to, *c;
	const char *mb = "a mailbox local@domain, or \"\" for <>";
	size_t i;

	if (sub == NULL)
		return rl_fail(l, "$", "expected a member \"submission\" ({\"from\": ..., \"to\": "
		    "[...]}), got none");
	if (!cJSON_IsObject(sub))
		return rl_expected(l, "$.submission", "an object {\"from\": ..., \"to\": [...]}", sub);
	if (rl_keys(l, sub, "$.submission", keys) != 0 ||
	    rl_str(l, sub, "command", "$.submission", 0, "a shell command", &l->s->command) != 0)
		return -1;
	/* "" is the null reverse-path (a notice's own). */
	c = cJSON_GetObjectItemCaseSensitive(sub, "from");
	if (cJSON_IsString(c) && c->valuestring[0] == '\0')
		l->s->from = xstrdup("");
	else if (rl_str(l, sub, "from", "$.submission", 1, mb, &l->s->from) != 0)
		return -1;
	if (l->s->from[0] != '\0' && !rl_mailbox_ok(l->s->from))
		return rl_expected_at(l, "$.submission", "from", mb,
		    cJSON_GetObjectItemCaseSensitive(sub, "from"));
	to = cJSON_GetObjectItemCaseSensitive(sub, "to");
	if (to == NULL)
		return rl_fail(l, "$.submission", "expected a member \"to\" (an array of mailboxes), "
		    "got none");
	if (!cJSON_IsArray(to) || cJSON_GetArraySize(to) < 1 || cJSON_GetArraySize(to) > 100)
		return rl_expected(l, "$.submission.to", "an array of 1-100 mailboxes",
		    cJSON_IsArray(to) ? &(cJSON){ .type = cJSON_Array } : to);
	l->s->to = xcalloc((size_t)cJSON_GetArraySize(to), sizeof(char *));
	for (c = to->child, i = 0; c; c = c->next, i++) {
		if (!cJSON_IsString(c) || !rl_mailbox_ok(c->valuestring)) {
			char *p = jsonpos_child_index("$.submission.to", i);
			/* A recipient cannot be the null path. */
			int rc = rl_expected(l, p, "a mailbox local@domain", c);

			xfree(p);
			return rc;
		}
		l->s->to[l->s->nto++] = xstrdup(c->valuestring);
	}
	return 0;
}

/* A member naming a host; its index in *out. */
static int
rl_host_ref(rl *l, const cJSON *v, const char *path, size_t *out)
{
	if (!cJSON_IsString(v))
		return rl_expected(l, path, "the name of a host of \"hosts\"", v);
	*out = rly_host_find(l->s, v->valuestring);
	if (*out == SIZE_MAX)
		return rl_fail(l, path, "expected the name of a host of \"hosts\", got \"%s\"",
		    v->valuestring);
	return 0;
}

static int
rl_counts(rl *l, const cJSON *v, const char *path, rly_expect *e)
{
	const cJSON *c;
	size_t n = 0;

	if (!cJSON_IsObject(v) || v->child == NULL)
		return rl_expected(l, path, "an object {\"HOST\": COUNT, ...}", v);
	for (c = v->child; c; c = c->next)
		n++;
	e->counts = xcalloc(n, sizeof(*e->counts));
	for (c = v->child; c; c = c->next) {
		char *p = jsonpos_child_key(path, c->string);
		rly_count *k = &e->counts[e->ncounts];
		long long cnt;
		int rc;

		k->host = rly_host_find(l->s, c->string);
		if (k->host == SIZE_MAX)
			rc = rl_fail(l, p, "expected the name of a host of \"hosts\", got \"%s\"",
			    c->string);
		else
			rc = rl_int(l, c, p, 0, HARNESS_RELAY_CONNS_MAX, &cnt);
		xfree(p);
		if (rc != 0)
			return -1;
		k->n = (uint32_t)cnt;
		e->ncounts++;
	}
	return 0;
}

/* The predicate keys of a row; exactly one per row. */
static const struct {
	const char *key;
	rly_kind kind;
} rl_kinds[] = {
	{ "dns", RLY_DNS },
	{ "order", RLY_ORDER },
	{ "deliveries", RLY_DELIVERIES },
	{ "connections", RLY_CONNECTIONS },
	{ "retry", RLY_RETRY },
	{ "same_content", RLY_SAME_CONTENT },
	{ "received", RLY_RECEIVED },
	{ "bounce", RLY_BOUNCE },
	{ "dsn_envelope", RLY_DSN_ENVELOPE },
	{ "dsn_report", RLY_DSN_REPORT },
	{ "no_bare_line_ends", RLY_NO_BARE_LINE_ENDS },
	{ "dsn_params", RLY_DSN_PARAMS },
	{ "rcpts", RLY_RCPTS },
	{ "localparts", RLY_LOCALPARTS },
	{ "notices", RLY_NOTICES },
	{ "no_dsn_params", RLY_NO_DSN_PARAMS },
	{ "dsn_return", RLY_DSN_RETURN },
};

/* The keys of a dsn_params row, by RLY_P_*. */
static const char *const rl_params[RLY_P_N] = { "ret", "envid", "notify", "orcpt" };

#define RL_NKINDS (sizeof(rl_kinds) / sizeof(rl_kinds[0]))

const char *
rly_kind_str(rly_kind k)
{
	for (size_t i = 0; i < RL_NKINDS; i++)
		if (rl_kinds[i].kind == k)
			return rl_kinds[i].key;
	return "?";
}

static int
rl_dns(rl *l, const cJSON *v, const char *path, rly_expect *e)
{
	static const char *const keys[] = { "name", "type", "rcode", NULL };
	const cJSON *t;
	char *type = NULL;

	e->qrcode = -1;
	if (!cJSON_IsObject(v))
		return rl_expected(l, path, "an object {\"name\": ..., \"type\": \"MX\"}", v);
	if ((t = cJSON_GetObjectItemCaseSensitive(v, "rcode")) != NULL) {
		if (cJSON_IsString(t))
			e->qrcode = dns_zone_rcode_parse(t->valuestring);
		if (e->qrcode < 0)
			return rl_expected_at(l, path, "rcode", "one of \"NOERROR\", \"NXDOMAIN\", "
			    "\"SERVFAIL\", \"REFUSED\"", t);
	}
	if (rl_keys(l, v, path, keys) != 0 ||
	    rl_str(l, v, "name", path, 1, "a domain name", &e->qname) != 0 ||
	    rl_str(l, v, "type", path, 1, "a query type such as \"MX\" or \"A\"", &type) != 0)
		return -1;
	e->qtype = dns_type_parse(type);
	xfree(type);
	if (e->qtype < 0) {
		t = cJSON_GetObjectItemCaseSensitive(v, "type");
		return rl_expected_at(l, path, "type", "a query type such as \"MX\" or \"A\"", t);
	}
	return 0;
}

/* "actions": {"MAILBOX": "failed" | "relayed" | "delivered" | "delayed" |
 * "expanded" | null, ...}: RFC 3464 §2.3.3's action values. */
static int
rl_actions(rl *l, const cJSON *o, const char *path, rly_expect *e)
{
	static const char *const known[] = { "failed", "delayed", "delivered", "relayed",
		"expanded", NULL };
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "actions"), *c;
	char *p = jsonpos_child_key(path, "actions");
	size_t n = 0;
	int rc = 0;

	if (v == NULL)
		rc = rl_fail(l, path, "expected a member \"actions\" (each recipient's Action, or "
		    "null), got none");
	else if (!cJSON_IsObject(v) || v->child == NULL)
		rc = rl_expected(l, p, "an object {\"MAILBOX\": \"failed\" or null, ...}", v);
	if (rc != 0) {
		xfree(p);
		return rc;
	}
	for (c = v->child; c; c = c->next)
		n++;
	e->actions = xcalloc(n, sizeof(*e->actions));
	for (c = v->child; c && rc == 0; c = c->next) {
		rly_action *a = &e->actions[e->nactions++];
		size_t k = 0;

		a->mailbox = xstrdup(c->string);
		if (cJSON_IsNull(c))
			continue;
		while (cJSON_IsString(c) && known[k] != NULL && strcmp(known[k], c->valuestring) != 0)
			k++;
		if (!cJSON_IsString(c) || known[k] == NULL)
			rc = rl_expected_at(l, p, c->string, "\"failed\", \"delayed\", \"delivered\", "
			    "\"relayed\", \"expanded\" or null", c);
		else
			a->action = xstrdup(c->valuestring);
	}
	xfree(p);
	return rc;
}

static int
rl_expect_row(rl *l, const cJSON *o, const char *path, rly_expect *e)
{
	static const char *const keys[] = { "check", "dns", "before", "order", "deliveries",
		"connections", "retry", "min_gap_ms", "same_content", "received", "bounce",
		"dsn_envelope", "dsn_report", "status", "no_bare_line_ends", "dsn_params", "ret",
		"envid", "notify", "orcpt", "rcpts", "count", "localparts", "notices", "actions",
		"no_dsn_params", "dsn_return", "returned", "original_envid", "severity", "comment",
		NULL };
	const cJSON *v = NULL, *c;
	const char *key = NULL;
	const chk_entry *ce;
	char *p;
	int rc;
	long long n;

	rl_where(l, path, &e->where);
	e->host = SIZE_MAX;
	if (!cJSON_IsObject(o))
		return rl_expected(l, path, "an object {\"check\": ID, PREDICATE: ...}", o);
	if (rl_keys(l, o, path, keys) != 0 ||
	    rl_str(l, o, "check", path, 1, "a catalog id", &e->check) != 0)
		return -1;
	ce = chk_catalog_find(e->check);
	if (ce == NULL)
		return rl_expected_at(l, path, "check", "a catalog id (see `smtp-harness catalog`)",
		    cJSON_GetObjectItemCaseSensitive(o, "check"));
	e->verdict = chk_keyword_verdict(ce->keyword);
	/* A row judging a clause of its catalog row other than the first
	 * states that clause's keyword. */
	if ((c = cJSON_GetObjectItemCaseSensitive(o, "severity")) != NULL) {
		int k = cJSON_IsString(c) ? chk_keyword_parse(c->valuestring) : -1;

		if (k < 0)
			return rl_expected_at(l, path, "severity", "\"must\", \"should\" or \"may\"", c);
		e->verdict = chk_keyword_verdict((chk_keyword)k);
	}
	for (size_t i = 0; i < RL_NKINDS; i++) {
		c = cJSON_GetObjectItemCaseSensitive(o, rl_kinds[i].key);
		if (c == NULL)
			continue;
		if (v != NULL)
			return rl_fail(l, path, "expected one predicate per row, got \"%s\" and \"%s\"",
			    key, rl_kinds[i].key);
		v = c;
		key = rl_kinds[i].key;
		e->kind = rl_kinds[i].kind;
	}
	if (v == NULL)
		return rl_fail(l, path, "expected a predicate (\"dns\", \"order\", \"deliveries\", "
		    "\"connections\", \"retry\", \"same_content\", \"received\", \"bounce\", "
		    "\"dsn_envelope\", \"dsn_report\", \"no_bare_line_ends\", \"dsn_params\", "
		    "\"rcpts\", \"localparts\", \"notices\", \"no_dsn_params\" or \"dsn_return\"), "
		    "got none");
	for (size_t k = 0; k < RLY_P_N; k++)
		if (cJSON_GetObjectItemCaseSensitive(o, rl_params[k]) != NULL && e->kind != RLY_DSN_PARAMS)
			return rl_fail(l, path, "expected \"%s\" only with \"dsn_params\", got it with "
			    "\"%s\"", rl_params[k], key);
	if (cJSON_GetObjectItemCaseSensitive(o, "count") != NULL && e->kind != RLY_RCPTS)
		return rl_fail(l, path, "expected \"count\" only with \"rcpts\", got it with \"%s\"",
		    key);
	if ((cJSON_GetObjectItemCaseSensitive(o, "actions") && e->kind != RLY_NOTICES) ||
	    ((cJSON_GetObjectItemCaseSensitive(o, "returned") ||
	    cJSON_GetObjectItemCaseSensitive(o, "original_envid")) && e->kind != RLY_DSN_RETURN))
		return rl_fail(l, path, "expected \"actions\" only with \"notices\", \"returned\" and "
		    "\"original_envid\" only with \"dsn_return\", got one elsewhere");
	if ((cJSON_GetObjectItemCaseSensitive(o, "before") && e->kind != RLY_DNS) ||
	    (cJSON_GetObjectItemCaseSensitive(o, "min_gap_ms") && e->kind != RLY_RETRY) ||
	    (cJSON_GetObjectItemCaseSensitive(o, "status") && e->kind != RLY_DSN_REPORT))
		return rl_fail(l, path, "expected \"before\" only with \"dns\", \"min_gap_ms\" only "
		    "with \"retry\" and \"status\" only with \"dsn_report\", got one elsewhere");
	p = jsonpos_child_key(path, key);
	switch (e->kind) {
	case RLY_DNS:
		rc = rl_dns(l, v, p, e);
		if (rc == 0 && (c = cJSON_GetObjectItemCaseSensitive(o, "before")) != NULL) {
			char *bp = jsonpos_child_key(path, "before");

			rc = rl_host_ref(l, c, bp, &e->host);
			xfree(bp);
		}
		break;
	case RLY_ORDER:
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 ||
		    cJSON_GetArraySize(v) > HARNESS_RELAY_HOSTS_MAX) {
			rc = rl_expected(l, p, "an array of host names", v);
			break;
		}
		e->order = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(size_t));
		rc = 0;
		for (c = v->child; c && rc == 0; c = c->next) {
			char *ip = jsonpos_child_index(p, e->norder);

			rc = rl_host_ref(l, c, ip, &e->order[e->norder]);
			xfree(ip);
			e->norder++;
		}
		break;
	case RLY_DELIVERIES:
	case RLY_CONNECTIONS:
		rc = rl_counts(l, v, p, e);
		break;
	case RLY_RETRY:
		rc = rl_host_ref(l, v, p, &e->host);
		n = 0;
		if (rc == 0)
			rc = rl_int_member(l, o, "min_gap_ms", path, 0, HARNESS_RELAY_WITHIN_MAX, &n);
		e->min_gap_ms = (uint32_t)n;
		break;
	case RLY_RCPTS:
		rc = rl_host_ref(l, v, p, &e->host);
		n = 0;
		if (rc == 0 && cJSON_GetObjectItemCaseSensitive(o, "count") == NULL)
			rc = rl_fail(l, path, "expected a member \"count\" (the recipients of each "
			    "message), got none");
		if (rc == 0)
			rc = rl_int_member(l, o, "count", path, 1, 100, &n);
		e->count = (uint32_t)n;
		break;
	case RLY_DSN_PARAMS:
		rc = rl_host_ref(l, v, p, &e->host);
		for (size_t k = 0; rc == 0 && k < RLY_P_N; k++) {
			c = cJSON_GetObjectItemCaseSensitive(o, rl_params[k]);
			if (c == NULL)
				continue;
			e->param_given[k] = 1;
			if (cJSON_IsString(c) && c->valuestring[0] != '\0')
				e->param[k] = xstrdup(c->valuestring);
			else if (!cJSON_IsNull(c))
				rc = rl_expected_at(l, path, rl_params[k], "the value as the next hop must "
				    "get it, or null for none", c);
		}
		break;
	case RLY_DSN_REPORT:
		rc = rl_host_ref(l, v, p, &e->host);
		if (rc == 0)
			rc = rl_str(l, o, "status", path, 0, "a status code prefix such as \"5.1.10\"",
			    &e->status);
		break;
	case RLY_NOTICES:
		rc = rl_host_ref(l, v, p, &e->host);
		if (rc == 0)
			rc = rl_actions(l, o, path, e);
		break;
	case RLY_DSN_RETURN:
		rc = rl_host_ref(l, v, p, &e->host);
		if (rc == 0)
			rc = rl_str(l, o, "returned", path, 0, "a media type such as "
			    "\"text/rfc822-headers\"", &e->returned);
		if (rc == 0)
			rc = rl_str(l, o, "original_envid", path, 0, "the ENVID as submitted",
			    &e->orig_envid);
		if (rc == 0 && e->returned == NULL && e->orig_envid == NULL)
			rc = rl_fail(l, path, "expected \"returned\" or \"original_envid\" with "
			    "\"dsn_return\", got neither");
		break;
	default:
		rc = rl_host_ref(l, v, p, &e->host);
		break;
	}
	xfree(p);
	return rc;
}

static int
rl_expects(rl *l, const cJSON *root)
{
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(root, "expect"), *c;
	char what[64];
	size_t i;

	snprintf(what, sizeof(what), "an array of 1-%d rows", HARNESS_RELAY_EXPECT_MAX);
	if (ex == NULL)
		return rl_fail(l, "$", "expected a member \"expect\" (%s), got none", what);
	if (!cJSON_IsArray(ex) || cJSON_GetArraySize(ex) < 1 ||
	    cJSON_GetArraySize(ex) > HARNESS_RELAY_EXPECT_MAX)
		return rl_expected(l, "$.expect", what, cJSON_IsArray(ex) ? &(cJSON){
		    .type = cJSON_Array } : ex);
	l->s->expects = xcalloc((size_t)cJSON_GetArraySize(ex), sizeof(rly_expect));
	for (c = ex->child, i = 0; c; c = c->next, i++) {
		char *p = jsonpos_child_index("$.expect", i);
		int rc;

		l->s->expects[i].index = i + 1;
		l->s->nexpects++;
		rc = rl_expect_row(l, c, p, &l->s->expects[i]);
		xfree(p);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int
rl_scenario(rl *l, const cJSON *root)
{
	static const char *const keys[] = { "id", "summary", "refs", "role", "zone", "hosts",
		"message", "submission", "within_ms", "settle_ms", "expect", "comment", NULL };
	rly_scenario *s = l->s;
	const cJSON *v;
	long long n;

	if (!cJSON_IsObject(root))
		return rl_expected(l, "$", "a relay scenario object", root);
	if (rl_keys(l, root, "$", keys) != 0 ||
	    rl_str(l, root, "id", "$", 1, "a scenario id", &s->id) != 0 ||
	    rl_str(l, root, "summary", "$", 0, "a one-line summary", &s->summary) != 0)
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(root, "role");
	if (v == NULL || !cJSON_IsString(v) || strcmp(v->valuestring, "relay") != 0)
		return v == NULL ? rl_fail(l, "$", "expected a member \"role\": \"relay\", got none") :
		    rl_expected(l, "$.role", "\"relay\"", v);
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "refs")) != NULL) {
		const cJSON *c;

		if (!cJSON_IsArray(v))
			return rl_expected(l, "$.refs", "an array of strings", v);
		s->refs = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(char *));
		for (c = v->child; c; c = c->next) {
			if (!cJSON_IsString(c)) {
				char *p = jsonpos_child_index("$.refs", s->nrefs);
				int rc = rl_expected(l, p, "a string", c);

				xfree(p);
				return rc;
			}
			s->refs[s->nrefs++] = xstrdup(c->valuestring);
		}
	}
	n = 30000;
	if (rl_int_member(l, root, "within_ms", "$", 100, HARNESS_RELAY_WITHIN_MAX, &n) != 0)
		return -1;
	s->within_ms = (uint32_t)n;
	n = 1000;
	if (rl_int_member(l, root, "settle_ms", "$", 0, HARNESS_RELAY_WITHIN_MAX, &n) != 0)
		return -1;
	s->settle_ms = (uint32_t)n;
	if (rl_zone(l, root) != 0 || rl_hosts(l, root) != 0 || rl_message(l, root) != 0 ||
	    rl_submission(l, root) != 0 || rl_expects(l, root) != 0)
		return -1;
	return 0;
}

int
rly_load_buffer(const char *name, const char *text, size_t len, rly_scenario **out,
    char *err, size_t errlen)
{
	const char *end = NULL;
	const char *slash;
	char *copy;
	cJSON *root;
	rl l;
	int rc;

	*out = NULL;
	if (len > HARNESS_SCENARIO_FILE_MAX) {
		snprintf(err, errlen, "%s:1:1: $: expected a file of at most %d bytes, got %zu", name,
		    HARNESS_SCENARIO_FILE_MAX, len);
		return -1;
	}
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 0);
	if (root == NULL) {
		size_t off = end ? (size_t)(end - copy) : 0;
		int line, col;

		jsonpos_offset_to_lc(text, len, off > len ? len : off, &line, &col);
		snprintf(err, errlen, "%s:%d:%d: expected valid JSON, got %s", name, line, col,
		    off >= len ? "the end of the file" : "something else here");
		xfree(copy);
		return -1;
	}
	xfree(copy);
	memset(&l, 0, sizeof(l));
	l.name = name;
	l.text = text;
	l.len = len;
	l.err = err;
	l.errlen = errlen;
	l.s = xcalloc(1, sizeof(rly_scenario));
	l.s->file = xstrdup(name);
	slash = strrchr(name, '/');
	l.s->dir = slash ? xstrndup(name, (size_t)(slash - name)) : xstrdup(".");
	jsonpos_build(&l.jp, text, len);
	rc = rl_scenario(&l, root);
	jsonpos_free(&l.jp);
	cJSON_Delete(root);
	if (rc != 0) {
		rly_free(l.s);
		return -1;
	}
	*out = l.s;
	return 0;
}

int
rly_load_file(const char *path, rly_scenario **out, char *err, size_t errlen)
{
	vbuf b = VBUF_INIT;
	int rc;

	*out = NULL;
	if (vbuf_read_file(&b, path, HARNESS_SCENARIO_FILE_MAX, err, errlen) != 0) {
		vbuf_free(&b);
		return -1;
	}
	rc = rly_load_buffer(path, b.data ? b.data : "", b.len, out, err, errlen);
	vbuf_free(&b);
	return rc;
}

void
rly_free(rly_scenario *s)
{
	if (s == NULL)
		return;
	xfree(s->file);
	xfree(s->dir);
	xfree(s->id);
	xfree(s->summary);
	for (size_t i = 0; i < s->nrefs; i++)
		xfree(s->refs[i]);
	xfree(s->refs);
	dns_zone_free(s->zone);
	for (size_t i = 0; i < s->nhosts; i++) {
		xfree(s->hosts[i].where.path);
		xfree(s->hosts[i].name);
		xfree(s->hosts[i].addr);
		xfree(s->hosts[i].port);
		for (size_t k = 0; k < s->hosts[i].nrcpt_codes; k++)
			xfree(s->hosts[i].rcpt_codes[k].mailbox);
		xfree(s->hosts[i].rcpt_codes);
	}
	xfree(s->hosts);
	for (size_t i = 0; i < s->nlines; i++)
		xfree(s->lines[i]);
	xfree(s->lines);
	xfree(s->from);
	for (size_t i = 0; i < s->nto; i++)
		xfree(s->to[i]);
	xfree(s->to);
	xfree(s->command);
	for (size_t i = 0; i < s->nexpects; i++) {
		rly_expect *e = &s->expects[i];

		xfree(e->where.path);
		xfree(e->check);
		xfree(e->qname);
		xfree(e->order);
		xfree(e->counts);
		xfree(e->status);
		for (size_t k = 0; k < RLY_P_N; k++)
			xfree(e->param[k]);
		for (size_t k = 0; k < e->nactions; k++) {
			xfree(e->actions[k].mailbox);
			xfree(e->actions[k].action);
		}
		xfree(e->actions);
		xfree(e->returned);
		xfree(e->orig_envid);
	}
	xfree(s->expects);
	xfree(s);
}

size_t
rly_host_find(const rly_scenario *s, const char *name)
{
	for (size_t i = 0; i < s->nhosts; i++)
		if (s->hosts[i].name != NULL && strcmp(s->hosts[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

char *
rly_message_crlf(const rly_scenario *s, size_t *len)
{
	vbuf b = VBUF_INIT;

	for (size_t i = 0; i < s->nlines; i++) {
		vbuf_append_str(&b, s->lines[i]);
		vbuf_append(&b, "\r\n", 2);
	}
	*len = b.len;
	return b.len ? vbuf_take(&b) : xstrdup("");
}
