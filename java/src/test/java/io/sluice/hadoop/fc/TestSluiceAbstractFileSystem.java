package io.sluice.hadoop.fc;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.sluice.hadoop.Sluice;
import io.sluice.hadoop.SluiceFileSystem;
import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.AbstractFileSystem;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FsServerDefaults;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.DataChecksum;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * What the FileContext suites do not cover: the Sluice binding itself, symlinks (not supported:
 * Sluice reads JuiceFS symlinks but creates none), server defaults, and the paged listing
 * (several native pages, and a listing abandoned until its FileSystem closes).
 */
public class TestSluiceAbstractFileSystem {
  private FileContext fc;
  private Path dir;

  @Before
  public void setUp() throws Exception {
    fc = SluiceFileContexts.fileContext();
    dir = fc.makeQualified(new Path("/test-sluice-afs"));
    fc.mkdir(dir, FsPermission.getDirDefault(), true);
  }

  @After
  public void tearDown() throws Exception {
    fc.delete(dir, true);
  }

  @Test
  public void testBinding() throws Exception {
    AbstractFileSystem afs = fc.getDefaultFileSystem();
    assertTrue(afs.getClass().getName(), afs instanceof Sluice);
    assertEquals(URI.create("sluice://testvol/"), afs.getUri());
    assertEquals(new Path("sluice://testvol/user/" + System.getProperty("user.name")),
        afs.getHomeDirectory());
    try {
      FileContext.getFileContext(URI.create("sluice:///"), SluiceFileContexts.conf());
      fail("a sluice URI without a volume was accepted");
    } catch (RuntimeException | IOException e) {
      assertTrue(String.valueOf(rootCause(e).getMessage()),
          String.valueOf(rootCause(e).getMessage()).contains("names its volume"));
    }
  }

  /** Not supported: Sluice creates no symlinks (createSymlink throws, supportsSymlinks false). */
  @Test
  public void testSymlinksUnsupported() throws Exception {
    assertFalse(fc.getDefaultFileSystem().supportsSymlinks());
    Path target = new Path(dir, "target");
    fc.create(target, EnumSet.of(CreateFlag.CREATE)).close();
    // past FileContext's JVM-wide switch (off by default), so the filesystem itself answers
    FileSystem.enableSymlinks();
    try {
      fc.createSymlink(target, new Path(dir, "link"), false);
      fail("createSymlink succeeded");
    } catch (UnsupportedOperationException expected) {
      // the filesystem's answer, not FileContext's
    }
    assertFalse(fc.util().exists(new Path(dir, "link")));
  }

  @Test
  public void testServerDefaults() throws Exception {
    FsServerDefaults d = fc.getDefaultFileSystem().getServerDefaults(dir);
    assertEquals(128L << 20, d.getBlockSize());
    assertEquals(1, d.getReplication());
    assertEquals(DataChecksum.Type.NULL, d.getChecksumType());
    FileSystem fs = FileSystem.get(URI.create(SluiceTestVolume.DEFAULT_FS),
        SluiceFileContexts.conf());
    assertEquals(d.getBlockSize(), fs.getServerDefaults(dir).getBlockSize());
    assertEquals(DataChecksum.Type.NULL, fs.getServerDefaults(dir).getChecksumType());
  }

  /** 2500 entries: three native pages of 1024, through FileContext and FileSystem. */
  @Test
  public void testPagedListing() throws Exception {
    int count = 2500;
    Path big = new Path(dir, "big");
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String name = String.format("d%05d", i);
      fc.mkdir(new Path(big, name), FsPermission.getDirDefault(), true);
      expected.add(name);
    }
    assertEquals(expected, names(fc.listStatus(big)));
    FileSystem fs = FileSystem.get(URI.create(SluiceTestVolume.DEFAULT_FS),
        SluiceFileContexts.conf());
    assertEquals(expected, names(fs.listStatusIterator(big)));
    assertEquals(count, fs.listStatus(big).length);

    RemoteIterator<FileStatus> file = fs.listStatusIterator(new Path(big, "d00001"));
    assertFalse(file.hasNext());
    try {
      fs.listStatusIterator(new Path(dir, "missing"));
      fail("listing a missing directory succeeded");
    } catch (FileNotFoundException missing) {
      // eager, as HDFS
    }
  }

  /** An iterator left open is closed with its FileSystem; using it afterwards fails loudly. */
  @Test
  public void testListingClosedWithFileSystem() throws Exception {
    Path big = new Path(dir, "abandoned");
    for (int i = 0; i < 1500; i++) {
      fc.mkdir(new Path(big, "e" + i), FsPermission.getDirDefault(), true);
    }
    Configuration conf = SluiceFileContexts.conf();
    FileSystem fs = FileSystem.newInstance(URI.create(SluiceTestVolume.DEFAULT_FS), conf);
    assertTrue(fs instanceof SluiceFileSystem);
    RemoteIterator<FileStatus> it = fs.listStatusIterator(big);
    int seen = 0;
    while (seen < 1024) {
      it.next();
      seen++;
    }
    fs.close();
    try {
      it.hasNext();
      fail("a listing whose FileSystem closed went on");
    } catch (IOException expected) {
      assertTrue(expected.getMessage(), expected.getMessage().contains("closed"));
    }
  }

  private static List<String> names(RemoteIterator<FileStatus> it) throws IOException {
    List<String> out = new ArrayList<>();
    while (it.hasNext()) {
      out.add(it.next().getPath().getName());
    }
    return out;
  }

  private static Throwable rootCause(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }
}
