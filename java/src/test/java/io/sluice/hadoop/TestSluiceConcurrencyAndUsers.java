package io.sluice.hadoop;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.net.URI;
import java.security.PrivilegedExceptionAction;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.security.AccessControlException;
import org.apache.hadoop.security.UserGroupInformation;
import org.junit.Test;

/**
 * Many threads through one FileSystem (different files, and one file read at once), and several
 * FileSystem instances in one JVM, each with its own user: FileSystem.get caches per UGI and the
 * volume enforces each user's permissions.
 */
public class TestSluiceConcurrencyAndUsers {
  private static final URI VOLUME = URI.create(SluiceTestVolume.DEFAULT_FS);

  private static byte[] data(int seed, int len) {
    byte[] b = new byte[len];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] readAll(FileSystem fs, Path p, int len) throws Exception {
    byte[] got = new byte[len];
    try (FSDataInputStream in = fs.open(p)) {
      in.readFully(0, got);
      assertEquals(-1, in.read(len, new byte[1], 0, 1));
    }
    return got;
  }

  @Test
  public void testManyThreadsOneFileSystem() throws Exception {
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    FileSystem fs = FileSystem.newInstance(VOLUME, conf);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      Path dir = new Path("/concurrency");
      fs.delete(dir, true);
      List<Future<?>> jobs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        final int id = t;
        jobs.add(pool.submit(() -> {
          Path p = new Path(dir, "w" + id);
          byte[] want = data(id, (1 << 20) + id * 4097);
          try (FSDataOutputStream out = fs.create(p, true)) {
            for (int off = 0; off < want.length; off += 10000) {
              out.write(want, off, Math.min(10000, want.length - off));
            }
          }
          assertArrayEquals(want, readAll(fs, p, want.length));
          return null;
        }));
      }
      for (Future<?> f : jobs) {
        f.get();
      }

      // one stream shared by many threads doing positioned reads, plus a sequential reader
      Path shared = new Path(dir, "shared");
      byte[] want = data(99, 6 << 20);
      try (FSDataOutputStream out = fs.create(shared, true)) {
        out.write(want);
      }
      jobs.clear();
      try (FSDataInputStream in = fs.open(shared)) {
        for (int t = 0; t < 8; t++) {
          final int id = t;
          jobs.add(pool.submit(() -> {
            Random r = new Random(id);
            byte[] buf = new byte[65536];
            for (int i = 0; i < 100; i++) {
              int off = r.nextInt(want.length - buf.length);
              in.readFully(off, buf);
              for (int k = 0; k < buf.length; k++) {
                if (buf[k] != want[off + k]) {
                  fail("thread " + id + ": byte " + (off + k) + " differs");
                }
              }
            }
            return null;
          }));
        }
        jobs.add(pool.submit(() -> {
          assertArrayEquals(want, readAll(fs, shared, want.length));
          return null;
        }));
        for (Future<?> f : jobs) {
          f.get();
        }
      }
    } finally {
      pool.shutdownNow();
      fs.close();
    }
  }

  @Test
  public void testUsersPerInstance() throws Exception {
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    UserGroupInformation alice =
        UserGroupInformation.createUserForTesting("alice", new String[] {"staff"});
    UserGroupInformation bob =
        UserGroupInformation.createUserForTesting("bob", new String[] {"bob"});
    FileSystem root = FileSystem.newInstance(VOLUME, conf);
    try {
      root.mkdirs(new Path("/users-test"), new FsPermission((short) 0777));
      root.setPermission(new Path("/users-test"), new FsPermission((short) 0777));
    } finally {
      root.close();
    }

    FileSystem aliceFs = alice.doAs((PrivilegedExceptionAction<FileSystem>) () ->
        FileSystem.get(VOLUME, conf));
    FileSystem aliceAgain = alice.doAs((PrivilegedExceptionAction<FileSystem>) () ->
        FileSystem.get(VOLUME, conf));
    FileSystem bobFs = bob.doAs((PrivilegedExceptionAction<FileSystem>) () ->
        FileSystem.get(VOLUME, conf));
    try {
      assertSame("FileSystem.get caches per user", aliceFs, aliceAgain);
      assertNotSame(aliceFs, bobFs);

      Path priv = new Path("/users-test/alice-private");
      aliceFs.mkdirs(priv, new FsPermission((short) 0700));
      aliceFs.setPermission(priv, new FsPermission((short) 0700));
      try (FSDataOutputStream out = aliceFs.create(new Path(priv, "secret"), true)) {
        out.write("alice only".getBytes("UTF-8"));
      }
      assertEquals("alice", aliceFs.getFileStatus(priv).getOwner());
      assertEquals("/user/alice", aliceFs.getHomeDirectory().toUri().getPath());
      assertEquals("/user/bob", bobFs.getHomeDirectory().toUri().getPath());

      try {
        bobFs.listStatus(priv);
        fail("bob listed alice's private directory");
      } catch (AccessControlException expected) {
        // the volume enforces the caller's permissions
      }
      try {
        bobFs.open(new Path(priv, "secret")).close();
        fail("bob opened alice's private file");
      } catch (AccessControlException expected) {
        // likewise
      }
      try (FSDataOutputStream out = bobFs.create(new Path("/users-test/bobs"), true)) {
        out.write(1);
      }
      assertEquals("bob", aliceFs.getFileStatus(new Path("/users-test/bobs")).getOwner());
      assertTrue(aliceFs.delete(priv, true));
    } finally {
      FileSystem.closeAllForUGI(alice);
      FileSystem.closeAllForUGI(bob);
    }
  }
}
