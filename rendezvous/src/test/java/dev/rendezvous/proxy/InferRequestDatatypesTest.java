package dev.rendezvous.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.rendezvous.common.Datatype;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every datatype through the request parser: its JSON form and its binary form are accepted and give the same
 * tensor, and every value the type cannot hold is refused with a 400 that says why. Each problem here has one
 * input {@code x} of shape [-1, 3] and one output {@code y}.
 */
class InferRequestDatatypesTest {

  static List<TensorSpec> inputs(Datatype d) {
    return List.of(new TensorSpec("x", d.name(), new long[] {-1, 3}));
  }

  static final List<TensorSpec> OUTPUTS = List.of(new TensorSpec("y", "FP32", new long[] {-1, 1}),
      new TensorSpec("z", "BYTES", new long[] {-1, 1}));

  /** Three elements of each type in their JSON form, the type's extremes among them where JSON can say them. */
  static String jsonData(Datatype d) {
    return switch (d) {
      case BOOL -> "[[true, false, true]]";
      case BYTES -> "[[\"\", \"héllo, \\\"wörld\\\"\", \"\\u0000\\n😀\"]]";
      case FP16 -> "[[-65504, 0.5, 65504]]";
      case FP32 -> "[[-3.4028234663852886E38, 0.25, 1.401298464324817E-45]]";
      case FP64 -> "[[-1.7976931348623157E308, 0.1, 4.9E-324]]";
      case UINT64 -> "[[0, 7, 9007199254740992]]";
      case INT64 -> "[[-9007199254740992, 7, 9007199254740992]]";
      default -> "[[" + d.min() + ", 7, " + d.max() + "]]";
    };
  }

  static Tensor expected(Datatype d) {
    long[] shape = {1, 3};
    return switch (d) {
      case BOOL -> new Tensor("x", "BOOL", shape, new double[] {1, 0, 1});
      case BYTES -> Tensor.ofStrings("x", shape, List.of("", "héllo, \"wörld\"", "\u0000\n😀"));
      case FP16 -> new Tensor("x", "FP16", shape, new double[] {-65504, 0.5, 65504});
      case FP32 -> new Tensor("x", "FP32", shape, new double[] {-Float.MAX_VALUE, 0.25, Float.MIN_VALUE});
      case FP64 -> new Tensor("x", "FP64", shape, new double[] {-Double.MAX_VALUE, 0.1, Double.MIN_VALUE});
      default -> new Tensor("x", d.name(), shape, new double[] {d.min(), 7, d.max()});
    };
  }

  static String tensorJson(Datatype d, String data) {
    return "{\"name\": \"x\", \"datatype\": \"" + d + "\", \"shape\": [1, 3], \"data\": " + data + "}";
  }

  static InferRequestParser.Parsed parseJson(Datatype d, String data) {
    String body = "{\"inputs\": [" + tensorJson(d, data) + "]}";
    return InferRequestParser.parse(body.getBytes(StandardCharsets.UTF_8), null, inputs(d), OUTPUTS);
  }

  /** A request whose input x travels as binary data: the JSON header, then the bytes. */
  static InferRequestParser.Parsed parseBinary(Datatype d, byte[] data, int declaredSize) {
    String header = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"" + d + "\", \"shape\": [1, 3], "
        + "\"parameters\": {\"binary_data_size\": " + declaredSize + "}}]}";
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(json);
    body.writeBytes(data);
    return InferRequestParser.parse(body.toByteArray(), Integer.toString(json.length), inputs(d), OUTPUTS);
  }

  static void rejected(Runnable parse, String message) {
    assertThatThrownBy(parse::run).isInstanceOf(BadRequestException.class).hasMessageContaining(message)
        .extracting(e -> ((BadRequestException) e).status()).isEqualTo(400);
  }

  @ParameterizedTest
  @EnumSource(Datatype.class)
  void the_json_form_of_every_datatype_is_accepted(Datatype d) {
    assertThat(parseJson(d, jsonData(d)).inputs()).containsExactly(expected(d));
  }

  @ParameterizedTest
  @EnumSource(Datatype.class)
  void the_binary_form_of_every_datatype_gives_the_same_tensor_as_its_json_form(Datatype d) {
    byte[] data = BinaryTensors.encode(expected(d));
    int size = d == Datatype.BYTES ? 4 * 3 + 0 + "héllo, \"wörld\"".getBytes(StandardCharsets.UTF_8).length
        + "\u0000\n😀".getBytes(StandardCharsets.UTF_8).length : 3 * d.byteSize();
    assertThat(data).hasSize(size);
    assertThat(parseBinary(d, data, data.length).inputs()).containsExactly(expected(d));
  }

  @ParameterizedTest
  @EnumSource(Datatype.class)
  void the_response_writes_every_datatype_in_the_json_form_the_request_uses(Datatype d) throws Exception {
    ArrayNode written = Json.MAPPER.createArrayNode();
    InferResponse.writeData(written, expected(d));
    ArrayNode asked = (ArrayNode) Json.MAPPER.readTree(jsonData(d)).get(0);
    if (d == Datatype.FP32 || d == Datatype.FP16) { // written as floats: compare as floats
      for (int i = 0; i < 3; i++) {
        assertThat((float) written.get(i).asDouble()).isEqualTo((float) asked.get(i).asDouble());
      }
    } else {
      assertThat(written.toString()).isEqualTo(asked.toString());
    }
  }

  static Stream<Arguments> badJsonValues() {
    return Stream.of(
        Arguments.of(Datatype.BOOL, "[1, 0, 1]", "BOOL data must hold only true or false, found 1"),
        Arguments.of(Datatype.BOOL, "[true, \"false\", true]", "BOOL data must hold only true or false"),
        Arguments.of(Datatype.UINT8, "[0, 256, 1]", "256 is out of range for UINT8 (0 to 255)"),
        Arguments.of(Datatype.UINT8, "[0, -1, 1]", "-1 is out of range for UINT8"),
        Arguments.of(Datatype.UINT16, "[0, 65536, 1]", "65536 is out of range for UINT16 (0 to 65535)"),
        Arguments.of(Datatype.UINT32, "[0, 4294967296, 1]", "out of range for UINT32 (0 to 4294967295)"),
        Arguments.of(Datatype.UINT64, "[0, 9007199254740993, 1]", "out of range for UINT64 (0 to 2^53)"),
        Arguments.of(Datatype.UINT64, "[0, 18446744073709551615, 1]", "out of range for UINT64"),
        Arguments.of(Datatype.INT8, "[0, 128, 1]", "128 is out of range for INT8 (-128 to 127)"),
        Arguments.of(Datatype.INT16, "[0, -32769, 1]", "-32769 is out of range for INT16 (-32768 to 32767)"),
        Arguments.of(Datatype.INT32, "[0, 2147483648, 1]", "out of range for INT32"),
        Arguments.of(Datatype.INT64, "[0, -9007199254740993, 1]", "out of range for INT64 (-2^53 to 2^53)"),
        Arguments.of(Datatype.INT32, "[0, 1.5, 1]", "1.5 is not an integer, as INT32 needs"),
        Arguments.of(Datatype.UINT8, "[0, 1.0, 1]", "1.0 is not an integer, as UINT8 needs"),
        Arguments.of(Datatype.INT64, "[0, 1e3, 1]", "is not an integer, as INT64 needs"),
        Arguments.of(Datatype.INT8, "[0, true, 1]", "data must hold only numbers, found true"),
        Arguments.of(Datatype.FP16, "[0, 65520, 1]", "does not fit in FP16 (largest magnitude 65504)"),
        Arguments.of(Datatype.FP32, "[0, 1e39, 1]", "does not fit in FP32"),
        Arguments.of(Datatype.FP64, "[0, 1e400, 1]", "does not fit in FP64"),
        Arguments.of(Datatype.FP32, "[0, \"1\", 1]", "data must hold only numbers, found \"1\""),
        Arguments.of(Datatype.FP32, "[0, null, 1]", "data must hold only numbers, found null"),
        Arguments.of(Datatype.BYTES, "[\"a\", 1, \"c\"]", "BYTES data must hold only strings, found 1"),
        Arguments.of(Datatype.BYTES, "[\"a\", \"b\"]", "shape [1,3] needs 3 elements, data has 2"),
        Arguments.of(Datatype.BOOL, "[true, false, true, false]", "needs 3 elements, data has 4"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("badJsonValues")
  void a_json_value_the_datatype_cannot_hold_is_refused_with_the_reason(Datatype d, String data, String message) {
    rejected(() -> parseJson(d, data), message);
  }

  static byte[] le(int bytes, long... values) {
    ByteBuffer b = ByteBuffer.allocate(bytes * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      switch (bytes) {
        case 1 -> b.put((byte) v);
        case 2 -> b.putShort((short) v);
        case 4 -> b.putInt((int) v);
        default -> b.putLong(v);
      }
    }
    return b.array();
  }

  static Stream<Arguments> badBinaryValues() {
    byte[] badUtf8 = {3, 0, 0, 0, 'a', (byte) 0xc3, 'b', 0, 0, 0, 0, 0, 0, 0, 0};
    return Stream.of(
        Arguments.of(Datatype.BOOL, le(1, 1, 2, 0), "binary element 1: 2 is not a BOOL (true or false)"),
        Arguments.of(Datatype.UINT64, le(8, 1, -1, 0), "18446744073709551615 is out of range for UINT64"),
        Arguments.of(Datatype.INT64, le(8, 1, Long.MIN_VALUE, 0), "out of range for INT64 (-2^53 to 2^53)"),
        Arguments.of(Datatype.FP32, le(4, 0, Float.floatToIntBits(Float.NaN), 0), "does not fit in FP32"),
        Arguments.of(Datatype.FP64, le(8, 0, Double.doubleToLongBits(Double.POSITIVE_INFINITY), 0),
            "does not fit in FP64"),
        Arguments.of(Datatype.FP16, le(2, 0, 0x7c00, 0), "does not fit in FP16"),
        Arguments.of(Datatype.INT16, le(2, 1, 2), "binary_data_size is 4 bytes, but 3 INT16 elements take 6"),
        Arguments.of(Datatype.BYTES, badUtf8, "BYTES element 0 is not UTF-8 text"),
        Arguments.of(Datatype.BYTES, new byte[] {0, 0, 0, 0, 0, 0}, "BYTES element 1 is cut short in its 4-byte length"),
        Arguments.of(Datatype.BYTES, new byte[] {9, 0, 0, 0, 'a'}, "BYTES element 0 claims 9 bytes, but only 1"),
        Arguments.of(Datatype.BYTES, le(4, 0, 0), "the shape needs 3 BYTES elements, binary_data_size holds 2"),
        Arguments.of(Datatype.BYTES, le(4, 0, 0, 0, 0), "holds more than the shape's 3 BYTES elements"));
  }

  @ParameterizedTest(name = "{0}: {2}")
  @MethodSource("badBinaryValues")
  void binary_data_the_datatype_cannot_hold_is_refused_with_the_reason(Datatype d, byte[] data, String message) {
    rejected(() -> parseBinary(d, data, data.length), message);
  }

  @Nested
  class BinaryBody {

    final byte[] three = le(4, 1, 2, 3);

    @Test
    void a_binary_size_without_the_header_is_refused_and_names_the_header() {
      String json = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"INT32\", \"shape\": [1, 3], "
          + "\"parameters\": {\"binary_data_size\": 12}}]}";
      rejected(() -> InferRequestParser.parse(json.getBytes(StandardCharsets.UTF_8), null, inputs(Datatype.INT32),
          OUTPUTS), "needs the Inference-Header-Content-Length header");
    }

    @Test
    void a_header_length_that_is_not_a_length_inside_the_body_is_refused() {
      byte[] body = "{\"inputs\": []}".getBytes(StandardCharsets.UTF_8);
      for (String header : List.of("0", "-1", "x", "1000")) {
        rejected(() -> InferRequestParser.parse(body, header, inputs(Datatype.INT32), OUTPUTS),
            "Inference-Header-Content-Length must be the length in bytes of the JSON part");
      }
    }

    @Test
    void binary_bytes_that_no_input_claims_are_refused() {
      byte[] more = new byte[16];
      System.arraycopy(three, 0, more, 0, 12);
      rejected(() -> parseBinary(Datatype.INT32, more, 12),
          "has 16 bytes after its JSON header, but the inputs' binary_data_size parameters add up to 12");
    }

    @Test
    void a_size_past_the_end_of_the_body_is_refused() {
      rejected(() -> parseBinary(Datatype.INT32, three, 13), "binary_data_size must be the number of bytes");
    }

    @Test
    void data_and_a_binary_size_together_are_refused() {
      String json = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"INT32\", \"shape\": [1, 3], \"data\": [1, 2, 3],"
          + " \"parameters\": {\"binary_data_size\": 12}}]}";
      byte[] j = json.getBytes(StandardCharsets.UTF_8);
      byte[] body = new byte[j.length + 12];
      System.arraycopy(j, 0, body, 0, j.length);
      rejected(() -> InferRequestParser.parse(body, Integer.toString(j.length), inputs(Datatype.INT32), OUTPUTS),
          "give either data or parameters.binary_data_size, not both");
    }

    @Test
    void binary_and_json_inputs_mix_and_binary_parts_follow_the_order_of_the_inputs() {
      List<TensorSpec> two = List.of(new TensorSpec("a", "INT16", new long[] {-1, 2}),
          new TensorSpec("b", "FP32", new long[] {-1, 1}), new TensorSpec("c", "BYTES", new long[] {-1, 1}));
      String json = "{\"inputs\": [{\"name\": \"c\", \"datatype\": \"BYTES\", \"shape\": [1, 1], "
          + "\"parameters\": {\"binary_data_size\": 6}}, {\"name\": \"b\", \"datatype\": \"FP32\", \"shape\": [1, 1], "
          + "\"data\": [2.5]}, {\"name\": \"a\", \"datatype\": \"INT16\", \"shape\": [1, 2], "
          + "\"parameters\": {\"binary_data_size\": 4}}]}";
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      byte[] j = json.getBytes(StandardCharsets.UTF_8);
      body.writeBytes(j);
      body.writeBytes(new byte[] {2, 0, 0, 0, 'h', 'i'});
      body.writeBytes(le(2, -7, 300));
      InferRequestParser.Parsed p = InferRequestParser.parse(body.toByteArray(), Integer.toString(j.length), two,
          OUTPUTS);
      assertThat(p.inputs()).containsExactly(new Tensor("a", "INT16", new long[] {1, 2}, new double[] {-7, 300}),
          new Tensor("b", "FP32", new long[] {1, 1}, new double[] {2.5}),
          Tensor.ofStrings("c", new long[] {1, 1}, List.of("hi")));
    }
  }

  @Nested
  class RequestedOutputs {

    InferRequestParser.Parsed parse(String outputs, String parameters) {
      String body = "{" + (parameters == null ? "" : "\"parameters\": " + parameters + ", ")
          + (outputs == null ? "" : "\"outputs\": " + outputs + ", ")
          + "\"inputs\": [" + tensorJson(Datatype.INT8, "[1, 2, 3]") + "]}";
      return InferRequestParser.parse(body.getBytes(StandardCharsets.UTF_8), null, inputs(Datatype.INT8), OUTPUTS);
    }

    @Test
    void no_outputs_means_every_output_of_the_answer_in_json() {
      InferRequestParser.Parsed p = parse(null, null);
      assertThat(p.outputs()).isNull();
      assertThat(p.binaryDataOutput()).isFalse();
    }

    @Test
    void named_outputs_are_kept_in_the_order_asked_with_their_binary_choice() {
      InferRequestParser.Parsed p = parse("[{\"name\": \"z\", \"parameters\": {\"binary_data\": true}},"
          + " {\"name\": \"y\"}]", null);
      assertThat(p.outputs()).containsExactly(new InferRequestParser.RequestedOutput("z", true),
          new InferRequestParser.RequestedOutput("y", false));
    }

    @Test
    void binary_data_output_is_the_default_that_an_output_s_binary_data_overrides() {
      InferRequestParser.Parsed p = parse("[{\"name\": \"z\", \"parameters\": {\"binary_data\": false}},"
          + " {\"name\": \"y\"}]", "{\"binary_data_output\": true}");
      assertThat(p.outputs()).containsExactly(new InferRequestParser.RequestedOutput("z", false),
          new InferRequestParser.RequestedOutput("y", true));
      assertThat(parse(null, "{\"binary_data_output\": true}").binaryDataOutput()).isTrue();
    }

    @Test
    void the_response_holds_the_requested_outputs_in_the_order_asked() {
      List<Tensor> answer = List.of(new Tensor("y", "FP32", new long[] {1, 1}, new double[] {0.5}),
          Tensor.ofStrings("z", new long[] {1, 1}, List.of("label")));
      assertThat(InferResponse.selected(answer, parse("[{\"name\": \"z\"}]", null))).containsExactly(answer.get(1));
      assertThat(InferResponse.selected(answer, parse("[{\"name\": \"z\"}, {\"name\": \"y\"}]", null)))
          .containsExactly(answer.get(1), answer.get(0));
      assertThat(InferResponse.selected(answer, parse(null, null))).isEqualTo(answer);
    }

    @Test
    void an_unknown_or_repeated_or_malformed_output_is_refused() {
      rejected(() -> parse("[{\"name\": \"nope\"}]", null), "unknown output 'nope'; the outputs are 'y', 'z'");
      rejected(() -> parse("[{\"name\": \"y\"}, {\"name\": \"y\"}]", null), "output 'y' is asked for more than once");
      rejected(() -> parse("[]", null), "'outputs' must be a non-empty array");
      rejected(() -> parse("[\"y\"]", null), "outputs[0] must be an object with a string 'name'");
      rejected(() -> parse("[{\"name\": \"y\", \"parameters\": {\"binary_data\": 1}}]", null),
          "outputs[0].parameters.binary_data must be true or false, not 1");
      rejected(() -> parse(null, "{\"binary_data_output\": \"yes\"}"),
          "parameters.binary_data_output must be true or false");
      rejected(() -> parse("[{\"name\": \"y\", \"parameters\": {\"classification\": 2}}]", null),
          "the classification extension is not supported");
    }
  }
}
