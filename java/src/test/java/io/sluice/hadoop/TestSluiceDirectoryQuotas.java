package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.net.URI;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ContentSummary;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.QuotaUsage;
import org.apache.hadoop.hdfs.protocol.DSQuotaExceededException;
import org.apache.hadoop.hdfs.protocol.NSQuotaExceededException;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;

/**
 * Directory quotas through the FileSystem API: a quota set by `sluice quota set` (the same rows
 * and rules as `juicefs quota`) refuses creates with HDFS's NSQuotaExceededException and writes
 * with DSQuotaExceededException, and shows in getContentSummary, getQuotaUsage and
 * `hadoop fs -count -q`. CLI and library: system properties sluice.test.cli /
 * sluice.native.path (set by the pom), else build/bin and build/lib.
 */
public class TestSluiceDirectoryQuotas {
  private static final String VOLUME = "quotavol";
  private static final URI FS_URI = URI.create("sluice://" + VOLUME + "/");
  private static final long MIB = 1024 * 1024;

  @Rule public TemporaryFolder tmp = new TemporaryFolder();
  @Rule public Timeout timeout = new Timeout(120, TimeUnit.SECONDS);

  private String meta;

  private static void sluice(String... args) throws Exception {
    String[] cmd = new String[args.length + 1];
    cmd[0] = TestProcesses.cli();
    System.arraycopy(args, 0, cmd, 1, args.length);
    TestProcesses.run(Collections.<String, String>emptyMap(), cmd);
  }

  @Before
  public void formatVolume() throws Exception {
    File dir = tmp.newFolder("vol");
    meta = "sqlite3://" + new File(dir, "meta.db").getAbsolutePath();
    sluice("format", meta, VOLUME, "--storage", "file", "--bucket",
        new File(dir, "data").getAbsolutePath() + "/", "--trash-days", "0");
    sluice("quota", "set", meta, "--path", "/q", "--create", "--inodes", "2", "--capacity", "1M");
  }

  private Configuration conf() {
    return TestProcesses.volumeConf(VOLUME, meta);
  }

  @Test
  public void quotasRefuseGrowthAndShowInSummaries() throws Exception {
    try (FileSystem fs = FileSystem.newInstance(FS_URI, conf())) {
      Path q = new Path("/q");
      fs.create(new Path(q, "one")).close();
      FSDataOutputStream out = fs.create(new Path(q, "two"));
      out.write(new byte[(int) (2 * MIB)]);
      assertThatThrownBy(out::close).isInstanceOf(DSQuotaExceededException.class)
          .hasMessageContaining("space quota exceeded");
      assertThat(fs.getFileStatus(new Path(q, "two")).getLen()).isZero();
      assertThatThrownBy(() -> fs.create(new Path(q, "three")).close())
          .isInstanceOf(NSQuotaExceededException.class);
      assertThatThrownBy(() -> fs.mkdirs(new Path(q, "sub")))
          .isInstanceOf(NSQuotaExceededException.class);
      assertThat(fs.exists(new Path(q, "three"))).isFalse();

      ContentSummary cs = fs.getContentSummary(q);
      assertThat(cs.getQuota()).isEqualTo(2);
      assertThat(cs.getSpaceQuota()).isEqualTo(MIB);
      assertThat(cs.getFileCount()).isEqualTo(2);
      QuotaUsage qu = fs.getQuotaUsage(q);
      assertThat(qu.getQuota()).isEqualTo(2);
      assertThat(qu.getSpaceQuota()).isEqualTo(MIB);
      assertThat(fs.getContentSummary(new Path("/")).getQuota()).isEqualTo(-1);

      // `hadoop fs -count -q`: QUOTA, REM_QUOTA, SPACE_QUOTA, REM_SPACE_QUOTA, ...
      Configuration shellConf = conf();
      shellConf.set("fs.defaultFS", FS_URI.toString());
      String[] cols = TestProcesses.fsShell(shellConf, "-count", "-q", "/q").trim()
          .split("\\s+");
      assertThat(cols[0]).isEqualTo("2");
      assertThat(cols[2]).isEqualTo(Long.toString(MIB));

      // room again after a delete
      fs.delete(new Path(q, "two"), false);
      fs.create(new Path(q, "three")).close();
    }
  }
}
