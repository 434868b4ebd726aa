package dev.rendezvous.proxy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Datatype;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Parses an Open Inference Protocol inference request body and checks it against a problem's input and output
 * signature. The body is JSON, or, with the binary tensor data extension, a JSON header of
 * {@code Inference-Header-Content-Length} bytes followed by the binary data of the inputs that give a
 * {@code binary_data_size} parameter, in the order they are listed. Every rejection is a
 * {@link BadRequestException} whose message tells the client what to fix.
 */
public final class InferRequestParser {

  /**
   * A validated request: the client's id (may be null), its inputs in signature order, its own deadline if it
   * gave one, the outputs it asked for (null: every output of the answer) and whether outputs not named in
   * {@code outputs} are returned as binary data ({@code parameters.binary_data_output}).
   */
  public record Parsed(String clientId, List<Tensor> inputs, Double deadlineMs, List<RequestedOutput> outputs,
      boolean binaryDataOutput) {

    public Parsed(String clientId, List<Tensor> inputs, Double deadlineMs) {
      this(clientId, inputs, deadlineMs, null, false);
    }

    /** Rows of the batch (dimension 0 of the first input). */
    public long rows() {
      return inputs.get(0).rows();
    }
  }

  /** An output the client asked for by name, and whether it wants its data in binary form. */
  public record RequestedOutput(String name, boolean binary) {}

  /**
   * The longest deadline a request may ask for, in milliseconds (60 s): every waiting request holds a timer and
   * an entry in the proxy's table until then, so an unbounded deadline would let a client pin them for ever.
   */
  public static final double MAX_DEADLINE_MS = 60_000;

  /** Largest dimension of a shape: tensors are indexed by int, and no body under the limit holds more. */
  private static final long MAX_DIMENSION = Integer.MAX_VALUE;

  /** The header that gives the length of the JSON part of a body with binary tensor data. */
  public static final String HEADER_LENGTH = "Inference-Header-Content-Length";

  private InferRequestParser() {}

  /** A JSON body, against an input signature and no declared outputs. */
  public static Parsed parse(byte[] body, List<TensorSpec> signature) {
    return parse(body, null, signature, List.of());
  }

  /**
   * @param headerLength the {@value #HEADER_LENGTH} header, or null when the whole body is JSON
   * @param inputs the problem's input signature
   * @param outputs the problem's outputs: the names a request may ask for
   */
  public static Parsed parse(byte[] body, String headerLength, List<TensorSpec> inputs, List<TensorSpec> outputs) {
    int jsonLength = jsonLength(headerLength, body.length);
    JsonNode root;
    try {
      root = Json.STRICT_READER.readTree(body, 0, jsonLength);
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
    JsonNode parameters = root.get("parameters");
    if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
      throw new BadRequestException("'parameters' must be an object");
    }
    Double deadlineMs = parseDeadline(parameters);
    boolean binaryDataOutput = flag(parameters, "binary_data_output", "parameters");
    List<RequestedOutput> requested = parseOutputs(root.get("outputs"), outputs, binaryDataOutput);
    JsonNode inputsNode = root.get("inputs");
    if (inputsNode == null || !inputsNode.isArray() || inputsNode.isEmpty()) {
      throw new BadRequestException("'inputs' must be a non-empty array of tensors");
    }
    Map<String, TensorSpec> specs = new HashMap<>();
    inputs.forEach(s -> specs.put(s.name(), s));
    Map<String, Tensor> byName = new HashMap<>();
    int[] binaryOffset = {jsonLength};
    for (int i = 0; i < inputsNode.size(); i++) {
      Tensor t = parseTensor(inputsNode.get(i), i, specs, inputs, body, binaryOffset);
      if (byName.put(t.name(), t) != null) {
        throw new BadRequestException("input '" + t.name() + "' is given more than once");
      }
    }
    if (binaryOffset[0] != body.length) {
      throw new BadRequestException("the body has " + (body.length - jsonLength) + " bytes after its JSON header, "
          + "but the inputs' binary_data_size parameters add up to " + (binaryOffset[0] - jsonLength));
    }
    return new Parsed(clientId, inSchemaOrder(inputs, byName), deadlineMs, requested, binaryDataOutput);
  }

  /**
   * The inputs given, by name, in the order of the schedule's {@code inputs}: each must be there, all with one
   * batch size, and the batch not empty. Shared by the JSON, binary and gRPC forms of a request.
   */
  static List<Tensor> inSchemaOrder(List<TensorSpec> inputs, Map<String, Tensor> byName) {
    List<Tensor> ordered = new ArrayList<>(inputs.size());
    for (TensorSpec spec : inputs) {
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
    return List.copyOf(ordered);
  }

  /** The length of the JSON part: the whole body, or what the header says. */
  private static int jsonLength(String header, int bodyLength) {
    if (header == null) {
      return bodyLength;
    }
    long n;
    try {
      n = Long.parseLong(header.strip());
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n <= 0 || n > bodyLength) {
      throw new BadRequestException(HEADER_LENGTH + " must be the length in bytes of the JSON part of the body, "
          + "from 1 to the body's " + bodyLength + " bytes, not '" + header + "'");
    }
    return (int) n;
  }

  private static Double parseDeadline(JsonNode parameters) {
    JsonNode d = parameters == null ? null : parameters.get("deadline_ms");
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

  /** A boolean parameter: absent or null is false; anything but true or false is an error. */
  private static boolean flag(JsonNode parameters, String name, String where) {
    JsonNode v = parameters == null ? null : parameters.get(name);
    if (v == null || v.isNull()) {
      return false;
    }
    if (!v.isBoolean()) {
      throw new BadRequestException(where + "." + name + " must be true or false, not " + v);
    }
    return v.asBoolean();
  }

  /** The requested outputs, in the order asked, or null when the request names none. */
  private static List<RequestedOutput> parseOutputs(JsonNode node, List<TensorSpec> outputs,
      boolean binaryDataOutput) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isArray() || node.isEmpty()) {
      throw new BadRequestException("'outputs' must be a non-empty array of {\"name\": ..., \"parameters\": {...}}"
          + " or left out for every output");
    }
    Map<String, RequestedOutput> byName = new LinkedHashMap<>();
    for (int i = 0; i < node.size(); i++) {
      String where = "outputs[" + i + "]";
      JsonNode o = node.get(i);
      if (!o.isObject() || !o.path("name").isTextual()) {
        throw new BadRequestException(where + " must be an object with a string 'name'");
      }
      String name = o.get("name").asText();
      if (outputs.stream().noneMatch(s -> s.name().equals(name))) {
        throw new BadRequestException("unknown output '" + name + "'; the outputs are " + names(outputs));
      }
      JsonNode parameters = o.get("parameters");
      if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
        throw new BadRequestException(where + ".parameters must be an object");
      }
      if (parameters != null && parameters.has("classification")) {
        throw new BadRequestException(where + ".parameters.classification: the classification extension is not "
            + "supported");
      }
      boolean binary = parameters != null && parameters.has("binary_data") && !parameters.get("binary_data").isNull()
          ? flag(parameters, "binary_data", where + ".parameters") : binaryDataOutput;
      if (byName.put(name, new RequestedOutput(name, binary)) != null) {
        throw new BadRequestException("output '" + name + "' is asked for more than once");
      }
    }
    return List.copyOf(byName.values());
  }

  /**
   * Parses one tensor, checking name, datatype and shape against the signature before reading the data, from
   * JSON or, with a {@code binary_data_size} parameter, from the binary part at {@code binaryOffset[0]}, which it
   * then advances.
   */
  private static Tensor parseTensor(JsonNode node, int index, Map<String, TensorSpec> specs,
      List<TensorSpec> signature, byte[] body, int[] binaryOffset) {
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
    long expected = 1;
    for (long d : shape) {
      expected *= d;
      if (expected > MAX_DIMENSION) { // before it can overflow: no body under the limit holds that many
        throw new BadRequestException(where + ": shape " + shapeNode + " has more elements than a request can hold");
      }
    }
    JsonNode parameters = node.get("parameters");
    if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
      throw new BadRequestException(where + ": parameters must be an object");
    }
    JsonNode binarySize = parameters == null ? null : parameters.get("binary_data_size");
    JsonNode dataNode = node.get("data");
    if (binarySize != null && !binarySize.isNull()) {
      if (dataNode != null) {
        throw new BadRequestException(where + ": give either data or parameters.binary_data_size, not both");
      }
      int offset = binaryOffset[0];
      if (!binarySize.isIntegralNumber() || !binarySize.canConvertToLong() || binarySize.asLong() < 0
          || binarySize.asLong() > body.length - offset) {
        throw new BadRequestException(where + ": parameters.binary_data_size must be the number of bytes of its data "
            + "in the binary part of the body (" + (body.length - offset) + " bytes left there), not " + binarySize
            + (offset == body.length ? "; a body with binary data needs the " + HEADER_LENGTH + " header" : ""));
      }
      int size = binarySize.asInt();
      binaryOffset[0] += size;
      return BinaryTensors.decode(name.asText(), datatype, shape, body, offset, size, where);
    }
    if (dataNode == null || !dataNode.isArray()) {
      throw new BadRequestException(where + ": data must be an array of " + (datatype == Datatype.BYTES ? "strings"
          : datatype == Datatype.BOOL ? "booleans" : "numbers") + " (or give parameters.binary_data_size)");
    }
    Tensor t = datatype == Datatype.BYTES
        ? Tensor.ofStrings(name.asText(), shape, strings(dataNode, where))
        : new Tensor(name.asText(), datatype.name(), shape, numbers(dataNode, where, datatype));
    if (t.size() != expected) {
      throw new BadRequestException(where + ": shape " + shapeNode + " needs " + expected + " elements, data has "
          + t.size());
    }
    return t;
  }

  private static double[] numbers(JsonNode data, String where, Datatype datatype) {
    List<JsonNode> elements = new ArrayList<>();
    flatten(data, elements);
    double[] out = new double[elements.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = number(elements.get(i), where, datatype);
    }
    return out;
  }

  private static List<String> strings(JsonNode data, String where) {
    List<JsonNode> elements = new ArrayList<>();
    flatten(data, elements);
    List<String> out = new ArrayList<>(elements.size());
    for (JsonNode e : elements) {
      if (!e.isTextual()) {
        throw new BadRequestException(where + ": BYTES data must hold only strings, found " + e);
      }
      out.add(e.asText());
    }
    return out;
  }

  /** The elements of nested arrays, in row-major order. */
  private static void flatten(JsonNode node, List<JsonNode> out) {
    for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
      JsonNode e = it.next();
      if (e.isArray()) {
        flatten(e, out);
      } else {
        out.add(e);
      }
    }
  }

  /** One element in its JSON form: true or false for BOOL, a number in the type's range otherwise. */
  private static double number(JsonNode e, String where, Datatype datatype) {
    if (datatype == Datatype.BOOL) {
      if (!e.isBoolean()) {
        throw new BadRequestException(where + ": BOOL data must hold only true or false, found " + e);
      }
      return e.asBoolean() ? 1 : 0;
    }
    if (!e.isNumber()) {
      throw new BadRequestException(where + ": data must hold only numbers, found " + e);
    }
    if (datatype.isInteger()) {
      // A JSON 3.0 or 1e2 is a float literal: an integer type takes integer literals only, and only exact ones.
      if (!e.isIntegralNumber()) {
        throw new BadRequestException(where + ": " + e + " is not an integer, as " + datatype + " needs");
      }
      if (!e.canConvertToLong() || e.asLong() < datatype.min() || e.asLong() > datatype.max()) {
        throw new BadRequestException(where + ": " + e + " is out of range for " + datatype + " ("
            + datatype.range() + ")");
      }
      return e.asLong();
    }
    double v = e.asDouble();
    String wrong = datatype.reject(v);
    if (wrong != null) {
      throw new BadRequestException(where + ": " + (Double.isFinite(v) ? wrong : e + " does not fit in " + datatype));
    }
    return v;
  }

  private static String names(List<TensorSpec> signature) {
    return signature.stream().map(s -> "'" + s.name() + "'").collect(Collectors.joining(", "));
  }
}
