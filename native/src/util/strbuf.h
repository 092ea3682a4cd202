/*
 * strbuf.h - a growable string for text whose length depends on the input (translated patterns,
 * exposition formats). Appends after a failed allocation do nothing; the failure shows once, at
 * sl_strbuf_str (or in ->oom).
 */
#ifndef SL_STRBUF_H
#define SL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sl_strbuf {
	char *p; /* NUL-terminated once anything was put */
	size_t len, cap;
	bool oom;
};

void sl_strbuf_putn(struct sl_strbuf *b, const char *s, size_t n);
void sl_strbuf_puts(struct sl_strbuf *b, const char *s);
void sl_strbuf_putc(struct sl_strbuf *b, char c);
void sl_strbuf_printf(struct sl_strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The text, "" when nothing was put; NULL only after an allocation failure. */
const char *sl_strbuf_str(struct sl_strbuf *b);
void sl_strbuf_free(struct sl_strbuf *b);

#endif
