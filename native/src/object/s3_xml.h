/*
 * s3_xml.h - the S3 XML documents the s3 backend reads, parsed with expat: an error response
 * (Error/Code, Error/Message) and a ListObjectsV2 page (each Contents' Key, Size and LastModified;
 * IsTruncated, NextContinuationToken). Entities and character references are decoded by the
 * parser; a document type declaration is refused (S3 sends none, and it is how entity expansion
 * attacks start). Exposed for the fuzz target.
 */
#ifndef SL_S3_XML_H
#define SL_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Code and Message of an S3 error document, each cut to its buffer ("" when absent or when the
 * body is no such document). */
void sl_s3_xml_error(const char *xml, size_t len, char *code, size_t code_size, char *msg,
		     size_t msg_size);

/* One object of a listing. Return nonzero to stop: the rest of the page is not reported. */
typedef int (*sl_s3_xml_object_cb)(void *arg, const char *key, uint64_t size, int64_t mtime_s);

struct sl_s3_xml_page {
	bool stopped;    /* the callback asked to stop */
	bool truncated;  /* IsTruncated was true */
	char *next;      /* NextContinuationToken (malloc'ed) of a truncated page, or NULL */
	char error[160]; /* why the page was refused, when the call returns nonzero */
};

/* Parses a ListObjectsV2 page: 0, or -EIO (a malformed document: error says why) or -ENOMEM.
 * page->next is the caller's to free in any case. */
int sl_s3_xml_list(const char *xml, size_t len, sl_s3_xml_object_cb cb, void *arg,
		   struct sl_s3_xml_page *page);

#endif
