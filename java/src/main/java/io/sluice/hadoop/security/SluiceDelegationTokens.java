package io.sluice.hadoop.security;

import io.sluice.hadoop.SluiceConstants;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.security.UserGroupInformation;
import org.apache.hadoop.security.token.Token;
import org.apache.hadoop.security.token.TokenIdentifier;

/**
 * The two rules that tie delegation tokens to a volume: which gateway a META-URL names (the
 * token's service, and the FileSystem's canonical service name), and which token of a UGI a
 * FileSystem authenticates with.
 */
public final class SluiceDelegationTokens {
  private static final String GATEWAY_PREFIX = SluiceConstants.GATEWAY_SCHEME + "://";

  private SluiceDelegationTokens() {}

  /**
   * "HOST:PORT" of a gateway META-URL {@code gateway://HOST[:PORT][/]} (the port defaults to
   * {@value SluiceConstants#GATEWAY_PORT_DEFAULT}; an IPv6 host keeps its brackets), as the native
   * layer writes it into the tokens it issues. null for any other META-URL (direct mode has no
   * tokens) and for a gateway URL the native layer would refuse.
   */
  public static String canonicalService(String meta) {
    if (meta == null || !meta.startsWith(GATEWAY_PREFIX)) {
      return null;
    }
    String rest = meta.substring(GATEWAY_PREFIX.length());
    int end = rest.length();
    for (int i = 0; i < rest.length(); i++) {
      if ("/?#".indexOf(rest.charAt(i)) >= 0) {
        end = i;
        break;
      }
    }
    if (end < rest.length() && !rest.substring(end).equals("/")) {
      return null;
    }
    String hostPort = rest.substring(0, end);
    String host;
    String port;
    if (hostPort.startsWith("[")) {
      int close = hostPort.indexOf(']');
      if (close < 0) {
        return null;
      }
      host = hostPort.substring(0, close + 1);
      String after = hostPort.substring(close + 1);
      if (after.isEmpty()) {
        port = null;
      } else if (after.startsWith(":")) {
        port = after.substring(1);
      } else {
        return null;
      }
      if (host.length() == 2) {
        return null;
      }
    } else {
      int colon = hostPort.indexOf(':');
      host = colon < 0 ? hostPort : hostPort.substring(0, colon);
      port = colon < 0 ? null : hostPort.substring(colon + 1);
      if (host.isEmpty()) {
        return null;
      }
    }
    if (port == null) {
      port = Integer.toString(SluiceConstants.GATEWAY_PORT_DEFAULT);
    } else if (port.isEmpty() || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return null;
    }
    return host + ":" + port;
  }

  /**
   * The token a FileSystem of gateway {@code service} authenticates with instead of Kerberos:
   * when ugi has no Kerberos credentials of its own (no ticket, not a keytab login), the first
   * token of kind {@value SluiceConstants#TOKEN_KIND} in its credentials whose service is {@code
   * service}; otherwise null. That is the position of a YARN container's process, which holds
   * only the tokens its job collected.
   */
  @SuppressWarnings("unchecked")
  public static Token<SluiceDelegationTokenIdentifier> selectToken(UserGroupInformation ugi,
      String service) {
    if (service == null || ugi.hasKerberosCredentials() || ugi.isFromKeytab()) {
      return null;
    }
    Text svc = new Text(service);
    for (Token<? extends TokenIdentifier> t : ugi.getTokens()) {
      if (SluiceDelegationTokenIdentifier.KIND.equals(t.getKind())
          && svc.equals(t.getService())) {
        return (Token<SluiceDelegationTokenIdentifier>) t;
      }
    }
    return null;
  }
}
