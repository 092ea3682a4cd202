/*
 * acl.h - POSIX ACLs as JuiceFS stores them (a rule per jfs_acl row: owner, group, mask and
 * other permissions and the named users' and groups' entries, referred to by the inode's
 * access_acl_id and default_acl_id) and HDFS's rules for reading and changing them (its ACL entry
 * lists, the mask, default ACLs and their inheritance). Pure functions on values: the backends
 * keep the rows, perm.c and the backends' transactions use these rules.
 */
#ifndef SL_ACL_H
#define SL_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_ACL_UNSET 0xFFFF     /* a permission the rule does not set (juicefs's 0xFFFF) */
#define SL_ACL_MAX_NAMED 32     /* named entries of one kind in one rule (HDFS: 32 entries) */
#define SL_ACL_MAX_ENTRIES 32   /* entries of an ACL in HDFS's form, both scopes (HDFS's limit) */
#define SL_ACL_ENTRY_BYTES 6    /* a named entry in jfs_acl: id (u32) and perm (u16), big-endian */

struct sl_acl_entry {
	uint32_t id;
	uint16_t perm;
};

/* One rule: an access ACL or a default ACL. Named entries in ascending id order. */
struct sl_acl {
	uint16_t owner, group, mask, other;
	uint32_t nusers, ngroups;
	struct sl_acl_entry users[SL_ACL_MAX_NAMED], groups[SL_ACL_MAX_NAMED];
};

/* An entry of an ACL in HDFS's form (AclEntry): scope, type, a name (an id here) or none, and
 * the permission bits (rwx). */
enum sl_acl_scope { SL_ACL_ACCESS = 0, SL_ACL_DEFAULT = 1 };
enum sl_acl_type { SL_ACL_USER = 0, SL_ACL_GROUP = 1, SL_ACL_MASK = 2, SL_ACL_OTHER = 3 };
struct sl_acl_spec {
	uint8_t scope, type;
	bool named;
	uint32_t id;
	uint16_t perm;
};

/* The changes of HDFS's FileSystem ACL calls. */
enum sl_acl_op {
	SL_ACL_OP_SET,            /* setAcl: replaces each scope the spec names */
	SL_ACL_OP_MODIFY,         /* modifyAclEntries: adds or replaces the spec's entries */
	SL_ACL_OP_REMOVE_ENTRIES, /* removeAclEntries: removes the spec's entries (perm ignored) */
	SL_ACL_OP_REMOVE_DEFAULT, /* removeDefaultAcl */
	SL_ACL_OP_REMOVE,         /* removeAcl: back to the permission bits */
};

/* An inode's ACL state: its permission bits (07777) and rules (has_*: the inode refers to one). */
struct sl_acl_state {
	uint16_t mode;
	bool has_access, has_default;
	struct sl_acl access, def;
};

/* A rule with nothing set, as juicefs's EmptyRule. */
void sl_acl_init(struct sl_acl *a);
/* Whether a rule is only what the permission bits say (no named entries, no mask). */
bool sl_acl_minimal(const struct sl_acl *a);
bool sl_acl_equal(const struct sl_acl *a, const struct sl_acl *b);
/* The named entries' column (jfs_acl.named_users / named_groups) of n entries: n * 6 bytes. */
void sl_acl_encode_entries(const struct sl_acl_entry *e, uint32_t n, uint8_t *out);
/* Reads a column written by sl_acl_encode_entries (or juicefs) into e (at most SL_ACL_MAX_NAMED,
 * sorted by id); false if its length is not a multiple of 6 or it has more entries. */
bool sl_acl_decode_entries(const uint8_t *buf, size_t len, struct sl_acl_entry *e, uint32_t *n);
/* A whole rule as juicefs's Rule.Encode writes it (owner, group, mask, other as u16, then each
 * kind's count as u32 and its entries), big-endian: at most SL_ACL_RULE_BYTES. */
#define SL_ACL_RULE_BYTES (16 + 2 * SL_ACL_MAX_NAMED * SL_ACL_ENTRY_BYTES)
size_t sl_acl_encode(const struct sl_acl *a, uint8_t *out);
bool sl_acl_decode(const uint8_t *buf, size_t len, struct sl_acl *a);
/* An HDFS-form entry on the wire: scope, type, named, perm (u8 each), id (u32), 8 bytes. */
#define SL_ACL_SPEC_BYTES 8
void sl_acl_spec_encode(const struct sl_acl_spec *s, size_t n, uint8_t *out);
/* false if len is not n whole entries (n at most max) */
bool sl_acl_spec_decode(const uint8_t *buf, size_t len, struct sl_acl_spec *s, size_t max,
			size_t *n);
/* The permission bits a rule shows (juicefs's GetMode): owner, mask (group when minimal),
 * other. */
uint16_t sl_acl_mode(const struct sl_acl *a);
/* A chmod on an inode with an access rule: owner, mask (group when minimal) and other follow
 * mode's bits (juicefs's SetMode). */
void sl_acl_set_mode(struct sl_acl *a, uint16_t mode);
/* Whether user uid with groups gids[n] may mask (rwx bits) an inode of fuid:fgid under rule a,
 * by POSIX's algorithm (owner, named user, owning and named groups under the mask, other). */
bool sl_acl_allows(const struct sl_acl *a, uint32_t uid, const uint32_t *gids, int ngids,
		   uint32_t fuid, uint32_t fgid, int mask);
/* What a new inode created with mode (07777) in a directory with default rule def gets: *mode
 * and, unless the default is minimal (*has_access false), its access rule (juicefs's
 * ChildAccessACL). */
void sl_acl_inherit(const struct sl_acl *def, uint16_t *mode, bool *has_access,
		    struct sl_acl *access);

/* The ACL of state s in HDFS's form: every entry of both scopes, base entries included,
 * sorted as HDFS sorts them (scope, type, unnamed first, id). Returns the count (at most
 * 2 * (SL_ACL_MAX_NAMED * 2 + 4)). */
#define SL_ACL_MAX_LIST (2 * (2 * SL_ACL_MAX_NAMED + 4))
size_t sl_acl_list(const struct sl_acl_state *s, struct sl_acl_spec *out);
/* Applies one of HDFS's ACL changes (op, with its spec of n entries) to state s of a file or a
 * directory (dir): HDFS's AclTransformation, masks recalculated as it does, then turned back into
 * permission bits and rules. 0, or -EINVAL with the reason in why (HDFS's AclException). */
int sl_acl_change(struct sl_acl_state *s, bool dir, enum sl_acl_op op,
		  const struct sl_acl_spec *spec, size_t n, char *why, size_t why_size);

#endif
