/*
 * err.h - the one error convention of the core: functions return 0 or a negative errno, and put a
 * message a person can act on into the caller's sl_err. Retry policy (which errors are worth
 * retrying) lives in retry.h, in one table.
 */
#ifndef SL_ERR_H
#define SL_ERR_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>

#define SL_ERR_MSG_MAX 512

struct sl_err {
	int code;                 /* negative errno, 0 if none */
	char msg[SL_ERR_MSG_MAX]; /* never contains secrets */
	bool internal;            /* msg names internals (SQL statements, the database's address,
	                             a driver's or the object store's own text): a server keeps it
	                             in its log and tells its clients only the errno (sl_err_internal) */
};

/* Sets err (if not NULL) and returns code (a negative errno). The new message replaces the old
 * one, and with it the internal mark. */
int sl_errf(struct sl_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes context to an error already set: "context: old message". Returns err->code. */
int sl_err_wrap(struct sl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_err_clear(struct sl_err *err);
/* Marks err's message as internal (see struct sl_err; sl_err_wrap keeps the mark, sl_errf and
 * sl_err_clear drop it with the message) and returns code:
 *   return sl_err_internal(err, sl_errf(err, rc, "... %s", statement)); */
int sl_err_internal(struct sl_err *err, int code);

#endif
