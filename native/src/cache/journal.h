/*
 * journal.h - the write-ahead journal of a staging directory (journal.c): hflush staging and the
 * cache group's replicas make a round of blocks durable with one append, small ones without a
 * cache file of their own until later, larger ones with their files written unsynced.
 */
#ifndef SL_JOURNAL_H
#define SL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "../util/log.h"

/* The write-ahead journal of one staging directory: a round of staged cache files, written
 * without syncing, is made durable by one append and fdatasync here. */
struct sl_journal;
/* The file's size, and the step it grows by while ending a generation would write many files
 * (a larger round grows the file too), up to SL_JOURNAL_MAX. */
#define SL_JOURNAL_CAPACITY (8u << 20)
#define SL_JOURNAL_MAX (256u << 20)
/* Blocks up to this size are appended without a cache file of their own, by hflush staging and
 * by the cache group's holders alike: for the small last block of an hflushed slice a new file
 * costs more than the append (inode allocation). Larger ones get their file first, so that a few
 * of them do not fill a generation. */
#define SL_JOURNAL_ONLY_MAX (256u << 10)
/* Creates DIR/.journal (DIR is new and ours: the file must not exist). */
int sl_journal_open(const char *dir, struct sl_journal **out, struct sl_err *err);
/* Records n blocks (keys relative to DIR) and, with sync, makes them durable; without, returns
 * once they are written (in the page cache: a crash of the process keeps them, a crash of the
 * machine may not) and sl_journal_sync makes them durable later. with_files: the caller wrote
 * each block's cache file (unsynced) first; without, the journal alone holds them until they
 * are retired or their generation ends (it then writes their files). When the current
 * generation is full, the still-staged blocks of it are synced first and the generation
 * retired. */
int sl_journal_append(struct sl_journal *j, const char *const *keys, const uint8_t *const *data,
		      const uint32_t *lens, size_t n, bool with_files, bool sync, int64_t *sync_ns,
		      struct sl_err *err);
/* Makes everything appended so far durable (one fdatasync shared with concurrent callers). */
int sl_journal_sync(struct sl_journal *j, int64_t *sync_ns, struct sl_err *err);
/* A block appended without a file that has none yet, verified, into a new buffer (caller frees);
 * -ENOENT if the journal does not hold key so (then its file does, if anything). */
int sl_journal_read(struct sl_journal *j, const char *key, uint8_t **data, uint32_t *len,
		    struct sl_err *err);
/* Key is needed no longer (in object storage and committed, or dropped): its file is not to be
 * written or synced at the end of the generation. Returns true if only the journal held it (no
 * file to move or delete); it stays readable with sl_journal_read until its generation ends. */
bool sl_journal_retire(struct sl_journal *j, const char *key);
/* Writes the cache files of the blocks that only the journal holds (not retired), unsynced: the
 * journal covers them until their generation ends, as blocks appended with their files. From
 * then on they are read from their files. Appends go on meanwhile: each file is created outside
 * the lock and renamed into place under it, if the journal still holds its block alone then.
 * Returns how many files it wrote, or a negative errno. */
int sl_journal_write_files(struct sl_journal *j, struct sl_err *err);
/* Syncs the blocks still staged (writing the files of those only the journal held) and removes
 * the journal (kept, with a warning, if that fails). */
void sl_journal_close(struct sl_journal *j, const struct sl_logger *log);
/* In a dead client's DIR: rewrites every journaled block whose cache file is missing, torn or
 * different, then removes the journal. 0, or an error (the journal then stays). */
int sl_journal_replay(const char *dir, const struct sl_logger *log, struct sl_err *err);

#endif
