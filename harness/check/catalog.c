#include "harness/check/catalog.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
catalog_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const chk_entry *)elem)->id);
}

const chk_entry *
chk_catalog_find(const char *id)
{
	if (id == NULL)
		return NULL;
	return bsearch(id, chk_catalog_table, chk_catalog_table_len, sizeof(chk_entry), catalog_cmp);
}

size_t
chk_catalog_count(void)
{
	return chk_catalog_table_len;
}

int
chk_catalog_describe(const char *id, const char **keyword, const char **refs)
{
	const chk_entry *e = chk_catalog_find(id);

	if (e == NULL)
		return -1;
	*keyword = e->keyword_text;
	*refs = e->refs;
	return 0;
}

const chk_entry *
chk_catalog_at(size_t i)
{
	return i < chk_catalog_table_len ? &chk_catalog_table[i] : NULL;
}

rpt_verdict
chk_keyword_verdict(chk_keyword k)
{
	switch (k) {
	case CHK_MUST:
		return RPT_FAIL;
	case CHK_SHOULD:
		return RPT_WARN;
	default:
		return RPT_INFO;
	}
}

int
chk_keyword_parse(const char *s)
{
	if (strcasecmp(s, "must") == 0)
		return CHK_MUST;
	if (strcasecmp(s, "should") == 0)
		return CHK_SHOULD;
	if (strcasecmp(s, "may") == 0)
		return CHK_MAY;
	return -1;
}
