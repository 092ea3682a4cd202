package io.sluice.hadoop.security;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeFalse;

import io.sluice.hadoop.SluiceSettings;
import io.sluice.hadoop.contract.SluiceTestVolume;
import io.sluice.hadoop.nativeio.NativeLoader;
import io.sluice.hadoop.nativeio.NativeVolume;
import java.io.IOException;
import java.net.URI;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.security.Credentials;
import org.junit.Test;

/**
 * What a TokenRenewer hands the native layer (the settings of the volume whose META-URL names the
 * token's gateway), and that direct mode has no tokens.
 */
public class TestSluiceDelegationTokenSettings {
  private static Map<String, String> asMap(SluiceSettings settings) {
    String[] keys = settings.keys();
    String[] values = settings.values();
    assertEquals(keys.length, values.length);
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < keys.length; i++) {
      m.put(keys[i], values[i]);
    }
    return m;
  }

  @Test
  public void renewalUsesTheVolumeOfTheTokensGateway() throws IOException {
    Configuration conf = new Configuration(false);
    conf.set("sluice.meta", "sqlite3:///tmp/default.db");
    conf.set("sluice.kerberos.keytab", "/etc/security/global.keytab");
    conf.set("sluice.io-timeout", "30");
    conf.set("sluice.alpha.meta", "gateway://gw-a:9900");
    conf.set("sluice.alpha.kerberos.keytab", "/etc/security/alpha.keytab");
    conf.set("sluice.beta.meta", "gateway://gw-b");
    conf.set("sluice.beta.kerberos.principal", "rm/host@EXAMPLE.COM");

    Map<String, String> a = asMap(SluiceSettings.forGateway(conf, "gw-a:9900"));
    assertEquals("gateway://gw-a:9900", a.get("meta"));
    assertEquals("/etc/security/alpha.keytab", a.get("kerberos.keytab"));
    assertEquals("30", a.get("io-timeout"));
    assertNull(a.get("kerberos.principal"));

    // the default port matches a URL that leaves it out
    Map<String, String> b = asMap(SluiceSettings.forGateway(conf, "gw-b:9810"));
    assertEquals("gateway://gw-b:9810", b.get("meta"));
    assertEquals("rm/host@EXAMPLE.COM", b.get("kerberos.principal"));
    assertEquals("/etc/security/global.keytab", b.get("kerberos.keytab"));

    // a gateway no volume names: the global keys
    Map<String, String> c = asMap(SluiceSettings.forGateway(conf, "gw-c:1"));
    assertEquals("gateway://gw-c:1", c.get("meta"));
    assertEquals("/etc/security/global.keytab", c.get("kerberos.keytab"));

    // with no sluice.meta at all, meta is still the first setting
    Configuration bare = new Configuration(false);
    SluiceSettings s = SluiceSettings.forGateway(bare, "gw:9810");
    assertEquals(Arrays.asList("meta"), Arrays.asList(s.keys()));
    assertEquals("gateway://gw:9810", s.values()[0]);

    // Hadoop's ticket cache setting is the default ticket cache, as for the FileSystem
    bare.set("hadoop.security.kerberos.ticket.cache.path", "/tmp/krb5cc_rm");
    assertEquals("/tmp/krb5cc_rm",
        asMap(SluiceSettings.forGateway(bare, "gw:9810")).get("kerberos.ccache"));
  }

  @Test
  public void aTokenWithoutServiceIsRefused() {
    for (String service : new String[] {null, ""}) {
      try {
        SluiceSettings.forGateway(new Configuration(false), service);
        fail("service " + service);
      } catch (IOException expected) {
        // names no gateway
      }
    }
  }

  @Test
  public void directModeHasNoTokens() throws IOException {
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    assumeFalse("a direct-mode volume", conf.get("sluice.meta").startsWith("gateway://"));
    try (FileSystem fs = FileSystem.newInstance(
        URI.create(conf.get("fs.contract.test.fs.sluice")), conf)) {
      assertNull(fs.getCanonicalServiceName());
      assertNull(fs.getDelegationToken("yarn"));
      Credentials creds = new Credentials();
      assertEquals(0, fs.addDelegationTokens("yarn", creds).length);
      assertEquals(0, creds.numberOfTokens());
    }
  }

  /** Malformed tokens are refused in C before anything is sent (the gateway here is not there). */
  @Test
  public void nativesCheckTheTokenBounds() {
    NativeLoader.load(SluiceTestVolume.configure(new Configuration())
        .getTrimmed("sluice.native.path"));
    String[] keys = {"meta"};
    String[] values = {"gateway://127.0.0.1:1"};
    byte[][][] bad = {
      {new byte[0], new byte[20]},
      {new byte[1025], new byte[20]},
      {new byte[10], new byte[19]},
      {new byte[10], new byte[21]},
      {new byte[10], new byte[0]},
    };
    for (byte[][] t : bad) {
      for (int op = 0; op < 2; op++) {
        try {
          if (op == 0) {
            NativeVolume.renewToken(keys, values, t[0], t[1]);
          } else {
            NativeVolume.cancelToken(keys, values, t[0], t[1]);
          }
          fail("accepted an identifier of " + t[0].length + " and a password of " + t[1].length
              + " bytes");
        } catch (IOException e) {
          assertTrue(e.getMessage(), e.getMessage().contains("not a sluice delegation token"));
        }
      }
    }
    for (byte[][] t : new byte[][][] {{null, new byte[20]}, {new byte[10], null}}) {
      try {
        NativeVolume.renewToken(keys, values, t[0], t[1]);
        fail("accepted a null array");
      } catch (NullPointerException expected) {
        // as the other natives
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }
    try {
      NativeVolume.renewToken(keys, new String[0], new byte[10], new byte[20]);
      fail("accepted 1 key with 0 values");
    } catch (IllegalArgumentException expected) {
      // checked before the token
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
