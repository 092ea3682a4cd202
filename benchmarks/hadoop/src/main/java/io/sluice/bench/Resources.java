// Resources (workload 8): the process's CPU time (OperatingSystemMXBean.getProcessCpuTime) and
// peak RSS (VmHWM of /proc/self/status, its window started by writing "5" to
// /proc/self/clear_refs; the highest sampled VmRSS where that is refused) around a data
// workload, and samples of heap and non-heap committed and direct ByteBuffers meanwhile, so
// each sequential figure can carry its memory and CPU cost. "offheap" is RSS minus the JVM's
// committed heap and non-heap (metaspace, code cache): for a native peer that is what its C code
// (and malloc) holds - a lower bound, since committed heap need not be resident; the direct pool
// is reported beside it for the Java peers, and rss_growth (peak RSS minus RSS at the start).
package io.sluice.bench;

import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.FileReader;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

final class Resources implements AutoCloseable {
  private static final long MIB = 1 << 20;
  private final Thread sampler;
  private volatile boolean running = true;
  private final long cpuStartNs;
  private long cpuEndNs = -1;
  private long rssMax;
  private long offheapMax;
  private long directMax;
  private long heapMax;
  private final long rssStart;
  private final boolean hwmWindow; // VmHWM was reset at the start: it is this window's peak

  Resources() {
    hwmWindow = resetPeakRss();
    rssStart = rss();
    cpuStartNs = cpuNs();
    sample();
    sampler = new Thread(() -> {
      while (running) {
        sample();
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "bench-resources");
    sampler.setDaemon(true);
    sampler.start();
  }

  private synchronized void sample() {
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    long rss = rss();
    long heap = mem.getHeapMemoryUsage().getCommitted();
    long nonHeap = mem.getNonHeapMemoryUsage().getCommitted();
    long direct = 0;
    for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if ("direct".equals(b.getName())) {
        direct = b.getMemoryUsed();
      }
    }
    rssMax = Math.max(rssMax, rss);
    heapMax = Math.max(heapMax, mem.getHeapMemoryUsage().getUsed());
    offheapMax = Math.max(offheapMax, Math.max(0, rss - heap - nonHeap));
    directMax = Math.max(directMax, direct);
  }

  /** Starts a new VmHWM window (resets it to the current RSS); false where that is refused. */
  private static boolean resetPeakRss() {
    try (FileOutputStream o = new FileOutputStream("/proc/self/clear_refs")) {
      o.write('5');
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** VmRSS in bytes, or -1 where /proc is missing. */
  static long rss() {
    return status("VmRSS:");
  }

  /** A size field of /proc/self/status (in kB there) in bytes, or -1. */
  private static long status(String field) {
    try (BufferedReader r = new BufferedReader(new FileReader("/proc/self/status"))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  static long cpuNs() {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean) {
      return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
    }
    return -1;
  }

  @Override
  public void close() {
    running = false;
    sampler.interrupt();
    try {
      sampler.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sample();
    cpuEndNs = cpuNs();
    long hwm = hwmWindow ? status("VmHWM:") : -1;
    synchronized (this) {
      rssMax = Math.max(rssMax, hwm); // the kernel's peak sees what 50 ms samples miss
    }
  }

  /** Emits the resource records of one measurement that moved {@code bytes}. */
  void emit(Results res, String workload, String variant, int rep, long bytes) throws IOException {
    double cpuS = (cpuEndNs - cpuStartNs) / 1e9;
    double gib = bytes / (double) (1L << 30);
    res.rec(workload, variant, "cpu_s_per_gib", rep).value(cpuS / gib, "s/GiB")
        .put("cpu_s", cpuS).put("bytes", bytes).emit();
    synchronized (this) {
      res.rec(workload, variant, "rss_max", rep).value(rssMax / (double) MIB, "MiB")
          .put("rss_start_mib", rssStart / (double) MIB)
          .put("rss_source", hwmWindow ? "VmHWM" : "sampled VmRSS").emit();
      res.rec(workload, variant, "rss_growth", rep)
          .value((rssMax - rssStart) / (double) MIB, "MiB").emit();
      res.rec(workload, variant, "offheap_max", rep).value(offheapMax / (double) MIB, "MiB").emit();
      res.rec(workload, variant, "direct_max", rep).value(directMax / (double) MIB, "MiB").emit();
      res.rec(workload, variant, "heap_used_max", rep).value(heapMax / (double) MIB, "MiB").emit();
    }
  }
}
