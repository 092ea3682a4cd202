package io.sluice.hadoop.nativeio;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;

/**
 * NativeLoader's extraction of the packed library and its checks, against a temporary home
 * directory. Never calls System.load: the other tests already loaded libsluice into this JVM, and
 * a JVM can hold one copy of the JNI natives.
 */
public class TestNativeLoader {
  private static final String LIB = "libsluice.so";

  @Rule public TemporaryFolder tmp = new TemporaryFolder();
  @Rule public Timeout timeout = new Timeout(120, TimeUnit.SECONDS);

  private final String me = System.getProperty("user.name");
  private Path base; // <home>/.cache/sluice/native, as load() computes it for a home directory
  private byte[] lib;

  @Before
  public void setUp() throws IOException {
    base = NativeLoader.cacheDir(tmp.newFolder("home").getAbsolutePath());
    lib = new byte[200_000 + 12345]; // more than one read buffer of the loader
    new Random(42).nextBytes(lib);
  }

  private String extract(byte[] data) throws IOException {
    return NativeLoader.extractTo(base, new ByteArrayInputStream(data), me);
  }

  private static String sha256(byte[] data) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (byte b : MessageDigest.getInstance("SHA-256").digest(data)) {
      sb.append(String.format("%02x", b & 0xff));
    }
    return sb.toString();
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  private static BasicFileAttributes attrs(Path p) throws IOException {
    return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
  }

  private static List<String> names(Path dir) throws IOException {
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        out.add(p.getFileName().toString());
      }
    }
    return out;
  }

  private static void assertMessage(Throwable e, String... parts) {
    for (String part : parts) {
      assertTrue("message lacks '" + part + "': " + e.getMessage(),
          e.getMessage() != null && e.getMessage().contains(part));
    }
  }

  /** extract(lib) must fail with an IOException whose message has every one of parts. */
  private void assertExtractRefuses(String what, String... parts) throws Exception {
    try {
      extract(lib);
      fail("accepted " + what);
    } catch (IOException e) {
      assertMessage(e, parts);
    }
  }

  @Test
  public void cacheDirIsUnderHome() {
    assertEquals(Paths.get("/h/u", ".cache", "sluice", "native"), NativeLoader.cacheDir("/h/u"));
  }

  @Test
  public void extractsTheJarResourceToContentAddressedPrivateDir() throws Exception {
    byte[] packed;
    try (InputStream in = NativeLoader.class.getResourceAsStream(NativeLoader.RESOURCE)) {
      assertNotNull(NativeLoader.RESOURCE + " is not on the test classpath (the pom copies "
          + "build/lib/libsluice.so there)", in);
      ByteArrayOutputStream bo = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) > 0; ) {
        bo.write(buf, 0, n);
      }
      packed = bo.toByteArray();
    }
    assertTrue("an ELF shared object", packed.length > 4 && packed[0] == 0x7f
        && packed[1] == 'E' && packed[2] == 'L' && packed[3] == 'F');

    String path;
    try (InputStream in = NativeLoader.class.getResourceAsStream(NativeLoader.RESOURCE)) {
      path = NativeLoader.extractTo(base, in, me);
    }
    Path target = Paths.get(path);
    Path dir = base.resolve(sha256(packed));
    assertEquals(dir.resolve(LIB), target);
    assertArrayEquals(packed, Files.readAllBytes(target));
    assertEquals("rwx------", mode(dir));
    assertEquals("rwx------", mode(base));
    assertEquals("rwx------", mode(target));
    assertEquals(me, Files.getOwner(dir).getName());
    assertEquals(me, Files.getOwner(target).getName());
    assertEquals("only the library, no temp file", 1, names(dir).size());
  }

  @Test
  public void createsEveryMissingParentPrivately() throws Exception {
    String path = extract(lib);
    Path dir = base.resolve(sha256(lib));
    assertEquals(dir.resolve(LIB).toString(), path);
    // .cache, .cache/sluice, .cache/sluice/native and the hash directory were all missing
    for (Path p = dir; !p.equals(base.getParent().getParent().getParent()); p = p.getParent()) {
      assertEquals(p.toString(), "rwx------", mode(p));
    }
    assertArrayEquals(lib, Files.readAllBytes(dir.resolve(LIB)));
  }

  @Test
  public void differentContentGetsItsOwnDirectory() throws Exception {
    byte[] other = "another build of the library".getBytes(StandardCharsets.UTF_8);
    String a = extract(lib);
    String b = extract(other);
    assertNotEquals(a, b);
    assertEquals(base.resolve(sha256(other)).resolve(LIB).toString(), b);
    assertArrayEquals(lib, Files.readAllBytes(Paths.get(a)));
    assertArrayEquals(other, Files.readAllBytes(Paths.get(b)));
    assertEquals(2, names(base).size());
  }

  @Test
  public void secondCallReusesTheFileWithoutRewriting() throws Exception {
    Path target = Paths.get(extract(lib));
    FileTime old = FileTime.fromMillis(1_000_000_000_000L); // 2001: any rewrite would move it
    Files.setLastModifiedTime(target, old);
    Object inode = attrs(target).fileKey();
    assertNotNull("this file system reports no inode (fileKey)", inode);

    assertEquals(target.toString(), extract(lib));
    assertEquals(old, attrs(target).lastModifiedTime());
    assertEquals(inode, attrs(target).fileKey());
    assertEquals(1, names(target.getParent()).size());
  }

  @Test
  public void replacesATamperedCopyByRenameNotInPlace() throws Exception {
    Path target = Paths.get(extract(lib));
    byte[] junk = "not the library".getBytes(StandardCharsets.UTF_8);
    Files.write(target, junk);
    // A second name for the tampered inode: a rewrite in place would change what it shows.
    Path observer = tmp.getRoot().toPath().resolve("observer");
    Files.createLink(observer, target);
    Object tamperedInode = attrs(target).fileKey();

    assertEquals(target.toString(), extract(lib));
    assertArrayEquals(lib, Files.readAllBytes(target));
    assertNotEquals(tamperedInode, attrs(target).fileKey());
    assertArrayEquals("old inode untouched: the new copy came by rename",
        junk, Files.readAllBytes(observer));
    assertEquals("rwx------", mode(target));
    assertEquals("no temp file left", 1, names(target.getParent()).size());
  }

  @Test
  public void replacesASymlinkInsteadOfFollowingIt() throws Exception {
    Path dir = base.resolve(sha256(lib));
    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    Path elsewhere = tmp.newFile("elsewhere").toPath();
    Files.write(elsewhere, lib); // right content, but reached through a link
    Path target = dir.resolve(LIB);
    Files.createSymbolicLink(target, elsewhere);

    assertEquals(target.toString(), extract(lib));
    assertFalse(Files.isSymbolicLink(target));
    assertArrayEquals(lib, Files.readAllBytes(target));
    assertArrayEquals(lib, Files.readAllBytes(elsewhere));
    assertEquals(1, names(dir).size());
  }

  @Test
  public void failedRenameLeavesNoTempFile() throws Exception {
    Path dir = base.resolve(sha256(lib));
    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    // A non-empty directory where the library goes: the rename onto it must fail.
    Path target = dir.resolve(LIB);
    Files.createDirectory(target);
    Files.createFile(target.resolve("x"));
    try {
      extract(lib);
      fail("renamed onto a non-empty directory");
    } catch (IOException e) {
      // expected
    }
    assertEquals("the temp file was removed", 1, names(dir).size());
    assertTrue(Files.isDirectory(target));
  }

  @Test
  public void concurrentExtractionsAgree() throws Exception {
    int n = 8;
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        results.add(pool.submit(new Callable<String>() {
          @Override
          public String call() throws Exception {
            start.await();
            return extract(lib);
          }
        }));
      }
      start.countDown();
      Path want = base.resolve(sha256(lib)).resolve(LIB);
      for (Future<String> f : results) {
        assertEquals(want.toString(), f.get(60, TimeUnit.SECONDS));
      }
      assertArrayEquals(lib, Files.readAllBytes(want));
      assertEquals("only the library, no temp files", 1, names(want.getParent()).size());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  public void refusesWorldWritableHashDirectory() throws Exception {
    Path dir = Paths.get(extract(lib)).getParent();
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertExtractRefuses("a world-writable " + dir, dir.toString(), "writable by group or others",
        "rwxrwxrwx", "refusing");
  }

  @Test
  public void refusesGroupWritableHashDirectory() throws Exception {
    Path dir = Paths.get(extract(lib)).getParent();
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwx---"));
    assertExtractRefuses("a group-writable " + dir, dir.toString(), "writable by group or others",
        "rwxrwx---");
  }

  @Test
  public void refusesWorldWritableCacheRoot() throws Exception {
    // Whoever can write the cache root can swap the hash directory for their own.
    Files.createDirectories(base);
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertExtractRefuses("a world-writable " + base, base.toString(),
        "writable by group or others");
  }

  @Test
  public void readableCacheRootIsAccepted() throws Exception {
    // Only write access lets another user swap the library; 0755 made by hand is fine.
    Files.createDirectories(base);
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertArrayEquals(lib, Files.readAllBytes(Paths.get(extract(lib))));
  }

  @Test
  public void refusesASymlinkedHashDirectory() throws Exception {
    Path real = tmp.newFolder("real").toPath();
    Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rwx------"));
    Files.createDirectories(base);
    Path dir = base.resolve(sha256(lib));
    Files.createSymbolicLink(dir, real);
    assertExtractRefuses("a symlink as " + dir, dir.toString(), "is not a directory");
    assertEquals("nothing written through the link", 0, names(real).size());
  }

  @Test
  public void refusesAHashDirectoryOwnedBySomeoneElse() throws Exception {
    Path dir = Paths.get(extract(lib)).getParent();
    String user = me;
    if (!chownToNobody(dir)) {
      // Not root: cannot give the directory away, so present ourselves as another user instead;
      // the check compares the owner with the user name either way.
      user = me + "-someone-else";
    }
    String owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName();
    try {
      NativeLoader.extractTo(base, new ByteArrayInputStream(lib), user);
      fail("accepted " + dir + " owned by " + owner + " for " + user);
    } catch (IOException e) {
      assertMessage(e, "owned by " + owner, "not by " + user, "refusing");
    }
  }

  @Test
  public void refusesALibraryOwnedBySomeoneElse() throws Exception {
    Path target = Paths.get(extract(lib));
    if (chownToNobody(target)) {
      assertExtractRefuses(target + " owned by nobody", target.toString(), "owned by nobody",
          "not by " + me);
    } else {
      // Without root the directories are what another user would have to own; see above.
      try {
        NativeLoader.extractTo(base, new ByteArrayInputStream(lib), me + "-someone-else");
        fail("accepted a cache owned by " + me + " for another user");
      } catch (IOException e) {
        assertMessage(e, "not by " + me + "-someone-else");
      }
    }
  }

  /** Gives p to the user nobody if this process may (root); false otherwise. */
  private static boolean chownToNobody(Path p) {
    try {
      UserPrincipal nobody =
          p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
      Files.setOwner(p, nobody);
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  @Test
  public void abiMismatchMessageNamesBothVersionsAndThePath() {
    String path = "/opt/sluice/lib/libsluice.so";
    int found = NativeVolume.ABI_VERSION + 1;
    try {
      NativeLoader.checkAbi(path, found, NativeVolume.ABI_VERSION);
      fail("accepted ABI " + found);
    } catch (UnsatisfiedLinkError e) {
      assertMessage(e, path, "ABI version " + found,
          "need ABI version " + NativeVolume.ABI_VERSION, "built with this jar");
    }
    NativeLoader.checkAbi(path, NativeVolume.ABI_VERSION, NativeVolume.ABI_VERSION);
  }

  @Test
  public void explicitPathMustBeAFile() throws Exception {
    Path dir = tmp.newFolder("notafile").toPath();
    try {
      NativeLoader.checkExplicit(dir.toString());
      fail("accepted a directory");
    } catch (UnsatisfiedLinkError e) {
      assertMessage(e, dir.toString(), NativeLoader.PATH_PROPERTY, "not a file");
    }
    Path f = tmp.newFile("libsluice.so").toPath();
    assertEquals(f.toAbsolutePath().toString(), NativeLoader.checkExplicit(f.toString()));
  }
}
