package dev.rendezvous.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rendezvous.common.TensorSpec;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the proxy accepts and how it explains a rejection, for a problem with two inputs. */
class InferRequestParserTest {

  static final List<TensorSpec> SIGNATURE = List.of(
      new TensorSpec("amount", "FP32", new long[] {-1, 1}),
      new TensorSpec("merchant", "INT64", new long[] {-1, 2}));

  static InferRequestParser.Parsed parse(String json) {
    return InferRequestParser.parse(json.getBytes(StandardCharsets.UTF_8), SIGNATURE);
  }

  static void rejected(String json, String message) {
    assertThatThrownBy(() -> parse(json)).isInstanceOf(BadRequestException.class).hasMessageContaining(message)
        .extracting(e -> ((BadRequestException) e).status()).isEqualTo(400);
  }

  @Test
  void a_batched_request_with_nested_data_is_accepted_in_signature_order() {
    InferRequestParser.Parsed p = parse("""
        {"id": "r1", "parameters": {"deadline_ms": 20.5},
         "inputs": [{"name": "merchant", "datatype": "INT64", "shape": [2, 2], "data": [[1, 2], [3, 4]]},
                    {"name": "amount", "datatype": "FP32", "shape": [2, 1], "data": [9.5, 3]}]}""");
    assertThat(p.clientId()).isEqualTo("r1");
    assertThat(p.deadlineMs()).isEqualTo(20.5);
    assertThat(p.rows()).isEqualTo(2);
    assertThat(p.inputs()).extracting(t -> t.name()).containsExactly("amount", "merchant");
    assertThat(p.inputs().get(1).data()).containsExactly(1, 2, 3, 4);
  }

  @Test
  void a_missing_input_is_named_with_its_expected_signature() {
    rejected("""
        {"inputs": [{"name": "amount", "datatype": "FP32", "shape": [1, 1], "data": [1]}]}""",
        "missing input 'merchant' (merchant INT64 [-1, 2])");
  }

  @Test
  void inputs_that_disagree_on_the_batch_size_are_rejected() {
    rejected("""
        {"inputs": [{"name": "amount", "datatype": "FP32", "shape": [2, 1], "data": [1, 2]},
                    {"name": "merchant", "datatype": "INT64", "shape": [1, 2], "data": [1, 2]}]}""",
        "disagree on the batch size");
  }

  @Test
  void an_input_given_twice_is_rejected() {
    rejected("""
        {"inputs": [{"name": "amount", "datatype": "FP32", "shape": [1, 1], "data": [1]},
                    {"name": "amount", "datatype": "FP32", "shape": [1, 1], "data": [1]}]}""",
        "given more than once");
  }

  @Test
  void integer_inputs_must_hold_whole_numbers() {
    rejected("""
        {"inputs": [{"name": "amount", "datatype": "FP32", "shape": [1, 1], "data": [1]},
                    {"name": "merchant", "datatype": "INT64", "shape": [1, 2], "data": [1.5, 2]}]}""",
        "1.5 is not an integer, as INT64 needs");
  }

  @Test
  void an_empty_batch_is_rejected() {
    rejected("""
        {"inputs": [{"name": "amount", "datatype": "FP32", "shape": [0, 1], "data": []},
                    {"name": "merchant", "datatype": "INT64", "shape": [0, 2], "data": []}]}""",
        "the batch is empty");
  }

  @Test
  void a_non_string_id_is_rejected() {
    rejected("""
        {"id": 7, "inputs": []}""", "'id' must be a string");
  }
  static final String AMOUNT = "{\"name\": \"amount\", \"datatype\": \"FP32\", \"shape\": [1, 1], \"data\": [1]}";
  static final String MERCHANT = "{\"name\": \"merchant\", \"datatype\": \"INT64\", \"shape\": [1, 2], "
      + "\"data\": [1, 2]}";

  static String body(String parameters, String amount) {
    return "{" + (parameters == null ? "" : "\"parameters\": " + parameters + ", ") + "\"inputs\": [" + amount + ", "
        + MERCHANT + "]}";
  }

  @Test
  void a_deadline_above_the_documented_maximum_is_refused_instead_of_overflowing() {
    assertThat(parse(body("{\"deadline_ms\": 60000}", AMOUNT)).deadlineMs()).isEqualTo(60_000.0);
    rejected(body("{\"deadline_ms\": 60000.5}", AMOUNT), "at most 60000 ms");
    rejected(body("{\"deadline_ms\": 1e16}", AMOUNT), "at most 60000 ms");
    rejected(body("{\"deadline_ms\": 1e400}", AMOUNT), "deadline_ms");
  }

  @Test
  void a_shape_dimension_must_be_an_exact_integer_in_range() {
    // 2^64 + 1 would wrap round to 1 if read as a long.
    rejected(body(null, AMOUNT.replace("[1, 1]", "[18446744073709551617, 1]")), "shape must be an array of integers");
    rejected(body(null, AMOUNT.replace("[1, 1]", "[1, 1.0]")), "shape must be an array of integers");
    rejected(body(null, AMOUNT.replace("[1, 1]", "[2147483648, 1]")), "shape must be an array of integers");
    rejected(body(null, AMOUNT.replace("[1, 1]", "[1, -1]")), "shape must be an array of integers");
  }

  @Test
  void a_shape_whose_element_count_would_overflow_is_refused() {
    InferRequestParser.Parsed ok = InferRequestParser.parse(("{\"inputs\": [{\"name\": \"x\", \"datatype\": "
        + "\"FP32\", \"shape\": [1, 2], \"data\": [1, 2]}]}").getBytes(StandardCharsets.UTF_8),
        List.of(new TensorSpec("x", "FP32", new long[] {-1, -1})));
    assertThat(ok.rows()).isEqualTo(1);
    assertThatThrownBy(() -> InferRequestParser.parse(("{\"inputs\": [{\"name\": \"x\", \"datatype\": "
        + "\"FP32\", \"shape\": [2147483647, 2147483647, 4], \"data\": []}]}").getBytes(StandardCharsets.UTF_8),
        List.of(new TensorSpec("x", "FP32", new long[] {-1, -1, -1}))))
        .isInstanceOf(BadRequestException.class).hasMessageContaining("more elements than a request can hold");
  }

  @Test
  void trailing_bytes_after_the_json_document_are_refused() {
    String good = body(null, AMOUNT);
    assertThat(parse(good + "  \n").rows()).isEqualTo(1);
    rejected(good + "{}", "malformed JSON");
    rejected(good + " x", "malformed JSON");
    rejected(good + "]", "malformed JSON");
  }

  @Test
  void a_non_finite_value_is_refused_for_every_float_type() {
    rejected(body(null, AMOUNT.replace("[1]", "[1e39]")), "does not fit in FP32");
    List<TensorSpec> fp64 = List.of(new TensorSpec("x", "FP64", new long[] {-1, 1}));
    assertThatThrownBy(() -> InferRequestParser.parse(("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP64\", "
        + "\"shape\": [1, 1], \"data\": [1e400]}]}").getBytes(StandardCharsets.UTF_8), fp64))
        .isInstanceOf(BadRequestException.class).hasMessageContaining("does not fit in FP64");
  }
}
