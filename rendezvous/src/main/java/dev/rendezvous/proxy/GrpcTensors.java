package dev.rendezvous.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.rendezvous.common.Datatype;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import dev.rendezvous.grpc.oip.GrpcPredictV2.InferParameter;
import dev.rendezvous.grpc.oip.GrpcPredictV2.InferTensorContents;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelInferRequest;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelInferResponse;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The Open Inference Protocol's gRPC messages to and from the proxy's own forms. A {@link ModelInferRequest} is
 * held to the rules of the HTTP form ({@link InferRequestParser}): the same signature checks, the same element
 * rules ({@link Datatype#reject}) and the same messages. Its data comes either from each input's
 * {@code contents}, in the field of its datatype (FP16 has none and must be raw), or from
 * {@code raw_input_contents}, one entry per input in the binary tensor form ({@link BinaryTensors}).
 *
 * <p>A response carries its outputs in {@code contents} unless the request sent raw inputs or an output is FP16;
 * then every output is in {@code raw_output_contents}, as the protocol requires of a response that uses it.
 */
final class GrpcTensors {

  /** The largest dimension, as in the HTTP form. */
  private static final long MAX_DIMENSION = Integer.MAX_VALUE;

  /**
   * The share of a call's gRPC deadline that the request gets as its own deadline: the rest is left for the
   * answer's way back, so that the client receives the default before its deadline cancels the call.
   */
  static final double GRPC_DEADLINE_SHARE = 0.9;

  private GrpcTensors() {}

  /**
   * @param grpcDeadlineMs the call's remaining deadline in milliseconds, or 0 when it has none: the request's
   *     deadline is then {@link #GRPC_DEADLINE_SHARE} of it, capped at {@link InferRequestParser#MAX_DEADLINE_MS};
   *     with {@code parameters.deadline_ms} too, the shorter of the two
   * @throws BadRequestException what is wrong with the request, for the client
   */
  static InferRequestParser.Parsed parse(ModelInferRequest r, List<TensorSpec> inputs, List<TensorSpec> outputs,
      long grpcDeadlineMs) {
    String clientId = r.getId().isEmpty() ? null : r.getId();
    Double deadlineMs = deadline(r.getParametersMap().get("deadline_ms"));
    if (grpcDeadlineMs > 0) {
      double capped = Math.min(grpcDeadlineMs * GRPC_DEADLINE_SHARE, InferRequestParser.MAX_DEADLINE_MS);
      deadlineMs = deadlineMs == null ? capped : Math.min(deadlineMs, capped);
    }
    List<InferRequestParser.RequestedOutput> requested = requestedOutputs(r, outputs);
    if (r.getInputsCount() == 0) {
      throw new BadRequestException("'inputs' must be a non-empty list of tensors");
    }
    boolean raw = r.getRawInputContentsCount() > 0;
    if (raw && r.getRawInputContentsCount() != r.getInputsCount()) {
      throw new BadRequestException("raw_input_contents has " + r.getRawInputContentsCount() + " entries for "
          + r.getInputsCount() + " inputs: give one per input, in the order of inputs, or none");
    }
    Map<String, TensorSpec> specs = new HashMap<>();
    inputs.forEach(s -> specs.put(s.name(), s));
    Map<String, Tensor> byName = new HashMap<>();
    for (int i = 0; i < r.getInputsCount(); i++) {
      Tensor t = tensor(r.getInputs(i), i, specs, inputs, raw ? r.getRawInputContents(i) : null);
      if (byName.put(t.name(), t) != null) {
        throw new BadRequestException("input '" + t.name() + "' is given more than once");
      }
    }
    return new InferRequestParser.Parsed(clientId, InferRequestParser.inSchemaOrder(inputs, byName), deadlineMs,
        requested, raw);
  }

  private static Double deadline(InferParameter p) {
    if (p == null) {
      return null;
    }
    double v = switch (p.getParameterChoiceCase()) {
      case DOUBLE_PARAM -> p.getDoubleParam();
      case INT64_PARAM -> p.getInt64Param();
      case UINT64_PARAM -> p.getUint64Param() < 0 ? Double.POSITIVE_INFINITY : p.getUint64Param();
      default -> throw new BadRequestException("parameters.deadline_ms must be a positive number of milliseconds "
          + "(double_param or int64_param), not " + p.getParameterChoiceCase());
    };
    if (!(v > 0) || Double.isInfinite(v)) {
      throw new BadRequestException("parameters.deadline_ms must be a positive number of milliseconds, not " + v);
    }
    if (v > InferRequestParser.MAX_DEADLINE_MS) {
      throw new BadRequestException("parameters.deadline_ms may be at most " + (long) InferRequestParser.MAX_DEADLINE_MS
          + " ms, not " + v);
    }
    return v;
  }

  private static List<InferRequestParser.RequestedOutput> requestedOutputs(ModelInferRequest r,
      List<TensorSpec> outputs) {
    if (r.getOutputsCount() == 0) {
      return null;
    }
    Map<String, InferRequestParser.RequestedOutput> byName = new LinkedHashMap<>();
    for (ModelInferRequest.InferRequestedOutputTensor o : r.getOutputsList()) {
      if (outputs.stream().noneMatch(s -> s.name().equals(o.getName()))) {
        throw new BadRequestException("unknown output '" + o.getName() + "'; the outputs are " + names(outputs));
      }
      if (o.containsParameters("classification")) {
        throw new BadRequestException("output '" + o.getName() + "': the classification extension is not supported");
      }
      if (byName.put(o.getName(), new InferRequestParser.RequestedOutput(o.getName(), false)) != null) {
        throw new BadRequestException("output '" + o.getName() + "' is asked for more than once");
      }
    }
    return List.copyOf(byName.values());
  }

  private static Tensor tensor(ModelInferRequest.InferInputTensor in, int index, Map<String, TensorSpec> specs,
      List<TensorSpec> signature, ByteString raw) {
    if (in.getName().isEmpty()) {
      throw new BadRequestException("inputs[" + index + "].name must be a non-empty string");
    }
    TensorSpec spec = specs.get(in.getName());
    if (spec == null) {
      throw new BadRequestException("unknown input '" + in.getName() + "'; expected " + names(signature));
    }
    String where = "input '" + in.getName() + "'";
    Datatype datatype = Datatype.parse(in.getDatatype());
    if (datatype == null) {
      throw new BadRequestException(where + ": datatype " + in.getDatatype() + " is not supported; use one of "
          + Datatype.names());
    }
    long[] shape = new long[in.getShapeCount()];
    long expected = 1;
    for (int i = 0; i < shape.length; i++) {
      long d = in.getShape(i);
      if (d < 0 || d > MAX_DIMENSION) {
        throw new BadRequestException(where + ": shape must be a list of integers from 0 to " + MAX_DIMENSION
            + ", not " + in.getShapeList());
      }
      shape[i] = d;
    }
    String mismatch = spec.mismatch(new Tensor(in.getName(), datatype.name(), shape, new double[0]));
    if (mismatch != null) {
      throw new BadRequestException(mismatch);
    }
    for (long d : shape) {
      expected *= d;
      if (expected > MAX_DIMENSION) {
        throw new BadRequestException(where + ": shape " + in.getShapeList() + " has more elements than a request "
            + "can hold");
      }
    }
    if (raw != null) {
      if (in.hasContents()) {
        throw new BadRequestException(where + ": give its data in contents or in raw_input_contents, not both");
      }
      byte[] bytes = raw.toByteArray();
      return BinaryTensors.decode(in.getName(), datatype, shape, bytes, 0, bytes.length, where);
    }
    Tensor t = fromContents(in.getName(), datatype, shape, in.getContents(), where);
    if (t.size() != expected) {
      throw new BadRequestException(where + ": shape " + in.getShapeList() + " needs " + expected
          + " elements, contents." + field(datatype) + " has " + t.size());
    }
    return t;
  }

  /** The field of {@link InferTensorContents} that holds a datatype's elements. */
  static String field(Datatype datatype) {
    return switch (datatype) {
      case BOOL -> "bool_contents";
      case INT8, INT16, INT32 -> "int_contents";
      case INT64 -> "int64_contents";
      case UINT8, UINT16, UINT32 -> "uint_contents";
      case UINT64 -> "uint64_contents";
      case FP16 -> "raw_input_contents";
      case FP32 -> "fp32_contents";
      case FP64 -> "fp64_contents";
      case BYTES -> "bytes_contents";
    };
  }

  private static Tensor fromContents(String name, Datatype datatype, long[] shape, InferTensorContents c,
      String where) {
    if (datatype == Datatype.FP16) {
      throw new BadRequestException(where + ": FP16 has no field in contents; give its data in raw_input_contents");
    }
    if (datatype == Datatype.BYTES) {
      List<String> strings = new ArrayList<>(c.getBytesContentsCount());
      var utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);
      for (ByteString b : c.getBytesContentsList()) {
        try {
          strings.add(utf8.decode(b.asReadOnlyByteBuffer()).toString());
        } catch (CharacterCodingException e) {
          throw new BadRequestException(where + ": BYTES element " + strings.size() + " is not UTF-8 text");
        }
      }
      return Tensor.ofStrings(name, shape, strings);
    }
    double[] data = switch (datatype) {
      case BOOL -> {
        double[] d = new double[c.getBoolContentsCount()];
        for (int i = 0; i < d.length; i++) {
          d[i] = c.getBoolContents(i) ? 1 : 0;
        }
        yield d;
      }
      case INT8, INT16, INT32 -> longs(c.getIntContentsList().iterator(), c.getIntContentsCount(), false, where,
          datatype);
      case INT64 -> longs(c.getInt64ContentsList().iterator(), c.getInt64ContentsCount(), false, where, datatype);
      case UINT8, UINT16, UINT32 -> longs(c.getUintContentsList().iterator(), c.getUintContentsCount(), true, where,
          datatype);
      case UINT64 -> longs(c.getUint64ContentsList().iterator(), c.getUint64ContentsCount(), true, where,
          datatype);
      case FP32 -> {
        double[] d = new double[c.getFp32ContentsCount()];
        for (int i = 0; i < d.length; i++) {
          d[i] = c.getFp32Contents(i);
        }
        yield d;
      }
      case FP64 -> c.getFp64ContentsList().stream().mapToDouble(Double::doubleValue).toArray();
      case FP16, BYTES -> throw new IllegalStateException("handled above");
    };
    for (int i = 0; i < data.length; i++) {
      String wrong = datatype.reject(data[i]);
      if (wrong != null) {
        throw new BadRequestException(where + ": element " + i + ": " + wrong);
      }
    }
    return new Tensor(name, datatype.name(), shape, data);
  }

  /** Integers as doubles, each checked against the type's range first (as longs, so no rounding lets one by). */
  private static double[] longs(Iterator<? extends Number> values, int count, boolean unsigned, String where,
      Datatype datatype) {
    double[] out = new double[count];
    for (int i = 0; i < count; i++) {
      Number n = values.next();
      long v = n instanceof Integer x && unsigned ? Integer.toUnsignedLong(x) : n.longValue();
      if ((unsigned && n instanceof Long && v < 0) || v < datatype.min() || v > datatype.max()) {
        String shown = unsigned && n instanceof Long ? Long.toUnsignedString(v) : Long.toString(v);
        throw new BadRequestException(where + ": element " + i + ": " + shown + " is out of range for " + datatype
            + " (" + datatype.range() + ")");
      }
      out[i] = v;
    }
    return out;
  }

  /**
   * The response: the answer's outputs that the request asked for, in its order, and the parameters, each in
   * the parameter kind of its JSON value.
   */
  static ModelInferResponse response(InferReply.Answer a) {
    ModelInferResponse.Builder b = ModelInferResponse.newBuilder().setModelName(a.problem())
        .setModelVersion(Long.toString(a.scheduleVersion()));
    if (a.clientId() != null) {
      b.setId(a.clientId());
    }
    parameters(a.parameters()).forEach(b::putParameters);
    List<Tensor> outputs = InferResponse.selected(a.outputs(), a.request());
    boolean raw = a.request().binaryDataOutput()
        || outputs.stream().anyMatch(t -> Datatype.FP16.name().equals(t.datatype()));
    for (Tensor t : outputs) {
      ModelInferResponse.InferOutputTensor.Builder o = b.addOutputsBuilder().setName(t.name())
          .setDatatype(t.datatype());
      for (long d : t.shape()) {
        o.addShape(d);
      }
      if (raw) {
        b.addRawOutputContents(ByteString.copyFrom(BinaryTensors.encode(t)));
      } else {
        o.setContents(contents(t));
      }
    }
    return b.build();
  }

  private static InferTensorContents contents(Tensor t) {
    Datatype datatype = Datatype.parse(t.datatype());
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    if (datatype == Datatype.BYTES) {
      t.strings().forEach(s -> c.addBytesContents(ByteString.copyFromUtf8(s)));
      return c.build();
    }
    for (double v : t.data()) {
      switch (datatype) {
        case BOOL -> c.addBoolContents(v != 0);
        case INT8, INT16, INT32 -> c.addIntContents((int) v);
        case INT64 -> c.addInt64Contents((long) v);
        case UINT8, UINT16, UINT32 -> c.addUintContents((int) (long) v);
        case UINT64 -> c.addUint64Contents((long) v);
        case FP32 -> c.addFp32Contents((float) v);
        case FP64 -> c.addFp64Contents(v);
        case FP16, BYTES -> throw new IllegalStateException(datatype + " is written raw or above");
      }
    }
    return c.build();
  }

  /** JSON parameters as gRPC ones: booleans, integers, other numbers and text, each in its own kind. */
  static Map<String, InferParameter> parameters(ObjectNode params) {
    Map<String, InferParameter> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = params.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      InferParameter.Builder p = InferParameter.newBuilder();
      if (v.isBoolean()) {
        p.setBoolParam(v.asBoolean());
      } else if (v.isIntegralNumber()) {
        p.setInt64Param(v.asLong());
      } else if (v.isNumber()) {
        p.setDoubleParam(v.asDouble());
      } else if (v.isNull()) {
        continue;
      } else {
        p.setStringParam(v.asText());
      }
      out.put(e.getKey(), p.build());
    }
    return out;
  }

  private static String names(List<TensorSpec> signature) {
    return signature.stream().map(s -> "'" + s.name() + "'").collect(Collectors.joining(", "));
  }
}
