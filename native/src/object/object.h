/*
 * object.h - object storage: one table of functions per backend (file, s3; presigned later) and the
 * core wrappers around it. Callers use only the sl_obj_* wrappers: they validate arguments, run the
 * one retry executor (util/retry.h) for transient errors on idempotent calls, and count requests.
 *
 * Keys are relative to the volume's prefix ("<volume>/chunks/0/0/1_0_4194304"); a backend adds its
 * own root (directory or bucket).
 */
#ifndef SL_OBJECT_H
#define SL_OBJECT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "../util/retry.h"

struct sl_objstore;
struct sl_presign_provider; /* presign.h */

/* Everything a backend needs to connect; strings owned by the caller for the duration of init. */
struct sl_obj_config {
	const char *storage;     /* "file", "s3", "minio", "presigned" */
	const char *bucket;      /* file: a directory path; s3/minio: an endpoint URL with bucket */
	const char *access_key;  /* may be NULL for file */
	const char *secret_key;
	const char *session_token;
	const char *region;      /* SigV4 region, default us-east-1 */
	int path_style;          /* -1 auto (path style for IP addresses/localhost/minio), 0, 1 */
	const char *ca_file;     /* NULL: the system trust store */
	int connect_timeout_s;
	int io_timeout_s;
	int retries;             /* attempts for transient errors, >= 1 */
	/* storage "presigned" only: where URLs come from (presign.h); copied, its arg must outlive
	 * the store */
	const struct sl_presign_provider *presign;
};

/* One listed object. */
struct sl_obj_info {
	const char *key;
	uint64_t size;
	int64_t mtime_s;
};
/* Return 0 to go on, a positive value to stop listing early (the listing then returns 0), or a
 * negative errno to stop with that error. */
typedef int (*sl_obj_list_cb)(void *arg, const struct sl_obj_info *info);

/*
 * The backend table. All slots get the store and its private state (s->priv, priv_size bytes,
 * zeroed by the core). Slots must be safe to call from many threads at once.
 * Errors: -ENOENT missing object, -EACCES/-EPERM credentials or permission, -EAGAIN throttled/5xx,
 * -ETIMEDOUT, -ECONNRESET, -ECONNREFUSED transient network, -EHOSTUNREACH/-EINVAL hopeless config,
 * -EIO anything else. The message in err names the key and the storage's own error text.
 */
struct sl_obj_backend {
	int version;       /* SL_OBJ_BACKEND_VERSION */
	const char *name;  /* matches sl_obj_config.storage; "minio" maps to s3 */
	size_t priv_size;
	int (*init)(struct sl_objstore *s, const struct sl_obj_config *cfg, struct sl_err *err);
	void (*cleanup)(struct sl_objstore *s);
	/* Creates the bucket/directory if missing; succeeds if it exists already. Optional. */
	int (*create_bucket)(struct sl_objstore *s, struct sl_err *err);
	/* Stores len bytes atomically (a reader sees the whole object or none). Idempotent. */
	int (*put)(struct sl_objstore *s, const char *key, const void *buf, size_t len,
		   struct sl_err *err);
	/* Reads [off, off+len) into buf; returns bytes read (short only if the object is shorter).
	 * len 0 is not allowed. Idempotent. */
	int64_t (*get)(struct sl_objstore *s, const char *key, uint64_t off, void *buf, size_t len,
		       struct sl_err *err);
	/* Size of an object; -ENOENT if missing. Idempotent. */
	int (*head)(struct sl_objstore *s, const char *key, struct sl_obj_info *out,
		    struct sl_err *err);
	/* Deletes; a missing object is success. Idempotent. */
	int (*del)(struct sl_objstore *s, const char *key, struct sl_err *err);
	/* Lists keys with prefix in lexical order, starting after `after` (NULL: from the start). */
	int (*list)(struct sl_objstore *s, const char *prefix, const char *after, sl_obj_list_cb cb,
		    void *arg, struct sl_err *err);
};
#define SL_OBJ_BACKEND_VERSION 1

struct sl_obj_stats {
	atomic_uint_fast64_t puts, gets, heads, dels, lists, retries, errors;
	atomic_uint_fast64_t put_bytes, get_bytes;
};

struct sl_objstore {
	const struct sl_obj_backend *be;
	void *priv;
	struct sl_retry_policy retry;
	char description[512]; /* "s3 http://127.0.0.1:9000/bucket", never with credentials */
	struct sl_obj_stats stats;
};

/* Picks the backend by cfg->storage; -EINVAL with a list of known storages if unknown. */
int sl_obj_open(const struct sl_obj_config *cfg, struct sl_objstore **out, struct sl_err *err);
void sl_obj_close(struct sl_objstore *s);
int sl_obj_create_bucket(struct sl_objstore *s, struct sl_err *err);
int sl_obj_put(struct sl_objstore *s, const char *key, const void *buf, size_t len,
	       struct sl_err *err);
int64_t sl_obj_get(struct sl_objstore *s, const char *key, uint64_t off, void *buf, size_t len,
		   struct sl_err *err);
int sl_obj_head(struct sl_objstore *s, const char *key, struct sl_obj_info *out,
		struct sl_err *err);
int sl_obj_delete(struct sl_objstore *s, const char *key, struct sl_err *err);
int sl_obj_list(struct sl_objstore *s, const char *prefix, const char *after, sl_obj_list_cb cb,
		void *arg, struct sl_err *err);

/* Backends (one line each in the registry in object.c). */
extern const struct sl_obj_backend sl_obj_file_backend;
extern const struct sl_obj_backend sl_obj_s3_backend;
extern const struct sl_obj_backend sl_obj_presigned_backend;

#endif
