/*
 * fuzz_s3_xml.c - libFuzzer target for the S3 XML documents the s3 backend reads
 * (object/s3_xml.c): every input is parsed as an error response and as a listing page. Whatever
 * comes in, the error fields stay NUL-terminated within their buffers, a listing either succeeds
 * or says why not, and a page that ended well is consistent (a token only with IsTruncated).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object/s3_xml.h"

#define FAIL(...)                                     \
	do {                                          \
		fprintf(stderr, "fuzz_s3_xml: " __VA_ARGS__); \
		fputc('\n', stderr);                  \
		abort();                              \
	} while (0)

static int on_object(void *arg, const char *key, uint64_t size, int64_t mtime_s)
{
	(void)size, (void)mtime_s;
	unsigned *n = arg;
	if (!key || strlen(key) > 4096)
		FAIL("a key of %zu bytes", key ? strlen(key) : 0);
	return ++*n >= 1000; /* a caller may stop a page */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char code[16], msg[32];
	memset(code, 'x', sizeof(code));
	memset(msg, 'x', sizeof(msg));
	sl_s3_xml_error((const char *)data, size, code, sizeof(code), msg, sizeof(msg));
	if (!memchr(code, 0, sizeof(code)) || !memchr(msg, 0, sizeof(msg)))
		FAIL("an error field is not terminated within its buffer");

	unsigned n = 0;
	struct sl_s3_xml_page page;
	int rc = sl_s3_xml_list((const char *)data, size, on_object, &n, &page);
	if (rc && rc != -EIO && rc != -ENOMEM)
		FAIL("listing returned %d", rc);
	if (rc == -EIO && !page.error[0])
		FAIL("a refused listing without a reason");
	if (!rc && page.next && !page.truncated)
		FAIL("a continuation token on a page that is not truncated");
	if (!rc && page.truncated && !page.stopped && !page.next)
		FAIL("a truncated page accepted without a token");
	free(page.next);
	return 0;
}
