package io.sluice.hadoop;

import java.io.IOException;
import java.net.URI;
import java.util.EnumSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

/**
 * The child JVM of TestSluiceExitWithOpenVolume: opens the volume args[0] through FileContext
 * (whose AbstractFileSystem nobody ever closes), has eight threads create and delete files
 * under args[1] as fast as they can, and calls System.exit(0) after args[2] milliseconds while
 * they still do. The remaining arguments are KEY=VALUE settings.
 */
public final class ExitWithOpenVolumeChild {
  private ExitWithOpenVolumeChild() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    Configuration conf = ChildJvm.settings(args, 3);
    // as docs/configuration.md says for FileContext used before any FileSystem
    conf.set("fs.AbstractFileSystem.sluice.impl", Sluice.class.getName());
    final FileContext fc = FileContext.getFileContext(URI.create(args[0]), conf);
    final Path dir = new Path(args[1]);
    for (int t = 0; t < 8; t++) {
      final int id = t;
      Thread writer = new Thread(() -> {
        byte[] data = new byte[100000];
        for (int i = 0; ; i++) {
          Path p = new Path(dir, "t" + id + "-" + i);
          try {
            try (FSDataOutputStream out = fc.create(p,
                EnumSet.of(CreateFlag.CREATE, CreateFlag.OVERWRITE),
                Options.CreateOpts.createParent())) {
              out.write(data);
            }
            fc.delete(p, false);
          } catch (IOException e) {
            // the volume may refuse calls once the JVM shuts down; exiting is what is tested
            return;
          }
        }
      });
      writer.setDaemon(true);
      writer.start();
    }
    Thread.sleep(Long.parseLong(args[2]));
    System.exit(0);
  }
}
