/* err.c - building error messages (see err.h). */
#include "err.h"

#include <stdio.h>
#include <string.h>

int sl_errf(struct sl_err *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->code = code;
	err->internal = false;
	return code;
}

int sl_err_wrap(struct sl_err *err, const char *fmt, ...)
{
	if (!err)
		return -EIO;
	char prefix[SL_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	char old[SL_ERR_MSG_MAX];
	memcpy(old, err->msg, sizeof(old));
	/* A message too long for the buffer is cut; the start says the most. */
	int n = snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix,
			 old[0] ? old : strerror(-err->code));
	(void)n;
	if (!err->code)
		err->code = -EIO;
	return err->code;
}

void sl_err_clear(struct sl_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = 0;
		err->internal = false;
	}
}

int sl_err_internal(struct sl_err *err, int code)
{
	if (err)
		err->internal = true;
	return code;
}
