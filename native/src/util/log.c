/* log.c - leveled logging to stderr or a bounded queue (see log.h). */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

struct queued_line {
	int level;
	char text[SL_LOG_LINE_MAX];
};

struct sl_log_queue {
	pthread_mutex_t lock;
	struct queued_line *lines;
	size_t cap, head, count;
	uint64_t dropped; /* lines pushed out since the last take */
};

int sl_log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s && !strcmp(s, level_names[i]))
			return i;
	return -1;
}

static void to_stderr(int level, const char *line)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char ts[32];
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* One fprintf per line so lines from different threads do not interleave. */
	fprintf(stderr, "%s sluice %s: %s\n", ts, level_names[level], line);
}

static void push(struct sl_log_queue *q, int level, const char *line)
{
	pthread_mutex_lock(&q->lock);
	if (q->count == q->cap) {
		q->head = (q->head + 1) % q->cap;
		q->count--;
		q->dropped++;
	}
	struct queued_line *l = &q->lines[(q->head + q->count++) % q->cap];
	l->level = level;
	snprintf(l->text, sizeof(l->text), "%s", line);
	pthread_mutex_unlock(&q->lock);
}

void sl_log(const struct sl_logger *lg, int level, const char *fmt, ...)
{
	int threshold = lg ? lg->level : SL_LOG_WARN;
	if (level > threshold)
		return;
	char line[SL_LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (lg && lg->queue)
		push(lg->queue, level, line);
	else
		to_stderr(level, line);
}

struct sl_log_queue *sl_log_queue_new(size_t lines)
{
	if (!lines || lines > SL_LOG_QUEUE_MAX)
		return NULL;
	struct sl_log_queue *q = calloc(1, sizeof(*q));
	if (!q || !(q->lines = calloc(lines, sizeof(*q->lines)))) {
		free(q);
		return NULL;
	}
	q->cap = lines;
	pthread_mutex_init(&q->lock, NULL);
	return q;
}

int sl_log_queue_take(struct sl_log_queue *q, int *level, char *line, size_t size)
{
	int got = 0;
	pthread_mutex_lock(&q->lock);
	if (q->dropped) {
		*level = SL_LOG_WARN;
		snprintf(line, size, "%llu log lines were dropped: more came than were taken",
			 (unsigned long long)q->dropped);
		q->dropped = 0;
		got = 1;
	} else if (q->count) {
		const struct queued_line *l = &q->lines[q->head];
		*level = l->level;
		snprintf(line, size, "%s", l->text);
		q->head = (q->head + 1) % q->cap;
		q->count--;
		got = 1;
	}
	pthread_mutex_unlock(&q->lock);
	return got;
}

void sl_log_queue_free(struct sl_log_queue *q)
{
	if (!q)
		return;
	int level;
	char line[SL_LOG_LINE_MAX];
	while (sl_log_queue_take(q, &level, line, sizeof(line)))
		to_stderr(level, line);
	pthread_mutex_destroy(&q->lock);
	free(q->lines);
	free(q);
}
