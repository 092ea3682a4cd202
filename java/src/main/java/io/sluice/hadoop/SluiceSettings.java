package io.sluice.hadoop;

import io.sluice.hadoop.security.SluiceDelegationTokenIdentifier;
import io.sluice.hadoop.security.SluiceDelegationTokens;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.token.Token;

/**
 * The settings a native volume handle is opened with, mapped from Hadoop configuration: for each
 * native key K (SluiceConstants.NATIVE_KEYS), sluice.VOLUME.K, else sluice.K; unset keys are left
 * out. Secrets go through Configuration.getPassword so that credential providers work. Immutable:
 * the with* methods return a copy.
 */
public final class SluiceSettings {
  private final List<String> keys;
  private final List<String> values;

  private SluiceSettings(List<String> keys, List<String> values) {
    this.keys = keys;
    this.values = values;
  }

  /** The settings of a volume; an IOException naming the keys to set when it has no META-URL. */
  public static SluiceSettings forVolume(Configuration conf, String volume) throws IOException {
    SluiceSettings s = collect(conf, volume);
    if (!s.keys.contains(SluiceConstants.META)) {
      throw new IOException("No META-URL for sluice volume '" + volume + "': set "
          + SluiceConstants.volumeKey(volume, SluiceConstants.META) + " or "
          + SluiceConstants.hadoopKey(SluiceConstants.META)
          + " (e.g. sqlite3:///var/lib/sluice/" + volume + ".db)");
    }
    return s;
  }

  /**
   * The settings for reaching the gateway {@code service} ("HOST:PORT", a token's service)
   * without a volume, as SluiceTokenRenewer does: those of the first volume (by name) whose
   * sluice.VOLUME.meta names that gateway, else the global sluice.K keys, with "meta" set to
   * gateway://service as the first setting.
   */
  public static SluiceSettings forGateway(Configuration conf, String service) throws IOException {
    if (service == null || service.isEmpty()) {
      throw new IOException("A sluice delegation token without a service (the gateway's"
          + " HOST:PORT) names no gateway to renew or cancel it with");
    }
    String volume = null;
    String suffix = "." + SluiceConstants.META;
    for (Map.Entry<String, String> e : new TreeMap<>(conf.getValByRegex(
        "^" + Pattern.quote(SluiceConstants.PREFIX) + "[a-z0-9-]+"
            + Pattern.quote(suffix) + "$")).entrySet()) {
      if (service.equals(SluiceDelegationTokens.canonicalService(e.getValue().trim()))) {
        String key = e.getKey();
        volume = key.substring(SluiceConstants.PREFIX.length(), key.length() - suffix.length());
        break;
      }
    }
    SluiceSettings s = collect(conf, volume);
    String meta = SluiceConstants.GATEWAY_SCHEME + "://" + service;
    int i = s.keys.indexOf(SluiceConstants.META);
    if (i >= 0) {
      s.values.set(i, meta);
    } else {
      s.keys.add(0, SluiceConstants.META);
      s.values.add(0, meta);
    }
    return s;
  }

  /** The settings of volume (null: the global sluice.K keys only). */
  private static SluiceSettings collect(Configuration conf, String volume) throws IOException {
    Set<String> secret = new HashSet<>(Arrays.asList(SluiceConstants.SECRET_KEYS));
    SluiceSettings s = new SluiceSettings(new ArrayList<>(), new ArrayList<>());
    for (String key : SluiceConstants.NATIVE_KEYS) {
      String value = volume == null ? null
          : lookup(conf, SluiceConstants.volumeKey(volume, key), secret.contains(key));
      if (value == null) {
        value = lookup(conf, SluiceConstants.hadoopKey(key), secret.contains(key));
      }
      if (value != null) {
        s.keys.add(key);
        s.values.add(value);
      }
    }
    String ticketCache = conf.getTrimmed(SluiceConstants.HADOOP_TICKET_CACHE, "");
    if (!s.keys.contains(SluiceConstants.KERBEROS_CCACHE) && !ticketCache.isEmpty()) {
      s.keys.add(SluiceConstants.KERBEROS_CCACHE);
      s.values.add(ticketCache);
    }
    return s;
  }

  private static String lookup(Configuration conf, String key, boolean secret)
      throws IOException {
    if (secret) {
      char[] pw = conf.getPassword(key);
      if (pw == null) {
        return null;
      }
      String s = new String(pw).trim();
      return s.isEmpty() ? null : s;
    }
    String s = conf.getTrimmed(key);
    return s == null || s.isEmpty() ? null : s;
  }

  /** The value of key, or null. */
  public String get(String key) {
    int i = keys.indexOf(key);
    return i < 0 ? null : values.get(i);
  }

  public boolean has(String key) {
    return keys.contains(key);
  }

  /** A copy with key set to value, after the others. */
  public SluiceSettings with(String key, String value) {
    SluiceSettings s = new SluiceSettings(new ArrayList<>(keys), new ArrayList<>(values));
    s.keys.add(key);
    s.values.add(value);
    return s;
  }

  /** A copy without the Kerberos login, with token's identifier and password (base64). */
  public SluiceSettings withToken(Token<SluiceDelegationTokenIdentifier> token) {
    Set<String> kerberos = new HashSet<>(Arrays.asList(SluiceConstants.KERBEROS_KEYS));
    SluiceSettings s = new SluiceSettings(new ArrayList<>(), new ArrayList<>());
    for (int i = 0; i < keys.size(); i++) {
      if (!kerberos.contains(keys.get(i))) {
        s.keys.add(keys.get(i));
        s.values.add(values.get(i));
      }
    }
    Base64.Encoder b64 = Base64.getEncoder();
    return s.with(SluiceConstants.TOKEN_IDENTIFIER, b64.encodeToString(token.getIdentifier()))
        .with(SluiceConstants.TOKEN_PASSWORD, b64.encodeToString(token.getPassword()));
  }

  /** The keys, in order, for the native call. */
  public String[] keys() {
    return keys.toArray(new String[0]);
  }

  /** The values, in the order of keys(). */
  public String[] values() {
    return values.toArray(new String[0]);
  }
}
