package dev.rendezvous.common;

import com.fasterxml.jackson.annotation.JsonCreator;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A named tensor as the Open Inference Protocol carries it: a datatype, a shape and the elements in row-major
 * order. The elements of every type but BYTES travel as doubles ({@link Datatype} says which values each type
 * holds: BOOL as 0 and 1, integers exactly up to 2^53); BYTES elements travel as UTF-8 text in {@code strings},
 * with {@code data} empty. {@code strings} is null for every other type, and then absent from the JSON form.
 */
public record Tensor(String name, String datatype, long[] shape, double[] data, List<String> strings) {

  @JsonCreator
  public Tensor {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(datatype, "datatype");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(data, "data");
    strings = strings == null ? null : List.copyOf(strings);
  }

  /** A tensor of numbers (or BOOL as 0 and 1). */
  public Tensor(String name, String datatype, long[] shape, double[] data) {
    this(name, datatype, shape, data, null);
  }

  /** A BYTES tensor of UTF-8 text. */
  public static Tensor ofStrings(String name, long[] shape, List<String> strings) {
    return new Tensor(name, Datatype.BYTES.name(), shape, new double[0], strings);
  }

  /** The product of the dimensions. */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** The elements it holds: its strings for BYTES, its numbers otherwise. */
  public int size() {
    return strings != null ? strings.size() : data.length;
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
        && Arrays.equals(data, t.data)
        && Objects.equals(strings, t.strings);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, datatype, Arrays.hashCode(shape), Arrays.hashCode(data), strings);
  }

  @Override
  public String toString() {
    String elements = strings != null
        ? (strings.size() <= 8 ? strings.toString() : strings.size() + " strings")
        : (data.length <= 8 ? Arrays.toString(data) : data.length + " elements");
    return "Tensor[" + name + " " + datatype + " " + Arrays.toString(shape) + " " + elements + "]";
  }
}
