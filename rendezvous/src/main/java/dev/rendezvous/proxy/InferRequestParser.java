package dev.rendezvous.proxy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.rendezvous.common.Datatype;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Parses an Open Inference Protocol inference request body and checks it against a problem's input
 * signature. Every rejection is a {@link BadRequestException} whose message tells the client what to fix.
 */
public final class InferRequestParser {

  /** A validated request: the client's id (may be null), its inputs, and its own deadline if it gave one. */
  public record Parsed(String clientId, List<Tensor> inputs, Double deadlineMs) {

    /** Rows of the batch (dimension 0 of the first input). */
    public long rows() {
      return inputs.get(0).rows();
    }
  }

  private static final long MAX_SAFE_INTEGER = 1L << 53;

  /**
   * The longest deadline a request may ask for, in milliseconds (60 s): every waiting request holds a timer and
   * an entry in the proxy's table until then, so an unbounded deadline would let a client pin them for ever.
   */
  public static final double MAX_DEADLINE_MS = 60_000;

  /** Largest dimension of a shape: tensors are indexed by int, and no body under the limit holds more. */
  private static final long MAX_DIMENSION = Integer.MAX_VALUE;

  /** Reads one JSON document and nothing after it: trailing bytes are an error, not ignored. */
  private static final ObjectReader READER = Json.MAPPER.reader()
      .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private InferRequestParser() {}

  public static Parsed parse(byte[] body, List<TensorSpec> signature) {
    JsonNode root;
    try {
      root = READER.readTree(body);
    } catch (JsonProcessingException e) {
      throw new BadRequestException("malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new BadRequestException("malformed JSON: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new BadRequestException("the request body must be a JSON object with an 'inputs' array");
    }
    String clientId = null;
    JsonNode id = root.get("id");
    if (id != null && !id.isNull()) {
      if (!id.isTextual()) {
        throw new BadRequestException("'id' must be a string");
      }
      clientId = id.asText();
    }
    Double deadlineMs = parseDeadline(root.get("parameters"));
    JsonNode inputs = root.get("inputs");
    if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
      throw new BadRequestException("'inputs' must be a non-empty array of tensors");
    }
    Map<String, TensorSpec> specs = new HashMap<>();
    signature.forEach(s -> specs.put(s.name(), s));
    Map<String, Tensor> byName = new HashMap<>();
    for (int i = 0; i < inputs.size(); i++) {
      Tensor t = parseTensor(inputs.get(i), i, specs, signature);
      if (byName.put(t.name(), t) != null) {
        throw new BadRequestException("input '" + t.name() + "' is given more than once");
      }
    }
    List<Tensor> ordered = new ArrayList<>(signature.size());
    for (TensorSpec spec : signature) {
      Tensor t = byName.get(spec.name());
      if (t == null) {
        throw new BadRequestException("missing input '" + spec.name() + "' (" + spec + ")");
      }
      if (!ordered.isEmpty() && ordered.get(0).rows() != t.rows()) {
        throw new BadRequestException("inputs disagree on the batch size: '" + ordered.get(0).name() + "' has "
            + ordered.get(0).rows() + " rows, '" + t.name() + "' has " + t.rows());
      }
      ordered.add(t);
    }
    if (ordered.get(0).rows() == 0) {
      throw new BadRequestException("the batch is empty: dimension 0 of '" + ordered.get(0).name() + "' is 0");
    }
    return new Parsed(clientId, List.copyOf(ordered), deadlineMs);
  }

  private static Double parseDeadline(JsonNode parameters) {
    if (parameters == null || parameters.isNull()) {
      return null;
    }
    if (!parameters.isObject()) {
      throw new BadRequestException("'parameters' must be an object");
    }
    JsonNode d = parameters.get("deadline_ms");
    if (d == null || d.isNull()) {
      return null;
    }
    if (!d.isNumber() || !(d.asDouble() > 0) || Double.isInfinite(d.asDouble())) {
      throw new BadRequestException("parameters.deadline_ms must be a positive number of milliseconds, not " + d);
    }
    if (d.asDouble() > MAX_DEADLINE_MS) {
      throw new BadRequestException("parameters.deadline_ms may be at most " + (long) MAX_DEADLINE_MS + " ms, not "
          + d);
    }
    return d.asDouble();
  }

  /** Parses one tensor, checking name, datatype and shape against the signature before reading the data. */
  private static Tensor parseTensor(JsonNode node, int index, Map<String, TensorSpec> specs,
      List<TensorSpec> signature) {
    String where = "inputs[" + index + "]";
    if (node == null || !node.isObject()) {
      throw new BadRequestException(where + " must be an object with name, datatype, shape and data");
    }
    JsonNode name = node.get("name");
    if (name == null || !name.isTextual() || name.asText().isEmpty()) {
      throw new BadRequestException(where + ".name must be a non-empty string");
    }
    TensorSpec spec = specs.get(name.asText());
    if (spec == null) {
      throw new BadRequestException("unknown input '" + name.asText() + "'; expected " + names(signature));
    }
    where = "input '" + name.asText() + "'";
    JsonNode datatypeNode = node.get("datatype");
    if (datatypeNode == null || !datatypeNode.isTextual()) {
      throw new BadRequestException(where + ": datatype must be a string, one of " + Datatype.names());
    }
    Datatype datatype = Datatype.parse(datatypeNode.asText());
    if (datatype == null) {
      throw new BadRequestException(where + ": datatype " + datatypeNode.asText() + " is not supported; use one of "
          + Datatype.names());
    }
    JsonNode shapeNode = node.get("shape");
    if (shapeNode == null || !shapeNode.isArray()) {
      throw new BadRequestException(where + ": shape must be an array of non-negative integers");
    }
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode dim = shapeNode.get(i);
      // canConvertToLong: 2^64+1 must not wrap round to 1.
      if (!dim.isIntegralNumber() || !dim.canConvertToLong() || dim.asLong() < 0 || dim.asLong() > MAX_DIMENSION) {
        throw new BadRequestException(where + ": shape must be an array of integers from 0 to " + MAX_DIMENSION
            + ", not " + shapeNode);
      }
      shape[i] = dim.asLong();
    }
    String mismatch = spec.mismatch(new Tensor(name.asText(), datatype.name(), shape, new double[0]));
    if (mismatch != null) {
      throw new BadRequestException(mismatch);
    }
    JsonNode dataNode = node.get("data");
    if (dataNode == null || !dataNode.isArray()) {
      throw new BadRequestException(where + ": data must be an array of numbers");
    }
    long expected = 1;
    for (long d : shape) {
      expected *= d;
      if (expected > MAX_DIMENSION) { // before it can overflow: no body under the limit holds that many
        throw new BadRequestException(where + ": shape " + shapeNode + " has more elements than a request can hold");
      }
    }
    List<Double> values = new ArrayList<>();
    flatten(dataNode, values, where, datatype);
    if (values.size() != expected) {
      throw new BadRequestException(where + ": shape " + shapeNode + " needs " + expected + " elements, data has "
          + values.size());
    }
    double[] data = new double[values.size()];
    for (int i = 0; i < data.length; i++) {
      data[i] = values.get(i);
    }
    return new Tensor(name.asText(), datatype.name(), shape, data);
  }

  private static void flatten(JsonNode node, List<Double> out, String where, Datatype datatype) {
    for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
      JsonNode e = it.next();
      if (e.isArray()) {
        flatten(e, out, where, datatype);
        continue;
      }
      if (!e.isNumber()) {
        throw new BadRequestException(where + ": data must hold only numbers, found " + e);
      }
      out.add(checked(e, where, datatype));
    }
  }

  private static double checked(JsonNode e, String where, Datatype datatype) {
    double v = e.asDouble();
    switch (datatype) {
      case FP32 -> {
        if (Math.abs(v) > Float.MAX_VALUE) {
          throw new BadRequestException(where + ": " + e + " does not fit in FP32");
        }
      }
      case INT32 -> {
        if (!e.isIntegralNumber() || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
          throw new BadRequestException(where + ": " + e + " is not an INT32");
        }
      }
      case INT64 -> {
        if (!e.isIntegralNumber() || Math.abs(v) > MAX_SAFE_INTEGER) {
          throw new BadRequestException(where + ": " + e + " is not an INT64 within ±2^53");
        }
      }
      case FP64 -> {
        if (!Double.isFinite(v)) {
          throw new BadRequestException(where + ": " + e + " does not fit in FP64");
        }
      }
    }
    return v;
  }

  private static String names(List<TensorSpec> signature) {
    return signature.stream().map(s -> "'" + s.name() + "'").collect(Collectors.joining(", "));
  }
}
