/*
 * test_gateway.c - Kerberos mode end to end against a real MIT KDC (tests/env/kdc.sh): a gateway
 * in this process serves an SQLite + file volume; clients log in from keytabs and reach it through
 * gateway:// volumes. Checks who may do what (users, proxy users, superuser), that unauthenticated
 * or misdirected clients are refused, and that malformed traffic neither crashes nor stalls it.
 * A Kerberos client reads from a cache group's server with per-block tickets from the gateway.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/gateway.h"
#include "rpc/conn.h"
#include "rpc/proto.h"
#include "sluice.h"
#include "gateway_testutil.h"
#include "util/crc32c.h"
#include "vfs/vfs.h"
#include "volume_testutil.h"

static const char *kdir;
static char url[256], bucket[1024];
static int port, private_port; /* the second gateway requires privacy */

/* A client volume logged in from who's keytab (its only principal); NULL and the error on
 * failure. */
static sluice_volume *client_at(const char *who, const char *service, const char *meta,
				const char *protection, char *msg, size_t size)
{
	char keytab[1024];
	snprintf(keytab, sizeof(keytab), "%s/%s.keytab", kdir, who);
	sluice_kv conf[] = {
		{"meta", meta},
		{"gateway.principal", service ? service : "sluice/localhost@SLUICE.TEST"},
		{"gateway.protection", protection},
		{"kerberos.keytab", keytab},
		{"bucket", bucket}, /* data access stays direct until presigned URLs */
		{"io-timeout", "10"},
	};
	sluice_volume *v = NULL;
	msg[0] = 0;
	if (sluice_init(conf, sizeof(conf) / sizeof(conf[0]), &v, msg, size))
		return NULL;
	return v;
}

static sluice_volume *client(const char *who, const char *service, char *msg, size_t size)
{
	return client_at(who, service, url, "integrity", msg, size);
}

static void test_users(void)
{
	char msg[512], buf[256];
	sluice_volume *alice = client("alice", NULL, msg, sizeof(msg));
	sluice_volume *bob = client("bob", NULL, msg, sizeof(msg));
	sluice_volume *hive = client("hive", NULL, msg, sizeof(msg));
	REQUIRE(alice && bob && hive);

	CHECK_RC(sluice_mkdir(alice, NULL, "/alice", 0700, 0), 0);
	CHECK_RC(tu_put_text(alice, NULL, "/alice/private", "alice's secret", 0600), 0);
	CHECK_RC(sluice_mkdir(alice, NULL, "/pub", 0755, 0), 0);
	CHECK_RC(tu_put_text(alice, NULL, "/pub/shared", "for everyone", 0644), 0);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(alice, NULL, "/alice/private", &st), 0);
	CHECK(!strcmp(st.owner, "alice"));
	CHECK_RC(tu_get_text(alice, NULL, "/alice/private", buf, sizeof(buf)), 0);
	CHECK(!strcmp(buf, "alice's secret"));

	/* file checksums are computed by the gateway (FILE_CRC) with the caller's permissions */
	uint32_t crc = 0;
	CHECK_RC(sluice_file_checksum(alice, NULL, "/alice/private", UINT64_MAX, &crc), 0);
	CHECK(crc == sl_crc32c(0, "alice's secret", 14));
	CHECK_RC(sluice_file_checksum(alice, NULL, "/alice/private", 5, &crc), 0);
	CHECK(crc == sl_crc32c(0, "alice", 5));
	CHECK_RC(sluice_file_checksum(bob, NULL, "/pub/shared", UINT64_MAX, &crc), 0);
	CHECK(crc == sl_crc32c(0, "for everyone", 12));
	CHECK_RC(sluice_file_checksum(bob, NULL, "/alice/private", UINT64_MAX, &crc), -EACCES);

	/* bob: cannot look into, read, change or remove alice's private files */
	CHECK_RC(tu_get_text(bob, NULL, "/alice/private", buf, sizeof(buf)), -EACCES);
	CHECK_RC(sluice_delete(bob, NULL, "/alice/private", 0), -EACCES);
	CHECK_RC(sluice_rename(bob, NULL, "/alice/private", "/stolen", 0), -EACCES);
	CHECK_RC(sluice_chmod(bob, NULL, "/pub/shared", 0666), -EACCES); /* as HDFS says it */
	CHECK_RC(tu_put_text(bob, NULL, "/pub/shared", "overwritten", 0644), -EACCES);
	CHECK_RC(tu_get_text(bob, NULL, "/pub/shared", buf, sizeof(buf)), 0);
	CHECK(!strcmp(buf, "for everyone"));
	/* nor by claiming to be alice: that is a proxy request, and bob is no proxy user */
	const sluice_user as_alice = {.name = "alice"};
	CHECK_RC(tu_get_text(bob, &as_alice, "/alice/private", buf, sizeof(buf)), -EACCES);
	CHECK(strstr(sluice_last_error(bob), "bob") != NULL);
	/* nor by claiming alice's groups: groups come from the gateway */
	const char *groups[] = {"alice", "supergroup"};
	const sluice_user bob_super = {.name = "bob", .groups = groups, .ngroups = 2};
	CHECK_RC(tu_get_text(bob, &bob_super, "/alice/private", buf, sizeof(buf)), -EACCES);

	/* a path by inode number, only for a caller who may resolve it */
	char ipath[256];
	CHECK_RC(sluice_inode_path(alice, NULL, st.inode, ipath, sizeof(ipath)), 14);
	CHECK(!strcmp(ipath, "/alice/private"));
	CHECK_RC(sluice_inode_path(bob, NULL, st.inode, ipath, sizeof(ipath)), -EACCES);
	CHECK_RC(sluice_inode_path(bob, &as_alice, st.inode, ipath, sizeof(ipath)), -EACCES);

	/* hive may act for alice (proxyuser.hive.users), not for bob */
	CHECK_RC(tu_get_text(hive, &as_alice, "/alice/private", buf, sizeof(buf)), 0);
	CHECK(!strcmp(buf, "alice's secret"));
	CHECK_RC(tu_put_text(hive, &as_alice, "/alice/by-hive", "written for alice", 0600), 0);
	CHECK_RC(sluice_stat_path(alice, NULL, "/alice/by-hive", &st), 0);
	CHECK(!strcmp(st.owner, "alice"));
	const sluice_user as_bob = {.name = "bob"};
	CHECK_RC(tu_put_text(hive, &as_bob, "/by-hive-for-bob", "x", 0644), -EACCES);
	CHECK(strstr(sluice_last_error(hive), "impersonate") != NULL);
	/* hive as itself is an ordinary user */
	CHECK_RC(tu_get_text(hive, NULL, "/alice/private", buf, sizeof(buf)), -EACCES);

	/* the superuser (carol is in supergroup on the gateway) reads and removes anything */
	sluice_volume *carol = client("carol", NULL, msg, sizeof(msg));
	REQUIRE(carol);
	CHECK_RC(tu_get_text(carol, NULL, "/alice/private", buf, sizeof(buf)), 0);
	CHECK_RC(sluice_delete(carol, NULL, "/alice/by-hive", 0), 0);
	sluice_shutdown(carol);

	/* usage is read through the gateway (statfs), never written by a client */
	sluice_statfs sf;
	CHECK_RC(sluice_statfs_get(alice, &sf), 0);
	CHECK(sf.inodes_used >= 4);

	/* data of a deleted file is deleted by the gateway, and a listing works through it */
	CHECK_RC(sluice_delete(alice, NULL, "/pub/shared", 0), 0);
	sluice_dir *d;
	REQUIRE(sluice_opendir(alice, NULL, "/alice", &d) == 0);
	sluice_dirent ents[8];
	CHECK_RC(sluice_readdir(d, ents, 8), 1);
	CHECK(!strcmp(ents[0].name, "private"));
	sluice_closedir(d);

	sluice_shutdown(alice);
	sluice_shutdown(bob);
	sluice_shutdown(hive);
}

/* A recursive delete through the gateway, as an ordinary user: the owner's tree goes at once and
 * leaves nothing in the trash or the usage; another user is refused and the tree stays. */
static void test_recursive_delete(void)
{
	char msg[512], buf[64];
	sluice_volume *alice = client("alice", NULL, msg, sizeof(msg));
	sluice_volume *bob = client("bob", NULL, msg, sizeof(msg));
	REQUIRE(alice && bob);
	CHECK_RC(sluice_mkdir(alice, NULL, "/alice-rm", 0755, 0), 0);
	sluice_statfs before, after;
	CHECK_RC(sluice_statfs_get(alice, &before), 0);
	CHECK_RC(sluice_mkdirs(alice, NULL, "/alice-rm/d1/a/b", 0755, 0), 0);
	CHECK_RC(sluice_mkdir(alice, NULL, "/alice-rm/d1/empty", 0700, 0), 0);
	CHECK_RC(tu_put_text(alice, NULL, "/alice-rm/d1/f", "one", 0644), 0);
	CHECK_RC(tu_put_text(alice, NULL, "/alice-rm/d1/a/b/g", "two", 0600), 0);
	CHECK_RC(sluice_delete(bob, NULL, "/alice-rm/d1", 1), -EACCES);
	CHECK_RC(tu_get_text(alice, NULL, "/alice-rm/d1/a/b/g", buf, sizeof(buf)), 0);
	CHECK_RC(sluice_delete(alice, NULL, "/alice-rm/d1", 0), -ENOTEMPTY);
	CHECK_RC(sluice_delete(alice, NULL, "/alice-rm/d1", 1), 0);
	sluice_stat st;
	CHECK_RC(sluice_stat_path(alice, NULL, "/alice-rm/d1", &st), -ENOENT);
	CHECK_RC(sluice_statfs_get(alice, &after), 0);
	CHECK(after.inodes_used == before.inodes_used);
	CHECK(after.used == before.used);
	sluice_shutdown(alice);
	sluice_shutdown(bob);
}

/* Directory quotas hold through the gateway, which checks them in its transactions, and a
 * content summary there carries the directory's quota. */
static void test_quotas(struct sl_gateway *gw)
{
	char msg[512];
	sluice_volume *alice = client("alice", NULL, msg, sizeof(msg));
	REQUIRE(alice);
	CHECK_RC(sluice_mkdir(alice, NULL, "/alice-q", 0755, 0), 0);
	struct sl_meta *m = sl_gateway_volume(gw)->core.meta; /* as `sluice quota set` would */
	struct sl_err err = {0};
	sluice_stat st;
	CHECK_RC(sluice_stat_path(alice, NULL, "/alice-q", &st), 0);
	struct sl_meta_quota q = {.ino = st.inode, .max_space = 1 << 20, .max_inodes = 2,
				  .used_space = 0, .used_inodes = 0};
	CHECK_RC(sl_meta_quota_set(m, &q, NULL, &err), 0);
	CHECK_RC(tu_put_text(alice, NULL, "/alice-q/one", "1", 0644), 0);
	static uint8_t big[2 << 20];
	sluice_file *f;
	REQUIRE(sluice_open(alice, NULL, "/alice-q/two", SLUICE_O_CREATE, 0644, 0, &f) == 0);
	CHECK_RC(sluice_write(f, big, sizeof(big)), (long long)sizeof(big));
	CHECK_RC(sluice_close(f), -EDQUOT);
	CHECK(strstr(sluice_last_error(alice), "space quota exceeded") != NULL);
	CHECK_RC(tu_put_text(alice, NULL, "/alice-q/three", "3", 0644), -EDQUOT);
	CHECK(strstr(sluice_last_error(alice), SLUICE_INODE_QUOTA_MSG) != NULL);
	sluice_summary sum;
	CHECK_RC(sluice_summary_path(alice, NULL, "/alice-q", &sum), 0);
	CHECK(sum.quota_space == 1 << 20 && sum.quota_inodes == 2 && sum.files == 2);
	CHECK_RC(sluice_delete(alice, NULL, "/alice-q", 1), 0);
	sluice_shutdown(alice);
}

/* ACLs through the gateway: set, read and enforced there (the client asks the gateway about an
 * inode whose ACL decides). */
static void test_acls(void)
{
	char msg[512], buf[64];
	sluice_volume *alice = client("alice", NULL, msg, sizeof(msg));
	sluice_volume *bob = client("bob", NULL, msg, sizeof(msg));
	REQUIRE(alice && bob);
	CHECK_RC(sluice_mkdir(alice, NULL, "/alice-acl", 0700, 0), 0);
	CHECK_RC(tu_put_text(alice, NULL, "/alice-acl/f", "for bob", 0600), 0);
	CHECK_RC(tu_get_text(bob, NULL, "/alice-acl/f", buf, sizeof(buf)), -EACCES);
	sluice_acl_entry spec[] = {
		{.scope = SLUICE_ACL_ACCESS, .type = SLUICE_ACL_USER, .name = "bob", .perm = 5},
		{.scope = SLUICE_ACL_DEFAULT, .type = SLUICE_ACL_USER, .name = "bob", .perm = 4},
	};
	CHECK_RC(sluice_acl_change(bob, NULL, "/alice-acl", SLUICE_ACL_MODIFY, spec, 2), -EACCES);
	CHECK_RC(sluice_acl_change(alice, NULL, "/alice-acl", SLUICE_ACL_MODIFY, spec, 2), 0);
	spec[0].perm = 4;
	CHECK_RC(sluice_acl_change(alice, NULL, "/alice-acl/f", SLUICE_ACL_MODIFY, spec, 1), 0);
	CHECK_RC(tu_get_text(bob, NULL, "/alice-acl/f", buf, sizeof(buf)), 0);
	CHECK(!strcmp(buf, "for bob"));
	CHECK_RC(tu_put_text(bob, NULL, "/alice-acl/g", "no", 0644), -EACCES);
	sluice_acl_entry e[16];
	uint32_t mode;
	CHECK_RC(sluice_acl_get(bob, NULL, "/alice-acl", &mode, e, 16), 7); /* bob, group; 5 default */
	CHECK(e[0].type == SLUICE_ACL_USER && !strcmp(e[0].name, "bob") && e[0].perm == 5);
	CHECK_RC(mode & 0777, 0750);
	/* inherited: a file alice makes there is readable by bob */
	CHECK_RC(tu_put_text(alice, NULL, "/alice-acl/new", "inherited", 0640), 0);
	CHECK_RC(tu_get_text(bob, NULL, "/alice-acl/new", buf, sizeof(buf)), 0);
	CHECK_RC(sluice_delete(alice, NULL, "/alice-acl", 1), 0);
	sluice_shutdown(alice);
	sluice_shutdown(bob);
}

/* Snapshots through the gateway: made and read there; a node of a snapshot is reached only by
 * who could reach the snapshot's directory (the gateway's reach() through the trash). */
static void test_snapshots(void)
{
	char msg[512], buf[64];
	sluice_volume *alice = client("alice", NULL, msg, sizeof(msg));
	sluice_volume *bob = client("bob", NULL, msg, sizeof(msg));
	REQUIRE(alice && bob);
	CHECK_RC(sluice_mkdir(alice, NULL, "/alice-snap", 0755, 0), 0);
	CHECK_RC(tu_put_text(alice, NULL, "/alice-snap/f", "before", 0644), 0);
	CHECK_RC(sluice_snapshot_create(bob, NULL, "/alice-snap", "s1", NULL, 0), -EACCES);
	CHECK_RC(sluice_snapshot_create(alice, NULL, "/alice-snap", "s1", NULL, 0), 0);
	CHECK_RC(tu_put_text(alice, NULL, "/alice-snap/f", "after", 0644), 0);
	CHECK_RC(tu_get_text(bob, NULL, "/alice-snap/.snapshot/s1/f", buf, sizeof(buf)), 0);
	CHECK(!strcmp(buf, "before"));
	CHECK_RC(tu_put_text(alice, NULL, "/alice-snap/.snapshot/s1/f", "x", 0644), -EPERM);
	/* bob asks for the nodes by number: the gateway checks the way to alice's directory, whose
	 * mode is no longer the snapshot's */
	sluice_stat box, file;
	REQUIRE(sluice_stat_path(alice, NULL, "/alice-snap/.snapshot", &box) == 0);
	REQUIRE(sluice_stat_path(alice, NULL, "/alice-snap/.snapshot/s1/f", &file) == 0);
	struct sl_meta_user mu;
	struct sl_attr attr;
	struct sl_err err = {0};
	sl_vol_user(&bob->core, NULL, &mu);
	CHECK_RC(sl_meta_getattr(bob->core.meta, &mu, file.inode, &attr, &err), 0);
	CHECK_RC(sluice_chmod(alice, NULL, "/alice-snap", 0700), 0);
	CHECK_RC(sl_meta_getattr(bob->core.meta, &mu, file.inode, &attr, &err), -EACCES);
	CHECK_RC(sl_meta_getattr(bob->core.meta, &mu, box.inode, &attr, &err), -EACCES);
	CHECK_RC(tu_get_text(bob, NULL, "/alice-snap/.snapshot/s1/f", buf, sizeof(buf)), -EACCES);
	CHECK_RC(tu_get_text(alice, NULL, "/alice-snap/.snapshot/s1/f", buf, sizeof(buf)), 0);
	CHECK_RC(sluice_snapshot_rename(alice, NULL, "/alice-snap", "s1", "s2"), 0);
	CHECK_RC(sluice_delete(alice, NULL, "/alice-snap", 1), -EPERM);
	CHECK_RC(sluice_snapshot_delete(bob, NULL, "/alice-snap", "s2"), -EACCES);
	CHECK_RC(sluice_snapshot_delete(alice, NULL, "/alice-snap", "s2"), 0);
	CHECK_RC(sluice_delete(alice, NULL, "/alice-snap", 1), 0);
	sluice_shutdown(alice);
	sluice_shutdown(bob);
}

static void test_refusals(void)
{
	char msg[512];
	/* a ticket for another service; the refusal does not tell an unauthenticated peer which
	 * principals the gateway saw (that stays in its log) */
	CHECK(client("alice", "other/localhost@SLUICE.TEST", msg, sizeof(msg)) == NULL);
	CHECK(strstr(msg, "authentication failed") != NULL);
	CHECK(strstr(msg, "alice@") == NULL && strstr(msg, "other/") == NULL);
	/* no credentials at all */
	char ccache[1100];
	snprintf(ccache, sizeof(ccache), "FILE:%s/empty-ccache", kdir);
	sluice_kv conf[] = {{"meta", url}, {"gateway.principal", "sluice/localhost@SLUICE.TEST"},
			    {"kerberos.ccache", ccache}, {"bucket", bucket}};
	sluice_volume *v = NULL;
	CHECK(sluice_init(conf, 4, &v, msg, sizeof(msg)) != 0);
	CHECK(strstr(msg, "redential") != NULL || strstr(msg, "ticket") != NULL);
	/* copies of hflushed blocks need the group key, which no gateway client may have: asking
	 * for them is refused with a message that says so */
	char keytab[1100];
	snprintf(keytab, sizeof(keytab), "%s/alice.keytab", kdir);
	sluice_kv group[] = {{"meta", url}, {"gateway.principal", "sluice/localhost@SLUICE.TEST"},
			     {"kerberos.keytab", keytab}, {"bucket", bucket},
			     {"cache-group.port", "9821"}, {"nodes", "127.0.0.2"},
			     {"cache-group.host", "127.0.0.3"}, {"hflush.replicas", "2"}};
	CHECK(sluice_init(group, sizeof(group) / sizeof(group[0]), &v, msg, sizeof(msg)) != 0);
	CHECK(strstr(msg, "hflush.replicas") != NULL && strstr(msg, "direct access") != NULL);
}

/* ---- the cache group in Kerberos mode --------------------------------------------------------
 * A server of the group (direct access, as `sluice cache-server` has) on 127.0.0.2; Kerberos
 * clients on 127.0.0.9 read from it with a ticket per block from the gateway. The server reads
 * through what it does not hold (such a client may not offer blocks), so the first reader gets
 * every block from it; no forged, altered or expired ticket is honoured. */
#define GROUP_BLOCKS 3
static char group_port[16];

static sluice_volume *group_client(const char *who)
{
	char keytab[1100], msg[512];
	snprintf(keytab, sizeof(keytab), "%s/%s.keytab", kdir, who);
	sluice_kv conf[] = {{"meta", url}, {"gateway.principal", "sluice/localhost@SLUICE.TEST"},
			    {"kerberos.keytab", keytab}, {"bucket", bucket},
			    {"nodes", "127.0.0.2"}, {"cache-group.port", group_port},
			    {"cache-group.host", "127.0.0.9"}, {"cache-group.timeout", "10000"}};
	sluice_volume *v = NULL;
	if (sluice_init(conf, sizeof(conf) / sizeof(conf[0]), &v, msg, sizeof(msg)))
		fprintf(stderr, "group client: %s\n", msg);
	return v;
}

static uint8_t group_byte(size_t i)
{
	return (uint8_t)(i * 2654435761u >> 11);
}

/* A ticketed GET of bytes [0, 100) of key, signed with the key of the ticket for (ticket_for,
 * expiry) - or with a wrong key: the answer's status, or -1 when the server closed the
 * connection without answering. */
static int raw_ticketed_get(const uint8_t group[SL_META_KEY_BYTES], const char *key,
			    const char *ticket_for, int64_t expiry, bool wrong_key)
{
	char ticket[256];
	struct sl_err err = {0};
	REQUIRE(sl_peers_ticket(group, ticket_for, expiry, ticket, sizeof(ticket), &err) == 0);
	uint8_t t[32];
	const char *hex = strrchr(ticket, ':') + 1;
	for (int i = 0; i < 32; i++) {
		unsigned x;
		REQUIRE(sscanf(hex + 2 * i, "%2x", &x) == 1);
		t[i] = (uint8_t)(x ^ (wrong_key && i == 0));
	}
	size_t klen = strlen(key), n = 8 + klen + 8 + 32;
	uint8_t req[8 + 512 + 40 + 32] = {'S', 'L', 'P', 'G', 1, 4};
	req[6] = (uint8_t)(klen >> 8);
	req[7] = (uint8_t)klen;
	memcpy(req + 8, key, klen);
	int64_t now = (int64_t)time(NULL);
	uint8_t *tail = req + 8 + klen;
	for (int i = 0; i < 8; i++) {
		tail[i] = (uint8_t)((uint64_t)now >> (56 - 8 * i));
		tail[16 + i] = (uint8_t)((uint64_t)expiry >> (56 - 8 * i));
	}
	tail[8 + 7] = 100; /* offset 0, length 100; then the expiry; place (0, 0) */
	unsigned mlen = 0;
	REQUIRE(HMAC(EVP_sha256(), t, 32, req, n, req + n, &mlen) && mlen == 32);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(group_port))};
	inet_pton(AF_INET, "127.0.0.2", &sa.sin_addr);
	REQUIRE(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	REQUIRE(write(fd, req, n + 32) == (ssize_t)(n + 32));
	uint8_t status;
	ssize_t got = read(fd, &status, 1);
	close(fd);
	return got == 1 ? status : -1;
}

static void test_cache_group(const char *meta, const char *dir)
{
	snprintf(group_port, sizeof(group_port), "%d", tu_free_port("127.0.0.2"));
	char cache[1100], msg[512];
	snprintf(cache, sizeof(cache), "%s/group-server-cache", dir);
	sluice_kv sconf[] = {{"meta", meta}, {"cache-dir", cache}, {"nodes", "127.0.0.2"},
			     {"cache-group.port", group_port}, {"cache-group.host", "127.0.0.2"},
			     {"free-space-ratio", "0"}, {"cache-writers", "0"}};
	sluice_volume *srv = NULL;
	REQUIRE(sluice_init(sconf, sizeof(sconf) / sizeof(sconf[0]), &srv, msg, sizeof(msg)) == 0);
	REQUIRE(sl_peers_serving(srv->core.peers));

	/* alice writes a file of GROUP_BLOCKS blocks through the gateway (no group) */
	char err_msg[512];
	sluice_volume *w = client("alice", NULL, err_msg, sizeof(err_msg));
	REQUIRE(w);
	size_t len = GROUP_BLOCKS * (size_t)srv->core.layout.block_size - 1000;
	uint8_t *data = malloc(len), *back = malloc(len);
	REQUIRE(data && back);
	for (size_t i = 0; i < len; i++)
		data[i] = group_byte(i);
	sluice_file *f;
	REQUIRE(sluice_open(w, NULL, "/alice/grouped", SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0600, 0,
			    &f) == 0);
	CHECK_RC(sluice_write(f, data, len), (long long)len);
	CHECK_RC(sluice_close(f), 0);
	sluice_shutdown(w);

	/* a reader in the group: every block from the server, which read them through */
	for (int round = 0; round < 2; round++) {
		sluice_volume *r = group_client("alice");
		REQUIRE(r && r->core.peers);
		REQUIRE(sluice_open(r, NULL, "/alice/grouped", SLUICE_O_READ, 0, 0, &f) == 0);
		CHECK_RC(sluice_pread(f, back, len, 0), (long long)len);
		sluice_close(f);
		CHECK(memcmp(back, data, len) == 0);
		CHECK_RC(atomic_load(&sl_peers_stats(r->core.peers)->fetched), GROUP_BLOCKS);
		sluice_shutdown(r);
	}
	CHECK(atomic_load(&sl_peers_stats(srv->core.peers)->served) >= 2 * GROUP_BLOCKS);
	uint64_t cached = 0;
	sl_diskcache_usage(srv->core.disk, NULL, &cached, NULL);
	CHECK(cached >= GROUP_BLOCKS);

	/* tickets: a valid one is served, an expired one refused with an answer, a forged one
	 * (wrong key) or one for another block gets no answer at all */
	uint8_t group[SL_META_KEY_BYTES];
	struct sl_err err = {0};
	REQUIRE(sl_peers_group_key(srv->core.meta, group, &err) == 0);
	struct sl_slice *ss = NULL;
	size_t ns = 0;
	sluice_stat st;
	const sluice_user hdfs = {.name = "hdfs"}; /* the superuser: /alice is alice's alone */
	REQUIRE(sluice_stat_path(srv, &hdfs, "/alice/grouped", &st) == 0);
	REQUIRE(sl_meta_read_chunk(srv->core.meta, NULL, st.inode, 0, &ss, &ns,
				   &err) == 0 && ns >= 1);
	char key[SL_KEY_MAX], other[SL_KEY_MAX];
	sl_block_key(&srv->core.layout, ss[0].id, 0, ss[0].size, key);
	sl_block_key(&srv->core.layout, ss[0].id, 1, ss[0].size, other);
	free(ss);
	int64_t now = (int64_t)time(NULL);
	uint64_t refused0 = atomic_load(&sl_peers_stats(srv->core.peers)->refused);
	CHECK_RC(raw_ticketed_get(group, key, key, now + 60, false), 0);
	CHECK_RC(raw_ticketed_get(group, key, key, now - 1, false), EACCES);
	CHECK_RC(raw_ticketed_get(group, key, key, now + 60, true), -1);
	CHECK_RC(raw_ticketed_get(group, key, other, now + 60, false), -1);
	CHECK_RC(atomic_load(&sl_peers_stats(srv->core.peers)->refused) - refused0, 3);
	free(data);
	free(back);
	sluice_shutdown(srv);
}

/* Protection is each end's own demand, never negotiated in the clear: a gateway requiring privacy
 * serves a client configured for integrity by answering encrypted (the client then follows), and
 * refuses a message that arrives integrity-protected only. */
static void test_protection(void)
{
	char msg[512], buf[64];
	char purl[64];
	snprintf(purl, sizeof(purl), "gateway://127.0.0.1:%d", private_port);
	sluice_volume *a = client_at("alice", NULL, purl, "integrity", msg, sizeof(msg));
	CHECK(a != NULL);
	if (a) {
		CHECK_RC(tu_get_text(a, NULL, "/alice/private", buf, sizeof(buf)), 0);
		sluice_shutdown(a);
	}
	/* a client demanding privacy of a gateway that asks only integrity gets it */
	a = client_at("alice", NULL, url, "privacy", msg, sizeof(msg));
	CHECK(a != NULL);
	if (a) {
		CHECK_RC(tu_get_text(a, NULL, "/alice/private", buf, sizeof(buf)), 0);
		sluice_shutdown(a);
	}

	/* by hand: an integrity-only request sent before the encrypted welcome is read */
	char keytab[1100], p[16];
	snprintf(keytab, sizeof(keytab), "%s/alice.keytab", kdir);
	snprintf(p, sizeof(p), "%d", private_port);
	struct sl_gss_client_conf gc = {.service = "sluice/localhost@SLUICE.TEST", .keytab = keytab};
	struct sl_rpc_conn c = {.fd = -1, .max_frame = 1 << 20, .timeout_ms = 5000};
	struct sl_err err = {0};
	REQUIRE(sl_rpc_connect("127.0.0.1", p, 2000, &c.fd, &err) == 0);
	CHECK_RC(sl_rpc_client_handshake(&c, &gc, &err), 0);
	struct sl_wbuf w = {0};
	sl_w_u16(&w, 1);
	sl_w_str(&w, NULL);
	CHECK_RC(sl_rpc_send(&c, &w, &err), 0);
	sl_wbuf_free(&w);
	void *m = NULL;
	size_t len = 0;
	CHECK_RC(sl_rpc_recv(&c, 5000, &m, &len, &err), 0); /* the welcome */
	free(m);
	m = NULL;
	CHECK(sl_rpc_recv(&c, 5000, &m, &len, &err) == -ECONNRESET); /* no answer: hung up */
	free(m);
	sl_rpc_conn_close(&c);
}

/* Raw bytes at the gateway: it must answer or hang up, and go on serving others. */
/* Runs one hand-made request (then frees it) through the dispatcher as `who` (already
 * authenticated); its status. */
static int dispatch_status(struct sl_gateway *gw, const char *who, struct sl_wbuf *req)
{
	struct sl_wbuf resp = {0};
	struct sl_gw_caller caller = {.name = who, .addr = "127.0.0.1"};
	sl_gw_dispatch(gw, &caller, req->p, req->len, &resp);
	struct sl_rbuf r = sl_rbuf_of(resp.p, resp.len);
	int status = (int)sl_r_u32(&r);
	sl_wbuf_free(req);
	sl_wbuf_free(&resp);
	return status;
}

/* One request through the dispatcher as `who` (already authenticated); its status. */
static int session_op(struct sl_gateway *gw, const char *who, uint16_t op, uint64_t sid)
{
	struct sl_wbuf req = {0};
	sl_w_u16(&req, op);
	sl_w_str(&req, NULL);
	sl_w_u64(&req, sid);
	if (op == SL_OP_REFRESH_SESSION)
		sl_w_i64(&req, 60);
	return dispatch_status(gw, who, &req);
}

/* A request naming an inode, through the dispatcher as `who`; its status. args: u64 values (the
 * inode first), then for LOOKUP/MKNOD a name, for MKNOD a symlink's type, mode, flags, target. */
static int inode_op(struct sl_gateway *gw, const char *who, uint16_t op, uint64_t ino,
		    const char *name)
{
	struct sl_wbuf req = {0};
	sl_w_u16(&req, op);
	sl_w_str(&req, NULL);
	sl_w_u64(&req, ino);
	switch (op) {
	case SL_OP_LOOKUP:
		sl_w_str(&req, name);
		break;
	case SL_OP_MKNOD:
		sl_w_str(&req, name);
		sl_w_u8(&req, 3); /* a symlink */
		sl_w_u16(&req, 0777);
		sl_w_u32(&req, 0);
		sl_w_str(&req, "private");
		break;
	case SL_OP_READDIR:
		sl_w_str(&req, NULL);
		sl_w_u32(&req, 10);
		break;
	case SL_OP_READ_CHUNK:
		sl_w_u32(&req, 0);
		break;
	case SL_OP_GETXATTR:
		sl_w_str(&req, "user.x");
		break;
	default:
		break;
	}
	return dispatch_status(gw, who, &req);
}

/* Inode numbers are no key: bob cannot get at what lies in alice's 0700 directory by naming its
 * inodes, while alice (and the superuser) can. */
static void test_inode_requests(struct sl_gateway *gw)
{
	char msg[512];
	sluice_volume *alice = client("alice", NULL, msg, sizeof(msg));
	REQUIRE(alice != NULL);
	sluice_stat dir, file, pub;
	REQUIRE(sluice_stat_path(alice, NULL, "/alice", &dir) == 0);
	REQUIRE(sluice_stat_path(alice, NULL, "/alice/private", &file) == 0);
	REQUIRE(sluice_stat_path(alice, NULL, "/pub", &pub) == 0);
	CHECK_RC(inode_op(gw, "alice", SL_OP_MKNOD, dir.inode, "link"), 0);
	sluice_stat link;
	REQUIRE(sluice_lstat(alice, NULL, "/alice/link", &link) == 0);
	static const uint16_t on_file[] = {SL_OP_GETATTR, SL_OP_READ_CHUNK, SL_OP_LISTXATTR,
					   SL_OP_GETXATTR, SL_OP_SUMMARY};
	for (size_t i = 0; i < sizeof(on_file) / sizeof(on_file[0]); i++) {
		CHECK_RC(inode_op(gw, "bob", on_file[i], file.inode, NULL), -EACCES);
		int rc = inode_op(gw, "alice", on_file[i], file.inode, NULL);
		CHECK(rc == 0 || (on_file[i] == SL_OP_GETXATTR && rc == -ENODATA));
	}
	CHECK_RC(inode_op(gw, "bob", SL_OP_READLINK, link.inode, NULL), -EACCES);
	CHECK_RC(inode_op(gw, "alice", SL_OP_READLINK, link.inode, NULL), 0);
	CHECK_RC(inode_op(gw, "carol", SL_OP_READLINK, link.inode, NULL), 0); /* superuser */
	/* the directory itself: bob may reach it (the root is searchable), not list or enter it */
	CHECK_RC(inode_op(gw, "bob", SL_OP_GETATTR, dir.inode, NULL), 0);
	CHECK_RC(inode_op(gw, "bob", SL_OP_READDIR, dir.inode, NULL), -EACCES);
	CHECK_RC(inode_op(gw, "bob", SL_OP_LOOKUP, dir.inode, "private"), -EACCES);
	CHECK_RC(inode_op(gw, "bob", SL_OP_GETATTR, pub.inode, NULL), 0);
	/* once alice opens the directory for search, bob gets in */
	CHECK_RC(sluice_chmod(alice, NULL, "/alice", 0711), 0);
	CHECK_RC(inode_op(gw, "bob", SL_OP_GETATTR, file.inode, NULL), 0);
	CHECK_RC(inode_op(gw, "bob", SL_OP_READ_CHUNK, file.inode, NULL), -EACCES); /* 0600 */
	CHECK_RC(sluice_chmod(alice, NULL, "/alice", 0700), 0);
	CHECK_RC(inode_op(gw, "bob", SL_OP_GETATTR, file.inode, NULL), -EACCES);
	CHECK_RC(inode_op(gw, "bob", SL_OP_GETATTR, 1u << 30, NULL), -ENOENT);
	CHECK_RC(sluice_delete(alice, NULL, "/alice/link", 0), 0);
	sluice_shutdown(alice);
}

/* Sessions belong to their opener: nobody else refreshes or closes them, and the gateways' own
 * sessions (1 and 2: they started first) belong to no client. */
static void test_sessions(struct sl_gateway *gw)
{
	char msg[512];
	sluice_volume *alice = client("alice", NULL, msg, sizeof(msg));
	REQUIRE(alice != NULL);
	sluice_volume_info info;
	CHECK_RC(sluice_volume_get_info(alice, &info), 0);
	uint64_t sid = info.session_id;
	CHECK(sid > 2);
	CHECK_RC(session_op(gw, "bob", SL_OP_CLOSE_SESSION, sid), -EPERM);
	CHECK_RC(session_op(gw, "bob", SL_OP_REFRESH_SESSION, sid), -EPERM);
	CHECK_RC(session_op(gw, "alice", SL_OP_CLOSE_SESSION, 1), -EPERM);
	CHECK_RC(session_op(gw, "alice", SL_OP_CLOSE_SESSION, 2), -EPERM);
	CHECK_RC(session_op(gw, "alice", SL_OP_CLOSE_SESSION, 1u << 30), -ENOENT);
	CHECK_RC(session_op(gw, "alice", SL_OP_REFRESH_SESSION, sid), 0);
	CHECK_RC(sluice_shutdown(alice), 0); /* closes its own */
	CHECK_RC(session_op(gw, "alice", SL_OP_REFRESH_SESSION, sid), -ENOENT);
}

/* A lease request through the dispatcher as `who`: LEASE_ACQUIRE (ino, sid), LEASE_RELEASE or
 * WRITE_CHUNK with a lease (ino, sid, gen); its status. */
static int lease_op(struct sl_gateway *gw, const char *who, uint16_t op, uint64_t ino,
		    uint64_t sid, uint64_t gen)
{
	struct sl_wbuf req = {0};
	sl_w_u16(&req, op);
	sl_w_str(&req, NULL);
	sl_w_u64(&req, ino);
	if (op == SL_OP_WRITE_CHUNK) {
		sl_w_u32(&req, 0);
		sl_w_slice(&req, &(struct sl_slice){.id = 1u << 30, .size = 1, .len = 1});
		sl_w_i64(&req, 0);
		sl_w_grant(&req, NULL);
	}
	sl_w_u64(&req, sid);
	if (op != SL_OP_LEASE_ACQUIRE)
		sl_w_u64(&req, gen);
	return dispatch_status(gw, who, &req);
}

/* Writer leases through the gateway: recovery fences the old writer (two clients of one user,
 * as a region server and the HBase master may be), and a client uses only leases of its own
 * sessions. */
static void test_leases(struct sl_gateway *gw)
{
	char msg[512], buf[256];
	sluice_volume *a = client("alice", NULL, msg, sizeof(msg));
	sluice_volume *b = client("alice", NULL, msg, sizeof(msg));
	sluice_volume *bob = client("bob", NULL, msg, sizeof(msg));
	REQUIRE(a && b && bob);
	CHECK_RC(sluice_mkdir(a, NULL, "/leases", 0755, 0), 0);
	sluice_file *fa, *fb;
	REQUIRE(sluice_open(a, NULL, "/leases/wal", SLUICE_O_CREATE, 0644, 0, &fa) == 0);
	CHECK(fa->leased);
	/* a create (one MKNOD_LEASED) over an existing entry: the gateway's answer names it */
	CHECK_RC(sluice_open(b, NULL, "/leases/wal", SLUICE_O_CREATE | SLUICE_O_EXCL, 0644, 0, &fb),
		 -EEXIST);
	CHECK(strstr(sluice_last_error(b), "exists") != NULL);
	CHECK_RC(sluice_open(b, NULL, "/leases", SLUICE_O_CREATE | SLUICE_O_OVERWRITE, 0644, 0, &fb),
		 -EISDIR);
	CHECK_RC(sluice_write(fa, "first;", 6), 6);
	CHECK_RC(sluice_hflush(fa), 0);
	CHECK_RC(sluice_is_file_closed(b, NULL, "/leases/wal"), 0);
	CHECK_RC(sluice_is_file_closed(bob, NULL, "/leases/wal"), 0);
	CHECK_RC(sluice_open(b, NULL, "/leases/wal", SLUICE_O_APPEND, 0, 0, &fb), -ETXTBSY);
	CHECK_RC(sluice_recover_lease(bob, NULL, "/leases/wal"), -EACCES); /* cannot write it */

	/* nobody uses a lease of alice's sessions but alice: not to take, end or write with */
	CHECK_RC(lease_op(gw, "bob", SL_OP_LEASE_ACQUIRE, fa->ino, fa->lease.sid, 0), -EPERM);
	struct sl_wbuf req = {0};
	sl_w_u16(&req, SL_OP_MKNOD_LEASED);
	sl_w_str(&req, NULL);
	sl_w_mknod_leased(&req, &(struct sl_rpc_mknod_leased){.parent = SL_ROOT_INO, .name = "bobs",
							       .mode = 0644, .sid = fa->lease.sid});
	CHECK_RC(dispatch_status(gw, "bob", &req), -EPERM);
	CHECK_RC(lease_op(gw, "bob", SL_OP_LEASE_RELEASE, fa->ino, fa->lease.sid, fa->lease.gen),
		 -EPERM);
	CHECK_RC(lease_op(gw, "carol", SL_OP_WRITE_CHUNK, fa->ino, fa->lease.sid, fa->lease.gen),
		 -EPERM);
	CHECK_RC(lease_op(gw, "alice", SL_OP_LEASE_RELEASE, fa->ino, fa->lease.sid,
			  fa->lease.gen + 1), -ENOLCK); /* not this stream's */

	CHECK_RC(sluice_recover_lease(b, NULL, "/leases/wal"), 1);
	CHECK_RC(sluice_is_file_closed(bob, NULL, "/leases/wal"), 1);
	CHECK_RC(sluice_write(fa, "late;", 5), 5);
	CHECK_RC(sluice_hflush(fa), -ENOLCK);
	CHECK(strstr(sluice_last_error(a), "recovered") != NULL);
	CHECK_RC(sluice_close(fa), -ENOLCK);
	CHECK_RC(tu_get_text(b, NULL, "/leases/wal", buf, sizeof(buf)), 0);
	CHECK(!strcmp(buf, "first;"));
	/* the recovering client carries on writing the file */
	REQUIRE(sluice_open(b, NULL, "/leases/wal", SLUICE_O_APPEND, 0, 0, &fb) == 0);
	CHECK_RC(sluice_write(fb, "second;", 7), 7);
	CHECK_RC(sluice_is_file_closed(a, NULL, "/leases/wal"), 0);
	CHECK_RC(sluice_close(fb), 0);
	CHECK_RC(sluice_is_file_closed(a, NULL, "/leases/wal"), 1);
	CHECK_RC(tu_get_text(bob, NULL, "/leases/wal", buf, sizeof(buf)), 0);
	CHECK(!strcmp(buf, "first;second;"));
	CHECK_RC(sluice_delete(a, NULL, "/leases", 1), 0);
	sluice_shutdown(a);
	sluice_shutdown(b);
	sluice_shutdown(bob);
}

/* A gateway at its connection limit tells every further client so, never a broken pipe. */
static void test_connection_limit(int limited_port)
{
	char keytab[1100], p[16], msg[512];
	snprintf(keytab, sizeof(keytab), "%s/alice.keytab", kdir);
	snprintf(p, sizeof(p), "%d", limited_port);
	struct sl_gss_client_conf gc = {.service = "sluice/localhost@SLUICE.TEST", .keytab = keytab};
	struct sl_rpc_conn held[2];
	struct sl_err err = {0};
	for (int i = 0; i < 2; i++) {
		held[i] = (struct sl_rpc_conn){.fd = -1, .max_frame = 1 << 20, .timeout_ms = 5000};
		REQUIRE(sl_rpc_connect("127.0.0.1", p, 2000, &held[i].fd, &err) == 0);
		CHECK_RC(sl_rpc_client_handshake(&held[i], &gc, &err), 0);
	}
	char lurl[64];
	snprintf(lurl, sizeof(lurl), "gateway://127.0.0.1:%d", limited_port);
	for (int i = 0; i < 10; i++) {
		sluice_volume *v = client_at("alice", NULL, lurl, "integrity", msg, sizeof(msg));
		CHECK(v == NULL);
		if (v)
			sluice_shutdown(v);
		if (!strstr(msg, "serves 2 connections already"))
			fprintf(stderr, "try %d: %s\n", i, msg);
		CHECK(strstr(msg, "serves 2 connections already") != NULL);
	}
	sl_rpc_conn_close(&held[0]);
	usleep(200000); /* the gateway notices the hang-up */
	sluice_volume *v = client_at("alice", NULL, lurl, "integrity", msg, sizeof(msg));
	CHECK(v != NULL);
	if (v)
		sluice_shutdown(v);
	sl_rpc_conn_close(&held[1]);
}

static void test_bad_traffic(void)
{
	struct sl_err err = {0};
	char p[16];
	snprintf(p, sizeof(p), "%d", port);
	static const char *const junk[] = {
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"\x00\x00\x00\x08SLGW\x00\x01\x01\x00", /* a proper opening, then nothing */
		"\x7f\xff\xff\xff",                     /* an oversized frame */
		"\x00\x00\x00\x08SLGW\x00\x09\x01\x00", /* an unknown version */
		"\x00\x00\x00\x08SLGW\x00\x01\x01\x00\x00\x00\x00\x05\x00\x01\x02\x03\x04", /* a bad token */
	};
	static const size_t lens[] = {27, 12, 4, 12, 21};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		int fd;
		REQUIRE(sl_rpc_connect("127.0.0.1", p, 2000, &fd, &err) == 0);
		CHECK(write(fd, junk[i], lens[i]) == (ssize_t)lens[i]);
		/* the gateway ends the connection within its handshake timeout (2 s here) */
		char buf[4096];
		ssize_t n;
		int rounds = 0;
		for (;;) {
			usleep(50000);
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN) || ++rounds > 100)
				break;
		}
		CHECK(rounds <= 100);
		close(fd);
	}
	/* still serving */
	char msg[512];
	sluice_volume *alice = client("alice", NULL, msg, sizeof(msg));
	CHECK(alice != NULL);
	if (alice)
		sluice_shutdown(alice);
}

int main(void)
{
	kdir = tu_service_env("SLUICE_TEST_KRB5_DIR");
	char *dir = tu_tempdir("gateway");
	char meta[1100], keytab[1100], rcache[1100];
	snprintf(meta, sizeof(meta), "sqlite3://%s/meta.db", dir);
	snprintf(bucket, sizeof(bucket), "%s/data", dir);
	snprintf(keytab, sizeof(keytab), "%s/gateway.keytab", kdir);
	snprintf(rcache, sizeof(rcache), "%s/rcache", dir);
	char msg[1024];
	sluice_format_options fo = {.meta_url = meta, .name = "gwvol", .storage = "file",
				    .bucket = bucket, .trash_days = 0, .enable_acl = 1};
	REQUIRE(sluice_format(&fo, msg, sizeof(msg)) == 0);

	sluice_kv conf[] = {
		{"meta", meta},
		{"gateway.listen", "127.0.0.1:0"},
		{"gateway.keytab", keytab},
		{"gateway.principal", "sluice/localhost@SLUICE.TEST"},
		{"gateway.rcache", rcache},
		{"gateway.handshake-timeout", "2"},
		{"superuser", "hdfs"},
		{"group-mapping.static", "alice=alice,staff;bob=bob;hive=hive;carol=carol,supergroup"},
		{"proxyuser.hive.hosts", "127.0.0.1"},
		{"proxyuser.hive.users", "alice"},
		{"gateway.protection", "integrity"},
	};
	size_t nconf = sizeof(conf) / sizeof(conf[0]);
	struct served s, s2, s3;
	tu_serve(&s, conf, nconf, NULL);
	port = s.port;
	snprintf(url, sizeof(url), "%s", s.url);
	/* a second gateway on the same volume (they keep no state of their own) */
	conf[nconf - 1] = (sluice_kv){"gateway.protection", "privacy"};
	tu_serve(&s2, conf, nconf, NULL);
	private_port = s2.port;
	/* a third that serves two connections at a time */
	conf[nconf - 1] = (sluice_kv){"gateway.max-connections", "2"};
	tu_serve(&s3, conf, nconf, NULL);

	test_sessions(s.gw);
	test_users();
	test_recursive_delete();
	test_quotas(s.gw);
	test_acls();
	test_snapshots();
	test_inode_requests(s.gw);
	test_leases(s.gw);
	test_protection();
	test_refusals();
	test_bad_traffic();
	test_connection_limit(s3.port);
	test_cache_group(meta, dir);

	tu_unserve(&s);
	tu_unserve(&s2);
	tu_unserve(&s3);
	free(dir);
	return tu_finish("test_gateway");
}
