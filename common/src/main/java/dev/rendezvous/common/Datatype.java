package dev.rendezvous.common;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Tensor element types accepted on the wire, named as in the Open Inference Protocol. */
public enum Datatype {
  FP32,
  FP64,
  INT32,
  INT64;

  /** Returns the datatype with this protocol name, or null when the name is not supported. */
  public static Datatype parse(String name) {
    for (Datatype d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    return null;
  }

  /** The supported names, for error messages. */
  public static String names() {
    return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
  }
}
