package dev.rendezvous.common;

import java.util.Arrays;
import java.util.Objects;

/**
 * A named tensor as the Open Inference Protocol carries it: a datatype, a shape and the elements in
 * row-major order. Elements travel as doubles, which hold every FP32, INT32 and FP64 value exactly and
 * INT64 values up to 2^53 (larger ones are rejected at the proxy).
 */
public record Tensor(String name, String datatype, long[] shape, double[] data) {

  public Tensor {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(datatype, "datatype");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(data, "data");
  }

  /** The product of the dimensions. */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** The first dimension: the number of rows of a batched tensor (1 for a scalar). */
  public long rows() {
    return shape.length == 0 ? 1 : shape[0];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tensor t
        && name.equals(t.name)
        && datatype.equals(t.datatype)
        && Arrays.equals(shape, t.shape)
        && Arrays.equals(data, t.data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, datatype, Arrays.hashCode(shape), Arrays.hashCode(data));
  }

  @Override
  public String toString() {
    return "Tensor[" + name + " " + datatype + " " + Arrays.toString(shape) + " "
        + (data.length <= 8 ? Arrays.toString(data) : data.length + " elements") + "]";
  }
}
