package io.sluice.hadoop.nativeio;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The JNI surface of libsluice (native/include/sluice.h), one static native per C call. Handles
 * are the C pointers as longs; callers own them (see {@link io.sluice.hadoop.nativeio}). Every
 * method throws the IOException subclass that matches the native errno (translated in one place,
 * native/src/jni/jni_util.c): ENOENT FileNotFoundException, EEXIST FileAlreadyExistsException,
 * EACCES/EPERM AccessControlException, ENOTEMPTY PathIsNotEmptyDirectoryException, ENOTDIR
 * ParentNotDirectoryException, EDQUOT HDFS's DSQuotaExceededException or
 * NSQuotaExceededException (a directory quota), ENOSPC DiskOutOfSpaceException (the volume), others
 * IOException with the native message. Direct ByteBuffers are used without copying; array
 * variants copy once. No method holds a Java lock while in native code.
 *
 * <p>user/groups: the caller's short name and groups (Hadoop UGI); user null means the volume's
 * default user.
 */
public final class NativeVolume {
  private NativeVolume() {}

  /** The ABI number this class was written for; the loader refuses a library with another. */
  public static final int ABI_VERSION = 4;

  // open flags (sluice_open_flags)
  public static final int O_READ = 1;
  public static final int O_WRITE = 1 << 1;
  public static final int O_CREATE = 1 << 2;
  public static final int O_EXCL = 1 << 3;
  public static final int O_OVERWRITE = 1 << 4;
  public static final int O_APPEND = 1 << 5;
  public static final int O_MKDIRS = 1 << 6;
  // rename flags
  public static final int RENAME_NOREPLACE = 1;
  /** A dst that is a directory takes src under its own name, in one transaction. */
  public static final int RENAME_INTO_DIR = 2;
  // xattr flags
  public static final int XATTR_CREATE = 1;
  public static final int XATTR_REPLACE = 2;

  public static native int abiVersion();

  public static native String version();

  // ---- volume ---------------------------------------------------------------------------------
  /** sluice_init with the given settings (keys and values of equal length). */
  public static native long init(String[] keys, String[] values) throws IOException;

  /**
   * sluice_log_next: the oldest log line the volume queued (opened with log-queue set), as its
   * level digit (0 error, 1 warn, 2 info, 3 debug) followed by the text; null when none is left.
   */
  public static native String logNext(long vol);

  /** sluice_stats: the handle's counters, a "name value" line each. */
  public static native String stats(long vol);

  /** sluice_shutdown: closes open files (making their data durable) and frees the handle. */
  public static native void shutdown(long vol) throws IOException;

  // ---- metadata -------------------------------------------------------------------------------
  /** Follows a final symlink if follow; fills st. */
  public static native void stat(long vol, String user, String[] groups, String path,
      boolean follow, NativeStat st) throws IOException;

  /**
   * sluice_inode_path: the current path of the file or directory with this inode number, as the
   * caller may reach it (search permission on every directory of it). FileNotFoundException if
   * it has no name any more; UnsupportedOperationException (EOPNOTSUPP) if the metadata backend
   * cannot look files up by inode.
   */
  public static native String inodePath(long vol, String user, String[] groups, long inode)
      throws IOException;

  public static native void mkdirs(long vol, String user, String[] groups, String path, int mode,
      int umask) throws IOException;

  public static native void mkdir(long vol, String user, String[] groups, String path, int mode,
      int umask) throws IOException;

  public static native void rename(long vol, String user, String[] groups, String src, String dst,
      int flags) throws IOException;

  public static native void delete(long vol, String user, String[] groups, String path,
      boolean recursive) throws IOException;

  public static native void truncate(long vol, String user, String[] groups, String path,
      long length) throws IOException;

  /** recoverLease: ends the writer lease of path; true when the file is closed (always). */
  public static native boolean recoverLease(long vol, String user, String[] groups, String path)
      throws IOException;

  /** isFileClosed: true when no live writer holds the lease of path. */
  public static native boolean isFileClosed(long vol, String user, String[] groups, String path)
      throws IOException;

  /**
   * The CRC-32C of the first length bytes of path (all of it when length is at least its size):
   * Hadoop's COMPOSITE-CRC32C value, as HDFS computes it in COMPOSITE_CRC mode.
   */
  public static native int fileChecksum(long vol, String user, String[] groups, String path,
      long length) throws IOException;

  public static native void concat(long vol, String user, String[] groups, String target,
      String[] srcs) throws IOException;

  public static native void chmod(long vol, String user, String[] groups, String path, int mode)
      throws IOException;

  /** owner or group may be null to keep it. */
  public static native void chown(long vol, String user, String[] groups, String path,
      String owner, String group) throws IOException;

  /** Times in ms since the epoch; -1 keeps a time. */
  public static native void utimes(long vol, String user, String[] groups, String path,
      long mtimeMs, long atimeMs) throws IOException;

  public static native String readlink(long vol, String user, String[] groups, String path)
      throws IOException;

  /**
   * Changes path's ACL: op 0 setAcl, 1 modifyAclEntries, 2 removeAclEntries, 3 removeDefaultAcl,
   * 4 removeAcl; spec in AclEntry's text form ("default:user:bob:r-x").
   */
  public static native void aclChange(long vol, String user, String[] groups, String path,
      int op, String[] spec) throws IOException;

  /** {permission bits in octal, then getAclStatus's entries in AclEntry's text form} */
  public static native String[] getAcl(long vol, String user, String[] groups, String path)
      throws IOException;

  /** {length, files, directories, space, space quota, inode quota}; a quota of -1: none */
  public static native long[] summary(long vol, String user, String[] groups, String path)
      throws IOException;

  /** {capacity, used, remaining, inodesUsed, inodesAvailable} */
  public static native long[] statfs(long vol) throws IOException;

  /**
   * Whom a call without a user acts as: the "user" setting (default: the process's user), or in
   * Kerberos mode the gateway's name for the handle's principal or delegation token.
   */
  public static native String userName(long vol) throws IOException;

  /** Logical blocks overlapping [start, start+len): {offset, length} pairs, flattened. */
  public static native long[] fileBlocks(long vol, String user, String[] groups, String path,
      long start, long len) throws IOException;

  /**
   * The hosts of each logical block overlapping [start, start+len) (the blocks of fileBlocks, in
   * the same order): one array per block, chosen by the volume's consistent hash ring over its
   * "nodes" setting; empty arrays when the volume has no node list.
   */
  public static native String[][] fileBlockHosts(long vol, String user, String[] groups,
      String path, long start, long len) throws IOException;

  // ---- listing --------------------------------------------------------------------------------
  public static native long opendir(long vol, String user, String[] groups, String path)
      throws IOException;

  /** Fills up to out.length entries (name set) after the previous page; returns how many. */
  public static native int readdir(long dir, NativeStat[] out) throws IOException;

  public static native void closedir(long dir);

  // ---- xattrs ---------------------------------------------------------------------------------
  /** Returns null if the attribute does not exist. */
  public static native byte[] getxattr(long vol, String user, String[] groups, String path,
      String name) throws IOException;

  public static native void setxattr(long vol, String user, String[] groups, String path,
      String name, byte[] value, int flags) throws IOException;

  public static native String[] listxattr(long vol, String user, String[] groups, String path)
      throws IOException;

  public static native void removexattr(long vol, String user, String[] groups, String path,
      String name) throws IOException;

  // ---- snapshots ------------------------------------------------------------------------------
  /**
   * Directory snapshots of path: op 1 creates snapshot name (null: HDFS's default name) and
   * returns its path, 2 deletes it, 3 renames it to newName.
   */
  public static native String snapshot(long vol, String user, String[] groups, String path,
      int op, String name, String newName) throws IOException;

  // ---- files ----------------------------------------------------------------------------------
  public static native long open(long vol, String user, String[] groups, String path, int flags,
      int mode, int umask) throws IOException;

  /** Always frees the handle, even when it throws. */
  public static native void close(long file) throws IOException;

  /** Sequential read into buf[off, off+len); returns bytes read, -1 at EOF. */
  public static native int read(long file, byte[] buf, int off, int len) throws IOException;

  /** Sequential read into a direct buffer's [pos, pos+len); returns bytes read, -1 at EOF. */
  public static native int readDirect(long file, ByteBuffer buf, int pos, int len)
      throws IOException;

  /** Positional read; thread-safe, position unchanged; -1 at EOF. */
  public static native int pread(long file, long position, byte[] buf, int off, int len)
      throws IOException;

  public static native int preadDirect(long file, long position, ByteBuffer buf, int pos, int len)
      throws IOException;

  public static native void write(long file, byte[] buf, int off, int len) throws IOException;

  public static native void writeDirect(long file, ByteBuffer buf, int pos, int len)
      throws IOException;

  public static native void seek(long file, long position) throws IOException;

  public static native long tell(long file);

  /** Length as the handle sees it, including its own unflushed writes. */
  public static native long length(long file) throws IOException;

  /** sluice_fstat: the open file's attributes, read again (the length includes own writes). */
  public static native void fstat(long file, NativeStat st) throws IOException;

  public static native void hflush(long file) throws IOException;

  public static native void hsync(long file) throws IOException;

  public static native void unbuffer(long file);

  // ---- delegation tokens (Kerberos mode) ------------------------------------------------------
  /**
   * sluice_token_issue: a token owned by user, which renewer (null or "": nobody) may renew.
   * Returns {identifier, password}; the token's service is the gateway's "HOST:PORT".
   */
  public static native byte[][] issueToken(long vol, String user, String[] groups,
      String renewer) throws IOException;

  /**
   * sluice_token_renew with the given settings ("meta" names the gateway; the caller's Kerberos
   * login as for init): returns the new expiry in ms since the epoch.
   */
  public static native long renewToken(String[] keys, String[] values, byte[] identifier,
      byte[] password) throws IOException;

  /** sluice_token_cancel, with settings as for renewToken. */
  public static native void cancelToken(String[] keys, String[] values, byte[] identifier,
      byte[] password) throws IOException;
}
