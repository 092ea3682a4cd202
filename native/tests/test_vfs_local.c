/* test_vfs_local.c - the public API end to end on the embedded backends: SQLite + file storage,
 * uncompressed, with LZ4, with a disk cache, and encrypted (RSA-wrapped data keys, cipher.h);
 * and what encryption itself promises: nothing readable in storage, tampering detected, the key's
 * passphrase required. */
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "chunk/cipher.h"
#include "util/fileio.h"
#include "vfs_suite.h"

#define KEY_PASSPHRASE "correct horse"
#define MIB_BYTES ((size_t)1 << 20)

/* A new RSA key as PEM (protected by passphrase unless NULL), written to path. */
static void write_rsa_key(const char *path, unsigned bits, const char *passphrase)
{
	EVP_PKEY *key = EVP_RSA_gen(bits);
	REQUIRE(key != NULL);
	FILE *f = fopen(path, "w");
	REQUIRE(f != NULL);
	REQUIRE(PEM_write_PrivateKey(f, key, passphrase ? EVP_aes_256_cbc() : NULL,
				     (unsigned char *)passphrase,
				     passphrase ? (int)strlen(passphrase) : 0, NULL, NULL) == 1);
	fclose(f);
	EVP_PKEY_free(key);
}

static char *read_text(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	struct sl_err err = {0};
	REQUIRE(sl_read_small_file(path, 1 << 16, &text, &len, &err) == 0);
	return text;
}

/* A fresh directory for one SQLite + file volume: its META-URL and bucket (1024 bytes each).
 * Caller frees the directory's name. */
static char *local_volume(const char *tag, char url[1024], char bucket[1024])
{
	char *dir = tu_tempdir(tag);
	snprintf(url, 1024, "sqlite3://%s/meta.db", dir);
	snprintf(bucket, 1024, "%s/data", dir);
	return dir;
}

/* cached: with a cache dir, so that hflush stages blocks and reads go through the disk cache;
 * algo: encrypted with that algorithm and a passphrase-protected key */
static void run_local(const char *tag, const char *compression, uint32_t block_kib, bool cached,
		      const char *algo)
{
	char url[1024], bucket[1024];
	char *dir = local_volume(tag, url, bucket);
	struct suite s = {.meta_url = url};
	s.fmt = (sluice_format_options){.meta_url = url, .name = "testvol", .storage = "file",
					.bucket = bucket, .compression = compression,
					.block_size_kib = block_kib, .trash_days = -1};
	s.conf[s.nconf++] = (sluice_kv){"meta", url};
	s.conf[s.nconf++] = (sluice_kv){"get-timeout", "1"};
	char cache[1100], key[1100];
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	if (algo) {
		write_rsa_key(key, 2048, KEY_PASSPHRASE);
		s.fmt.encrypt_rsa_key = key;
		s.fmt.encrypt_algo = algo;
		s.conf[s.nconf++] = (sluice_kv){"encrypt.passphrase", KEY_PASSPHRASE};
		REQUIRE(setenv("JFS_RSA_PASSPHRASE", KEY_PASSPHRASE, 1) == 0); /* for the format */
	}
	if (cached) {
		s.conf[s.nconf++] = (sluice_kv){"cache-dir", cache};
		/* a machine's disk fuller than the default 10% free must not change what is cached */
		s.conf[s.nconf++] = (sluice_kv){"free-space-ratio", "0"};
	}
	run_suite(&s);
	unsetenv("JFS_RSA_PASSPHRASE");
	free(dir);
}

/* A metadata backend that answers SL_RENAME_INTO_DIR as a gateway older than it does. */
static const struct sl_meta_backend *real_backend;
static int renames_refused, renames_passed;

static int old_gateway_rename(struct sl_meta *m, const struct sl_meta_user *u, sl_ino psrc,
			      const char *nsrc, sl_ino pdst, const char *ndst, int flags,
			      struct sl_removed *replaced, struct sl_err *err)
{
	if (flags & ~SL_RENAME_NOREPLACE) {
		renames_refused++;
		return sl_errf(err, -EINVAL, "unknown rename flags %#x", flags);
	}
	renames_passed++;
	return real_backend->rename(m, u, psrc, nsrc, pdst, ndst, flags, replaced, err);
}

/* Hadoop's rename through a gateway that does not know SLUICE_RENAME_INTO_DIR: the client
 * looks the destination up itself, then renames. */
static void test_rename_old_gateway(void)
{
	char url[1024], bucket[1024], msg[512];
	char *dir = local_volume("vfs-oldgw", url, bucket);
	sluice_format_options fo = {.meta_url = url, .name = "testvol", .storage = "file",
				    .bucket = bucket, .trash_days = -1};
	REQUIRE(sluice_format(&fo, msg, sizeof(msg)) == 0);
	sluice_kv conf[] = {{"meta", url}};
	sluice_volume *vol;
	REQUIRE(sluice_init(conf, 1, &vol, msg, sizeof(msg)) == 0);
	struct sl_meta *m = vol->core.meta;
	real_backend = m->be;
	struct sl_meta_backend old = *real_backend;
	old.rename = old_gateway_rename;
	m->be = &old;
	const int hadoop = SLUICE_RENAME_NOREPLACE | SLUICE_RENAME_INTO_DIR;
	uint8_t d[10] = {0};
	sluice_stat st;
	CHECK_RC(sluice_mkdirs(vol, NULL, "/dst", 0755, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/f", d, sizeof(d), sizeof(d), 0), 0);
	CHECK_RC(sluice_rename(vol, NULL, "/f", "/dst", hadoop), 0);
	CHECK_RC(sluice_stat_path(vol, NULL, "/dst/f", &st), 0);
	CHECK(renames_refused == 1 && renames_passed == 1);
	CHECK_RC(sluice_rename(vol, NULL, "/dst/f", "/dst", hadoop), 0); /* already there */
	CHECK_RC(sluice_rename(vol, NULL, "/dst/f", "/g", hadoop), 0);   /* no directory */
	CHECK_RC(sluice_stat_path(vol, NULL, "/g", &st), 0);
	m->be = real_backend;
	REQUIRE(sluice_shutdown(vol) == 0);
	if (tu_rm_rf(dir) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
}

/* Sealing and opening blocks: the layout, round trips, and what does not open. */
static void test_cipher(void)
{
	char *dir = tu_tempdir("cipher");
	char path[1100], path2[1100];
	snprintf(path, sizeof(path), "%s/a.pem", dir);
	snprintf(path2, sizeof(path2), "%s/b.pem", dir);
	write_rsa_key(path, 2048, NULL);
	write_rsa_key(path2, 3072, "pw");
	char *pem = read_text(path), *pem2 = read_text(path2);
	struct sl_cipher *a = NULL, *b = NULL, *c = NULL;
	struct sl_err err = {0};
	REQUIRE(sl_cipher_new("aes256gcm-rsa", pem, NULL, &a, &err) == 0);
	CHECK_RC(sl_cipher_overhead(a), 3 + 256 + 12 + 16);
	CHECK_RC(sl_cipher_new("chacha20-rsa", pem2, NULL, &b, &err), -EINVAL);
	CHECK(strstr(err.msg, "passphrase") != NULL);
	CHECK_RC(sl_cipher_new("chacha20-rsa", pem2, "wrong", &b, &err), -EINVAL);
	CHECK(strstr(err.msg, "wrong passphrase") != NULL);
	REQUIRE(sl_cipher_new("chacha20-rsa", pem2, "pw", &b, &err) == 0);
	CHECK_RC(sl_cipher_overhead(b), 3 + 384 + 12 + 16);
	CHECK_RC(sl_cipher_new("sm4gcm", pem, NULL, &c, &err), -ENOTSUP);
	CHECK_RC(sl_cipher_new("", "-----BEGIN PRIVATE KEY-----\nnot a key\n", NULL, &c, &err),
		 -EINVAL);

	uint8_t plain[5000], sealed[6000], out[5000];
	tu_fill_pattern(plain, sizeof(plain), 5);
	const size_t sizes[] = {0, 1, 4999};
	for (size_t i = 0; i < 3; i++) {
		int64_t n = sl_cipher_seal(a, plain, sizes[i], sealed, sizeof(sealed), &err);
		CHECK_RC(n, (long long)(sizes[i] + sl_cipher_overhead(a)));
		CHECK(sealed[0] == 1 && sealed[1] == 0 && sealed[2] == 12); /* 256-byte key, nonce */
		CHECK_RC(sl_cipher_open(a, sealed, (size_t)n, out, sizeof(out), "k", &err),
			 (long long)sizes[i]);
		CHECK(memcmp(out, plain, sizes[i]) == 0);
		/* the same block sealed twice differs: a fresh data key and nonce each time */
		uint8_t again[6000];
		CHECK_RC(sl_cipher_seal(a, plain, sizes[i], again, sizeof(again), &err), n);
		CHECK(memcmp(again, sealed, (size_t)n) != 0);
	}
	int64_t n = sl_cipher_seal(a, plain, sizeof(plain), sealed, sizeof(sealed), &err);
	REQUIRE(n > 0);
	CHECK_RC(sl_cipher_seal(a, plain, sizeof(plain), sealed, sizeof(plain), &err), -EINVAL);
	CHECK_RC(sl_cipher_open(b, sealed, (size_t)n, out, sizeof(out), "k", &err), -EIO);
	CHECK(strstr(err.msg, "not wrapped with this volume's RSA key") != NULL);
	CHECK_RC(sl_cipher_open(a, sealed, (size_t)n - 1, out, sizeof(out), "k", &err), -EIO);
	CHECK_RC(sl_cipher_open(a, sealed, 2, out, sizeof(out), "k", &err), -EIO);
	CHECK_RC(sl_cipher_open(a, sealed, (size_t)n, out, 100, "k", &err), -EIO);
	sealed[n / 2] ^= 1;
	CHECK_RC(sl_cipher_open(a, sealed, (size_t)n, out, sizeof(out), "blk", &err), -EIO);
	CHECK(strstr(err.msg, "blk") != NULL && strstr(err.msg, "authentication tag") != NULL);
	sealed[n / 2] ^= 1;
	sealed[2] = 16; /* a nonce length juicefs never writes */
	CHECK_RC(sl_cipher_open(a, sealed, (size_t)n, out, sizeof(out), "k", &err), -EIO);
	sl_cipher_free(a);
	sl_cipher_free(b);
	free(pem);
	free(pem2);
	tu_rm_rf(dir);
	free(dir);
}

/* Whether any file under dir holds needle. */
static bool storage_holds(const char *dir, const char *needle)
{
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "grep -rqF '%s' '%s'", needle, dir);
	return system(cmd) == 0;
}

/* An encrypted volume: the passphrase is needed and checked; storage holds no plaintext, not even
 * the volume's UUID; a changed object is an error, not wrong data; random and sequential reads. */
static void test_encryption(const char *compression)
{
	char url[1024], bucket[1024], key[1100], msg[512];
	char *dir = local_volume("vfs-enc", url, bucket);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	write_rsa_key(key, 2048, KEY_PASSPHRASE);
	sluice_format_options fo = {.meta_url = url, .name = "encvol", .storage = "file",
				    .bucket = bucket, .compression = compression,
				    .trash_days = -1, .encrypt_rsa_key = key};
	CHECK_RC(sluice_format(&fo, msg, sizeof(msg)), -EINVAL); /* no passphrase */
	CHECK(strstr(msg, "passphrase") != NULL);
	REQUIRE(setenv("JFS_RSA_PASSPHRASE", KEY_PASSPHRASE, 1) == 0);
	tu_format(&fo);
	REQUIRE(unsetenv("JFS_RSA_PASSPHRASE") == 0);

	sluice_volume *vol = NULL;
	sluice_kv conf[] = {{"meta", url}, {"get-timeout", "1"}, {"encrypt.passphrase", "bad"}};
	CHECK_RC(sluice_init(conf, 2, &vol, msg, sizeof(msg)), -EINVAL);
	CHECK(strstr(msg, "encrypt.passphrase") != NULL);
	CHECK_RC(sluice_init(conf, 3, &vol, msg, sizeof(msg)), -EINVAL);
	CHECK(strstr(msg, "wrong passphrase") != NULL);
	REQUIRE(setenv("JFS_RSA_PASSPHRASE", KEY_PASSPHRASE, 1) == 0); /* as juicefs takes it */
	vol = tu_open(conf, 2);
	REQUIRE(unsetenv("JFS_RSA_PASSPHRASE") == 0);
	CHECK(vol->core.layout.cipher != NULL);

	/* compressible text with a marker, and random data across blocks */
	const char *marker = "SLUICE-PLAINTEXT-MARKER";
	size_t tlen = 3 * MIB_BYTES + 5, rlen = 9 * MIB_BYTES + 7;
	uint8_t *text = malloc(tlen), *rnd = malloc(rlen), *back = malloc(rlen);
	for (size_t i = 0; i < tlen; i++)
		text[i] = (uint8_t)marker[i % strlen(marker)];
	tu_fill_pattern(rnd, rlen, 21);
	CHECK_RC(write_file(vol, NULL, "/text", text, tlen, MIB_BYTES, 0), 0);
	CHECK_RC(write_file(vol, NULL, "/rnd", rnd, rlen, 2 * MIB_BYTES, 0), 0);
	CHECK_RC(sluice_shutdown(vol), 0);
	CHECK(!storage_holds(bucket, marker));
	char *fmt = NULL;
	{
		struct sl_logger lg = {.level = SL_LOG_WARN};
		struct sl_meta *m;
		struct sl_err err = {0};
		REQUIRE(sl_meta_open(url, NULL, &lg, &m, &err) == 0);
		REQUIRE(sl_meta_load_format(m, &fmt, &err) == 0);
		sl_meta_close(m);
		struct sl_format f;
		setenv("JFS_RSA_PASSPHRASE", KEY_PASSPHRASE, 1);
		REQUIRE(sl_format_parse(fmt, &f, &err) == 0);
		unsetenv("JFS_RSA_PASSPHRASE");
		CHECK(!storage_holds(bucket, f.uuid)); /* juicefs_uuid is sealed too */
		CHECK(f.encrypt_key && strstr(f.encrypt_key, "ENCRYPTED PRIVATE KEY"));
		CHECK(!strstr(fmt, "PRIVATE KEY")); /* the record keeps it encrypted with the UUID */
		sl_format_free(&f);
	}
	free(fmt);

	sluice_kv conf_ok[] = {{"meta", url}, {"get-timeout", "1"},
			       {"encrypt.passphrase", KEY_PASSPHRASE}};
	vol = tu_open(conf_ok, 3);
	CHECK_RC(check_file(vol, NULL, "/text", text, tlen, 999 * 1000), 0);
	CHECK_RC(check_file(vol, NULL, "/rnd", rnd, rlen, 3 * MIB_BYTES), 0);
	/* small random reads (a plain volume reads just the range; this one the whole block) */
	sluice_file *f;
	REQUIRE(sluice_open(vol, NULL, "/rnd", SLUICE_O_READ, 0, 0, &f) == 0);
	const uint64_t offs[] = {7 * MIB_BYTES + 3, 17, 4 * MIB_BYTES - 2, rlen - 10};
	for (size_t i = 0; i < 4; i++) {
		uint8_t small[10];
		CHECK_RC(sluice_pread(f, small, sizeof(small), offs[i]), 10);
		CHECK(memcmp(small, rnd + offs[i], 10) == 0);
	}
	/* a flipped byte in a stored block: an error naming the object, never other data */
	sluice_stat st;
	REQUIRE(sluice_stat_path(vol, NULL, "/rnd", &st) == 0);
	struct sl_slice *slices = NULL;
	size_t n = 0;
	struct sl_err err = {0};
	REQUIRE(sl_meta_read_chunk(vol->core.meta, NULL, st.inode, 0, &slices, &n, &err) == 0);
	REQUIRE(n >= 1);
	char bkey[SL_KEY_MAX];
	sl_block_key(&vol->core.layout, slices[0].id, 0, slices[0].size, bkey);
	free(slices);
	uint8_t *stored = malloc(8 * MIB_BYTES);
	int64_t slen = sl_obj_get(vol->core.store, bkey, 0, stored, 8 * MIB_BYTES, &err);
	REQUIRE(slen > 1000);
	stored[slen / 2] ^= 0x40;
	REQUIRE(sl_obj_put(vol->core.store, bkey, stored, (size_t)slen, &err) == 0);
	sl_blockcache_drop_all(vol->core.cache);
	CHECK_RC(sluice_pread(f, back, 100, 5), -EIO);
	CHECK(strstr(sluice_last_error(vol), bkey) != NULL);
	sluice_close(f);
	free(stored);
	CHECK_RC(sluice_shutdown(vol), 0);
	free(text);
	free(rnd);
	free(back);
	tu_rm_rf(dir);
	free(dir);
}

/* The volume's Capacity and Inodes (juicefs format --capacity/--inodes) hold: growth past them
 * fails with ENOSPC and changes nothing, deletions make room again, and a second client weighs
 * the first one's usage. */
static void test_capacity(void)
{
	char url[1024], bucket[1024];
	char *dir = local_volume("vfs-cap", url, bucket);
	sluice_format_options fo = {.meta_url = url, .name = "capvol", .storage = "file",
				    .bucket = bucket, .trash_days = 0,
				    .capacity_bytes = 10 * MIB_BYTES, .inodes = 6};
	tu_format(&fo);
	sluice_kv conf[] = {{"meta", url}};
	sluice_volume *a = tu_open(conf, 1);
	size_t len = 6 * MIB_BYTES;
	uint8_t *d = malloc(len);
	tu_fill_pattern(d, len, 3);
	CHECK_RC(write_file(a, NULL, "/six", d, len, MIB_BYTES, 0), 0);
	/* 6 MiB and the root's 4 KiB used: 5 MiB more does not fit, and leaves no file behind
	 * longer than what was committed before */
	sluice_file *f;
	REQUIRE(sluice_open(a, NULL, "/five", SLUICE_O_CREATE, 0644, 0, &f) == 0);
	CHECK_RC(sluice_write(f, d, 5 * MIB_BYTES), (long long)(5 * MIB_BYTES));
	CHECK_RC(sluice_close(f), -ENOSPC);
	CHECK(strstr(sluice_last_error(a), "the volume is full") != NULL);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(a, NULL, "/five", &st), 0);
	CHECK_RC(st.length, 0);
	CHECK_RC(sluice_truncate(a, NULL, "/five", 5 * MIB_BYTES), -ENOSPC);
	CHECK_RC(sluice_truncate(a, NULL, "/five", 3 * MIB_BYTES), 0); /* fits */
	/* inodes (the root not counted, as juicefs): six, five and four more; the next is
	 * refused */
	CHECK_RC(sluice_mkdir(a, NULL, "/d1", 0755, 0), 0);
	CHECK_RC(tu_put_text(a, NULL, "/t1", "x", 0644), 0);
	CHECK_RC(tu_put_text(a, NULL, "/t2", "x", 0644), 0);
	CHECK_RC(tu_put_text(a, NULL, "/t3", "x", 0644), 0);
	CHECK_RC(tu_put_text(a, NULL, "/t4", "x", 0644), -ENOSPC);
	CHECK(strstr(sluice_last_error(a), "inode limit") != NULL);
	CHECK_RC(sluice_mkdir(a, NULL, "/d2", 0755, 0), -ENOSPC);
	/* a second client sees the first one's usage once flushed */
	usleep(1500 * 1000);
	sluice_volume *b = tu_open(conf, 1);
	CHECK_RC(tu_put_text(b, NULL, "/t4", "x", 0644), -ENOSPC);
	CHECK_RC(tu_put_text(b, NULL, "/t3", "y", 0644), 0); /* overwriting adds no inode */
	CHECK_RC(sluice_truncate(b, NULL, "/five", 5 * MIB_BYTES), -ENOSPC);
	/* room again after a delete (this handle's own deletion counts at once) */
	CHECK_RC(sluice_delete(b, NULL, "/six", 0), 0);
	CHECK_RC(sluice_truncate(b, NULL, "/five", 5 * MIB_BYTES), 0);
	CHECK_RC(tu_put_text(b, NULL, "/t4", "x", 0644), 0);
	CHECK_RC(sluice_shutdown(b), 0);
	CHECK_RC(sluice_shutdown(a), 0);
	free(d);
	tu_rm_rf(dir);
	free(dir);
}

int main(void)
{
	test_rename_old_gateway();
	test_capacity();
	test_cipher();
	test_encryption("none");
	test_encryption("lz4");
	run_local("vfs-none", "none", 0, false, NULL);
	run_local("vfs-lz4", "lz4", 0, false, NULL);
	run_local("vfs-cached", "lz4", 0, true, NULL);
	run_local("vfs-encrypted", "lz4", 0, true, "chacha20-rsa");
	return tu_finish("test_vfs_local");
}
