package io.sluice.hadoop.security;

import io.sluice.hadoop.SluiceConstants;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.security.token.delegation.AbstractDelegationTokenIdentifier;

/**
 * The identifier of a delegation token issued by a sluice gateway (kind {@value
 * SluiceConstants#TOKEN_KIND}). Its bytes are exactly Hadoop's AbstractDelegationTokenIdentifier
 * Writable (version 0, owner, renewer, real user, issue and max dates, sequence number, master
 * key id): the gateway writes them in C (native/src/auth/token.c) and Java reads them with
 * Hadoop's own code, so {@code Token.decodeIdentifier()}, {@code hadoop dtutil print} and YARN show
 * the fields. Registered in META-INF/services/org.apache.hadoop.security.token.TokenIdentifier.
 */
public class SluiceDelegationTokenIdentifier extends AbstractDelegationTokenIdentifier {
  public static final Text KIND = new Text(SluiceConstants.TOKEN_KIND);

  /** For the service loader and readFields. */
  public SluiceDelegationTokenIdentifier() {}

  /** renewer is reduced to its short name (Hadoop's auth_to_local rules), as Hadoop does. */
  public SluiceDelegationTokenIdentifier(Text owner, Text renewer, Text realUser) {
    super(owner, renewer, realUser);
  }

  @Override
  public Text getKind() {
    return KIND;
  }

  /** The identifier that bytes (a token's identifier) encode. */
  public static SluiceDelegationTokenIdentifier decode(byte[] identifier) throws IOException {
    SluiceDelegationTokenIdentifier id = new SluiceDelegationTokenIdentifier();
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(identifier))) {
      id.readFields(in);
    }
    return id;
  }
}
