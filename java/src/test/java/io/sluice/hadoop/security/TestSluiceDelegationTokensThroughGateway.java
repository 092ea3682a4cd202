package io.sluice.hadoop.security;

import static io.sluice.hadoop.TestProcesses.setting;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.security.PrivilegedExceptionAction;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.security.AccessControlException;
import org.apache.hadoop.security.Credentials;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.token.Token;
import org.junit.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delegation tokens end to end through a real gateway (Kerberos mode): issue through Hadoop's
 * addDelegationTokens, renew and cancel through Token (so through SluiceTokenRenewer), and a
 * process that holds only the token, with no way to reach Kerberos, using the volume until the
 * token is cancelled.
 *
 * <p>Runs when SLUICE_TEST_META (or -Dsluice.test.meta) is a gateway:// URL and SLUICE_TEST_CONF
 * (or -Dsluice.test.conf) holds the Kerberos keytab of the client, as tests/gateway-contract.sh
 * sets them; skipped otherwise.
 */
public class TestSluiceDelegationTokensThroughGateway {
  private static final Logger LOG =
      LoggerFactory.getLogger(TestSluiceDelegationTokensThroughGateway.class);
  private static final Pattern KERBEROS_KEY =
      Pattern.compile("^sluice\\.([a-z0-9-]+\\.)?kerberos\\..*");

  /** conf without any Kerberos login: no keytab, no principal, a ticket cache that is not. */
  private static Configuration withoutKerberos(Configuration conf, File dir) {
    Configuration c = new Configuration(conf);
    for (Map.Entry<String, String> e : conf) {
      if (KERBEROS_KEY.matcher(e.getKey()).matches()) {
        c.unset(e.getKey());
      }
    }
    c.unset("hadoop.security.kerberos.ticket.cache.path");
    c.set("sluice.kerberos.ccache", "FILE:" + new File(dir, "no-such-ccache"));
    return c;
  }

  private static <T> T as(UserGroupInformation ugi, PrivilegedExceptionAction<T> action)
      throws Exception {
    return ugi.doAs(action);
  }

  /** Opens a FileSystem as ugi and stats "/": throws if the volume cannot be reached. */
  private static void reach(UserGroupInformation ugi, URI uri, Configuration conf)
      throws Exception {
    as(ugi, () -> {
      try (FileSystem fs = FileSystem.newInstance(uri, conf)) {
        fs.getFileStatus(new Path("/"));
      }
      return null;
    });
  }

  @Test
  public void testIssueRenewUseCancel() throws Exception {
    String meta = setting("sluice.test.meta", "SLUICE_TEST_META", "");
    assumeTrue("needs a gateway: SLUICE_TEST_META=gateway://... (tests/gateway-contract.sh)",
        meta.startsWith("gateway://"));
    assumeTrue("needs the client's keytab in SLUICE_TEST_CONF (kerberos.keytab=...)",
        setting("sluice.test.conf", "SLUICE_TEST_CONF", "")
            .contains("kerberos.keytab="));

    Configuration conf = SluiceTestVolume.configure(new Configuration());
    URI uri = URI.create(conf.get("fs.contract.test.fs.sluice"));
    File tmp = Files.createTempDirectory("sluice-dt-").toFile();
    String me = UserGroupInformation.getCurrentUser().getShortUserName();
    Path dir = new Path("/delegation-tokens-" + System.nanoTime());
    try (FileSystem fs = FileSystem.newInstance(uri, conf)) {
      // ---- issue, as Hadoop's job submission collects tokens
      String service = fs.getCanonicalServiceName();
      assertEquals(SluiceDelegationTokens.canonicalService(meta), service);
      assertNotNull(service);
      Credentials creds = new Credentials();
      long before = System.currentTimeMillis();
      Token<?>[] tokens = fs.addDelegationTokens(me, creds);
      assertEquals(1, tokens.length);
      Token<?> token = tokens[0];
      assertEquals(SluiceDelegationTokenIdentifier.KIND, token.getKind());
      assertEquals(service, token.getService().toString());
      assertSame(token, creds.getToken(new Text(service)));
      assertEquals("a token already collected is not issued again", 0,
          fs.addDelegationTokens(me, creds).length);

      SluiceDelegationTokenIdentifier id =
          (SluiceDelegationTokenIdentifier) token.decodeIdentifier();
      assertEquals(me, id.getOwner().toString());
      assertEquals(me, id.getRenewer().toString());
      assertEquals("", id.getRealUser().toString());
      assertTrue(id.toString(), id.getIssueDate() >= before - 60_000
          && id.getIssueDate() <= System.currentTimeMillis() + 60_000);
      assertTrue(id.toString(), id.getMaxDate() > id.getIssueDate());

      // ---- renew (by its renewer)
      long renewedAt = System.currentTimeMillis();
      long expiry = token.renew(conf);
      assertTrue("expiry " + expiry + " is in the future", expiry > renewedAt);
      assertTrue("expiry " + expiry + " is not past the max date", expiry <= id.getMaxDate());

      // ---- a process with only the token
      Configuration tokenConf = withoutKerberos(conf, tmp);
      UserGroupInformation noToken = UserGroupInformation.createRemoteUser(me);
      try {
        reach(noToken, uri, tokenConf);
        fail("without Kerberos and without a token the gateway was reached: the test proves"
            + " nothing");
      } catch (IOException expected) {
        // no credentials at all
        LOG.info("refused as expected: {}", expected.toString());
      }
      UserGroupInformation tokenOnly = UserGroupInformation.createRemoteUser(me);
      tokenOnly.addToken(token);
      byte[] data = new byte[300_000];
      new Random(6).nextBytes(data);
      as(tokenOnly, () -> {
        try (FileSystem tfs = FileSystem.newInstance(uri, tokenConf)) {
          assertEquals(service, tfs.getCanonicalServiceName());
          assertTrue(tfs.mkdirs(dir));
          Path file = new Path(dir, "written-with-a-token");
          try (FSDataOutputStream out = tfs.create(file, false)) {
            out.write(data);
          }
          FileStatus[] list = tfs.listStatus(dir);
          assertEquals(1, list.length);
          assertEquals(file.getName(), list[0].getPath().getName());
          assertEquals(data.length, list[0].getLen());
          assertEquals(me, list[0].getOwner());
          byte[] got = new byte[data.length];
          try (FSDataInputStream in = tfs.open(file)) {
            in.readFully(0, got);
          }
          assertArrayEquals(data, got);
          try {
            tfs.getDelegationToken(me);
            fail("a token begot a token");
          } catch (AccessControlException expected) {
            // as HDFS: tokens are issued to Kerberos callers only
            LOG.info("refused as expected: {}", expected.toString());
          }
        }
        return null;
      });
      // ... and the Kerberos side sees what the token's user wrote
      assertEquals(data.length, fs.getFileStatus(new Path(dir, "written-with-a-token")).getLen());

      // ---- renewal is for the renewer; the owner may cancel
      Token<?> forOther = fs.getDelegationToken("nobody-renews-" + System.nanoTime());
      assertNotNull(forOther);
      try {
        forOther.renew(conf);
        fail("renewed by someone who is not its renewer");
      } catch (AccessControlException expected) {
        // YARN treats this as a refused renewal
        LOG.info("refused as expected: {}", expected.toString());
      }
      forOther.cancel(conf);

      // ---- cancel: the token no longer opens the volume, nor renews
      token.cancel(conf);
      try {
        reach(tokenOnly, uri, tokenConf);
        fail("a cancelled token still reaches the volume");
      } catch (AccessControlException expected) {
        // refused by the gateway
        LOG.info("refused as expected: {}", expected.toString());
      }
      try {
        token.renew(conf);
        fail("a cancelled token was renewed");
      } catch (AccessControlException expected) {
        // unknown to the gateway now
        LOG.info("refused as expected: {}", expected.toString());
      }
    } finally {
      try (FileSystem fs = FileSystem.newInstance(uri, conf)) {
        fs.delete(dir, true);
      }
      tmp.delete(); // empty: the ticket cache in it is never created
    }
  }
}
