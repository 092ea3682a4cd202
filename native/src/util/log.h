/*
 * log.h - leveled logging, to stderr or into a bounded queue that the embedding program drains
 * (sluice_log_next: the JNI layer hands the lines to SLF4J). The threshold and the queue live in
 * a logger owned by the volume (no global state); a NULL logger logs warnings and errors to
 * stderr.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stddef.h>

enum sl_log_level { SL_LOG_ERROR = 0, SL_LOG_WARN = 1, SL_LOG_INFO = 2, SL_LOG_DEBUG = 3 };

struct sl_log_queue;

struct sl_logger {
	int level;
	/* Set before the logger is shared between threads, freed after: lines go here instead of
	 * stderr. */
	struct sl_log_queue *queue;
};

#define SL_LOG_LINE_MAX 1024
#define SL_LOG_QUEUE_MAX 100000

/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int sl_log_parse_level(const char *s);
void sl_log(const struct sl_logger *lg, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A queue keeping the last `lines` lines (1..SL_LOG_QUEUE_MAX); NULL if out of memory. When it
 * is full the oldest line goes, and the next line taken says how many went. */
struct sl_log_queue *sl_log_queue_new(size_t lines);
/* Takes the oldest line: 1 with its level and text (cut to size), 0 if the queue is empty. */
int sl_log_queue_take(struct sl_log_queue *q, int *level, char *line, size_t size);
/* Writes what is left to stderr, then frees the queue. */
void sl_log_queue_free(struct sl_log_queue *q);

#endif
