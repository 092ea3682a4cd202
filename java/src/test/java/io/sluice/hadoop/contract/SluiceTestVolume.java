package io.sluice.hadoop.contract;

import static io.sluice.hadoop.TestProcesses.setting;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import io.sluice.hadoop.SluiceConstants;
import io.sluice.hadoop.TestProcesses;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * The volume the contract suites run on: an embedded one (SQLite metadata, a local directory as
 * object storage) formatted once per JVM with the sluice CLI under target/.
 *
 * <p>Inputs (system property, else environment variable, else default):
 * sluice.test.cli / SLUICE_TEST_CLI (build/bin/sluice), sluice.native.path / SLUICE_NATIVE_PATH
 * (build/lib/libsluice.so), test.fs.sluice.name (sluice://testvol/). A run against another volume
 * (MariaDB + S3) sets sluice.test.meta / SLUICE_TEST_META to its META-URL and skips formatting;
 * sluice.test.cache-dir / SLUICE_TEST_CACHE_DIR turns on the disk cache and hflush staging;
 * sluice.test.conf / SLUICE_TEST_CONF adds settings ("KEY=VALUE;...", each as sluice.KEY).
 *
 * <p>Tests whose child processes are killed or exit with the volume open use a second volume
 * ({@link #configureScratch}): a client that dies loses the usage it had not flushed yet (at most
 * a second's worth, as a JuiceFS client does), and the used-space and inode counters of the shared
 * volume must stay exact for the tests that read them. A run against another volume names that
 * one with sluice.test.scratch-meta / SLUICE_TEST_SCRATCH_META.
 */
public final class SluiceTestVolume {
  public static final String DEFAULT_FS = "sluice://testvol/";

  private static String meta; // guarded by SluiceTestVolume.class
  private static String scratchMeta; // guarded by SluiceTestVolume.class

  private SluiceTestVolume() {}

  /**
   * Adds the test volume's settings to conf and returns it. fs.sluice.impl is left unset on
   * purpose: the scheme must resolve through META-INF/services.
   */
  public static Configuration configure(Configuration conf) {
    return configure(conf, meta());
  }

  /**
   * As {@link #configure}, with the test volume as fs.defaultFS too, for what resolves paths
   * against it (FsShell, MapReduce jobs).
   */
  public static Configuration configureAsDefault(Configuration conf) {
    configure(conf);
    conf.set(FileSystem.FS_DEFAULT_NAME_KEY, conf.get("fs.contract.test.fs.sluice"));
    return conf;
  }

  /** As {@link #configure}, for the scratch volume of tests whose clients die. */
  public static Configuration configureScratch(Configuration conf) {
    return configure(conf, scratchMeta());
  }

  /** A FileSystem of the test volume of its own (not the cached one), for the caller to close. */
  public static FileSystem newFileSystem(Configuration conf) throws IOException {
    return FileSystem.newInstance(URI.create(DEFAULT_FS), conf);
  }

  /** A new directory for one test: prefix followed by the time in nanoseconds. */
  public static org.apache.hadoop.fs.Path freshDir(FileSystem fs, String prefix)
      throws IOException {
    org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(prefix + System.nanoTime());
    fs.mkdirs(dir);
    return dir;
  }

  /** A test's cleanup: removes dir (when made) and closes fs (when opened). */
  public static void removeAndClose(FileSystem fs, org.apache.hadoop.fs.Path dir)
      throws IOException {
    if (fs == null) {
      return;
    }
    if (dir != null) {
      fs.delete(dir, true);
    }
    fs.close();
  }

  private static Configuration configure(Configuration conf, String metaUrl) {
    conf.set("sluice.meta", metaUrl);
    String lib = setting("sluice.native.path", "SLUICE_NATIVE_PATH", "build/lib/libsluice.so");
    if (new File(lib).isFile()) {
      conf.set("sluice.native.path", new File(lib).getAbsolutePath());
    }
    // A machine whose disk is fuller than the default 10% free (CI machines can be) must not
    // change what the tests cache and stage.
    conf.setDouble(SluiceConstants.hadoopKey(SluiceConstants.FREE_SPACE_RATIO), 0);
    String cacheDir = setting("sluice.test.cache-dir", "SLUICE_TEST_CACHE_DIR", null);
    if (cacheDir != null) {
      conf.set("sluice.cache-dir", cacheDir);
    }
    // More settings for the volume, "KEY=VALUE;KEY=VALUE" (e.g. the Kerberos login for a gateway).
    for (String kv : setting("sluice.test.conf", "SLUICE_TEST_CONF", "").split(";")) {
      int eq = kv.indexOf('=');
      if (eq > 0) {
        conf.set(SluiceConstants.hadoopKey(kv.substring(0, eq).trim()), kv.substring(eq + 1));
      }
    }
    conf.set("fs.contract.test.fs.sluice", setting("test.fs.sluice.name", null, DEFAULT_FS));
    return conf;
  }

  private static synchronized String meta() {
    if (meta == null) {
      String given = setting("sluice.test.meta", "SLUICE_TEST_META", null);
      meta = given != null ? given : format();
    }
    return meta;
  }

  private static synchronized String scratchMeta() {
    if (scratchMeta == null) {
      String given = setting("sluice.test.scratch-meta", "SLUICE_TEST_SCRATCH_META", null);
      if (given == null && setting("sluice.test.meta", "SLUICE_TEST_META", null) != null) {
        throw new IllegalStateException("SLUICE_TEST_META names the test volume, but no "
            + "SLUICE_TEST_SCRATCH_META the volume for tests whose clients die");
      }
      scratchMeta = given != null ? given : format();
    }
    return scratchMeta;
  }

  private static String format() {
    try {
      Path target = Paths.get("target");
      Files.createDirectories(target);
      Path dir = Files.createTempDirectory(target.toAbsolutePath(), "sluice-contract-");
      String url = "sqlite3://" + dir.resolve("meta.db");
      String cli = setting("sluice.test.cli", "SLUICE_TEST_CLI", "build/bin/sluice");
      TestProcesses.run(null, new File(cli).getAbsolutePath(), "format", url, "testvol",
          "--storage", "file", "--bucket", dir.resolve("data").toString() + "/",
          "--trash-days", "0");
      return url;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot format the test volume", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while formatting the test volume", e);
    }
  }
}
