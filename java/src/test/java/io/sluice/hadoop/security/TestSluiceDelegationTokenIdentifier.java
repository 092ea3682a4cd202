package io.sluice.hadoop.security;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import org.apache.hadoop.io.DataInputBuffer;
import org.apache.hadoop.io.DataOutputBuffer;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.token.Token;
import org.apache.hadoop.security.token.TokenIdentifier;
import org.apache.hadoop.util.StringUtils;
import org.junit.Test;

/**
 * The Java half of the token format (no native library, no gateway): identifier bytes written by
 * Hadoop's Writable are the bytes native/tests/test_auth_token.c checks the C encoder against, the
 * service loaders find our identifier and renewer, and the rules that pick a token's service and
 * the token a FileSystem uses.
 */
public class TestSluiceDelegationTokenIdentifier {
  /**
   * The vectors of native/tests/test_auth_token.c, produced by Hadoop 3.3.6: IDENT is ("alice",
   * "yarn", "hive", issue 1700000000000, max 1700604800000, seq 42, key 7); IDENT2 has empty names,
   * issue -5, max Long.MAX_VALUE, seq Integer.MIN_VALUE, key Integer.MAX_VALUE.
   */
  private static final String IDENT =
      "0005616c696365047961726e04686976658a018bcfe568008a018bf3f1ec002a07";
  private static final String IDENT2 = "00000000fb887fffffffffffffff847fffffff8c7fffffff";
  private static final String PASSWORD = "6f0ceaf44bbeb8e076491b857493fd8ecd652532";

  private static SluiceDelegationTokenIdentifier ident(String owner, String renewer,
      String realUser, long issue, long max, int seq, int keyId) {
    SluiceDelegationTokenIdentifier id = new SluiceDelegationTokenIdentifier(new Text(owner),
        new Text(renewer), new Text(realUser));
    id.setIssueDate(issue);
    id.setMaxDate(max);
    id.setSequenceNumber(seq);
    id.setMasterKeyId(keyId);
    return id;
  }

  private static void assertFields(SluiceDelegationTokenIdentifier id, String owner,
      String renewer, String realUser, long issue, long max, int seq, int keyId) {
    assertEquals(owner, id.getOwner().toString());
    assertEquals(renewer, id.getRenewer().toString());
    assertEquals(realUser, id.getRealUser().toString());
    assertEquals(issue, id.getIssueDate());
    assertEquals(max, id.getMaxDate());
    assertEquals(seq, id.getSequenceNumber());
    assertEquals(keyId, id.getMasterKeyId());
  }

  @Test
  public void kindIsTheNativeOne() {
    assertEquals("SLUICE_DELEGATION_TOKEN", SluiceDelegationTokenIdentifier.KIND.toString());
    assertEquals(SluiceDelegationTokenIdentifier.KIND,
        new SluiceDelegationTokenIdentifier().getKind());
  }

  @Test
  public void javaWritesTheBytesHadoopWroteForTheCTests() {
    SluiceDelegationTokenIdentifier id = ident("alice", "yarn", "hive", 1700000000000L,
        1700604800000L, 42, 7);
    assertEquals(IDENT, StringUtils.byteToHexString(id.getBytes()));
    SluiceDelegationTokenIdentifier id2 = ident("", "", "", -5, Long.MAX_VALUE,
        Integer.MIN_VALUE, Integer.MAX_VALUE);
    assertEquals(IDENT2, StringUtils.byteToHexString(id2.getBytes()));
  }

  @Test
  public void theVectorsDecodeToTheirFields() throws IOException {
    assertFields(SluiceDelegationTokenIdentifier.decode(StringUtils.hexStringToByte(IDENT)),
        "alice", "yarn", "hive", 1700000000000L, 1700604800000L, 42, 7);
    assertFields(SluiceDelegationTokenIdentifier.decode(StringUtils.hexStringToByte(IDENT2)),
        "", "", "", -5, Long.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE);
  }

  @Test
  public void writableRoundTrip() throws IOException {
    SluiceDelegationTokenIdentifier id = ident("bob", "yarn", "", 1, 2, 3, 4);
    DataOutputBuffer out = new DataOutputBuffer();
    id.write(out);
    DataInputBuffer in = new DataInputBuffer();
    in.reset(out.getData(), out.getLength());
    SluiceDelegationTokenIdentifier back = new SluiceDelegationTokenIdentifier();
    back.readFields(in);
    assertEquals(id, back);
    assertEquals(id.hashCode(), back.hashCode());
    assertEquals(0, in.available());
    assertFields(back, "bob", "yarn", "", 1, 2, 3, 4);
    assertEquals("bob", back.getUser().getShortUserName());
  }

  @Test
  public void realUserMakesAProxyUser() throws IOException {
    SluiceDelegationTokenIdentifier id = SluiceDelegationTokenIdentifier.decode(
        StringUtils.hexStringToByte(IDENT));
    UserGroupInformation ugi = id.getUser();
    assertEquals("alice", ugi.getShortUserName());
    assertNotNull(ugi.getRealUser());
    assertEquals("hive", ugi.getRealUser().getShortUserName());
  }

  @Test
  public void badBytesAreRefused() {
    byte[] good = StringUtils.hexStringToByte(IDENT);
    byte[] version1 = good.clone();
    version1[0] = 1;
    for (byte[] bad : new byte[][] {new byte[0], java.util.Arrays.copyOf(good, good.length - 1),
        version1}) {
      try {
        SluiceDelegationTokenIdentifier.decode(bad);
        fail("decoded " + StringUtils.byteToHexString(bad));
      } catch (IOException expected) {
        // truncated input is EOFException, an unknown version IOException
      }
    }
  }

  @Test
  public void tokenDecodesThroughTheServiceLoader() throws IOException {
    Token<SluiceDelegationTokenIdentifier> token = new Token<>(
        StringUtils.hexStringToByte(IDENT), StringUtils.hexStringToByte(PASSWORD),
        SluiceDelegationTokenIdentifier.KIND, new Text("gw.example.com:9810"));
    TokenIdentifier decoded = token.decodeIdentifier();
    assertTrue(String.valueOf(decoded), decoded instanceof SluiceDelegationTokenIdentifier);
    assertFields((SluiceDelegationTokenIdentifier) decoded, "alice", "yarn", "hive",
        1700000000000L, 1700604800000L, 42, 7);

    // the form YARN and `hadoop dtutil` pass tokens around in
    Token<SluiceDelegationTokenIdentifier> copy = new Token<>();
    copy.decodeFromUrlString(token.encodeToUrlString());
    assertEquals(token, copy);
    assertArrayEquals(token.getPassword(), copy.getPassword());
    assertEquals(SluiceDelegationTokenIdentifier.KIND, copy.getKind());
    assertEquals("gw.example.com:9810", copy.getService().toString());
    assertTrue(String.valueOf(copy), String.valueOf(copy).contains("owner=alice"));
  }

  @Test
  public void theRenewerIsFoundThroughTheServiceLoader() throws IOException {
    Token<SluiceDelegationTokenIdentifier> token = new Token<>(
        StringUtils.hexStringToByte(IDENT), StringUtils.hexStringToByte(PASSWORD),
        SluiceDelegationTokenIdentifier.KIND, new Text("gw.example.com:9810"));
    assertTrue(token.isManaged()); // Token.getRenewer() found SluiceTokenRenewer
    SluiceTokenRenewer renewer = new SluiceTokenRenewer();
    assertTrue(renewer.handleKind(SluiceDelegationTokenIdentifier.KIND));
    assertFalse(renewer.handleKind(new Text("HDFS_DELEGATION_TOKEN")));
  }

  @Test
  public void canonicalServiceOfMetaUrls() {
    assertEquals("gw:9810", SluiceDelegationTokens.canonicalService("gateway://gw"));
    assertEquals("gw:9810", SluiceDelegationTokens.canonicalService("gateway://gw/"));
    assertEquals("gw.example.com:1234",
        SluiceDelegationTokens.canonicalService("gateway://gw.example.com:1234"));
    assertEquals("127.0.0.1:40001",
        SluiceDelegationTokens.canonicalService("gateway://127.0.0.1:40001/"));
    assertEquals("[::1]:9810", SluiceDelegationTokens.canonicalService("gateway://[::1]"));
    assertEquals("[::1]:77", SluiceDelegationTokens.canonicalService("gateway://[::1]:77"));
    // direct mode, and URLs the native layer refuses
    for (String meta : new String[] {null, "", "sqlite3:///tmp/x.db",
        "mysql://u:p@(db:3306)/sluice", "gateway://", "gateway://:9810", "gateway://gw:",
        "gateway://gw:x1", "gateway://gw/path", "gateway://gw?x=1", "gateway://[::1",
        "gateway://[]:1", "gateway://[::1]x"}) {
      assertNull(meta, SluiceDelegationTokens.canonicalService(meta));
    }
  }

  @Test
  public void tokenChosenByKindAndService() {
    UserGroupInformation ugi = UserGroupInformation.createRemoteUser("alice");
    Text kind = SluiceDelegationTokenIdentifier.KIND;
    byte[] ident = StringUtils.hexStringToByte(IDENT);
    byte[] pw = StringUtils.hexStringToByte(PASSWORD);
    Token<TokenIdentifier> other = new Token<>(ident, pw, new Text("HDFS_DELEGATION_TOKEN"),
        new Text("gw:9810"));
    Token<TokenIdentifier> elsewhere = new Token<>(ident, pw, kind, new Text("gw2:9810"));
    Token<TokenIdentifier> ours = new Token<>(ident, pw, kind, new Text("gw:9810"));
    ugi.addToken(new Text("a"), other);
    ugi.addToken(new Text("b"), elsewhere);
    assertNull(SluiceDelegationTokens.selectToken(ugi, "gw:9810"));
    ugi.addToken(new Text("c"), ours);
    assertSame(ours, SluiceDelegationTokens.selectToken(ugi, "gw:9810"));
    assertSame(elsewhere, SluiceDelegationTokens.selectToken(ugi, "gw2:9810"));
    assertNull(SluiceDelegationTokens.selectToken(ugi, null)); // direct mode
  }
}
