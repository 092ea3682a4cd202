package io.sluice.hadoop.security;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.IOException;
import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.security.AccessControlException;
import org.apache.hadoop.security.UserGroupInformation;
import org.junit.Test;

/**
 * Whom a Kerberos-mode FileSystem acts as. The gateway knows the caller by its login (here the
 * sluice.kerberos.keytab of SLUICE_TEST_CONF, whose short name is SLUICE_TEST_GATEWAY_AS): a UGI
 * that merely carries another name (an OS user under "simple" Hadoop security) acts as that
 * login, not as a proxy for its name, which the gateway would refuse; a proxy UGI asks the gateway
 * to act for its user, which the gateway's proxy rules decide (none are configured for the test
 * users, so it is refused).
 */
public class TestSluiceGatewayIdentity {
  private static String expected() {
    String as = System.getenv("SLUICE_TEST_GATEWAY_AS");
    assumeTrue("needs a gateway and the short name of the client's login "
        + "(SLUICE_TEST_GATEWAY_AS, tests/gateway-contract.sh)", as != null && !as.isEmpty());
    return as;
  }

  private static FileSystem open(Configuration conf) throws IOException {
    return FileSystem.newInstance(URI.create(conf.get("fs.contract.test.fs.sluice")), conf);
  }

  @Test
  public void actsAsItsLoginWhateverTheUgiIsNamed() throws Exception {
    String as = expected();
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    UserGroupInformation other = UserGroupInformation.createRemoteUser("someone-else");
    Path dir = new Path("/identity-" + System.nanoTime());
    other.doAs((java.security.PrivilegedExceptionAction<Void>) () -> {
      try (FileSystem fs = open(conf)) {
        assertTrue(fs.mkdirs(dir));
        assertEquals(as, fs.getFileStatus(dir).getOwner());
        assertEquals(new Path("/user/" + as), Path.getPathWithoutSchemeAndAuthority(
            fs.getHomeDirectory()));
        assertTrue(fs.delete(dir, true));
      }
      return null;
    });
  }

  @Test
  public void aProxyUgiIsAProxyRequest() throws Exception {
    expected();
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    UserGroupInformation proxy = UserGroupInformation.createProxyUser("mallory",
        UserGroupInformation.getCurrentUser());
    proxy.doAs((java.security.PrivilegedExceptionAction<Void>) () -> {
      try (FileSystem fs = open(conf)) {
        fs.mkdirs(new Path("/by-mallory-" + System.nanoTime()));
        fail("the gateway has no proxy rule for this login: acting for mallory is refused");
      } catch (AccessControlException e) {
        assertTrue(e.getMessage(), e.getMessage().contains("impersonate mallory"));
      }
      return null;
    });
  }
}
