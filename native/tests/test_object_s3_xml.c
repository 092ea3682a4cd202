/* test_object_s3_xml.c - the S3 XML documents the s3 backend reads (object/s3_xml.c): error
 * responses and ListObjectsV2 pages, entities and character references decoded, malformed and
 * hostile documents refused with a reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object/s3_xml.h"
#include "testutil.h"

struct seen {
	char keys[4][64];
	uint64_t sizes[4];
	int64_t mtimes[4];
	int n, stop_after;
};

static int on_object(void *arg, const char *key, uint64_t size, int64_t mtime_s)
{
	struct seen *s = arg;
	if (s->n < 4) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
		s->sizes[s->n] = size;
		s->mtimes[s->n] = mtime_s;
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

static int list(const char *xml, struct seen *s, struct sl_s3_xml_page *page)
{
	return sl_s3_xml_list(xml, strlen(xml), on_object, s, page);
}

#define LIST_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult " \
		  "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"

static void test_error(void)
{
	char code[64], msg[128];
	const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
			  "<Message>The key &amp; &lt;x&gt; &#233; is gone</Message>"
			  "<Key>a</Key><RequestId>1</RequestId></Error>";
	sl_s3_xml_error(doc, strlen(doc), code, sizeof(code), msg, sizeof(msg));
	CHECK(!strcmp(code, "NoSuchKey"));
	CHECK(!strcmp(msg, "The key & <x> \xc3\xa9 is gone"));
	/* cut to the buffer */
	sl_s3_xml_error(doc, strlen(doc), code, 4, msg, 8);
	CHECK(!strcmp(code, "NoS") && !strcmp(msg, "The key"));
	/* not an error document: nothing, and no crash */
	const char *html = "<html><body>502 Bad Gateway</body></html>";
	sl_s3_xml_error(html, strlen(html), code, sizeof(code), msg, sizeof(msg));
	CHECK(!code[0] && !msg[0]);
	sl_s3_xml_error("garbage", 7, code, sizeof(code), msg, sizeof(msg));
	CHECK(!code[0] && !msg[0]);
	sl_s3_xml_error("", 0, code, sizeof(code), msg, sizeof(msg));
	CHECK(!code[0] && !msg[0]);
}

static void test_listing(void)
{
	struct seen s = {0};
	struct sl_s3_xml_page page;
	const char *doc = LIST_HEAD "<KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
		"<Contents><Key>vol/a&amp;b</Key><LastModified>2026-12-06T01:02:03.000Z</LastModified>"
		"<ETag>&quot;x&quot;</ETag><Size>4194304</Size><Owner><ID>o</ID></Owner></Contents>"
		"<CommonPrefixes><Prefix>vol/p/</Prefix></CommonPrefixes>"
		"<Contents><Key>vol/&#x1F600;</Key><Size>0</Size></Contents>"
		"<NextContinuationToken>tok&amp;en</NextContinuationToken></ListBucketResult>";
	CHECK_RC(list(doc, &s, &page), 0);
	CHECK_RC(s.n, 2);
	CHECK(!strcmp(s.keys[0], "vol/a&b") && s.sizes[0] == 4194304);
	CHECK_RC(s.mtimes[0], 1796518923);
	CHECK(!strcmp(s.keys[1], "vol/\xf0\x9f\x98\x80") && s.sizes[1] == 0 && s.mtimes[1] == 0);
	CHECK(page.truncated && !page.stopped && page.next && !strcmp(page.next, "tok&en"));
	free(page.next);

	/* the last page */
	memset(&s, 0, sizeof(s));
	const char *last = LIST_HEAD "<IsTruncated>false</IsTruncated>"
		"<Contents><Key>k</Key><Size>7</Size></Contents></ListBucketResult>";
	CHECK_RC(list(last, &s, &page), 0);
	CHECK(s.n == 1 && !page.truncated && !page.next);

	/* a callback that stops: the rest is not reported, and the token does not matter */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	CHECK_RC(list(doc, &s, &page), 0);
	CHECK(s.n == 1 && page.stopped);
	free(page.next);
}

static void refused(const char *doc, const char *why)
{
	struct seen s = {0};
	struct sl_s3_xml_page page;
	int rc = list(doc, &s, &page);
	CHECK_RC(rc, -EIO);
	if (!strstr(page.error, why))
		fprintf(stderr, "expected \"%s\" in \"%s\"\n", why, page.error);
	CHECK(strstr(page.error, why) != NULL);
	free(page.next);
}

static void test_refused(void)
{
	refused(LIST_HEAD "<IsTruncated>true</IsTruncated></ListBucketResult>",
		"without a NextContinuationToken");
	refused(LIST_HEAD "<Contents><Key>k</Key></Contents></ListBucketResult>", "Size");
	refused(LIST_HEAD "<Contents><Size>1</Size></Contents></ListBucketResult>", "Key");
	refused(LIST_HEAD "<Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
		"numeric Size");
	refused(LIST_HEAD "<Contents><Key>k</Key><Size>12x</Size></Contents></ListBucketResult>",
		"numeric Size");
	refused(LIST_HEAD "<Contents><Key>k</Key><Size></Size></Contents></ListBucketResult>",
		"numeric Size");
	refused(LIST_HEAD "<Contents><Key>k</Key><Size>1</Size>", "malformed XML");
	refused(LIST_HEAD "<Contents><Key>&bogus;</Key><Size>1</Size></Contents></ListBucketResult>",
		"malformed XML");
	/* entity expansion ("billion laughs") starts with a document type declaration */
	refused("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaa\"><!ENTITY b "
		"\"&a;&a;&a;&a;&a;&a;&a;&a;\">]><ListBucketResult><Contents><Key>&b;</Key>"
		"<Size>1</Size></Contents></ListBucketResult>", "document type declaration");
	/* a key longer than any S3 key */
	char *big = malloc(10000);
	REQUIRE(big != NULL);
	int n = snprintf(big, 10000, "%s<Contents><Key>", LIST_HEAD);
	memset(big + n, 'k', 5000);
	snprintf(big + n + 5000, 10000 - (size_t)n - 5000,
		 "</Key><Size>1</Size></Contents></ListBucketResult>");
	refused(big, "too long");
	free(big);
}

int main(void)
{
	test_error();
	test_listing();
	test_refused();
	return tu_finish("test_object_s3_xml");
}
