package dev.rendezvous.runner;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.platform.Fp16Conversions;
import dev.rendezvous.common.Datatype;
import dev.rendezvous.common.Tensor;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Between the protocol's tensors and ONNX Runtime's: which ONNX element type each datatype is, and the conversion
 * of stacked request tensors into an {@link OnnxTensor} and of an output back. ONNX Runtime's Java API feeds every
 * element type but UINT16, UINT32 and UINT64 (it has no Java carrier for them), so models with inputs of those
 * types are refused when they load; a BYTES tensor is an ONNX string tensor.
 */
final class OnnxTensors {

  private OnnxTensors() {}

  /** The protocol datatype of an ONNX tensor's element type, or null when the protocol has none. */
  static Datatype datatype(TensorInfo info) {
    return switch (info.onnxType) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> Datatype.BOOL;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> Datatype.UINT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> Datatype.UINT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> Datatype.UINT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> Datatype.UINT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> Datatype.INT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> Datatype.INT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> Datatype.INT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> Datatype.INT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> Datatype.FP16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> Datatype.FP32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> Datatype.FP64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> Datatype.BYTES;
      default -> null;
    };
  }

  /** Null when an input of this element type can be fed from Java, otherwise why not. */
  static String unfeedable(String input, TensorInfo info) {
    Datatype d = datatype(info);
    if (d == null) {
      return "input '" + input + "' has ONNX element type " + info.onnxType + ", which the protocol has no datatype for";
    }
    if (d == Datatype.UINT16 || d == Datatype.UINT32 || d == Datatype.UINT64) {
      return "input '" + input + "' is " + d + ", which ONNX Runtime's Java API cannot feed";
    }
    return null;
  }

  /** The parts' elements, stacked in order, as one tensor of this shape and datatype. */
  static OnnxTensor create(OrtEnvironment env, List<Tensor> parts, long[] shape, Datatype datatype)
      throws OrtException {
    int n = (int) Tensor.elementCount(shape);
    switch (datatype) {
      case BYTES -> {
        String[] all = new String[n];
        int k = 0;
        for (Tensor t : parts) {
          for (String s : t.strings()) {
            all[k++] = s;
          }
        }
        return OnnxTensor.createTensor(env, all, shape);
      }
      case FP32 -> {
        FloatBuffer buf = FloatBuffer.allocate(n);
        parts.forEach(t -> each(t, v -> buf.put((float) v)));
        return OnnxTensor.createTensor(env, buf.flip(), shape);
      }
      case FP64 -> {
        DoubleBuffer buf = DoubleBuffer.allocate(n);
        parts.forEach(t -> buf.put(t.data()));
        return OnnxTensor.createTensor(env, buf.flip(), shape);
      }
      case FP16 -> {
        ShortBuffer buf = ShortBuffer.allocate(n);
        parts.forEach(t -> each(t, v -> buf.put(Fp16Conversions.floatToFp16((float) v))));
        return OnnxTensor.createTensor(env, buf.flip(), shape, OnnxJavaType.FLOAT16);
      }
      case INT64 -> {
        LongBuffer buf = LongBuffer.allocate(n);
        parts.forEach(t -> each(t, v -> buf.put((long) v)));
        return OnnxTensor.createTensor(env, buf.flip(), shape);
      }
      case INT32 -> {
        IntBuffer buf = IntBuffer.allocate(n);
        parts.forEach(t -> each(t, v -> buf.put((int) v)));
        return OnnxTensor.createTensor(env, buf.flip(), shape);
      }
      case INT16 -> {
        ShortBuffer buf = ShortBuffer.allocate(n);
        parts.forEach(t -> each(t, v -> buf.put((short) v)));
        return OnnxTensor.createTensor(env, buf.flip(), shape);
      }
      case INT8, UINT8, BOOL -> {
        ByteBuffer buf = ByteBuffer.allocate(n);
        parts.forEach(t -> each(t, v -> buf.put((byte) (int) v)));
        OnnxJavaType type = datatype == Datatype.INT8 ? OnnxJavaType.INT8
            : datatype == Datatype.UINT8 ? OnnxJavaType.UINT8 : OnnxJavaType.BOOL;
        return OnnxTensor.createTensor(env, buf.flip(), shape, type);
      }
      default -> throw new IllegalArgumentException("ONNX Runtime's Java API cannot feed " + datatype + " tensors");
    }
  }

  private interface DoubleSink {
    void put(double v);
  }

  private static void each(Tensor t, DoubleSink sink) {
    for (double v : t.data()) {
      sink.put(v);
    }
  }

  /** An output's elements as doubles (every type but BYTES). */
  static double[] numbers(OnnxTensor value, Datatype datatype) {
    switch (datatype) {
      case FP32, FP16 -> { // getFloatBuffer widens FP16 to float
        FloatBuffer b = value.getFloatBuffer();
        double[] out = new double[b.remaining()];
        for (int i = 0; i < out.length; i++) {
          out[i] = b.get(i);
        }
        return out;
      }
      case FP64 -> {
        DoubleBuffer b = value.getDoubleBuffer();
        double[] out = new double[b.remaining()];
        b.get(out);
        return out;
      }
      case INT64 -> {
        LongBuffer b = value.getLongBuffer();
        double[] out = new double[b.remaining()];
        for (int i = 0; i < out.length; i++) {
          out[i] = b.get(i);
        }
        return out;
      }
      case INT32 -> {
        IntBuffer b = value.getIntBuffer();
        double[] out = new double[b.remaining()];
        for (int i = 0; i < out.length; i++) {
          out[i] = b.get(i);
        }
        return out;
      }
      case INT16 -> {
        ShortBuffer b = value.getShortBuffer();
        double[] out = new double[b.remaining()];
        for (int i = 0; i < out.length; i++) {
          out[i] = b.get(i);
        }
        return out;
      }
      case INT8, UINT8, BOOL -> {
        ByteBuffer b = value.getByteBuffer();
        double[] out = new double[b.remaining()];
        for (int i = 0; i < out.length; i++) {
          byte v = b.get(i);
          out[i] = datatype == Datatype.INT8 ? v : datatype == Datatype.UINT8 ? v & 0xff : (v != 0 ? 1 : 0);
        }
        return out;
      }
      default -> throw new IllegalStateException("output type " + datatype + " cannot be read from ONNX Runtime");
    }
  }

  /** A string output's elements in row-major order. */
  static List<String> strings(OnnxTensor value) throws OrtException {
    List<String> out = new ArrayList<>();
    flatten(value.getValue(), out);
    return out;
  }

  private static void flatten(Object array, List<String> out) {
    if (array instanceof String s) {
      out.add(s);
      return;
    }
    for (int i = 0; i < Array.getLength(array); i++) {
      flatten(Array.get(array, i), out);
    }
  }
}
