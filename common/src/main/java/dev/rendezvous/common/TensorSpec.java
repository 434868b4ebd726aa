package dev.rendezvous.common;

import java.util.Arrays;

/**
 * The expected name, datatype and shape of one input or output; a dimension of -1 matches any size
 * (normally the batch dimension).
 */
public record TensorSpec(String name, String datatype, long[] shape) {

  /** Returns null when the tensor matches this spec, otherwise what is wrong, for the client. */
  public String mismatch(Tensor t) {
    if (!datatype.equals(t.datatype())) {
      return "input '" + name + "' must have datatype " + datatype + ", not " + t.datatype();
    }
    long[] s = t.shape();
    boolean ok = s.length == shape.length;
    for (int i = 0; ok && i < s.length; i++) {
      ok = s[i] >= 0 && (shape[i] == -1 || shape[i] == s[i]);
    }
    if (!ok) {
      return "input '" + name + "' must have shape " + Arrays.toString(shape) + ", not " + Arrays.toString(s);
    }
    return null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t && name.equals(t.name) && datatype.equals(t.datatype)
        && Arrays.equals(shape, t.shape);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + " " + datatype + " " + Arrays.toString(shape);
  }
}
