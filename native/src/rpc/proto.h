/*
 * proto.h - the operations of the gateway protocol (version SL_RPC_VERSION in conn.h).
 *
 * After the handshake the gateway sends a welcome: u32 status, then the caller's short name (or,
 * for a refusal, a message). Then each request is: u16 op, str acting user (NULL: the authenticated
 * one; another name asks to act as a proxy user), the op's arguments; each response: u32 status
 * (0 or a negative errno), str message (only when status != 0), the op's results. The argument and
 * result layouts are written once, as field lists in codec.h (SL_RPC_OPS names each op's), whose
 * codecs the client (meta/remote*.c), the server (gateway/dispatch.c) and the fuzz seeds use. A new
 * op gets a new number; numbers are never reused.
 *
 * Idempotency tokens: a request whose op has SL_OP_ONCE set carries a u64 token (random, not 0)
 * between the op and the acting user. A client gives one to each request that changes something
 * and whose answer the gateway can give again from what is stored, and sends the request with
 * the same token to another gateway when the first one went away before answering. The gateway
 * records the token with the request's change, in the same transaction (meta.h struct
 * sl_meta_once); finding it recorded, it does not make the change again and answers as if it
 * had: MKNOD the entry now at the name, SETATTR, TRUNCATE, WRITE_CHUNK(S) and SETFACL the
 * file's attributes now, UNLINK and RENAME with nothing removed, LEASE_ACQUIRE with the token as
 * the generation (a tokened lease is stored with it), MKNOD_LEASED as MKNOD and LEASE_ACQUIRE,
 * LEASE_RECOVER with closed, the others with success.
 *
 * Slice ids: a NEXT_IDS batch of "nextChunk" ids carries a slice grant (struct sl_slice_grant) for
 * the authenticated caller, and how many seconds gateways accept it (gateway.grant-lifetime). Every request that places a new slice into a file shows the grant of
 * its id: WRITE_CHUNK and COMPACT_CHUNK (its replacement slice); the gateway also checks that the
 * slice's last block is in object storage with the size committed. CONCAT carries no slice ids:
 * it moves the references of files the acting user may read and remove. NEXT_IDS with delta 0
 * reads only usedSpace and totalInodes.
 *
 * Data access (Kerberos clients hold no bucket keys): PRESIGN asks for a URL for one block:
 * GET/HEAD of a block of a slice in a chunk the acting user may read, PUT of a block of a slice
 * whose ids were granted to the authenticated caller. The gateway deletes; DELETE is refused.
 * For the same reads as GET, PEER answers a ticket for the cache group's servers and, on an
 * encrypted volume (LOAD_FORMAT then carries EncryptPublicKey, never EncryptKey), KEY answers the
 * block's data key in hex, which the gateway unwraps from the object's own header.
 */
#ifndef SL_RPC_PROTO_H
#define SL_RPC_PROTO_H

#include <stdint.h>

enum sl_rpc_op {
	SL_OP_LOAD_FORMAT = 1,
	SL_OP_GET_SETTING = 2,
	SL_OP_ADD_SETTING = 3,
	SL_OP_NEW_SESSION = 4,
	SL_OP_REFRESH_SESSION = 5,
	SL_OP_CLOSE_SESSION = 6,
	SL_OP_LIST_SESSIONS = 7,
	SL_OP_NEXT_IDS = 8, /* incr_counter: id batches of nextInode/nextChunk; reads (delta 0) of
			       usedSpace/totalInodes */
	SL_OP_RESOLVE = 9,
	SL_OP_LOOKUP = 10,
	SL_OP_GETATTR = 11,
	SL_OP_SETATTR = 12,
	SL_OP_MKNOD = 13,
	SL_OP_UNLINK = 14,
	SL_OP_RMDIR = 15,
	SL_OP_RENAME = 16,
	SL_OP_READDIR = 17,
	SL_OP_READLINK = 18,
	SL_OP_READ_CHUNK = 19,
	SL_OP_WRITE_CHUNK = 20,
	SL_OP_TRUNCATE = 21,
	SL_OP_CONCAT = 22,
	SL_OP_COMPACT_CHUNK = 23,
	SL_OP_GETXATTR = 24,
	SL_OP_SETXATTR = 25,
	SL_OP_LISTXATTR = 26,
	SL_OP_REMOVEXATTR = 27,
	SL_OP_SUMMARY = 28,
	SL_OP_UNSUPPORTED_FEATURES = 29,
	SL_OP_PRESIGN = 30, /* a presigned URL for one block (see above) */
	SL_OP_ISSUE_TOKEN = 31,  /* delegation tokens: not over a connection that used a token */
	SL_OP_RENEW_TOKEN = 32,  /* for the token's renewer, not over a token connection */
	SL_OP_CANCEL_TOKEN = 33, /* for the token's owner or renewer */
	SL_OP_REMOVE_TREE = 34,  /* a recursive delete; the gateway empties the trashed tree */
	/* Writer leases (meta.h), only of the caller's own sessions. WRITE_CHUNK and COMPACT_CHUNK
	 * carry the stream's lease (u64 sid, u64 gen) after their other arguments when it holds
	 * one; a client whose gateway answers LEASE_ACQUIRE with ENOSYS (older) writes without. */
	SL_OP_LEASE_ACQUIRE = 35, /* u64 ino, u64 sid -> u64 gen */
	SL_OP_LEASE_RELEASE = 36, /* u64 ino, u64 sid, u64 gen */
	SL_OP_LEASE_RECOVER = 37, /* u64 ino, bool recover -> bool closed */
	SL_OP_INODE_PATH = 38,   /* a path the acting user may resolve, or an error */
	SL_OP_FILE_CRC = 39,     /* u64 ino, u64 length -> u32 COMPOSITE-CRC32C (meta.h file_crc) */
	/* Group commit (meta.h write_chunks): u32 n, then n records, each WRITE_CHUNK's arguments
	 * preceded by the record's acting user (str, empty: the caller) and followed by bool leased
	 * [u64 sid, u64 gen] -> n attrs; one transaction, all or nothing. */
	SL_OP_WRITE_CHUNKS = 40,
	/* POSIX ACLs (meta.h getfacl, setfacl, access): rules as juicefs encodes them, HDFS-form
	 * entries 8 bytes each (acl.h) */
	SL_OP_GETFACL = 41,      /* u64 ino -> attr, u16 mode, bool, bool, access rule, default */
	SL_OP_SETFACL = 42,      /* u64 ino, u32 op, entries -> attr */
	SL_OP_ACCESS = 43,       /* u64 ino, u32 mask */
	/* directory snapshots (meta.h snapshot): u32 op, u64 dir, str name, str new_name ->
	 * u64 ino, attr */
	SL_OP_SNAPSHOT = 44,
	SL_OP_MKNOD_LEASED = 45, /* mknod of a file with its stream's lease in one transaction */
	SL_OP_MAX
};
#define SL_OP_ONCE 0x8000u /* flag of the op number: an idempotency token follows (above) */

/* Limits both ends enforce on what they decode. */
#define SL_RPC_MAX_PATH 4096
#define SL_RPC_MAX_NAME 255
#define SL_RPC_MAX_USER 255
#define SL_RPC_MAX_XATTR (64u << 10)
#define SL_RPC_MAX_SLICES (1u << 20)
#define SL_RPC_MAX_LIST 4096     /* directory entries per readdir call */
#define SL_RPC_MAX_CONCAT 4096
#define SL_RPC_MAX_BATCH 1024 /* records of one WRITE_CHUNKS */
#define SL_RPC_MAX_ACL 1024   /* an encoded ACL rule or spec */
#define SL_RPC_MAX_JSON (1u << 20)
#define SL_RPC_MAX_KEY 1024      /* an object key (S3's limit) */
#define SL_RPC_MAX_URL 16383     /* a presigned URL (object/presign.h SL_PRESIGN_URL_MAX - 1) */
#define SL_RPC_MAX_TOKEN_IDENT 1024 /* an issued token's identifier (meta.h struct sl_meta_token) */

/* The proof that the gateway handed slice ids [first, first + count) to a principal at `issued`
 * (Unix seconds): mac = HMAC-SHA256(K, the grant's fields and the principal's short name), K =
 * HMAC-SHA256(the volume's grant secret, "sluice slice grant v2"); the secret is random, made by
 * the first gateway and kept in the database (setting sluice.grant-secret, which clients cannot
 * read), so that every gateway of the volume can check a grant without shared state
 * (gateway/data.c). The client keeps it and shows it with PRESIGN PUT, WRITE_CHUNK and
 * COMPACT_CHUNK (encoded by sl_w_grant, codec.h: u64 first, u32 count, i64 issued, bytes mac). A
 * grant is valid for gateway.grant-lifetime; each id is committed at most once (the database
 * refuses a slice id that is committed already). */
#define SL_GRANT_MAC_BYTES 32
struct sl_slice_grant {
	uint64_t first;
	uint32_t count;
	int64_t issued;
	uint8_t mac[SL_GRANT_MAC_BYTES];
};

#endif
