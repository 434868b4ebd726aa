package dev.rendezvous.proxy;

import ai.onnxruntime.platform.Fp16Conversions;
import dev.rendezvous.common.Datatype;
import dev.rendezvous.common.Tensor;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary tensor data extension's element form: little-endian, row-major, each element in its type's native
 * size (BOOL one byte, 0 or 1; FP16 IEEE half precision); a BYTES element is a 4-byte little-endian unsigned
 * length followed by that many bytes, which here must be UTF-8 text. Decoding holds binary elements to the same
 * rules as JSON ones ({@link Datatype#reject}).
 */
final class BinaryTensors {

  private BinaryTensors() {}

  /**
   * Decodes {@code size} bytes from {@code offset} as a tensor of this datatype and shape; throws a
   * {@link BadRequestException} naming {@code where} when they do not hold exactly its elements.
   */
  static Tensor decode(String name, Datatype datatype, long[] shape, byte[] body, int offset, int size,
      String where) {
    int count = (int) Tensor.elementCount(shape);
    ByteBuffer in = ByteBuffer.wrap(body, offset, size).slice().order(ByteOrder.LITTLE_ENDIAN);
    if (datatype == Datatype.BYTES) {
      return Tensor.ofStrings(name, shape, strings(in, count, where));
    }
    long expected = (long) count * datatype.byteSize();
    if (size != expected) {
      throw new BadRequestException(where + ": binary_data_size is " + size + " bytes, but " + count + " "
          + datatype + " elements take " + expected);
    }
    double[] data = new double[count];
    for (int i = 0; i < count; i++) {
      double v = switch (datatype) {
        case BOOL, INT8 -> in.get();
        case UINT8 -> in.get() & 0xff;
        case INT16 -> in.getShort();
        case UINT16 -> in.getShort() & 0xffff;
        case INT32 -> in.getInt();
        case UINT32 -> in.getInt() & 0xffff_ffffL;
        case INT64 -> exact(in.getLong(), false, where, datatype);
        case UINT64 -> exact(in.getLong(), true, where, datatype);
        case FP16 -> Fp16Conversions.fp16ToFloat(in.getShort());
        case FP32 -> in.getFloat();
        case FP64 -> in.getDouble();
        case BYTES -> throw new IllegalStateException("BYTES is decoded above");
      };
      String wrong = datatype.reject(v);
      if (wrong != null) {
        throw new BadRequestException(where + ": binary element " + i + ": " + wrong);
      }
      data[i] = v;
    }
    return new Tensor(name, datatype.name(), shape, data);
  }

  /** A 64-bit integer as a double when that is exact, which the range check then accepts or refuses. */
  private static double exact(long v, boolean unsigned, String where, Datatype datatype) {
    if (unsigned && v < 0) {
      throw new BadRequestException(where + ": " + Long.toUnsignedString(v) + " is out of range for " + datatype
          + " (" + datatype.range() + ")");
    }
    return v;
  }

  private static List<String> strings(ByteBuffer in, int count, String where) {
    List<String> out = new ArrayList<>(count);
    var utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    while (in.hasRemaining()) {
      if (out.size() == count) {
        throw new BadRequestException(where + ": binary_data_size holds more than the shape's " + count
            + " BYTES elements");
      }
      if (in.remaining() < 4) {
        throw new BadRequestException(where + ": BYTES element " + out.size() + " is cut short in its 4-byte length");
      }
      long length = in.getInt() & 0xffff_ffffL;
      if (length > in.remaining()) {
        throw new BadRequestException(where + ": BYTES element " + out.size() + " claims " + length
            + " bytes, but only " + in.remaining() + " are left of its binary_data_size");
      }
      ByteBuffer element = in.slice(in.position(), (int) length);
      in.position(in.position() + (int) length);
      try {
        out.add(utf8.decode(element).toString());
      } catch (CharacterCodingException e) {
        throw new BadRequestException(where + ": BYTES element " + out.size() + " is not UTF-8 text");
      }
    }
    if (out.size() != count) {
      throw new BadRequestException(where + ": the shape needs " + count + " BYTES elements, binary_data_size "
          + "holds " + out.size());
    }
    return out;
  }

  /** The tensor's elements in the binary form. */
  static byte[] encode(Tensor t) {
    Datatype datatype = Datatype.parse(t.datatype());
    if (datatype == null) {
      throw new IllegalArgumentException("no binary form for datatype " + t.datatype());
    }
    if (datatype == Datatype.BYTES) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (String s : t.strings()) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        out.writeBytes(b);
      }
      return out.toByteArray();
    }
    ByteBuffer out = ByteBuffer.allocate(t.data().length * datatype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : t.data()) {
      switch (datatype) {
        case BOOL -> out.put((byte) (v != 0 ? 1 : 0));
        case INT8, UINT8 -> out.put((byte) (long) v);
        case INT16, UINT16 -> out.putShort((short) (long) v);
        case INT32, UINT32 -> out.putInt((int) (long) v);
        case INT64, UINT64 -> out.putLong((long) v);
        case FP16 -> out.putShort(Fp16Conversions.floatToFp16((float) v));
        case FP32 -> out.putFloat((float) v);
        case FP64 -> out.putDouble(v);
        case BYTES -> throw new IllegalStateException("BYTES is encoded above");
      }
    }
    return out.array();
  }
}
