package io.sluice.hadoop;

import org.apache.hadoop.fs.statistics.StoreStatisticNames;
import org.apache.hadoop.fs.statistics.StreamStatisticNames;

/**
 * Every IOStatistics counter sluice keeps, one place (as S3A's Statistic): its name (Hadoop's
 * StoreStatisticNames/StreamStatisticNames where one exists, so Spark and MapReduce tools find
 * the usual keys), a description, its type and which object keeps it. The filesystem's {@link
 * SluiceCounters} hold every statistic: streams count into their own and are added to it on
 * close. The names are compile-time constants, so this class loads on Hadoop 2.10, which has no
 * IOStatistics.
 */
public enum SluiceStatistic {
  // ---- filesystem operations (one per call, successful or not) ----
  OP_OPEN(StoreStatisticNames.OP_OPEN, "open() and openFile() calls", Type.COUNTER, Scope.FS),
  OP_CREATE(StoreStatisticNames.OP_CREATE, "create() and createNonRecursive() calls",
      Type.COUNTER, Scope.FS),
  OP_APPEND(StoreStatisticNames.OP_APPEND, "append() calls", Type.COUNTER, Scope.FS),
  OP_RENAME(StoreStatisticNames.OP_RENAME, "rename() calls", Type.COUNTER, Scope.FS),
  OP_DELETE(StoreStatisticNames.OP_DELETE, "delete() calls", Type.COUNTER, Scope.FS),
  OP_MKDIRS(StoreStatisticNames.OP_MKDIRS, "mkdirs() calls", Type.COUNTER, Scope.FS),
  OP_LIST_STATUS(StoreStatisticNames.OP_LIST_STATUS, "listStatus() calls", Type.COUNTER,
      Scope.FS),
  OP_GET_FILE_STATUS(StoreStatisticNames.OP_GET_FILE_STATUS, "getFileStatus() calls",
      Type.COUNTER, Scope.FS),
  OP_GET_FILE_CHECKSUM(StoreStatisticNames.OP_GET_FILE_CHECKSUM, "getFileChecksum() calls",
      Type.COUNTER, Scope.FS),

  // ---- input streams ----
  STREAM_READ_OPENED(StreamStatisticNames.STREAM_READ_OPENED, "input streams opened",
      Type.COUNTER, Scope.INPUT),
  STREAM_READ_BYTES(StreamStatisticNames.STREAM_READ_BYTES,
      "bytes read by every read path (sequential, positioned, ByteBuffer, vectored)",
      Type.COUNTER, Scope.INPUT),
  STREAM_READ_OPERATIONS(StreamStatisticNames.STREAM_READ_OPERATIONS,
      "read calls that reached the native layer", Type.COUNTER, Scope.INPUT),
  STREAM_READ_FULLY_OPERATIONS(StreamStatisticNames.STREAM_READ_FULLY_OPERATIONS,
      "readFully() calls", Type.COUNTER, Scope.INPUT),
  STREAM_READ_SEEK_OPERATIONS(StreamStatisticNames.STREAM_READ_SEEK_OPERATIONS,
      "seek() calls that changed the position", Type.COUNTER, Scope.INPUT),
  STREAM_READ_VECTORED_OPERATIONS(StreamStatisticNames.STREAM_READ_VECTORED_OPERATIONS,
      "readVectored() calls", Type.COUNTER, Scope.INPUT),
  STREAM_READ_VECTORED_INCOMING_RANGES(StreamStatisticNames.STREAM_READ_VECTORED_INCOMING_RANGES,
      "ranges asked for by readVectored()", Type.COUNTER, Scope.INPUT),
  STREAM_READ_UNBUFFERED(StreamStatisticNames.STREAM_READ_UNBUFFERED, "unbuffer() calls",
      Type.COUNTER, Scope.INPUT),
  STREAM_READ_EXCEPTIONS(StreamStatisticNames.STREAM_READ_EXCEPTIONS,
      "read calls that failed with an IOException", Type.COUNTER, Scope.INPUT),

  // ---- output streams ----
  STREAM_WRITE_BYTES(StreamStatisticNames.STREAM_WRITE_BYTES, "bytes written", Type.COUNTER,
      Scope.OUTPUT),
  STREAM_WRITE_OPERATIONS("stream_write_operations",
      "write calls (single bytes and arrays) accepted by the stream", Type.COUNTER,
      Scope.OUTPUT),
  STREAM_WRITE_EXCEPTIONS(StreamStatisticNames.STREAM_WRITE_EXCEPTIONS,
      "write, flush or close calls that failed with an IOException", Type.COUNTER,
      Scope.OUTPUT),
  OP_HFLUSH(StoreStatisticNames.OP_HFLUSH, "hflush() calls", Type.COUNTER, Scope.OUTPUT),
  OP_HSYNC(StoreStatisticNames.OP_HSYNC, "hsync() calls", Type.COUNTER, Scope.OUTPUT);

  /** What kind of value a statistic is (S3A's StatisticTypeEnum, the kinds sluice uses). */
  public enum Type {
    COUNTER, GAUGE, DURATION
  }

  /** Which object keeps the statistic; the filesystem's store also aggregates the streams'. */
  public enum Scope {
    FS, INPUT, OUTPUT
  }

  private final String symbol;
  private final String description;
  private final Type type;
  private final Scope scope;

  SluiceStatistic(String symbol, String description, Type type, Scope scope) {
    this.symbol = symbol;
    this.description = description;
    this.type = type;
    this.scope = scope;
  }

  /** The name in IOStatistics. */
  public String getSymbol() {
    return symbol;
  }

  public String getDescription() {
    return description;
  }

  public Type getType() {
    return type;
  }

  public Scope getScope() {
    return scope;
  }

  @Override
  public String toString() {
    return symbol;
  }
}
