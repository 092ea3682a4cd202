package io.sluice.hadoop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.io.IOUtils;
import org.apache.hadoop.security.alias.CredentialProvider;
import org.apache.hadoop.security.alias.CredentialProviderFactory;
import org.junit.Assume;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;

/**
 * Encryption at rest through the FileSystem API: a volume formatted by the sluice CLI with an RSA
 * key protected by a passphrase, opened with the passphrase from a JCEKS credential provider.
 * What is written reads back the same, no stored object holds the plaintext, and without the
 * passphrase, or with a wrong one, the volume does not open. CLI and library: system properties
 * sluice.test.cli / sluice.native.path (set by the pom), else build/bin and build/lib.
 */
public class TestSluiceEncryptedVolume {
  private static final String VOLUME = "encvol";
  private static final URI FS_URI = URI.create("sluice://" + VOLUME + "/");
  private static final String PASSPHRASE = "correct horse battery staple";
  private static final String PASSPHRASE_KEY =
      SluiceConstants.hadoopKey(SluiceConstants.ENCRYPT_PASSPHRASE);
  private static final byte[] MARKER =
      "SLUICE-PLAINTEXT-MARKER-5e1c7a".getBytes(StandardCharsets.US_ASCII);
  private static final int BLOCK = 4 * 1024 * 1024;

  @Rule public TemporaryFolder tmp = new TemporaryFolder();
  @Rule public Timeout timeout = new Timeout(120, TimeUnit.SECONDS);

  private File data;
  private String meta;

  /** Runs cmd (with JFS_RSA_PASSPHRASE set to passphrase, or unset if null) to exit 0. */
  private static void run(String passphrase, String... cmd) throws Exception {
    TestProcesses.run(Collections.singletonMap("JFS_RSA_PASSPHRASE", passphrase), cmd);
  }

  @Before
  public void formatVolume() throws Exception {
    File dir = tmp.newFolder("vol");
    File key = new File(dir, "key.pem");
    run(null, "openssl", "genrsa", "-aes256", "-passout", "pass:" + PASSPHRASE,
        "-out", key.getPath(), "2048");
    assertThat(new String(Files.readAllBytes(key.toPath()), StandardCharsets.US_ASCII))
        .as("a passphrase-protected key").contains("ENCRYPTED");
    data = new File(dir, "data");
    meta = "sqlite3://" + new File(dir, "meta.db").getAbsolutePath();
    String cli = TestProcesses.cli();
    // no compression, so that only the encryption can hide the marker
    run(PASSPHRASE, cli, "format", meta, VOLUME, "--storage", "file", "--bucket",
        data.getAbsolutePath() + "/", "--trash-days", "0", "--compress", "none",
        "--encrypt-rsa-key", key.getPath());
  }

  /** The volume's settings, without any passphrase. */
  private Configuration volumeConf() {
    return TestProcesses.volumeConf(VOLUME, meta);
  }

  /** The volume's settings with the passphrase in a JCEKS credential provider only. */
  private Configuration withCredentialProvider() throws IOException {
    Configuration conf = volumeConf();
    conf.set(CredentialProviderFactory.CREDENTIAL_PROVIDER_PATH,
        "jceks://file" + new File(tmp.getRoot(), "creds.jceks").getAbsolutePath());
    CredentialProvider provider = CredentialProviderFactory.getProviders(conf).get(0);
    provider.createCredentialEntry(PASSPHRASE_KEY, PASSPHRASE.toCharArray());
    provider.flush();
    assertThat(conf.get(PASSPHRASE_KEY)).as("the passphrase in clear").isNull();
    return conf;
  }

  /** MARKER every 64 KiB, random bytes between, across two 4 MiB block boundaries. */
  private static byte[] content() {
    byte[] d = new byte[2 * BLOCK + 654321];
    new Random(15).nextBytes(d);
    for (int off = 0; off + MARKER.length <= d.length; off += 64 * 1024) {
      System.arraycopy(MARKER, 0, d, off, MARKER.length);
    }
    return d;
  }

  private static boolean contains(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  @Test
  public void writesAndReadsThroughCredentialProviderPassphrase() throws Exception {
    byte[] d = content();
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path("/enc/file");
    try (FileSystem fs = FileSystem.newInstance(FS_URI, withCredentialProvider())) {
      try (FSDataOutputStream out = fs.create(file)) {
        out.write(d, 0, BLOCK + 1000);
        out.hflush();
        out.write(d, BLOCK + 1000, d.length - BLOCK - 1000);
      }
      assertThat(fs.getFileStatus(file).getLen()).isEqualTo(d.length);
      try (FSDataInputStream in = fs.open(file)) {
        byte[] all = new byte[d.length];
        IOUtils.readFully(in, all, 0, all.length);
        assertThat(in.read()).as("end of file").isEqualTo(-1);
        assertThat(Arrays.equals(all, d)).as("sequential read equals what was written").isTrue();
        for (int pos : new int[] {BLOCK - 777, 2 * BLOCK - 1, 12345}) {
          byte[] part = new byte[100000];
          in.readFully(pos, part);
          assertThat(Arrays.equals(part, Arrays.copyOfRange(d, pos, pos + part.length)))
              .as("positioned read at %d", pos).isTrue();
        }
        byte[] tail = new byte[1000];
        assertThat(in.read(d.length - 100, tail, 0, tail.length)).isEqualTo(100);
        assertThat(Arrays.equals(Arrays.copyOf(tail, 100),
            Arrays.copyOfRange(d, d.length - 100, d.length))).as("the last 100 bytes").isTrue();
      }
    }

    // the stored objects: as many bytes as the file at least, none of them the marker
    List<Path> stored;
    try (Stream<Path> walk = Files.walk(data.toPath())) {
      stored = walk.filter(Files::isRegularFile).collect(Collectors.toList());
    }
    long total = 0;
    for (Path p : stored) {
      byte[] b = Files.readAllBytes(p);
      total += b.length;
      assertThat(contains(b, MARKER)).as("the plaintext marker in %s", p).isFalse();
    }
    assertThat(total).as("bytes stored under %s", data).isGreaterThanOrEqualTo(d.length);
  }

  @Test
  public void doesNotOpenWithoutThePassphrase() {
    // a JVM cannot unset its own environment: with the variable set, the client would find it
    Assume.assumeTrue("JFS_RSA_PASSPHRASE is set in the test's environment",
        System.getenv("JFS_RSA_PASSPHRASE") == null);
    assertThatThrownBy(() -> FileSystem.newInstance(FS_URI, volumeConf()).close())
        .isInstanceOf(IOException.class).hasMessageContaining("passphrase");
  }

  @Test
  public void doesNotOpenWithAWrongPassphrase() {
    Configuration conf = volumeConf();
    conf.set(PASSPHRASE_KEY, "wrong");
    assertThatThrownBy(() -> FileSystem.newInstance(FS_URI, conf).close())
        .isInstanceOf(IOException.class).hasMessageContaining("wrong passphrase");
  }
}
