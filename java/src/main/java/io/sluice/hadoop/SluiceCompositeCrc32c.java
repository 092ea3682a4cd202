package io.sluice.hadoop;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Locale;
import org.apache.hadoop.fs.FileChecksum;
import org.apache.hadoop.fs.Options.ChecksumOpt;
import org.apache.hadoop.util.DataChecksum;

/**
 * A COMPOSITE-CRC32C file checksum for Hadoop before 3.1, which lacks CompositeCrcFileChecksum:
 * the same algorithm name, bytes (the CRC, big-endian) and Writable form, so it equals (as
 * FileChecksum.equals compares those) what HDFS and newer Hadoop return for the same bytes.
 * {@link SluiceFileSystem} returns Hadoop's own class instead where it exists.
 */
final class SluiceCompositeCrc32c extends FileChecksum {
  private int crc;
  private final int bytesPerCrc;

  SluiceCompositeCrc32c(int crc, int bytesPerCrc) {
    this.crc = crc;
    this.bytesPerCrc = bytesPerCrc;
  }

  @Override
  public String getAlgorithmName() {
    return "COMPOSITE-" + DataChecksum.Type.CRC32C.name();
  }

  @Override
  public int getLength() {
    return Integer.BYTES;
  }

  @Override
  public byte[] getBytes() {
    return new byte[] {(byte) (crc >>> 24), (byte) (crc >>> 16), (byte) (crc >>> 8), (byte) crc};
  }

  @Override
  public ChecksumOpt getChecksumOpt() {
    return new ChecksumOpt(DataChecksum.Type.CRC32C, bytesPerCrc);
  }

  @Override
  public void write(DataOutput out) throws IOException {
    out.writeInt(crc);
  }

  @Override
  public void readFields(DataInput in) throws IOException {
    crc = in.readInt();
  }

  @Override
  public String toString() {
    return getAlgorithmName() + ":" + String.format(Locale.ROOT, "0x%08x", crc);
  }
}
