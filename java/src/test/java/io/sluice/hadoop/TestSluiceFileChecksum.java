package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.CompositeCrcFileChecksum;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileChecksum;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.tools.DistCp;
import org.apache.hadoop.util.CrcComposer;
import org.apache.hadoop.util.CrcUtil;
import org.apache.hadoop.util.DataChecksum;
import org.apache.hadoop.util.ToolRunner;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * getFileChecksum returns what HDFS returns for the same bytes in COMPOSITE_CRC mode (byte for
 * byte, as DistCp compares them): an in-process MiniDFSCluster (block size 1 MiB, so files span
 * several HDFS blocks while Sluice's are 4 MiB) holds the same files. Each value is also checked
 * against Hadoop's own composition (CrcComposer over per-512-byte CRCs, as a DataNode does).
 */
public class TestSluiceFileChecksum {
  private static final int MIB = 1 << 20;
  private static File hdfsDir;
  private static MiniDFSCluster hdfs;
  private static FileSystem dfs;
  private static FileSystem fs;
  private static Path dir;

  @BeforeClass
  public static void setUp() throws Exception {
    Configuration hconf = new Configuration();
    hdfsDir = Files.createTempDirectory("sluice-checksum-hdfs").toFile();
    hconf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, hdfsDir.getAbsolutePath());
    hconf.setInt("dfs.replication", 1);
    hconf.setLong("dfs.blocksize", MIB);
    hconf.set("dfs.checksum.combine.mode", "COMPOSITE_CRC");
    hdfs = new MiniDFSCluster.Builder(hconf).numDataNodes(1).format(true).build();
    hdfs.waitActive();
    dfs = hdfs.getFileSystem();
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    fs = SluiceTestVolume.newFileSystem(conf);
    dir = SluiceTestVolume.freshDir(fs, "/test/checksum-");
    dfs.mkdirs(dir);
  }

  @AfterClass
  public static void tearDown() throws IOException {
    SluiceTestVolume.removeAndClose(fs, dir);
    if (hdfs != null) {
      hdfs.shutdown();
    }
    if (hdfsDir != null) {
      FileUtil.fullyDelete(hdfsDir);
    }
  }

  private static byte[] bytes(int n, long seed) {
    byte[] d = new byte[n];
    long x = seed * 0x9E3779B97F4A7C15L + 1;
    for (int i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      d[i] = (byte) x;
    }
    return d;
  }

  private static void write(FileSystem f, Path p, byte[] d, int off, int len, boolean append)
      throws IOException {
    try (FSDataOutputStream out = append ? f.append(p) : f.create(p, true)) {
      out.write(d, off, len);
    }
  }

  /** Hadoop's composition, as a DataNode and DFSClient do it: CRCs of 512-byte chunks. */
  private static FileChecksum expected(byte[] d, int len) throws IOException {
    DataChecksum sum = DataChecksum.newDataChecksum(DataChecksum.Type.CRC32C, 512);
    CrcComposer composer = CrcComposer.newCrcComposer(DataChecksum.Type.CRC32C, 512);
    for (int off = 0; off < len; off += 512) {
      int n = Math.min(512, len - off);
      sum.reset();
      sum.update(d, off, n);
      composer.update((int) sum.getValue(), n);
    }
    int crc = CrcUtil.readInt(composer.digest(), 0);
    return new CompositeCrcFileChecksum(crc, DataChecksum.Type.CRC32C, 512);
  }

  private static void checkSame(Path p, byte[] d, int len) throws IOException {
    FileChecksum ours = fs.getFileChecksum(p);
    FileChecksum theirs = dfs.getFileChecksum(p);
    assertThat(ours).as("%s (%d bytes)", p, len).isEqualTo(theirs);
    assertThat(ours.getBytes()).isEqualTo(theirs.getBytes());
    assertThat(ours.getChecksumOpt().getBytesPerChecksum())
        .isEqualTo(theirs.getChecksumOpt().getBytesPerChecksum());
    if (len == 0) {
      // a file without blocks: HDFS's fixed answer in every mode (HDFS-4090)
      assertThat(ours.getAlgorithmName()).isEqualTo("MD5-of-0MD5-of-0CRC32");
    } else {
      assertThat(theirs.getAlgorithmName()).isEqualTo("COMPOSITE-CRC32C");
      assertThat(ours).isEqualTo(expected(d, len));
    }
  }

  @Test
  public void sameAsHdfsForTheSameBytes() throws IOException {
    int[] sizes = {0, 1, 511, 512, 513, 4 * MIB - 1, 4 * MIB, 4 * MIB + 1, 70 * MIB + 123};
    byte[] d = bytes(70 * MIB + 123, 5);
    for (int size : sizes) {
      Path p = new Path(dir, "s" + size);
      write(fs, p, d, 0, size, false);
      write(dfs, p, d, 0, size, false);
      checkSame(p, d, size);
    }
    // ranged: prefixes ending inside Sluice's and HDFS's blocks, at their ends, past the end
    Path big = new Path(dir, "s" + (70 * MIB + 123));
    long[] lens = {0, 1, 511, 512, 1000, MIB, MIB + 1, 4 * MIB + 3, 64 * MIB + 5, 70 * MIB + 122};
    for (long len : lens) {
      FileChecksum ours = fs.getFileChecksum(big, len);
      assertThat(ours).as("first %d bytes", len).isEqualTo(dfs.getFileChecksum(big, len));
      if (len > 0) {
        assertThat(ours).isEqualTo(expected(d, (int) len));
      }
    }
    assertThat(fs.getFileChecksum(big, Long.MAX_VALUE)).isEqualTo(dfs.getFileChecksum(big));
  }

  @Test
  public void sameAsHdfsAfterAppends() throws IOException {
    byte[] d = bytes(6 * MIB, 9);
    Path p = new Path(dir, "appended");
    int[] cuts = {0, 700, 700 + 3 * MIB, 6 * MIB - 1, 6 * MIB};
    write(fs, p, d, 0, cuts[1], false);
    write(dfs, p, d, 0, cuts[1], false);
    for (int i = 1; i + 1 < cuts.length; i++) {
      write(fs, p, d, cuts[i], cuts[i + 1] - cuts[i], true);
      write(dfs, p, d, cuts[i], cuts[i + 1] - cuts[i], true);
      checkSame(p, d, cuts[i + 1]);
    }
  }

  /** Truncate (inside a block, so that HDFS recovers its last block) and concat, on both. */
  @Test
  public void sameAsHdfsAfterTruncateAndConcat() throws Exception {
    byte[] d = bytes(6 * MIB + 5, 13);
    Path p = new Path(dir, "truncated");
    write(fs, p, d, 0, d.length, false);
    write(dfs, p, d, 0, d.length, false);
    int cut = 5 * MIB + 3;
    assertThat(fs.truncate(p, cut)).isTrue();
    if (!dfs.truncate(p, cut)) {
      waitClosed(p);
    }
    checkSame(p, d, cut);
    // grown again after the cut: the cut-off bytes must not come back, on either
    write(fs, p, d, 0, 100, true);
    write(dfs, p, d, 0, 100, true);
    assertThat(fs.getFileChecksum(p)).isEqualTo(dfs.getFileChecksum(p));

    Path target = new Path(dir, "concat-target");
    Path[] srcs = {new Path(dir, "concat-src1"), new Path(dir, "concat-src2")};
    int[][] parts = {{0, 3 * MIB + 7}, {3 * MIB + 7, MIB + 1}, {4 * MIB + 8, 2}};
    for (FileSystem f : new FileSystem[] {fs, dfs}) {
      write(f, target, d, parts[0][0], parts[0][1], false);
      write(f, srcs[0], d, parts[1][0], parts[1][1], false);
      write(f, srcs[1], d, parts[2][0], parts[2][1], false);
      f.concat(target, srcs);
    }
    checkSame(target, d, 4 * MIB + 10);
  }

  private static void waitClosed(Path p) throws Exception {
    DistributedFileSystem hd = (DistributedFileSystem) dfs;
    for (int i = 0; i < 600 && !hd.isFileClosed(p); i++) {
      Thread.sleep(100);
    }
    assertThat(hd.isFileClosed(p)).as("HDFS recovered the truncated block of %s", p).isTrue();
  }

  @Test
  public void aCorruptedCopyDiffers() throws IOException {
    byte[] d = bytes(5 * MIB + 17, 3);
    Path p = new Path(dir, "original");
    write(dfs, p, d, 0, d.length, false);
    byte[] c = d.clone();
    c[3 * MIB + 5] ^= 1;
    write(fs, p, c, 0, c.length, false);
    assertThat(fs.getFileChecksum(p)).isNotEqualTo(dfs.getFileChecksum(p));
    // the bytes before the flipped one still agree
    assertThat(fs.getFileChecksum(p, 3 * MIB + 5)).isEqualTo(dfs.getFileChecksum(p, 3 * MIB + 5));
  }

  /**
   * DistCp -update from HDFS to Sluice compares the files' checksums: a copy is verified, and a
   * target file of the right length with other bytes is found and copied again.
   */
  @Test
  public void distCpUpdateComparesChecksums() throws Exception {
    Path src = dfs.makeQualified(new Path(dir, "distcp-src"));
    Path dst = fs.makeQualified(new Path(dir, "distcp-dst"));
    byte[] a = bytes(5 * MIB + 11, 21);
    byte[] b = bytes(100, 22);
    write(dfs, new Path(src, "a"), a, 0, a.length, false);
    write(dfs, new Path(src, "b"), b, 0, b.length, false);
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    conf.set(FileSystem.FS_DEFAULT_NAME_KEY, fs.getUri().toString());
    conf.set("mapreduce.framework.name", "local");
    conf.set("mapreduce.cluster.local.dir", hdfsDir + "/mr-local");
    conf.set("mapreduce.jobtracker.staging.root.dir", hdfsDir + "/mr-staging");
    conf.set("dfs.checksum.combine.mode", "COMPOSITE_CRC");
    String[] args = {"-update", src.toString(), dst.toString()};
    assertThat(ToolRunner.run(conf, new DistCp(conf, null), args)).isZero();
    for (String n : new String[] {"a", "b"}) {
      assertThat(fs.getFileChecksum(new Path(dst, n)))
          .isEqualTo(dfs.getFileChecksum(new Path(src, n)));
    }
    // same length, other bytes: only the checksum tells; -update copies it again
    byte[] wrong = b.clone();
    wrong[50] ^= 0x40;
    write(fs, new Path(dst, "b"), wrong, 0, wrong.length, false);
    assertThat(fs.getFileChecksum(new Path(dst, "b")))
        .isNotEqualTo(dfs.getFileChecksum(new Path(src, "b")));
    assertThat(ToolRunner.run(conf, new DistCp(conf, null), args)).isZero();
    assertThat(fs.getFileChecksum(new Path(dst, "b")))
        .isEqualTo(dfs.getFileChecksum(new Path(src, "b")));
    byte[] back = new byte[b.length];
    try (FSDataInputStream in = fs.open(new Path(dst, "b"))) {
      in.readFully(0, back);
    }
    assertThat(back).isEqualTo(b);

    // and back, from Sluice to HDFS: verified by the same checksums
    Path home = dfs.makeQualified(new Path(dir, "distcp-back"));
    String[] backArgs = {"-update", dst.toString(), home.toString()};
    assertThat(ToolRunner.run(conf, new DistCp(conf, null), backArgs)).isZero();
    for (String n : new String[] {"a", "b"}) {
      assertThat(dfs.getFileChecksum(new Path(home, n)))
          .isEqualTo(fs.getFileChecksum(new Path(dst, n)));
    }
    assertThat(dfs.getFileStatus(new Path(home, "a")).getLen()).isEqualTo(a.length);
  }

  @Test
  public void directoriesAndMissingFiles() throws IOException {
    assertThat(fs.hasPathCapability(dir, CommonPathCapabilities.FS_CHECKSUMS)).isTrue();
    assertThatThrownBy(() -> fs.getFileChecksum(dir)).isInstanceOf(FileNotFoundException.class);
    assertThatThrownBy(() -> fs.getFileChecksum(new Path(dir, "missing")))
        .isInstanceOf(FileNotFoundException.class);
    assertThatThrownBy(() -> fs.getFileChecksum(dir, -1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
