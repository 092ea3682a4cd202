package io.sluice.hadoop;

import java.io.File;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;

/**
 * A test class on a volume of its own per test, formatted by the sluice CLI (sqlite3 and file
 * storage, no trash), used by two ordinary users: alice (group staff) and bob (group bob), each
 * with a FileSystem of their own; umask 022.
 */
public abstract class TwoUsersVolumeTestBase {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();
  @Rule public Timeout timeout = new Timeout(120, TimeUnit.SECONDS);

  private final String volume;
  private final String[] formatOptions;
  protected String meta;
  protected FileSystem alice;
  protected FileSystem bob;

  /** @param formatOptions what `sluice format` gets besides storage, bucket and trash days */
  protected TwoUsersVolumeTestBase(String volume, String... formatOptions) {
    this.volume = volume;
    this.formatOptions = formatOptions;
  }

  /** sluice://VOLUME/ */
  protected URI fsUri() {
    return URI.create("sluice://" + volume + "/");
  }

  @Before
  public final void formatVolume() throws Exception {
    File dir = tmp.newFolder("vol");
    meta = "sqlite3://" + new File(dir, "meta.db").getAbsolutePath();
    List<String> cmd = new ArrayList<>(Arrays.asList(TestProcesses.cli(), "format", meta,
        volume, "--storage", "file", "--bucket", new File(dir, "data").getAbsolutePath() + "/",
        "--trash-days", "0"));
    cmd.addAll(Arrays.asList(formatOptions));
    TestProcesses.run(Collections.<String, String>emptyMap(), cmd.toArray(new String[0]));
    alice = TestProcesses.fsAs(fsUri(), conf(), "alice", "staff");
    bob = TestProcesses.fsAs(fsUri(), conf(), "bob", "bob");
  }

  @After
  public final void closeFileSystems() throws Exception {
    if (alice != null) {
      alice.close();
    }
    if (bob != null) {
      bob.close();
    }
  }

  protected Configuration conf() {
    Configuration conf = TestProcesses.volumeConf(volume, meta);
    conf.set("fs.permissions.umask-mode", "022");
    return conf;
  }

  /** Runs FsShell as alice, the volume the default file system; its standard output. */
  protected String shell(String... args) throws Exception {
    Configuration conf = conf();
    conf.set("fs.defaultFS", fsUri().toString());
    return TestProcesses.fsShellAs(conf, "alice", "staff", args);
  }
}
