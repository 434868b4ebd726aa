package dev.rendezvous.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every datatype's tensors survive the JSON codec that carries requests and scores over Kafka, unchanged. */
class TensorCodecTest {

  /** The extreme values of each type as carried, and a value in between. */
  static Tensor extremes(Datatype d) {
    long[] shape = {1, 3};
    return switch (d) {
      case BYTES -> Tensor.ofStrings("x", shape, List.of("", "héllo, \"wörld\"", "\u0000\n\uD83D\uDE00"));
      case FP16 -> new Tensor("x", d.name(), shape, new double[] {-Datatype.FP16_MAX, 0.099975586, Datatype.FP16_MAX});
      case FP32 -> new Tensor("x", d.name(), shape, new double[] {-Float.MAX_VALUE, (float) 0.1, Float.MIN_VALUE});
      case FP64 -> new Tensor("x", d.name(), shape, new double[] {-Double.MAX_VALUE, 0.1, Double.MIN_VALUE});
      default -> new Tensor("x", d.name(), shape, new double[] {d.min(), d == Datatype.BOOL ? 1 : 7, d.max()});
    };
  }

  @ParameterizedTest
  @EnumSource(Datatype.class)
  void a_request_of_every_datatype_decodes_to_what_was_encoded(Datatype d) {
    InferenceRequest request = new InferenceRequest("r1", "c1", "p", "rdv.p.results:0", 1, 2, List.of(extremes(d)));
    InferenceRequest back = Json.decode(Json.encode(request), InferenceRequest.class);
    assertThat(back.inputs()).containsExactly(extremes(d));
    assertThat(back.inputs().get(0).size()).isEqualTo(3);
  }

  @Test
  void every_extreme_value_is_a_value_of_its_type() {
    for (Datatype d : Datatype.values()) {
      if (d != Datatype.BYTES) {
        for (double v : extremes(d).data()) {
          assertThat(d.reject(v)).as(d + " " + v).isNull();
        }
      }
    }
  }

  @Test
  void only_bytes_tensors_carry_strings_on_the_wire() {
    String numeric = new String(Json.encode(extremes(Datatype.INT8)), StandardCharsets.UTF_8);
    assertThat(numeric).doesNotContain("strings");
    String bytes = new String(Json.encode(extremes(Datatype.BYTES)), StandardCharsets.UTF_8);
    assertThat(bytes).contains("\"datatype\":\"BYTES\"").contains("\"strings\":[\"\",");
  }

  @Test
  void a_record_written_before_bytes_tensors_existed_still_decodes() {
    Tensor t = Json.decode("{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1.5,2.0]}"
        .getBytes(StandardCharsets.UTF_8), Tensor.class);
    assertThat(t).isEqualTo(new Tensor("features", "FP32", new long[] {1, 2}, new double[] {1.5, 2}));
    assertThat(t.strings()).isNull();
  }

  @Test
  void values_outside_a_type_are_named_with_the_reason() {
    assertThat(Datatype.UINT8.reject(256)).isEqualTo("256 is out of range for UINT8 (0 to 255)");
    assertThat(Datatype.INT8.reject(-129)).isEqualTo("-129 is out of range for INT8 (-128 to 127)");
    assertThat(Datatype.UINT64.reject(-1)).isEqualTo("-1 is out of range for UINT64 (0 to 2^53)");
    assertThat(Datatype.INT64.reject(Math.pow(2, 54))).contains("out of range for INT64 (-2^53 to 2^53)");
    assertThat(Datatype.INT32.reject(1.5)).isEqualTo("1.5 is not a whole number, as INT32 needs");
    assertThat(Datatype.BOOL.reject(2)).isEqualTo("2 is not a BOOL (true or false)");
    assertThat(Datatype.FP16.reject(65_520)).contains("does not fit in FP16");
    assertThat(Datatype.FP32.reject(1e39)).contains("does not fit in FP32");
    assertThat(Datatype.FP64.reject(Double.NaN)).contains("does not fit in FP64");
    List<String> accepted = new ArrayList<>();
    for (Datatype d : Datatype.values()) {
      if (d != Datatype.BYTES && d.reject(1) == null) {
        accepted.add(d.name());
      }
    }
    assertThat(accepted).hasSize(Datatype.values().length - 1);
  }

  @Test
  void the_strict_reader_refuses_bytes_after_the_document() {
    assertThatThrownBy(() -> Json.STRICT_READER.readTree("{\"a\": 1} x")).isInstanceOf(Exception.class);
    assertThatThrownBy(() -> Json.STRICT_READER.readTree("{\"a\": 1}{}")).isInstanceOf(Exception.class);
  }
}
