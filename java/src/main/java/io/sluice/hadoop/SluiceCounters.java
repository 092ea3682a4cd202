package io.sluice.hadoop;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The counters of one filesystem instance or stream, one per {@link SluiceStatistic} of its
 * scope (all of them for a filesystem, which also adds up its closed streams'). Plain Java, so
 * the classes that load on Hadoop 2.10 count with it; on Hadoop 3.3+ {@link SluiceIOStatistics}
 * shows them as IOStatistics. Only counters: a gauge or duration statistic would need more here.
 */
final class SluiceCounters {
  private static final SluiceStatistic[] ALL = SluiceStatistic.values();

  /** The scope counted, null for a filesystem's (every statistic). */
  private final SluiceStatistic.Scope scope;
  private final AtomicLongArray values = new AtomicLongArray(ALL.length);

  SluiceCounters(SluiceStatistic.Scope scope) {
    this.scope = scope;
  }

  void increment(SluiceStatistic s) {
    increment(s, 1);
  }

  void increment(SluiceStatistic s, long n) {
    assert counts(s) : s + " is not counted in scope " + scope;
    values.addAndGet(s.ordinal(), n);
  }

  long get(SluiceStatistic s) {
    return values.get(s.ordinal());
  }

  /** Adds other's values to these (a closed stream's into its filesystem's). */
  void aggregate(SluiceCounters other) {
    for (SluiceStatistic s : ALL) {
      long v = other.get(s);
      if (v != 0) {
        values.addAndGet(s.ordinal(), v);
      }
    }
  }

  /** The values of every statistic of the scope, by name, in declaration order. */
  Map<String, Long> snapshot() {
    Map<String, Long> out = new LinkedHashMap<>();
    for (SluiceStatistic s : ALL) {
      if (counts(s)) {
        out.put(s.getSymbol(), get(s));
      }
    }
    return out;
  }

  private boolean counts(SluiceStatistic s) {
    return s.getType() == SluiceStatistic.Type.COUNTER && (scope == null || s.getScope() == scope);
  }
}
