package io.sluice.hadoop.nativeio;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Set;

/**
 * Loads libsluice.so once per JVM. Order: an explicit path (argument or system property
 * {@value #PATH_PROPERTY}); else the library packed in the jar at {@value #RESOURCE}, extracted
 * into a private per-user directory {@code ~/.cache/sluice/native/<sha256>/} (mode 0700, owned by
 * the user, reused while the content matches); else an error saying how to point at one. After
 * loading, the library's ABI must equal {@link NativeVolume#ABI_VERSION}.
 */
public final class NativeLoader {
  /** System property (or environment variable {@value #PATH_ENV}) naming libsluice.so. */
  public static final String PATH_PROPERTY = "sluice.native.path";

  public static final String PATH_ENV = "SLUICE_NATIVE_PATH";

  /** Where the build puts the library inside the jar. */
  public static final String RESOURCE = "/native/linux-x86_64/libsluice.so";

  private static final String LIB_NAME = "libsluice.so";

  private static String loadedPath; // guarded by NativeLoader.class

  private NativeLoader() {}

  /** Loads the library (see the class comment); harmless when already loaded. */
  public static void load() {
    load(null);
  }

  /**
   * Loads the library from explicitPath if not null, else as the class comment says. Once a
   * library is loaded, later calls return at once whatever path they name: one JVM can hold one
   * copy of the JNI natives.
   */
  public static synchronized void load(String explicitPath) {
    if (loadedPath != null) {
      return;
    }
    String path = explicitPath;
    if (path == null || path.isEmpty()) {
      path = System.getProperty(PATH_PROPERTY);
    }
    if (path == null || path.isEmpty()) {
      path = System.getenv(PATH_ENV);
    }
    if (path != null && !path.isEmpty()) {
      path = checkExplicit(path);
    } else {
      try {
        path = extract();
      } catch (IOException e) {
        UnsatisfiedLinkError err = new UnsatisfiedLinkError("libsluice: cannot extract "
            + RESOURCE + " from the jar: " + e.getMessage() + "; set -D" + PATH_PROPERTY
            + "=/path/to/libsluice.so (or " + PATH_ENV + ") to load it from a file instead");
        err.initCause(e);
        throw err;
      }
      if (path == null) {
        throw new UnsatisfiedLinkError("libsluice: " + RESOURCE + " is not in the jar (a build "
            + "without the native library?); set -D" + PATH_PROPERTY
            + "=/path/to/libsluice.so (or the environment variable " + PATH_ENV + ")");
      }
    }
    System.load(path);
    int abi;
    try {
      abi = NativeVolume.abiVersion();
    } catch (UnsatisfiedLinkError e) {
      UnsatisfiedLinkError err = new UnsatisfiedLinkError("libsluice at " + path
          + " has no JNI entry points (" + e.getMessage() + "); it was built without "
          + "native/src/jni - use the libsluice.so that the build puts in build/lib");
      err.initCause(e);
      throw err;
    }
    checkAbi(path, abi, NativeVolume.ABI_VERSION);
    loadedPath = path;
  }

  /** Refuses a library whose ABI number (found) is not the one these classes need (expected). */
  static void checkAbi(String path, int found, int expected) {
    if (found != expected) {
      throw new UnsatisfiedLinkError("libsluice at " + path + " has ABI version " + found
          + " but these classes need ABI version " + expected
          + "; use the libsluice.so built with this jar");
    }
  }

  /** The absolute path of an explicitly named library; a clear error if it is not a file. */
  static String checkExplicit(String path) {
    File f = new File(path);
    if (!f.isFile()) {
      throw new UnsatisfiedLinkError("libsluice: " + PATH_PROPERTY + " names " + path
          + ", which is not a file; point it at libsluice.so (make puts it in build/lib)");
    }
    return f.getAbsolutePath();
  }

  /** The path of the loaded library, or null before {@link #load}. */
  public static synchronized String loadedPath() {
    return loadedPath;
  }

  /** Extracts the packed library; returns its path, or null if the jar has none. */
  private static String extract() throws IOException {
    try (InputStream in = NativeLoader.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return null;
      }
      return extractTo(cacheDir(System.getProperty("user.home")), in,
          System.getProperty("user.name"));
    }
  }

  /** The per-user cache the packed library is extracted under: home/.cache/sluice/native. */
  static Path cacheDir(String home) {
    return Paths.get(home, ".cache", "sluice", "native");
  }

  /**
   * Writes the library read from in to base/&lt;sha256&gt;/libsluice.so unless an identical copy
   * is already there; returns its path. base and the hash directory must be directories that user
   * owns and no one else can write (they are created with mode 0700 when missing).
   */
  static String extractTo(Path base, InputStream in, String user) throws IOException {
    byte[] lib = readAll(in);
    String hash = sha256(lib);
    Path dir = base.resolve(hash);
    createPrivateDirs(dir);
    checkPrivate(base, user); // whoever can write here can swap the hash directory
    checkPrivate(dir, user);
    Path target = dir.resolve(LIB_NAME);
    if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
      checkOwned(target, user);
      if (hash.equals(sha256(Files.readAllBytes(target)))) {
        return target.toString();
      }
    }
    // A temp file in the same directory, then an atomic rename: a concurrent JVM sees either no
    // file or the whole library, never a partial one.
    Path tmp = Files.createTempFile(dir, LIB_NAME + ".", ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    try {
      try (OutputStream out = Files.newOutputStream(tmp)) {
        out.write(lib);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("cannot rename atomically in " + dir, e);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
    return target.toString();
  }

  /** Creates dir and missing parents with mode 0700 (existing parents are left alone). */
  private static void createPrivateDirs(Path dir) throws IOException {
    Path parent = dir.getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      createPrivateDirs(parent);
    }
    try {
      Files.createDirectory(dir,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (FileAlreadyExistsException e) {
      // made by us earlier or by another JVM; checkPrivate decides whether to trust it
    }
  }

  /** Refuses a directory another user owns or could write: it could swap the library. */
  private static void checkPrivate(Path dir, String user) throws IOException {
    if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(dir + " is not a directory");
    }
    checkOwned(dir, user);
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
    if (perms.contains(PosixFilePermission.GROUP_WRITE)
        || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
      throw new IOException(dir + " is writable by group or others ("
          + PosixFilePermissions.toString(perms) + "); refusing to load a library from it");
    }
  }

  private static void checkOwned(Path p, String user) throws IOException {
    UserPrincipal owner = Files.getOwner(p, LinkOption.NOFOLLOW_LINKS);
    if (!owner.getName().equals(user)) {
      throw new IOException(p + " is owned by " + owner.getName() + ", not by " + user
          + "; refusing to load a library from it");
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    byte[] buf = new byte[1 << 16];
    int n = 0;
    for (;;) {
      int r = in.read(buf, n, buf.length - n);
      if (r < 0) {
        return Arrays.copyOf(buf, n);
      }
      n += r;
      if (n == buf.length) {
        buf = Arrays.copyOf(buf, buf.length * 2);
      }
    }
  }

  private static String sha256(byte[] data) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(data);
      StringBuilder sb = new StringBuilder(d.length * 2);
      for (byte b : d) {
        sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      return sb.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
