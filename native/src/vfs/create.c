/*
 * create.c - sluice_format: creating a JuiceFS-compatible volume or updating the settings of an
 * existing one, as `juicefs format` does (test object, emptiness check, juicefs_uuid object,
 * tables, format record, root and trash directories).
 */
#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vfs.h"
#include "../util/fileio.h"

static void new_uuid(char out[37])
{
	unsigned char b[16];
	RAND_bytes(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

static bool valid_volume_name(const char *name)
{
	/* JuiceFS's rule: 3-63 characters of [a-z0-9-], starting and ending alphanumeric. */
	size_t n = name ? strlen(name) : 0;
	if (n < 3 || n > 63 || name[0] == '-' || name[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return false;
	return true;
}

struct list_check {
	size_t prefix_len;
	char found[SL_KEY_MAX];
};

static int find_foreign_object(void *arg, const struct sl_obj_info *info)
{
	struct list_check *c = arg;
	const char *rel = info->key + c->prefix_len;
	if (info->size == 0 || !strncmp(rel, "testing", 7))
		return 0;
	snprintf(c->found, sizeof(c->found), "%s", info->key);
	return 1;
}

/* Writes, reads back and deletes a test object. */
static int test_storage(struct sl_objstore *s, const char *prefix, struct sl_err *err)
{
	char key[SL_KEY_MAX];
	unsigned char data[100], back[100], r[5];
	RAND_bytes(data, sizeof(data));
	RAND_bytes(r, sizeof(r));
	snprintf(key, sizeof(key), "%stesting/%02x%02x%02x%02x%02x", prefix, r[0], r[1], r[2], r[3],
		 r[4]);
	if (sl_obj_put(s, key, data, sizeof(data), err))
		return sl_err_wrap(err, "writing a test object to %s", s->description);
	int64_t n = sl_obj_get(s, key, 0, back, sizeof(back), err);
	if (n < 0)
		return sl_err_wrap(err, "reading back a test object from %s", s->description);
	if (n != (int64_t)sizeof(back) || memcmp(data, back, sizeof(back)))
		return sl_errf(err, -EIO, "a test object read back from %s differs from what was written",
			       s->description);
	return sl_obj_delete(s, key, err);
}

/* Absolute directory path ending in '/', as juicefs records file buckets. */
static int file_bucket(const char *b, char *out, size_t size, struct sl_err *err)
{
	char defdir[PATH_MAX], cwd[PATH_MAX], joined[PATH_MAX * 2];
	if (!b || !*b) {
		const char *home = getenv("HOME");
		snprintf(defdir, sizeof(defdir), "%s/.juicefs/local", home ? home : "/var/lib");
		b = defdir;
	}
	if (b[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)))
			return sl_errf(err, -errno, "cannot get the current directory");
		snprintf(joined, sizeof(joined), "%s/%s", cwd, b);
		b = joined;
	}
	size_t bl = strlen(b);
	if (bl + 2 > size)
		return sl_errf(err, -ENAMETOOLONG, "bucket path too long");
	snprintf(out, size, "%s%s", b, b[bl - 1] == '/' ? "" : "/");
	return 0;
}

static int check_options(const sluice_format_options *o, struct sl_err *err)
{
	if (!o->meta_url || !*o->meta_url)
		return sl_errf(err, -EINVAL, "no META-URL given");
	if (!valid_volume_name(o->name))
		return sl_errf(err, -EINVAL, "invalid volume name '%s': use 3-63 characters of a-z, "
			       "0-9 and '-', starting and ending with a letter or digit",
			       o->name ? o->name : "");
	const char *st = o->storage ? o->storage : "file";
	if (strcmp(st, "file") && strcmp(st, "s3") && strcmp(st, "minio"))
		return sl_errf(err, -EINVAL, "unknown storage '%s' (file, s3, minio)", st);
	if (strcmp(st, "file") && (!o->bucket || !*o->bucket))
		return sl_errf(err, -EINVAL, "a bucket is required for storage %s (e.g. "
			       "http://127.0.0.1:9000/mybucket)", st);
	int rc = sl_cipher_check_algo(o->encrypt_algo, err);
	if (rc)
		return rc;
	uint32_t bs = o->block_size_kib;
	if (bs && (bs < 64 || bs > 16384 || (bs & (bs - 1))))
		return sl_errf(err, -EINVAL, "block size must be a power of two between 64 and 16384 KiB");
	enum sl_compression c;
	return sl_compression_parse(o->compression, &c, err);
}

/* The key file's PEM into f, once it loads (with JFS_RSA_PASSPHRASE if it is protected, as
 * juicefs format checks it). */
static int load_rsa_key(const char *path, struct sl_format *f, struct sl_cipher **cipher,
			struct sl_err *err)
{
	char *pem = NULL;
	size_t len = 0;
	int rc = sl_read_small_file(path, 64 * 1024, &pem, &len, err);
	if (rc)
		return sl_err_wrap(err, "reading the RSA key");
	if (strlen(pem) != len) {
		free(pem);
		return sl_errf(err, -EINVAL, "%s is not a PEM file", path);
	}
	if ((rc = sl_cipher_new(f->encrypt_algo, pem, getenv("JFS_RSA_PASSPHRASE"), cipher, err))) {
		OPENSSL_cleanse(pem, len);
		free(pem);
		return sl_err_wrap(err, "%s", path);
	}
	f->encrypt_key = pem;
	return 0;
}

/* juicefs writes the volume's UUID as an object of its own, sealed like the blocks. */
static int put_uuid(struct sl_objstore *store, const char *key, const char *uuid,
		    const struct sl_cipher *cipher, struct sl_err *err)
{
	size_t n = strlen(uuid);
	if (!cipher)
		return sl_obj_put(store, key, uuid, n, err);
	size_t cap = n + sl_cipher_overhead(cipher);
	uint8_t *sealed = malloc(cap);
	if (!sealed)
		return sl_errf(err, -ENOMEM, "out of memory");
	int64_t len = sl_cipher_seal(cipher, uuid, n, sealed, cap, err);
	int rc = len < 0 ? (int)len : sl_obj_put(store, key, sealed, (size_t)len, err);
	free(sealed);
	return rc;
}

static int format_volume(const sluice_format_options *o, struct sl_err *err)
{
	struct sl_logger log = {.level = SL_LOG_WARN};
	struct sl_meta *meta = NULL;
	struct sl_objstore *store = NULL;
	struct sl_format f, old;
	struct sl_cipher *cipher = NULL;
	char *json = NULL, *old_json = NULL;
	memset(&f, 0, sizeof(f));
	memset(&old, 0, sizeof(old));
	const char *storage = o->storage ? o->storage : "file";
	char bucket[PATH_MAX + 2];
	int rc = check_options(o, err);
	if (!rc && !strcmp(storage, "file"))
		rc = file_bucket(o->bucket, bucket, sizeof(bucket), err);
	else if (!rc)
		snprintf(bucket, sizeof(bucket), "%s", o->bucket);
	if (!rc)
		rc = sl_meta_open(o->meta_url, NULL, &log, &meta, err);
	if (rc)
		goto out;
	rc = sl_meta_load_format(meta, &old_json, err);
	bool create = rc == -ENOENT;
	if (rc && !create)
		goto out;
	sl_err_clear(err);
	rc = 0;
	if (!create && !o->force) {
		if ((rc = sl_format_parse(old_json, &old, err)))
			goto out;
		const char *oc = old.compression[0] ? old.compression : "none";
		const char *change =
			strcmp(old.name, o->name) ? "name"
			: o->block_size_kib && old.block_size_kib != o->block_size_kib ? "block size"
			: o->compression && strcmp(oc, o->compression) ? "compression"
			: o->hash_prefix && !old.hash_prefix ? "hash prefix" : NULL;
		if (!change && o->encrypt_rsa_key)
			change = old.encrypt_key ? "encryption key" : "encryption (none)";
		if (!change && o->encrypt_algo && strcmp(o->encrypt_algo, old.encrypt_algo[0]
								      ? old.encrypt_algo
								      : "aes256gcm-rsa"))
			change = "encryption algorithm";
		if (change) {
			rc = sl_errf(err, -EEXIST, "%s already holds volume '%s'; its %s cannot be "
				     "changed (force overwrites the volume record)",
				     meta->url_redacted, old.name, change);
			goto out;
		}
		f = old; /* update what may change */
		old.json = NULL;
		old.encrypt_key = old.encrypt_public_key = NULL;
		snprintf(f.storage, sizeof(f.storage), "%s", storage);
		snprintf(f.bucket, sizeof(f.bucket), "%s", bucket);
		if (o->access_key)
			snprintf(f.access_key, sizeof(f.access_key), "%s", o->access_key);
		if (o->secret_key)
			snprintf(f.secret_key, sizeof(f.secret_key), "%s", o->secret_key);
		if (o->trash_days >= 0)
			f.trash_days = o->trash_days;
		f.capacity = o->capacity_bytes;
		f.inodes = o->inodes;
	} else {
		snprintf(f.name, sizeof(f.name), "%s", o->name);
		new_uuid(f.uuid);
		snprintf(f.storage, sizeof(f.storage), "%s", storage);
		snprintf(f.bucket, sizeof(f.bucket), "%s", bucket);
		snprintf(f.access_key, sizeof(f.access_key), "%s", o->access_key ? o->access_key : "");
		snprintf(f.secret_key, sizeof(f.secret_key), "%s", o->secret_key ? o->secret_key : "");
		f.block_size_kib = o->block_size_kib ? o->block_size_kib : 4096;
		snprintf(f.compression, sizeof(f.compression), "%s",
			 o->compression ? o->compression : "none");
		f.hash_prefix = o->hash_prefix;
		f.capacity = o->capacity_bytes;
		f.inodes = o->inodes;
		f.trash_days = o->trash_days >= 0 ? o->trash_days : 1;
		f.meta_version = 1;
		f.dir_stats = true;
		f.enable_acl = o->enable_acl != 0;
		snprintf(f.encrypt_algo, sizeof(f.encrypt_algo), "%s",
			 o->encrypt_algo ? o->encrypt_algo : "aes256gcm-rsa");
		if (o->encrypt_rsa_key && (rc = load_rsa_key(o->encrypt_rsa_key, &f, &cipher, err)))
			goto out;
	}

	struct sl_obj_config oc = {.storage = f.storage, .bucket = f.bucket,
				   .access_key = f.access_key, .secret_key = f.secret_key,
				   .path_style = -1, .connect_timeout_s = 10, .io_timeout_s = 30,
				   .retries = 3, .ca_file = o->ca_file};
	char prefix[300];
	snprintf(prefix, sizeof(prefix), "%s/", f.name);
	rc = sl_obj_open(&oc, &store, err);
	if (!rc)
		rc = sl_obj_create_bucket(store, err);
	if (!rc)
		rc = test_storage(store, prefix, err);
	if (rc) {
		sl_err_wrap(err, "object storage is not usable");
		goto out;
	}
	if (create) {
		struct list_check lc = {.prefix_len = strlen(prefix)};
		if ((rc = sl_obj_list(store, prefix, NULL, find_foreign_object, &lc, err)))
			goto out;
		if (lc.found[0]) {
			rc = sl_errf(err, -EEXIST, "storage %s already holds data of a volume named "
				     "'%s' (%s); clean it up or pick another volume name",
				     store->description, f.name, lc.found);
			goto out;
		}
		char key[SL_KEY_MAX];
		snprintf(key, sizeof(key), "%sjuicefs_uuid", prefix);
		if ((rc = put_uuid(store, key, f.uuid, cipher, err)))
			goto out;
	}
	if ((rc = sl_format_dump(&f, &json, err)))
		goto out;
	int64_t ns = sl_real_ns();
	struct sl_attr root = {.type = SL_TYPE_DIR, .mode = 0777, .nlink = 2, .length = 4096,
			       .atime_ns = ns, .mtime_ns = ns, .ctime_ns = ns,
			       .parent = SL_ROOT_INO};
	rc = sl_meta_format(meta, json, &root, !create, err);
	if (rc)
		sl_err_wrap(err, "writing the volume record to %s", meta->url_redacted);
out:
	free(json);
	free(old_json);
	sl_format_free(&f);
	sl_format_free(&old);
	sl_cipher_free(cipher);
	sl_obj_close(store);
	sl_meta_close(meta);
	return rc;
}

int sluice_format(const sluice_format_options *o, char *errmsg, size_t errmsg_size)
{
	struct sl_err err = {0};
	int rc = format_volume(o, &err);
	if (errmsg && errmsg_size)
		snprintf(errmsg, errmsg_size, "%s", rc ? err.msg : "");
	return rc;
}
