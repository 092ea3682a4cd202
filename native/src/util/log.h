/*
 * log.h - leveled logging to stderr. The threshold lives in a logger owned by the volume (no global
 * state); a NULL logger logs warnings and errors.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

enum sl_log_level { SL_LOG_ERROR = 0, SL_LOG_WARN = 1, SL_LOG_INFO = 2, SL_LOG_DEBUG = 3 };

struct sl_logger {
	int level;
};

/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int sl_log_parse_level(const char *s);
void sl_log(const struct sl_logger *lg, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
