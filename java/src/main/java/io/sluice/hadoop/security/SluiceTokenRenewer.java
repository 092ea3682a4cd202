package io.sluice.hadoop.security;

import io.sluice.hadoop.SluiceConstants;
import io.sluice.hadoop.SluiceSettings;
import io.sluice.hadoop.nativeio.NativeLoader;
import io.sluice.hadoop.nativeio.NativeVolume;
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.security.token.Token;
import org.apache.hadoop.security.token.TokenRenewer;

/**
 * Renews and cancels sluice delegation tokens for whoever manages them (YARN's ResourceManager,
 * Spark, {@code hadoop dtutil}); found by {@code Token.renew/cancel} through
 * META-INF/services/org.apache.hadoop.security.token.TokenRenewer.
 *
 * <p>Each call opens one authenticated connection to the gateway named by the token's service
 * ({@code gateway://HOST:PORT}), with the native settings the FileSystem would use: those of the
 * volume whose {@code sluice.<volume>.meta} names that gateway, else the global {@code sluice.*}
 * keys. The caller authenticates with its own Kerberos credentials from those settings
 * ({@code sluice.kerberos.principal} and {@code sluice.kerberos.keytab}, or a ticket cache): the
 * native layer cannot use a login held only inside the JVM, so a renewing service (the
 * ResourceManager) needs them set. Renewal is for the token's renewer, cancellation for its owner
 * or renewer; a refusal is an AccessControlException.
 */
public class SluiceTokenRenewer extends TokenRenewer {
  @Override
  public boolean handleKind(Text kind) {
    return SluiceDelegationTokenIdentifier.KIND.equals(kind);
  }

  @Override
  public boolean isManaged(Token<?> token) throws IOException {
    return true;
  }

  /** Returns the new expiry time, in ms since the epoch (at most the token's max date). */
  @Override
  public long renew(Token<?> token, Configuration conf) throws IOException {
    SluiceSettings settings = settings(token, conf);
    return NativeVolume.renewToken(settings.keys(), settings.values(), token.getIdentifier(),
        token.getPassword());
  }

  @Override
  public void cancel(Token<?> token, Configuration conf) throws IOException {
    SluiceSettings settings = settings(token, conf);
    NativeVolume.cancelToken(settings.keys(), settings.values(), token.getIdentifier(),
        token.getPassword());
  }

  private static SluiceSettings settings(Token<?> token, Configuration conf)
      throws IOException {
    if (!SluiceDelegationTokenIdentifier.KIND.equals(token.getKind())) {
      throw new IOException("Not a sluice delegation token: kind " + token.getKind());
    }
    SluiceSettings settings = SluiceSettings.forGateway(conf, token.getService().toString());
    try {
      NativeLoader.load(conf.getTrimmed(SluiceConstants.NATIVE_PATH));
    } catch (UnsatisfiedLinkError e) {
      throw new IOException("Cannot load libsluice to renew or cancel a token of "
          + token.getService() + ": " + e.getMessage(), e);
    }
    return settings;
  }
}
