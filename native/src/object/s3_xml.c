/* s3_xml.c - the S3 XML documents the s3 backend reads, parsed with expat (see s3_xml.h). */
#include "s3_xml.h"

#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* No value Sluice reads is longer: keys are at most 1024 bytes, tokens a few hundred. */
#define TEXT_MAX 4096

enum field { F_NONE, F_CODE, F_MESSAGE, F_KEY, F_SIZE, F_MTIME, F_TRUNCATED, F_NEXT };

struct doc {
	XML_Parser xp;
	int depth;
	bool in_contents; /* inside a <Contents> at depth 2 */
	enum field field; /* the element whose text is being gathered */
	char text[TEXT_MAX + 1];
	size_t tlen;
	bool too_long;
	/* what was found */
	char key[TEXT_MAX + 1], size[32], mtime[40];
	bool has_key, has_size;
	char code[64], message[512];
	struct sl_s3_xml_page *page;
	sl_s3_xml_object_cb cb;
	void *arg;
	int rc;
};

static void fail(struct doc *d, int rc, const char *why)
{
	if (!d->rc) {
		d->rc = rc;
		if (d->page)
			snprintf(d->page->error, sizeof(d->page->error), "%s", why);
	}
	XML_StopParser(d->xp, XML_FALSE);
}

static enum field field_of(const struct doc *d, const char *name)
{
	if (d->depth == 2 && !strcmp(name, "Code"))
		return F_CODE;
	if (d->depth == 2 && !strcmp(name, "Message"))
		return F_MESSAGE;
	if (d->depth == 2 && !strcmp(name, "IsTruncated"))
		return F_TRUNCATED;
	if (d->depth == 2 && !strcmp(name, "NextContinuationToken"))
		return F_NEXT;
	if (d->depth == 3 && d->in_contents) {
		if (!strcmp(name, "Key"))
			return F_KEY;
		if (!strcmp(name, "Size"))
			return F_SIZE;
		if (!strcmp(name, "LastModified"))
			return F_MTIME;
	}
	return F_NONE;
}

static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	(void)attrs;
	struct doc *d = arg;
	d->depth++;
	if (d->depth == 2 && !strcmp(name, "Contents")) {
		d->in_contents = true;
		d->has_key = d->has_size = false;
		d->mtime[0] = 0;
	}
	d->field = field_of(d, name);
	d->tlen = 0;
	d->too_long = false;
}

static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
	struct doc *d = arg;
	if (d->field == F_NONE)
		return;
	if (d->tlen + (size_t)len > TEXT_MAX) {
		d->too_long = true;
		return;
	}
	memcpy(d->text + d->tlen, s, (size_t)len);
	d->tlen += (size_t)len;
}

static int64_t parse_time(const char *s)
{
	struct tm tm = {0};
	if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

/* A Contents element ended: report it. */
static void object_done(struct doc *d)
{
	if (!d->page || d->page->stopped || d->rc)
		return;
	char *end = NULL;
	errno = 0;
	unsigned long long size = d->has_size ? strtoull(d->size, &end, 10) : 0;
	if (!d->has_key || !d->has_size || !end || end == d->size || *end || errno ||
	    d->size[0] == '-') {
		fail(d, -EIO, "malformed listing (<Contents> without a Key or a numeric Size)");
		return;
	}
	if (d->cb(d->arg, d->key, size, parse_time(d->mtime)))
		d->page->stopped = true;
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
	(void)name;
	struct doc *d = arg;
	if (d->field != F_NONE) {
		d->text[d->tlen] = 0;
		if (d->too_long && d->field != F_MESSAGE)
			fail(d, -EIO, "a value in the document is too long");
		switch (d->field) {
		case F_CODE: snprintf(d->code, sizeof(d->code), "%s", d->text); break;
		case F_MESSAGE: snprintf(d->message, sizeof(d->message), "%s", d->text); break;
		case F_KEY:
			memcpy(d->key, d->text, d->tlen + 1);
			d->has_key = true;
			break;
		case F_SIZE:
			snprintf(d->size, sizeof(d->size), "%s", d->text);
			d->has_size = true;
			break;
		case F_MTIME: snprintf(d->mtime, sizeof(d->mtime), "%s", d->text); break;
		case F_TRUNCATED:
			if (d->page)
				d->page->truncated = !strcmp(d->text, "true");
			break;
		case F_NEXT:
			if (d->page) {
				free(d->page->next);
				if (!(d->page->next = strdup(d->text)))
					fail(d, -ENOMEM, "out of memory");
			}
			break;
		case F_NONE: break;
		}
		d->field = F_NONE;
	}
	if (d->depth == 2 && d->in_contents) {
		d->in_contents = false;
		object_done(d);
	}
	d->depth--;
}

static void XMLCALL on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	fail(arg, -EIO, "the document has a document type declaration");
}

/* Parses xml into d; 0, or the first failure (d->rc, or -EIO for malformed XML). */
static int parse(struct doc *d, const char *xml, size_t len)
{
	if (len > (size_t)INT32_MAX)
		return -EIO;
	d->xp = XML_ParserCreate("UTF-8");
	if (!d->xp)
		return -ENOMEM;
	XML_SetUserData(d->xp, d);
	XML_SetElementHandler(d->xp, on_start, on_end);
	XML_SetCharacterDataHandler(d->xp, on_text);
	XML_SetStartDoctypeDeclHandler(d->xp, on_doctype);
	XML_SetParamEntityParsing(d->xp, XML_PARAM_ENTITY_PARSING_NEVER);
	enum XML_Status st = XML_Parse(d->xp, xml, (int)len, XML_TRUE);
	int rc = d->rc;
	if (!rc && st != XML_STATUS_OK) {
		rc = -EIO;
		if (d->page)
			snprintf(d->page->error, sizeof(d->page->error), "malformed XML: %s",
				 XML_ErrorString(XML_GetErrorCode(d->xp)));
	}
	XML_ParserFree(d->xp);
	return rc;
}

void sl_s3_xml_error(const char *xml, size_t len, char *code, size_t code_size, char *msg,
		     size_t msg_size)
{
	code[0] = msg[0] = 0;
	struct doc *d = calloc(1, sizeof(*d));
	if (!d)
		return;
	/* a partial or odd document still gives what it had before the problem */
	parse(d, xml, len);
	snprintf(code, code_size, "%s", d->code);
	snprintf(msg, msg_size, "%s", d->message);
	free(d);
}

int sl_s3_xml_list(const char *xml, size_t len, sl_s3_xml_object_cb cb, void *arg,
		   struct sl_s3_xml_page *page)
{
	memset(page, 0, sizeof(*page));
	struct doc *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->page = page;
	d->cb = cb;
	d->arg = arg;
	int rc = parse(d, xml, len);
	free(d);
	if (rc == -EIO && page->stopped)
		rc = 0; /* stopped on purpose: the rest of the page does not matter */
	if (!page->truncated) { /* the last page: a token would lead nowhere */
		free(page->next);
		page->next = NULL;
	}
	if (!rc && page->truncated && !page->stopped && !page->next) {
		rc = -EIO;
		snprintf(page->error, sizeof(page->error),
			 "truncated listing without a NextContinuationToken");
	}
	return rc;
}
