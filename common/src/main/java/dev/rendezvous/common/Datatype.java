package dev.rendezvous.common;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Tensor element types, named as in the Open Inference Protocol, with the values each one holds. Every type but
 * BYTES travels in a {@link Tensor}'s doubles: BOOL as 0 and 1, the integers exactly up to 2^53 in magnitude (a
 * double's exact range, so INT64 and UINT64 are limited to it), FP16 and FP32 as the doubles the client sent.
 * BYTES elements are UTF-8 text in {@link Tensor#strings()}.
 */
public enum Datatype {
  BOOL(1, 0, 1),
  UINT8(1, 0, 255),
  UINT16(2, 0, 65_535),
  UINT32(4, 0, 4_294_967_295L),
  UINT64(8, 0, Datatype.MAX_EXACT_INTEGER),
  INT8(1, Byte.MIN_VALUE, Byte.MAX_VALUE),
  INT16(2, Short.MIN_VALUE, Short.MAX_VALUE),
  INT32(4, Integer.MIN_VALUE, Integer.MAX_VALUE),
  INT64(8, -Datatype.MAX_EXACT_INTEGER, Datatype.MAX_EXACT_INTEGER),
  FP16(2, 0, 0),
  FP32(4, 0, 0),
  FP64(8, 0, 0),
  BYTES(-1, 0, 0);

  /** 2^53: the largest magnitude up to which a double holds every integer, and so the range of INT64 and UINT64. */
  public static final long MAX_EXACT_INTEGER = 1L << 53;

  /** The largest finite FP16 value. */
  public static final double FP16_MAX = 65_504;

  private final int byteSize;
  private final long min;
  private final long max;

  Datatype(int byteSize, long min, long max) {
    this.byteSize = byteSize;
    this.min = min;
    this.max = max;
  }

  /** Returns the datatype with this protocol name, or null when there is none. */
  public static Datatype parse(String name) {
    for (Datatype d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    return null;
  }

  /** The names, for error messages. */
  public static String names() {
    return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
  }

  /** Bytes per element in the binary tensor form; -1 for BYTES, whose elements are each prefixed by their length. */
  public int byteSize() {
    return byteSize;
  }

  /** Whether the type holds whole numbers: the UINT and INT types. */
  public boolean isInteger() {
    return name().contains("INT");
  }

  /** Whether the type holds floating-point numbers: FP16, FP32, FP64. */
  public boolean isFloat() {
    return name().startsWith("FP");
  }

  /** The smallest value of an integer type (or BOOL: 0). */
  public long min() {
    return min;
  }

  /** The largest value of an integer type as carried here (INT64 and UINT64: 2^53; BOOL: 1). */
  public long max() {
    return max;
  }

  /**
   * Returns null when {@code v} is a value of this type (BOOL: 0 or 1; an integer type: a whole number in its range;
   * a float type: a finite number within its range, rounded to the type's precision by whoever computes with it),
   * otherwise what is wrong with it, for the client: e.g. {@code "300 is out of range for UINT8 (0 to 255)"}.
   */
  public String reject(double v) {
    String shown = v == Math.rint(v) && Math.abs(v) < 1e18 ? Long.toString((long) v) : Double.toString(v);
    return switch (this) {
      case BOOL -> v == 0 || v == 1 ? null : shown + " is not a BOOL (true or false)";
      case FP16 -> Double.isFinite(v) && Math.abs(v) <= FP16_MAX ? null
          : shown + " does not fit in FP16 (largest magnitude " + (long) FP16_MAX + ")";
      case FP32 -> Double.isFinite(v) && Math.abs(v) <= Float.MAX_VALUE ? null : shown + " does not fit in FP32";
      case FP64 -> Double.isFinite(v) ? null : shown + " does not fit in FP64";
      case BYTES -> "BYTES elements are strings, not numbers";
      default -> v != Math.rint(v) ? shown + " is not a whole number, as " + this + " needs"
          : v < min || v > max ? shown + " is out of range for " + this + " (" + range() + ")" : null;
    };
  }

  /** The range of an integer type, as error messages show it. */
  public String range() {
    return max == MAX_EXACT_INTEGER ? (min == 0 ? "0" : "-2^53") + " to 2^53" : min + " to " + max;
  }
}
