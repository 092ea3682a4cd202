// Run: starts HBase's WALPerformanceEvaluation (WALPE) as `hbase WALPerformanceEvaluation ARGS`
// does (ToolRunner, HBaseConfiguration: hbase-site.xml from the class path), then prints WALPE's
// metrics registry once more through the same ConsoleReporter WALPE uses. WALPE itself only
// reports every 30 s from a daemon thread and never at its end, so a run shorter than 30 s shows
// no figures and a longer one misses its last seconds. Nothing in WALPE's measurement changes:
// same class, same arguments, same registry; this only reads it when the run is over.
package io.sluice.bench.walpe;

import com.codahale.metrics.ConsoleReporter;
import com.codahale.metrics.MetricRegistry;
import java.lang.reflect.Field;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.hbase.HBaseConfiguration;
import org.apache.hadoop.hbase.wal.WALPerformanceEvaluation;
import org.apache.hadoop.util.ToolRunner;

public final class Run {
  private Run() {}

  public static void main(String[] args) throws Exception {
    WALPerformanceEvaluation pe = new WALPerformanceEvaluation();
    int rc;
    try {
      rc = ToolRunner.run(HBaseConfiguration.create(), pe, args);
    } catch (Throwable t) {
      // HBase's threads would keep the JVM alive after main() threw
      t.printStackTrace();
      System.exit(1);
      return;
    }
    // the registry is a private field of WALPE (2.5.x); read it rather than copy WALPE's code
    Field f = WALPerformanceEvaluation.class.getDeclaredField("metrics");
    f.setAccessible(true);
    MetricRegistry metrics = (MetricRegistry) f.get(pe);
    System.out.println("=== final report (WALPE's registry after the run)");
    ConsoleReporter.forRegistry(metrics).outputTo(System.out).convertRatesTo(TimeUnit.SECONDS)
        .build().report();
    System.out.flush();
    // WALPE leaves non-daemon threads (HBase's executors) behind; its own main() exits too
    System.exit(rc);
  }
}
