package io.sluice.hadoop.nativeio;

/**
 * Attributes of one path as libsluice reports them (sluice_stat). Filled by the JNI layer
 * (native/src/jni/jni_util.c) through cached field IDs; plain fields, no logic.
 */
public final class NativeStat {
  public static final int TYPE_FILE = 1;
  public static final int TYPE_DIR = 2;
  public static final int TYPE_SYMLINK = 3;
  public static final int TYPE_OTHER = 4;

  /** Entry name, set only by {@link NativeVolume#readdir}. */
  public String name;
  public long inode;
  public int type;
  public int mode;
  public int nlink;
  public long length;
  public long mtimeMs;
  public long atimeMs;
  public long ctimeMs;
  public String owner;
  public String group;
  public long blockSize;
  /** mtime in nanoseconds: with inode and length, what changes when the content does. */
  public long mtimeNs;
  /** An access or default ACL. */
  public boolean hasAcl;

  public boolean isDirectory() {
    return type == TYPE_DIR;
  }

  public boolean isSymlink() {
    return type == TYPE_SYMLINK;
  }
}
