/*
 * data.c - the gateway's part of data access. Slice grants: every batch of slice ids a client
 * takes comes with an HMAC over (first id, count, issue time, the authenticated caller) under a
 * key derived from a random secret the volume's database keeps, so every gateway of the volume
 * checks them alike and none keeps state. A client shows the grant of a slice to have its blocks
 * presigned for upload (PUT) and to commit it into a file (WRITE_CHUNK, a compaction's
 * replacement: sl_gw_check_new_slice), so that nobody places an id into a file that was not
 * handed to them. Presigned URLs: a short-lived URL for exactly one block, GET/HEAD when the
 * acting user may read the chunk that lists the block's slice (the read_chunk slot decides, with
 * its own permission rule) - or, for those reads, PEER: a ticket for the cache group's servers
 * (vfs/peer.c) -, PUT when the block belongs to a slice granted to the caller. DELETE is
 * never signed: the gateway deletes.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define GRANT_KEY_LABEL "sluice slice grant v2"
_Static_assert(SL_GRANT_MAC_BYTES == SL_META_KEY_BYTES, "the grant key is a volume key");
#define GRANT_SKEW_S 300 /* how far in the future another gateway's clock may date a grant */
#define GRANT_LIFETIME_MAX (366 * 86400)

int sl_gw_data_setup(struct sl_gateway *gw, struct sl_err *err)
{
	struct sl_volume_core *v = &gw->vol->core;
	uint64_t expiry, lifetime;
	int rc;
	if ((rc = sl_conf_u64(v->conf, "gateway.presign-expiry", &expiry, err)) ||
	    (rc = sl_conf_u64(v->conf, "gateway.grant-lifetime", &lifetime, err)))
		return rc;
	if (!expiry || expiry > SL_PRESIGN_EXPIRES_MAX)
		return sl_errf(err, -EINVAL, "config key 'gateway.presign-expiry' must be 1-%d "
			       "seconds", SL_PRESIGN_EXPIRES_MAX);
	if (!lifetime || lifetime > GRANT_LIFETIME_MAX)
		return sl_errf(err, -EINVAL, "config key 'gateway.grant-lifetime' must be 1-%d "
			       "seconds", GRANT_LIFETIME_MAX);
	gw->presign_expiry_s = (int)expiry;
	gw->grant_lifetime_s = (int64_t)lifetime;
	if ((rc = sl_meta_volume_key(v->meta, GRANT_KEY_LABEL, gw->grant_key, err)))
		return sl_err_wrap(err, "deriving the slice grant key");
	if ((rc = sl_peers_group_key(v->meta, gw->group_key, err)))
		return sl_err_wrap(err, "deriving the cache group key");
	struct sl_obj_config oc;
	if ((rc = sl_vol_obj_config(v, &oc, err)))
		return rc;
	struct sl_err why = {0};
	if (sl_presigner_new(&oc, &gw->presigner, &why)) {
		snprintf(gw->presign_why, sizeof(gw->presign_why), "%s", why.msg);
		sl_log(&v->log, SL_LOG_INFO, "gateway: clients get no presigned URLs: %s", why.msg);
	}
	return 0;
}

void sl_gw_data_free(struct sl_gateway *gw)
{
	sl_presigner_free(gw->presigner);
	gw->presigner = NULL;
	OPENSSL_cleanse(gw->grant_key, sizeof(gw->grant_key));
	OPENSSL_cleanse(gw->group_key, sizeof(gw->group_key));
}

/* HMAC-SHA256 over u64 first, u32 count, i64 issued, str principal (the wire encoding, so that no
 * two inputs share bytes). */
bool sl_gw_grant_mac(const uint8_t key[SL_GRANT_MAC_BYTES], const char *principal,
		     const struct sl_slice_grant *g, uint8_t mac[SL_GRANT_MAC_BYTES])
{
	struct sl_wbuf w = {0};
	sl_w_u64(&w, g->first);
	sl_w_u32(&w, g->count);
	sl_w_i64(&w, g->issued);
	sl_w_str(&w, principal);
	unsigned len = 0;
	bool ok = !w.oom && HMAC(EVP_sha256(), key, SL_GRANT_MAC_BYTES, w.p, w.len, mac, &len) &&
		  len == SL_GRANT_MAC_BYTES;
	sl_wbuf_free(&w);
	return ok;
}

bool sl_gw_grant(const struct sl_gateway *gw, const char *principal, uint64_t first,
		 uint32_t count, struct sl_slice_grant *out)
{
	*out = (struct sl_slice_grant){.first = first, .count = count,
				       .issued = sl_clock_real_s(gw->vol->core.clock)};
	return sl_gw_grant_mac(gw->grant_key, principal, out, out->mac);
}

/* g (NULL: none shown) is a grant a gateway of this volume issued to the caller, recently
 * enough, and its range holds slice id. `what` names the request for the message. */
static int check_grant(const struct sl_gateway *gw, const struct sl_gw_caller *caller,
		       const struct sl_slice_grant *g, uint64_t id, const char *what,
		       struct sl_err *err)
{
	uint8_t want[SL_GRANT_MAC_BYTES];
	if (!g || !g->count || g->first + g->count < g->first)
		return sl_errf(err, -EPERM, "%s: no slice grant; slices may be written only with "
			       "the ids a gateway hands out", what);
	if (!sl_gw_grant_mac(gw->grant_key, caller->name, g, want))
		return sl_errf(err, -ENOMEM, "out of memory");
	if (CRYPTO_memcmp(want, g->mac, sizeof(want)))
		return sl_errf(err, -EPERM, "%s: the slice grant was not issued to %s by a gateway "
			       "of this volume (altered, forged, or another user's)", what,
			       caller->name);
	int64_t now = sl_clock_real_s(gw->vol->core.clock);
	if (g->issued > now + GRANT_SKEW_S || now - g->issued > gw->grant_lifetime_s)
		return sl_errf(err, -EPERM, "%s: the slice grant was issued %" PRId64 " s ago; "
			       "grants last gateway.grant-lifetime = %" PRId64 " s", what,
			       now - g->issued, gw->grant_lifetime_s);
	if (id < g->first || id - g->first >= g->count)
		return sl_errf(err, -EPERM, "%s: slice %" PRIu64 " is not among the ids granted "
			       "(%" PRIu64 "-%" PRIu64 ")", what, id, g->first,
			       g->first + g->count - 1);
	return 0;
}

/* The size of a new slice is what its PUTs stored. The key of its last block spells the size
 * (the block's index and length), so that object must exist and, on a volume without
 * compression, hold exactly that many bytes (a compressed block holds at most the bound). One
 * HEAD, whatever the slice's size; the full blocks before it have keys that do not depend on the
 * size. */
static int check_stored(struct sl_gateway *gw, const struct sl_slice *s, struct sl_err *err)
{
	const struct sl_chunk_layout *l = &gw->vol->core.layout;
	uint32_t last = sl_block_count(l, s->size) - 1;
	uint32_t blen = sl_block_len(l, s->size, last);
	char key[SL_KEY_MAX];
	sl_block_key(l, s->id, last, s->size, key);
	struct sl_obj_info info = {0};
	int rc = sl_obj_head(gw->vol->core.store, key, &info, err);
	if (rc == -ENOENT)
		return sl_errf(err, -EINVAL, "slice %" PRIu64 " of %u bytes: its last block %s is "
			       "not in object storage (a slice is committed after its blocks were "
			       "uploaded, with the size they were stored with)", s->id, s->size, key);
	if (rc) {
		sl_err_wrap(err, "checking the blocks of slice %" PRIu64, s->id);
		return sl_err_internal(err, rc);
	}
	bool fits = sl_block_stored_plain(l)
			    ? info.size == blen
			    : info.size > 0 && info.size <= sl_block_stored_bound(l, blen);
	if (!fits)
		return sl_errf(err, -EINVAL, "slice %" PRIu64 " of %u bytes: its last block %s holds "
			       "%" PRIu64 " bytes, which is no block of %u bytes", s->id, s->size, key,
			       info.size, blen);
	return 0;
}

int sl_gw_check_new_slice(struct sl_gateway *gw, const struct sl_gw_caller *caller,
			  const struct sl_slice_grant *g, const struct sl_slice *s,
			  struct sl_err *err)
{
	if (!s->id || !s->len || !s->size || s->size > SL_CHUNK_SIZE ||
	    (uint64_t)s->off + s->len > s->size || (uint64_t)s->pos + s->len > SL_CHUNK_SIZE)
		return sl_errf(err, -EINVAL, "invalid slice (id %" PRIu64 ", pos %u, size %u, off "
			       "%u, len %u)", s->id, s->pos, s->size, s->off, s->len);
	char what[64];
	snprintf(what, sizeof(what), "commit of slice %" PRIu64, s->id);
	int rc = check_grant(gw, caller, g, s->id, what, err);
	return rc ? rc : check_stored(gw, s, err);
}

/* GET/HEAD: u may reach p->ino and read its chunk p->indx (exactly the checks of a READ_CHUNK
 * request), and one of its slices has this block. */
static int check_read(struct sl_gateway *gw, const struct sl_meta_user *u,
		      const struct sl_gw_presign_req *p, uint64_t id, uint32_t bindx, uint32_t blen,
		      struct sl_err *err)
{
	struct sl_meta *m = gw->vol->core.meta;
	const struct sl_chunk_layout *l = &gw->vol->core.layout;
	struct sl_slice *ss = NULL;
	size_t n = 0;
	int rc = sl_meta_reach(m, u, p->ino, err);
	if (!rc)
		rc = sl_meta_read_chunk(m, u, p->ino, p->indx, &ss, &n, err);
	if (rc)
		return rc;
	bool found = false;
	for (size_t i = 0; i < n && !found; i++)
		found = ss[i].id == id && bindx < sl_block_count(l, ss[i].size) &&
			sl_block_len(l, ss[i].size, bindx) == blen;
	free(ss);
	if (!found) /* -ENOENT: a reader re-reads the chunk, as for a block a compaction replaced */
		return sl_errf(err, -ENOENT, "%s is not a block of chunk %u of inode %" PRIu64
			       " (any more)", p->key, p->indx, p->ino);
	return 0;
}

/* PUT: the grant is one a gateway of this volume issued to this caller, recently enough, and
 * its range holds the block's slice. */
static int check_put(struct sl_gateway *gw, const struct sl_gw_caller *caller,
		     const struct sl_gw_presign_req *p, uint64_t id, struct sl_err *err)
{
	char what[SL_RPC_MAX_KEY + 8];
	snprintf(what, sizeof(what), "PUT %s", p->key);
	return check_grant(gw, caller, p->has_mac ? &p->grant : NULL, id, what, err);
}

/* The data key of an encrypted block, from the wrapped key at the start of the object as stored
 * (never from the client, who could pass the wrapped key of a block it may not read), as hex. */
static int block_data_key(struct sl_gateway *gw, const char *key, char *out, size_t size,
			  struct sl_err *err)
{
	const struct sl_cipher *c = gw->vol->core.cipher;
	size_t hlen = sl_cipher_header_len(c);
	uint8_t head[1024], dk[SL_CIPHER_DATA_KEY];
	if (hlen > sizeof(head) || size < 2 * sizeof(dk) + 1)
		return sl_errf(err, -EINVAL, "the volume's RSA key is larger than 8192 bits");
	int64_t n = sl_obj_get(gw->vol->core.store, key, 0, head, hlen, err);
	if (n < 0)
		return (int)n;
	int rc = sl_cipher_unwrap(c, head, (size_t)n, dk, key, err);
	if (rc)
		return rc;
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(dk); i++) {
		out[2 * i] = digits[dk[i] >> 4];
		out[2 * i + 1] = digits[dk[i] & 15];
	}
	out[2 * sizeof(dk)] = 0;
	OPENSSL_cleanse(dk, sizeof(dk));
	return 0;
}

int sl_gw_presign(struct sl_gateway *gw, const struct sl_gw_caller *caller,
		  const struct sl_meta_user *u, const struct sl_gw_presign_req *p, char *url,
		  size_t size, uint32_t *expires_s, struct sl_err *err)
{
	const char *method = p->method ? p->method : "";
	/* PEER: for the same reads as GET, a ticket for the cache group's servers (peer.c), valid
	 * as long as a URL would be; it needs the group key, not a URL signer */
	bool peer = !strcmp(method, "PEER"), data_key = !strcmp(method, "KEY");
	if (data_key && !gw->vol->core.cipher)
		return sl_errf(err, -EINVAL, "volume %s is not encrypted: its blocks have no data "
			       "keys", gw->vol->core.format.name);
	if (!peer && !data_key && !gw->presigner)
		return sl_errf(err, -EOPNOTSUPP, "this gateway does not presign object URLs (%s); "
			       "configure access-key/secret-key on the client",
			       gw->presign_why[0] ? gw->presign_why : "no URL signer");
	if (!strcmp(method, "DELETE"))
		return sl_errf(err, -EPERM, "objects are deleted by the gateway, never by clients");
	bool put = !strcmp(method, "PUT");
	if (!put && !peer && !data_key && strcmp(method, "GET") && strcmp(method, "HEAD"))
		return sl_errf(err, -EINVAL, "presign: method '%.16s' is not GET, HEAD, KEY, PEER "
			       "or PUT", method);
	uint64_t id;
	uint32_t bindx, blen;
	if (!p->key || !sl_block_key_parse(&gw->vol->core.layout, p->key, &id, &bindx, &blen))
		return sl_errf(err, -EINVAL, "'%.200s' is not a data block key of volume %s",
			       p->key ? p->key : "", gw->vol->core.format.name);
	int rc = put ? check_put(gw, caller, p, id, err)
		     : check_read(gw, u, p, id, bindx, blen, err);
	/* On the system clock, not the gateway's: the object store and the cache group's servers
	 * check these expiries on theirs. */
	if (!rc && peer)
		rc = sl_peers_ticket(gw->group_key, p->key, sl_real_s() + gw->presign_expiry_s, url,
				     size, err);
	else if (!rc && data_key)
		rc = block_data_key(gw, p->key, url, size, err);
	else if (!rc)
		rc = sl_presign(gw->presigner, method, p->key, gw->presign_expiry_s, sl_real_s(),
				url, size, err);
	if (rc)
		return rc;
	*expires_s = (uint32_t)gw->presign_expiry_s;
	return 0;
}
