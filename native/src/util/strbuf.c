/* strbuf.c - a growable string (see strbuf.h). */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct sl_strbuf *b, size_t n)
{
	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void sl_strbuf_putn(struct sl_strbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

void sl_strbuf_puts(struct sl_strbuf *b, const char *s)
{
	sl_strbuf_putn(b, s, strlen(s));
}

void sl_strbuf_putc(struct sl_strbuf *b, char c)
{
	sl_strbuf_putn(b, &c, 1);
}

void sl_strbuf_printf(struct sl_strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *sl_strbuf_str(struct sl_strbuf *b)
{
	if (!b->p && !b->oom)
		sl_strbuf_putn(b, "", 0);
	return b->oom ? NULL : b->p;
}

void sl_strbuf_free(struct sl_strbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
