/*
 * format.c - the JuiceFS `format` record (jfs_setting name='format'): parsing with refusal of
 * features Sluice does not implement, secret encryption as JuiceFS does it (the secret key, the
 * session token and the data encryption key, each AES-128-GCM keyed by MD5 of the volume UUID,
 * base64 of nonce||ciphertext), and serialization that keeps fields Sluice does not know.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs.h"

#define GCM_NONCE 12
#define GCM_TAG 16

/* Newest JuiceFS release whose format features Sluice implements. */
#define SL_JUICEFS_COMPAT_MAJOR 1
#define SL_JUICEFS_COMPAT_MINOR 3

static void copy_str(json_t *o, const char *key, char *dst, size_t size)
{
	const char *s = json_string_value(json_object_get(o, key));
	snprintf(dst, size, "%s", s ? s : "");
}

static int gcm_key(const char *uuid, unsigned char key[16])
{
	/* MD5 is what JuiceFS uses to derive the key from the UUID; it is a fact of the format. */
	unsigned int n = 0;
	return EVP_Digest(uuid, strlen(uuid), key, &n, EVP_md5(), NULL) == 1 && n == 16 ? 0 : -EIO;
}

static int decrypt_secret(const char *uuid, const char *b64, char *out, size_t size,
			  struct sl_err *err)
{
	int rc = -EIO;
	size_t b64len = strlen(b64);
	unsigned char *raw = malloc(b64len + 4);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!raw || !ctx) {
		rc = sl_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)b64len);
	if (n < 0) {
		rc = sl_errf(err, -EINVAL, "format record: encrypted secret is not base64");
		goto out;
	}
	while (b64len > 0 && b64[b64len - 1] == '=') { /* DecodeBlock counts padding as data */
		n--;
		b64len--;
	}
	if (n < GCM_NONCE + GCM_TAG || (size_t)(n - GCM_NONCE - GCM_TAG) >= size) {
		rc = sl_errf(err, -EINVAL, "format record: encrypted secret has a bad length");
		goto out;
	}
	unsigned char key[16];
	int clen = n - GCM_NONCE - GCM_TAG, len = 0, fin = 0;
	if (gcm_key(uuid, key) ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, raw) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)out, &len, raw + GCM_NONCE, clen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, raw + GCM_NONCE + clen) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)out + len, &fin) != 1) {
		rc = sl_errf(err, -EINVAL,
			     "format record: cannot decrypt the secret key with the volume UUID");
		goto out;
	}
	out[len + fin] = 0;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	return rc;
}

static int encrypt_secret(const char *uuid, const char *plain, char **b64out, struct sl_err *err)
{
	int rc = -EIO;
	size_t plen = strlen(plain);
	size_t rawlen = GCM_NONCE + plen + GCM_TAG;
	unsigned char *raw = malloc(rawlen);
	char *b64 = malloc(4 * ((rawlen + 2) / 3) + 1);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char key[16];
	int len = 0, fin = 0;
	if (!raw || !b64 || !ctx) {
		rc = sl_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (RAND_bytes(raw, GCM_NONCE) != 1 || gcm_key(uuid, key) ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, raw) != 1 ||
	    EVP_EncryptUpdate(ctx, raw + GCM_NONCE, &len, (const unsigned char *)plain,
			      (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, raw + GCM_NONCE + len, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, raw + GCM_NONCE + plen) != 1) {
		rc = sl_errf(err, -EIO, "cannot encrypt the secret key");
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)rawlen);
	*b64out = b64;
	b64 = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	free(b64);
	return rc;
}

/* "1.3.1+2025..." > 1.3? */
static bool version_newer_than_compat(const char *v)
{
	int major = 0, minor = 0;
	if (!v || sscanf(v, "%d.%d", &major, &minor) != 2)
		return false;
	return major > SL_JUICEFS_COMPAT_MAJOR ||
	       (major == SL_JUICEFS_COMPAT_MAJOR && minor > SL_JUICEFS_COMPAT_MINOR);
}

/* juicefs 1.4 records the default tier ("0") in every volume; more tiers put data elsewhere. */
static bool only_default_tier(json_t *tiers)
{
	const char *key;
	json_t *value;
	json_object_foreach(tiers, key, value)
		if (strcmp(key, "0"))
			return false;
	return true;
}

static int refuse(struct sl_err *err, const char *feature)
{
	return sl_errf(err, -ENOTSUP,
		       "this volume uses %s, which this version of Sluice does not support yet; "
		       "refusing to open it rather than misread it", feature);
}

int sl_format_parse(const char *text, struct sl_format *f, struct sl_err *err)
{
	memset(f, 0, sizeof(*f));
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return sl_errf(err, -EINVAL, "the volume's format record is not valid JSON: %s",
			       jerr.text);
	}
	f->json = o;
	copy_str(o, "Name", f->name, sizeof(f->name));
	copy_str(o, "UUID", f->uuid, sizeof(f->uuid));
	copy_str(o, "Storage", f->storage, sizeof(f->storage));
	copy_str(o, "Bucket", f->bucket, sizeof(f->bucket));
	copy_str(o, "AccessKey", f->access_key, sizeof(f->access_key));
	copy_str(o, "SecretKey", f->secret_key, sizeof(f->secret_key));
	copy_str(o, "SessionToken", f->session_token, sizeof(f->session_token));
	copy_str(o, "Compression", f->compression, sizeof(f->compression));
	copy_str(o, "EncryptAlgo", f->encrypt_algo, sizeof(f->encrypt_algo));
	copy_str(o, "StorageClass", f->storage_class, sizeof(f->storage_class));
	f->block_size_kib = (uint32_t)json_integer_value(json_object_get(o, "BlockSize"));
	f->hash_prefix = json_is_true(json_object_get(o, "HashPrefix"));
	f->capacity = (uint64_t)json_integer_value(json_object_get(o, "Capacity"));
	f->inodes = (uint64_t)json_integer_value(json_object_get(o, "Inodes"));
	f->trash_days = (int)json_integer_value(json_object_get(o, "TrashDays"));
	f->meta_version = (int)json_integer_value(json_object_get(o, "MetaVersion"));
	f->dir_stats = json_is_true(json_object_get(o, "DirStats"));
	f->enable_acl = json_is_true(json_object_get(o, "EnableACL"));
	f->key_encrypted = json_is_true(json_object_get(o, "KeyEncrypted"));

	int rc = 0;
	const char *s;
	json_t *tiers = json_object_get(o, "Tiers");
	if (!f->name[0] || !f->uuid[0] || !f->storage[0])
		rc = sl_errf(err, -EINVAL, "the volume's format record lacks Name, UUID or Storage");
	else if (f->block_size_kib == 0 || f->block_size_kib > 64 * 1024)
		rc = sl_errf(err, -EINVAL, "the volume's format record has an invalid BlockSize %u",
			     f->block_size_kib);
	else if (json_integer_value(json_object_get(o, "Shards")) > 0)
		rc = refuse(err, "storage sharding (Shards)");
	else if (tiers && json_is_object(tiers) && !only_default_tier(tiers))
		rc = refuse(err, "storage tiers other than the default one (Tiers)");
	else if (json_is_true(json_object_get(o, "UserGroupQuota")))
		rc = refuse(err, "user/group quotas (UserGroupQuota)");
	else if ((s = json_string_value(json_object_get(o, "RangerRestUrl"))) && *s)
		rc = refuse(err, "Apache Ranger authorization (RangerRestUrl)");
	else if (json_is_true(json_object_get(o, "ChangeLog")))
		rc = refuse(err, "the metadata change log (ChangeLog)");
	else if (f->meta_version > 1)
		rc = refuse(err, "a metadata version newer than 1 (MetaVersion)");
	else if (version_newer_than_compat(json_string_value(json_object_get(o, "MinClientVersion"))))
		rc = refuse(err, "features of JuiceFS clients newer than 1.3 (MinClientVersion)");
	else {
		enum sl_compression c;
		rc = sl_compression_parse(f->compression, &c, err);
	}
	const char *data_key = json_string_value(json_object_get(o, "EncryptKey"));
	const char *public_key = json_string_value(json_object_get(o, "EncryptPublicKey"));
	bool encrypted = (data_key && *data_key) || (public_key && *public_key);
	if (!rc && encrypted && !strcmp(f->encrypt_algo, "sm4gcm"))
		rc = refuse(err, "data encryption with SM4 (EncryptAlgo sm4gcm)");
	else if (!rc && encrypted)
		rc = sl_cipher_check_algo(f->encrypt_algo, err);
	if (!rc && (s = data_key) && *s) {
		if (!strcmp(s, "removed"))
			rc = sl_errf(err, -EINVAL, "the volume's encryption key was removed from the "
				     "format record (juicefs config --encrypt-secret=false?)");
		else if (!(f->encrypt_key = strdup(s)))
			rc = sl_errf(err, -ENOMEM, "out of memory");
	}
	if (!rc && (s = public_key) && *s && !(f->encrypt_public_key = strdup(s)))
		rc = sl_errf(err, -ENOMEM, "out of memory");
	if (!rc && f->key_encrypted) {
		if (!strcmp(f->encrypt_algo, "sm4gcm"))
			rc = refuse(err, "secrets encrypted with SM4 (EncryptAlgo sm4gcm)");
		else if (!strcmp(f->secret_key, "removed") || !strcmp(f->session_token, "removed"))
			rc = sl_errf(err, -EINVAL, "the volume's secret key was removed from the "
				     "format record; pass it with the secret-key setting");
		else {
			char plain[sizeof(f->session_token)];
			if (f->secret_key[0]) {
				rc = decrypt_secret(f->uuid, f->secret_key, plain, sizeof(f->secret_key), err);
				if (!rc)
					snprintf(f->secret_key, sizeof(f->secret_key), "%s", plain);
			}
			if (!rc && f->session_token[0]) {
				rc = decrypt_secret(f->uuid, f->session_token, plain, sizeof(plain), err);
				if (!rc)
					snprintf(f->session_token, sizeof(f->session_token), "%s", plain);
			}
			OPENSSL_cleanse(plain, sizeof(plain));
			if (!rc && f->encrypt_key) {
				size_t size = strlen(f->encrypt_key) + 1; /* base64 is longer */
				char *pem = malloc(size);
				rc = pem ? decrypt_secret(f->uuid, f->encrypt_key, pem, size, err)
					 : sl_errf(err, -ENOMEM, "out of memory");
				if (!rc) {
					OPENSSL_cleanse(f->encrypt_key, strlen(f->encrypt_key));
					free(f->encrypt_key);
					f->encrypt_key = pem;
				} else {
					free(pem);
				}
			}
			f->key_encrypted = false;
		}
	}
	if (rc)
		sl_format_free(f);
	return rc;
}

static int set_str(json_t *o, const char *key, const char *v, bool omit_empty)
{
	if (omit_empty && (!v || !*v))
		return json_object_del(o, key), 0;
	return json_object_set_new(o, key, json_string(v ? v : ""));
}

int sl_format_dump(const struct sl_format *f, char **out, struct sl_err *err)
{
	json_t *o = f->json ? json_deep_copy(f->json) : json_object();
	char *secret = NULL, *token = NULL, *data_key = NULL;
	int rc = 0;
	if (!o)
		return sl_errf(err, -ENOMEM, "out of memory");
	if (f->secret_key[0])
		rc = encrypt_secret(f->uuid, f->secret_key, &secret, err);
	if (!rc && f->session_token[0])
		rc = encrypt_secret(f->uuid, f->session_token, &token, err);
	if (!rc && f->encrypt_key)
		rc = encrypt_secret(f->uuid, f->encrypt_key, &data_key, err);
	if (rc)
		goto out;
	/* Field order as juicefs writes it (JSON_PRESERVE_ORDER keeps insertion order). */
	set_str(o, "Name", f->name, false);
	set_str(o, "UUID", f->uuid, false);
	set_str(o, "Storage", f->storage, false);
	set_str(o, "StorageClass", f->storage_class, true);
	set_str(o, "Bucket", f->bucket, false);
	set_str(o, "AccessKey", f->access_key, true);
	set_str(o, "SecretKey", secret, true);
	set_str(o, "SessionToken", token, true);
	json_object_set_new(o, "BlockSize", json_integer(f->block_size_kib));
	set_str(o, "Compression", f->compression[0] ? f->compression : "none", false);
	if (f->hash_prefix)
		json_object_set_new(o, "HashPrefix", json_true());
	if (f->capacity)
		json_object_set_new(o, "Capacity", json_integer((json_int_t)f->capacity));
	if (f->inodes)
		json_object_set_new(o, "Inodes", json_integer((json_int_t)f->inodes));
	set_str(o, "EncryptKey", data_key, true);
	set_str(o, "EncryptAlgo", f->encrypt_algo[0] ? f->encrypt_algo : "aes256gcm-rsa", false);
	if (secret || token || data_key)
		json_object_set_new(o, "KeyEncrypted", json_true());
	else
		json_object_del(o, "KeyEncrypted");
	json_object_set_new(o, "TrashDays", json_integer(f->trash_days));
	json_object_set_new(o, "MetaVersion", json_integer(f->meta_version ? f->meta_version : 1));
	/* juicefs clients before 1.2 would ignore ACLs: the volume keeps them out */
	const char *minv = json_string_value(json_object_get(o, "MinClientVersion"));
	if (!minv || (f->enable_acl && !strcmp(minv, "1.1.0-A")))
		set_str(o, "MinClientVersion", f->enable_acl ? "1.2.0-A" : "1.1.0-A", false);
	json_object_set_new(o, "DirStats", json_boolean(f->dir_stats));
	json_object_set_new(o, "EnableACL", json_boolean(f->enable_acl));
	*out = json_dumps(o, JSON_INDENT(0) | JSON_PRESERVE_ORDER);
	if (!*out)
		rc = sl_errf(err, -ENOMEM, "out of memory");
out:
	free(secret);
	free(token);
	free(data_key);
	json_decref(o);
	return rc;
}

void sl_format_free(struct sl_format *f)
{
	json_decref(f->json);
	f->json = NULL;
	/* do not leave the secret in freed memory */
	OPENSSL_cleanse(f->secret_key, sizeof(f->secret_key));
	OPENSSL_cleanse(f->session_token, sizeof(f->session_token));
	if (f->encrypt_key) {
		OPENSSL_cleanse(f->encrypt_key, strlen(f->encrypt_key));
		free(f->encrypt_key);
		f->encrypt_key = NULL;
	}
	free(f->encrypt_public_key);
	f->encrypt_public_key = NULL;
}
