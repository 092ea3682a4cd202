/*
 * object.c - the object storage core: the backend registry and the sl_obj_* wrappers, which check
 * arguments, count requests and run the one retry loop for transient errors (all calls idempotent).
 */
#include "object.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The registry: one line per backend. */
static const struct sl_obj_backend *const backends[] = {
	&sl_obj_file_backend,
	&sl_obj_s3_backend,
	&sl_obj_presigned_backend,
};
/* Other names JuiceFS uses for a storage that one of our backends speaks. */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{"minio", "s3"},
};

#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))
#define NALIASES (sizeof(aliases) / sizeof(aliases[0]))
#define KEY_MAX 1024 /* S3's limit of a key, in bytes */
#define BACKOFF_BASE_MS 100
#define BACKOFF_MAX_MS 10000

static const struct sl_obj_backend *find_backend(const char *storage)
{
	for (size_t i = 0; i < NALIASES; i++)
		if (!strcmp(storage, aliases[i].alias))
			storage = aliases[i].name;
	for (size_t i = 0; i < NBACKENDS; i++)
		if (!strcmp(storage, backends[i]->name))
			return backends[i];
	return NULL;
}

static int unknown_storage(const char *storage, struct sl_err *err)
{
	char known[256] = "";
	size_t n = 0;
	for (size_t i = 0; i < NBACKENDS; i++)
		n += (size_t)snprintf(known + n, n < sizeof(known) ? sizeof(known) - n : 0, "%s%s",
				      i ? ", " : "", backends[i]->name);
	for (size_t i = 0; i < NALIASES && n < sizeof(known); i++)
		n += (size_t)snprintf(known + n, sizeof(known) - n, ", %s", aliases[i].alias);
	return sl_errf(err, -EINVAL, "unknown object storage '%s' (known: %s)", storage, known);
}

int sl_obj_open(const struct sl_obj_config *cfg, struct sl_objstore **out, struct sl_err *err)
{
	*out = NULL;
	if (!cfg || !cfg->storage || !cfg->bucket || !cfg->bucket[0])
		return sl_errf(err, -EINVAL, "object storage: storage and bucket must be set");
	if (cfg->retries < 0)
		return sl_errf(err, -EINVAL, "object storage: retries must be >= 1, not %d",
			       cfg->retries);
	const struct sl_obj_backend *be = find_backend(cfg->storage);
	if (!be)
		return unknown_storage(cfg->storage, err);
	if (be->version != SL_OBJ_BACKEND_VERSION)
		return sl_errf(err, -EINVAL, "object storage '%s': backend version %d, expected %d",
			       be->name, be->version, SL_OBJ_BACKEND_VERSION);

	struct sl_objstore *s = calloc(1, sizeof(*s));
	if (!s)
		return sl_errf(err, -ENOMEM, "out of memory");
	s->be = be;
	s->retry = (struct sl_retry_policy){
		.max_attempts = cfg->retries ? cfg->retries : 1,
		.base_ms = BACKOFF_BASE_MS,
		.max_ms = BACKOFF_MAX_MS,
	};
	if (be->priv_size && !(s->priv = calloc(1, be->priv_size))) {
		free(s);
		return sl_errf(err, -ENOMEM, "out of memory");
	}
	int rc = be->init(s, cfg, err);
	if (rc) {
		free(s->priv);
		free(s);
		return rc;
	}
	/* Backends reject URLs with user info, so the bucket is safe to show. */
	snprintf(s->description, sizeof(s->description), "%s %s", cfg->storage, cfg->bucket);
	*out = s;
	return 0;
}

void sl_obj_close(struct sl_objstore *s)
{
	if (!s)
		return;
	const struct sl_obj_backend *be = s->be;
	if (be->cleanup)
		be->cleanup(s);
	free(s->priv);
	free(s);
}

enum op_kind { OP_CREATE_BUCKET, OP_PUT, OP_GET, OP_HEAD, OP_DEL, OP_LIST };
static const char *const op_names[] = {"create bucket", "put", "get", "head", "delete", "list"};

/* A list that failed half-way resumes after the last key delivered, so a retry never hands the
 * caller a key twice; and a stop requested by the caller's callback is not an error to retry. */
struct list_state {
	sl_obj_list_cb cb;
	void *arg;
	char *last;
	size_t last_cap;
	int cb_rc;
	bool stopped;
};

static int list_trampoline(void *arg, const struct sl_obj_info *info)
{
	struct list_state *ls = arg;
	size_t n = strlen(info->key) + 1;
	if (n > ls->last_cap) {
		char *p = realloc(ls->last, n);
		if (!p) {
			ls->cb_rc = -ENOMEM;
			ls->stopped = true;
			return 1;
		}
		ls->last = p;
		ls->last_cap = n;
	}
	memcpy(ls->last, info->key, n);
	int rc = ls->cb(ls->arg, info);
	if (rc) {
		ls->cb_rc = rc;
		ls->stopped = true;
	}
	return rc;
}

struct op {
	enum op_kind kind;
	const char *key; /* the prefix for OP_LIST */
	const char *after;
	const void *in;
	void *out;
	size_t len;
	uint64_t off;
	struct sl_obj_info *info;
	struct list_state *ls;
};

static int64_t attempt(struct sl_objstore *s, struct op *op, struct sl_err *err)
{
	const struct sl_obj_backend *be = s->be;
	switch (op->kind) {
	case OP_CREATE_BUCKET:
		return be->create_bucket(s, err);
	case OP_PUT:
		return be->put(s, op->key, op->in, op->len, err);
	case OP_GET:
		return be->get(s, op->key, op->off, op->out, op->len, err);
	case OP_HEAD:
		return be->head(s, op->key, op->info, err);
	case OP_DEL:
		return be->del(s, op->key, err);
	case OP_LIST:
		return be->list(s, op->key, op->ls->last ? op->ls->last : op->after,
				list_trampoline, op->ls, err);
	}
	return sl_errf(err, -EINVAL, "object storage: unknown operation %d", (int)op->kind);
}

/* The one retry loop of the object layer. */
static int64_t execute(struct sl_objstore *s, struct op *op, struct sl_err *err)
{
	int max = s->retry.max_attempts, n;
	int64_t rc;
	for (n = 1;; n++) {
		sl_err_clear(err);
		rc = attempt(s, op, err);
		if (rc >= 0 || !sl_retryable((int)rc) || n >= max || (op->ls && op->ls->stopped))
			break;
		atomic_fetch_add(&s->stats.retries, 1);
		sl_backoff(&s->retry, n);
	}
	if (rc >= 0)
		return rc;
	atomic_fetch_add(&s->stats.errors, 1);
	if (err && !err->code)
		sl_errf(err, (int)rc, "%s %s '%s': %s", s->description, op_names[op->kind],
			op->key ? op->key : "", strerror((int)-rc));
	if (n > 1)
		sl_err_wrap(err, "%s gave up after %d attempts", op_names[op->kind], n);
	return rc;
}

static int check_key(const char *key, struct sl_err *err)
{
	if (!key || !key[0])
		return sl_errf(err, -EINVAL, "object storage: empty object key");
	if (strlen(key) > KEY_MAX)
		return sl_errf(err, -ENAMETOOLONG,
			       "object storage: key longer than %d bytes: %.64s...", KEY_MAX, key);
	return 0;
}

int sl_obj_create_bucket(struct sl_objstore *s, struct sl_err *err)
{
	const struct sl_obj_backend *be = s->be;
	if (!be->create_bucket)
		return sl_errf(err, -EOPNOTSUPP, "%s: creating the bucket is not supported",
			       s->description);
	struct op op = {.kind = OP_CREATE_BUCKET};
	return (int)execute(s, &op, err);
}

int sl_obj_put(struct sl_objstore *s, const char *key, const void *buf, size_t len,
	       struct sl_err *err)
{
	int rc = check_key(key, err);
	if (rc)
		return rc;
	if (!buf && len)
		return sl_errf(err, -EINVAL, "object storage: put '%s' without a buffer", key);
	atomic_fetch_add(&s->stats.puts, 1);
	struct op op = {.kind = OP_PUT, .key = key, .in = buf ? buf : "", .len = len};
	rc = (int)execute(s, &op, err);
	if (!rc)
		atomic_fetch_add(&s->stats.put_bytes, len);
	return rc;
}

int64_t sl_obj_get(struct sl_objstore *s, const char *key, uint64_t off, void *buf, size_t len,
		   struct sl_err *err)
{
	int rc = check_key(key, err);
	if (rc)
		return rc;
	if (!buf || !len || len > INT64_MAX || off > INT64_MAX - len)
		return sl_errf(err, -EINVAL,
			       "object storage: bad range for get '%s': %zu bytes at %llu", key,
			       len, (unsigned long long)off);
	atomic_fetch_add(&s->stats.gets, 1);
	struct op op = {.kind = OP_GET, .key = key, .off = off, .out = buf, .len = len};
	int64_t n = execute(s, &op, err);
	if (n > 0)
		atomic_fetch_add(&s->stats.get_bytes, (uint64_t)n);
	return n;
}

int sl_obj_head(struct sl_objstore *s, const char *key, struct sl_obj_info *out,
		struct sl_err *err)
{
	int rc = check_key(key, err);
	if (rc)
		return rc;
	struct sl_obj_info tmp;
	atomic_fetch_add(&s->stats.heads, 1);
	struct op op = {.kind = OP_HEAD, .key = key, .info = out ? out : &tmp};
	return (int)execute(s, &op, err);
}

int sl_obj_delete(struct sl_objstore *s, const char *key, struct sl_err *err)
{
	int rc = check_key(key, err);
	if (rc)
		return rc;
	atomic_fetch_add(&s->stats.dels, 1);
	struct op op = {.kind = OP_DEL, .key = key};
	return (int)execute(s, &op, err);
}

int sl_obj_list(struct sl_objstore *s, const char *prefix, const char *after, sl_obj_list_cb cb,
		void *arg, struct sl_err *err)
{
	if (!cb)
		return sl_errf(err, -EINVAL, "object storage: list without a callback");
	if (after && !after[0])
		after = NULL;
	atomic_fetch_add(&s->stats.lists, 1);
	struct list_state ls = {.cb = cb, .arg = arg};
	struct op op = {.kind = OP_LIST, .key = prefix ? prefix : "", .after = after, .ls = &ls};
	int rc = (int)execute(s, &op, err);
	free(ls.last);
	if (ls.stopped && ls.cb_rc < 0)
		return ls.cb_rc == -ENOMEM ? sl_errf(err, -ENOMEM, "out of memory") : ls.cb_rc;
	return ls.stopped ? 0 : rc;
}
