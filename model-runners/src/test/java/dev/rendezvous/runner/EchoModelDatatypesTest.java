package dev.rendezvous.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rendezvous.common.Datatype;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every datatype ONNX Runtime's Java API feeds, through a real model: {@code echo-all-types.onnx} returns each
 * input unchanged as {@code <name>_out} and computes {@code bool_not}. Two requests of one and two rows are scored
 * as one batch, so stacking and splitting back are exercised for every type.
 */
class EchoModelDatatypesTest {

  static final Path MODEL = Path.of("models/conformance/echo-all-types.onnx");
  static OnnxModel model;

  @BeforeAll
  static void load() throws Exception {
    model = new OnnxModel(MODEL, 1, 1);
  }

  @AfterAll
  static void close() throws Exception {
    model.close();
  }

  /** Two columns per row; row r of each type holds its extremes or distinct values. */
  static Tensor input(Datatype d, int rows, int seed) {
    long[] shape = {rows, 2};
    String name = d == Datatype.BYTES ? "bytes" : d.name().toLowerCase();
    if (d == Datatype.BYTES) {
      List<String> s = new ArrayList<>();
      for (int i = 0; i < rows * 2; i++) {
        s.add(i % 2 == 0 ? "héllo " + seed + i : "");
      }
      return Tensor.ofStrings(name, shape, s);
    }
    double[] v = new double[rows * 2];
    for (int i = 0; i < v.length; i++) {
      v[i] = switch (d) {
        case BOOL -> (i + seed) % 2;
        case FP16 -> i % 2 == 0 ? Datatype.FP16_MAX : -0.5 * (seed + i);
        case FP32 -> i % 2 == 0 ? -Float.MAX_VALUE : 0.25 * (seed + i);
        case FP64 -> i % 2 == 0 ? Double.MAX_VALUE : 0.1 * (seed + i);
        default -> i % 2 == 0 ? d.min() : d.max() - seed - i;
      };
    }
    return new Tensor(name, d.name(), shape, v);
  }

  static final List<Datatype> FED = List.of(Datatype.BOOL, Datatype.UINT8, Datatype.INT8, Datatype.INT16,
      Datatype.INT32, Datatype.INT64, Datatype.FP16, Datatype.FP32, Datatype.FP64, Datatype.BYTES);

  static InferenceRequest request(String id, int rows, int seed) {
    List<Tensor> inputs = new ArrayList<>();
    FED.forEach(d -> inputs.add(input(d, rows, seed)));
    return new InferenceRequest(id, null, "conformance", "", 0, 0, inputs);
  }

  @Test
  void every_fed_datatype_comes_back_from_the_model_as_it_went_in() throws Exception {
    List<InferenceRequest> batch = List.of(request("a", 1, 3), request("b", 2, 5));
    batch.forEach(r -> assertThat(model.incompatibility(r)).isNull());
    List<List<Tensor>> scores = model.score(batch);
    for (int r = 0; r < batch.size(); r++) {
      for (Tensor in : batch.get(r).inputs()) {
        Tensor out = scores.get(r).stream().filter(t -> t.name().equals(in.name() + "_out")).findFirst().orElseThrow();
        assertThat(out).isEqualTo(new Tensor(out.name(), in.datatype(), in.shape(), in.data(), in.strings()));
      }
      Tensor bool = batch.get(r).inputs().get(0);
      Tensor not = scores.get(r).stream().filter(t -> t.name().equals("bool_not")).findFirst().orElseThrow();
      assertThat(not.datatype()).isEqualTo("BOOL");
      for (int i = 0; i < bool.data().length; i++) {
        assertThat(not.data()[i]).isEqualTo(1 - bool.data()[i]);
      }
    }
  }

  /** DJL's engines take no INT16 from Java: a model with such an input is refused when it loads, with the reason. */
  @Test
  void djl_refuses_at_load_a_model_with_an_input_it_cannot_feed() {
    assertThatThrownBy(() -> new DjlModel(MODEL, List.of(), List.of(), 1, 1, DeviceChoice.parse("cpu")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot be served through DJL: input 'int16' is INT16");
  }

  @Test
  void a_request_whose_datatype_differs_from_the_model_input_is_refused_with_both_named() {
    InferenceRequest r = request("c", 1, 0);
    List<Tensor> inputs = new ArrayList<>(r.inputs());
    Tensor fp32 = input(Datatype.FP32, 1, 0);
    inputs.set(FED.indexOf(Datatype.FP32), new Tensor("fp32", "FP64", fp32.shape(), fp32.data()));
    InferenceRequest wrong = new InferenceRequest("c", null, "conformance", "", 0, 0, inputs);
    assertThat(model.incompatibility(wrong)).isEqualTo("input 'fp32' is FP64 but the model takes FP32");
  }

  @Test
  void warm_up_feeds_every_input_type() throws Exception {
    model.warmUp();
  }

  @Test
  void the_datatypes_onnx_runtime_java_cannot_feed_are_named() {
    assertThatThrownBy(() -> OnnxTensors.create(null, List.of(), new long[] {1}, Datatype.UINT16))
        .hasMessageContaining("cannot feed UINT16");
  }
}
