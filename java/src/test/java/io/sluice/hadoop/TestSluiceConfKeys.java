package io.sluice.hadoop;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.Test;

/**
 * The keys the FileSystem passes from Hadoop configuration to libsluice are the ones
 * native/src/util/conf_keys.h marks as client keys (the table libsluice and libsluice-hdfs read),
 * so that a key added to one side cannot be forgotten on the other.
 */
public class TestSluiceConfKeys {
  private static final Path TABLE = Paths.get("native", "src", "util", "conf_keys.h");
  /** X("key", default, is-size, client, "description") */
  private static final Pattern ROW =
      Pattern.compile("X\\(\"([^\"]+)\",\\s*(?:NULL|\"[^\"]*\"),\\s*[01],\\s*([01]),");

  @Test
  public void nativeKeysAreTheClientKeysOfTheNativeTable() throws IOException {
    String table = new String(Files.readAllBytes(TABLE), StandardCharsets.UTF_8);
    TreeSet<String> client = new TreeSet<>();
    TreeSet<String> all = new TreeSet<>();
    Matcher m = ROW.matcher(table);
    while (m.find()) {
      all.add(m.group(1));
      if (m.group(2).equals("1")) {
        client.add(m.group(1));
      }
    }
    assertTrue("no rows parsed from " + TABLE, all.size() > 40);
    TreeSet<String> java = new TreeSet<>(Arrays.asList(SluiceConstants.NATIVE_KEYS));
    assertEquals("SluiceConstants.NATIVE_KEYS against the client keys of " + TABLE, client, java);
    assertEquals("NATIVE_KEYS lists a key twice", SluiceConstants.NATIVE_KEYS.length,
        java.size());
  }
}
