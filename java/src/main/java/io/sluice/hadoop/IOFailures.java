package io.sluice.hadoop;

import java.io.IOException;

/** Cleanup that goes on past a failure (closing every stream, then the volume) reports them all. */
final class IOFailures {
  private IOFailures() {}

  /** The first failure so far, with next among its suppressed ones; next when there was none. */
  static IOException add(IOException first, IOException next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }
}
