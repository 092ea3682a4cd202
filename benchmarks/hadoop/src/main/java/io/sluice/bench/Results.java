// Results: appends one JSON object per measurement to the results file (JSON Lines), and the
// small statistics (percentiles) the workloads need. Hand-written JSON keeps the driver free of
// a JSON library; values are numbers, strings or booleans only.
package io.sluice.bench;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

final class Results implements AutoCloseable {
  private final Writer out;
  private final String peer;
  private final String mode;
  private final Map<String, Object> tags;

  Results(File file, String peer, String mode, Map<String, Object> tags) throws IOException {
    File parent = file.getAbsoluteFile().getParentFile();
    if (parent != null && !parent.isDirectory() && !parent.mkdirs()) {
      throw new IOException("cannot create the directory of " + file);
    }
    this.out = new OutputStreamWriter(new FileOutputStream(file, true), StandardCharsets.UTF_8);
    this.peer = peer;
    this.mode = mode;
    this.tags = tags;
  }

  /** A record under construction: the fixed fields, then extras in insertion order. */
  final class Rec {
    private final Map<String, Object> f = new LinkedHashMap<>();

    Rec(String workload, String variant, String metric, int rep) {
      f.put("peer", peer);
      f.put("workload", workload);
      f.put("variant", variant);
      f.put("metric", metric);
      f.put("rep", rep);
    }

    Rec value(double v, String unit) {
      f.put("value", Double.isFinite(v) ? v : null);
      f.put("unit", unit);
      return this;
    }

    Rec put(String k, Object v) {
      f.put(k, v);
      return this;
    }

    /** A failed measurement: value null and the error, so the report can say why. */
    Rec error(Throwable t) {
      f.put("value", null);
      f.put("unit", null);
      String msg = t.getClass().getSimpleName() + ": " + t.getMessage();
      f.put("error", msg.length() > 500 ? msg.substring(0, 500) : msg);
      return this;
    }

    void emit() throws IOException {
      if (!f.containsKey("value")) {
        throw new IllegalStateException("record without a value");
      }
      f.put("mode", mode);
      for (Map.Entry<String, Object> e : tags.entrySet()) {
        f.putIfAbsent(e.getKey(), e.getValue());
      }
      f.put("ts", System.currentTimeMillis() / 1000); // epoch seconds
      String line = toJson(f);
      synchronized (Results.this) {
        out.write(line);
        out.write('\n');
        out.flush();
      }
      System.out.println(line);
    }
  }

  Rec rec(String workload, String variant, String metric, int rep) {
    return new Rec(workload, variant, metric, rep);
  }

  static String toJson(Map<String, Object> m) {
    StringBuilder sb = new StringBuilder("{");
    boolean first = true;
    for (Map.Entry<String, Object> e : m.entrySet()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      str(sb, e.getKey());
      sb.append(':');
      Object v = e.getValue();
      if (v == null) {
        sb.append("null");
      } else if (v instanceof Double || v instanceof Float) {
        double d = ((Number) v).doubleValue();
        if (!Double.isFinite(d)) {
          sb.append("null");
        } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
          sb.append((long) d);
        } else if (Math.abs(d) >= 1e5) {
          sb.append(String.format(Locale.ROOT, "%.1f", d));
        } else {
          sb.append(String.format(Locale.ROOT, "%.6g", d).replaceFirst("\\.?0+(e|$)", "$1"));
        }
      } else if (v instanceof Number || v instanceof Boolean) {
        sb.append(v);
      } else {
        str(sb, v.toString());
      }
    }
    return sb.append('}').toString();
  }

  private static void str(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': sb.append("\\\""); break;
        case '\\': sb.append("\\\\"); break;
        case '\n': sb.append("\\n"); break;
        case '\r': sb.append("\\r"); break;
        case '\t': sb.append("\\t"); break;
        default:
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    sb.append('"');
  }

  /** Nearest-rank percentile (p in 0..100) of samples; sorts a copy. */
  static double percentile(long[] samples, int n, double p) {
    if (n == 0) {
      return Double.NaN;
    }
    long[] s = Arrays.copyOf(samples, n);
    Arrays.sort(s);
    int rank = (int) Math.ceil(p / 100.0 * n);
    return s[Math.max(0, Math.min(n - 1, rank - 1))];
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }
}
