package io.sluice.hadoop.fs;

import io.sluice.hadoop.contract.SluiceTestVolume;
import java.io.IOException;
import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSMainOperationsBaseTest;
import org.apache.hadoop.fs.FileSystem;
import org.junit.AfterClass;

/**
 * Hadoop's FSMainOperationsBaseTest on SluiceFileSystem, on the contract suites' volume, as the
 * process owner (root in containers, which is not the volume's superuser: its mode-000
 * directories cannot be listed). Each case gets its own instance, since the suite changes the
 * working directory; an instance is closed when the next case starts (a case may call tearDown()
 * and go on using it).
 */
public class TestSluiceFSMainOperations extends FSMainOperationsBaseTest {
  private static FileSystem last;

  @Override
  protected FileSystem createFileSystem() throws Exception {
    closeLast();
    Configuration conf = SluiceTestVolume.configure(new Configuration());
    last = FileSystem.newInstance(URI.create(SluiceTestVolume.DEFAULT_FS), conf);
    return last;
  }

  @AfterClass
  public static void closeLast() throws IOException {
    if (last != null) {
      last.close();
      last = null;
    }
  }
}
