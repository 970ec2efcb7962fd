package io.lambdalake.spark.sketch;

import io.airlift.slice.Slices;
import io.airlift.stats.cardinality.HyperLogLog;
import java.io.Externalizable;
import java.io.IOException;
import java.io.ObjectInput;
import java.io.ObjectOutput;
import org.apache.spark.sql.Encoder;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.expressions.Aggregator;

/**
 * Unique users as a mergeable sketch: Airlift's HyperLogLog with 4096 buckets, serialized in the
 * format of Trino's {@code HyperLogLog} type. A sketch per hour merges into uniques over any range,
 * in Spark ({@link #merge()}) or in Trino ({@code cardinality(merge(CAST(users_sketch AS
 * HyperLogLog)))}). Standard error about 1.6%.
 */
public final class UniqueUsers {
  /** Trino's approx_set uses 4096 buckets by default (standard error 2.3% / 1.6%). */
  public static final int BUCKETS = 4096;

  private UniqueUsers() {}

  /** Aggregates user ids (strings) into a serialized sketch; nulls are not users. */
  public static Aggregator<String, Sketch, byte[]> sketch() {
    return new SketchOfIds();
  }

  /** Merges serialized sketches into one. */
  public static Aggregator<byte[], Sketch, byte[]> merge() {
    return new MergeOfSketches();
  }

  /**
   * The union of two serialized sketches, serialized; null when both are null. Associative and
   * commutative, so a view that adds each batch's sketch to its row equals one aggregation of all
   * the batches' users.
   */
  public static byte[] union(byte[] left, byte[] right) {
    if (left == null || right == null) {
      return left == null ? right : left;
    }
    HyperLogLog merged = HyperLogLog.newInstance(Slices.wrappedBuffer(left));
    merged.mergeWith(HyperLogLog.newInstance(Slices.wrappedBuffer(right)));
    return merged.serialize().getBytes();
  }

  /** The estimated number of distinct users in a serialized sketch. */
  public static long cardinality(byte[] serialized) {
    return HyperLogLog.newInstance(Slices.wrappedBuffer(serialized)).cardinality();
  }

  /** The aggregation buffer: a live HyperLogLog, written in its own serialized form. */
  public static final class Sketch implements Externalizable {
    private static final long serialVersionUID = 1L;
    private HyperLogLog hyperLogLog;

    public Sketch() {
      this.hyperLogLog = HyperLogLog.newInstance(BUCKETS);
    }

    void add(String id) {
      hyperLogLog.add(Slices.utf8Slice(id));
    }

    void mergeWith(Sketch other) {
      hyperLogLog.mergeWith(other.hyperLogLog);
    }

    void mergeWith(byte[] serialized) {
      hyperLogLog.mergeWith(HyperLogLog.newInstance(Slices.wrappedBuffer(serialized)));
    }

    byte[] toBytes() {
      return hyperLogLog.serialize().getBytes();
    }

    @Override
    public void writeExternal(ObjectOutput out) throws IOException {
      byte[] bytes = toBytes();
      out.writeInt(bytes.length);
      out.write(bytes);
    }

    @Override
    public void readExternal(ObjectInput in) throws IOException {
      byte[] bytes = new byte[in.readInt()];
      in.readFully(bytes);
      hyperLogLog = HyperLogLog.newInstance(Slices.wrappedBuffer(bytes));
    }
  }

  /** What both aggregators share: the buffer, merging buffers, and the serialized result. */
  private abstract static class SketchAggregator<T> extends Aggregator<T, Sketch, byte[]> {
    @Override
    public Sketch zero() {
      return new Sketch();
    }

    @Override
    public Sketch merge(Sketch left, Sketch right) {
      left.mergeWith(right);
      return left;
    }

    @Override
    public byte[] finish(Sketch sketch) {
      return sketch.toBytes();
    }

    @Override
    public Encoder<Sketch> bufferEncoder() {
      return Encoders.javaSerialization(Sketch.class);
    }

    @Override
    public Encoder<byte[]> outputEncoder() {
      return Encoders.BINARY();
    }
  }

  private static final class SketchOfIds extends SketchAggregator<String> {
    @Override
    public Sketch reduce(Sketch sketch, String id) {
      if (id != null) {
        sketch.add(id);
      }
      return sketch;
    }
  }

  private static final class MergeOfSketches extends SketchAggregator<byte[]> {
    @Override
    public Sketch reduce(Sketch sketch, byte[] serialized) {
      if (serialized != null) {
        sketch.mergeWith(serialized);
      }
      return sketch;
    }
  }
}
