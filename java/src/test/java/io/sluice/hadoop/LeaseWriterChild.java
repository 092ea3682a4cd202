package io.sluice.hadoop;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The writer TestSluiceLeaseRecovery kills with SIGKILL, in a JVM of its own as a region server
 * is: creates args[1] on file system args[0], writes and hflushes args[2] bytes of the pattern
 * TestSluiceLeaseRecovery.bytes(n, 9), says "hflushed" on stdout, writes more that it never
 * flushes, and waits to be killed. The remaining arguments are KEY=VALUE settings.
 */
public final class LeaseWriterChild {
  private LeaseWriterChild() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    Configuration conf = ChildJvm.settings(args, 3);
    FileSystem fs = FileSystem.newInstance(URI.create(args[0]), conf);
    FSDataOutputStream out = fs.create(new Path(args[1]));
    out.write(TestSluiceLeaseRecovery.bytes(Integer.parseInt(args[2]), 9));
    out.hflush();
    PrintStream stdout = new PrintStream(System.out, true, StandardCharsets.UTF_8.name());
    stdout.println("hflushed");
    out.write(TestSluiceLeaseRecovery.bytes(100, 1));
    Thread.sleep(Long.MAX_VALUE);
  }
}
