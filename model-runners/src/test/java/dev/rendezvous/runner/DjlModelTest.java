package dev.rendezvous.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The second framework: models loaded through DJL score the held-out rows as their training scripts predicted,
 * in mixed batches, on the CPU when no GPU is present.
 */
class DjlModelTest {

  static final Path MODELS = Path.of("models/breast-cancer");
  /** libtorch 2.7 against Debian's torch 1.13 on the same traced graph; observed difference: 0. */
  static final double TOLERANCE = 1e-5;

  static JsonNode reference;
  static JsonNode torchReference;

  @BeforeAll
  static void load() throws Exception {
    reference = Json.MAPPER.readTree(MODELS.resolve("reference.json").toFile());
    torchReference = Json.MAPPER.readTree(MODELS.resolve("bc-torch-reference.json").toFile());
  }

  /** Each held-out row as its own request, so one call scores a batch of 114 one-row requests. */
  static List<InferenceRequest> heldOutRows() {
    List<InferenceRequest> out = new ArrayList<>();
    JsonNode rows = reference.get("rows");
    for (int r = 0; r < rows.size(); r++) {
      double[] data = new double[30];
      for (int c = 0; c < 30; c++) {
        data[c] = rows.get(r).get(c).asDouble();
      }
      out.add(new InferenceRequest("row-" + r, null, "breast-cancer", "", 0, Long.MAX_VALUE,
          List.of(new Tensor("features", "FP32", new long[] {1, 30}, data))));
    }
    return out;
  }

  static void assertMatches(List<List<Tensor>> scores, JsonNode expected) {
    assertThat(scores).hasSize(expected.size());
    for (int r = 0; r < scores.size(); r++) {
      Tensor p = scores.get(r).get(0);
      assertThat(p.name()).isEqualTo("probability");
      assertThat(p.datatype()).isEqualTo("FP32");
      assertThat(p.shape()).containsExactly(1, 1);
      assertThat(p.data()[0]).as("row %d", r).isCloseTo(expected.get(r).asDouble(), within(TOLERANCE));
    }
  }

  @Test
  void the_bc_torch_runner_config_scores_the_held_out_rows_as_training_predicted() throws Exception {
    RunnerConfig config = RunnerConfig.load(Path.of("config/breast-cancer/bc-torch.yaml"));
    assertThat(config.engine()).isEqualTo("djl");
    assertThat(config.modelId()).isEqualTo("bc-torch");
    try (ScoringModel model = ScoringModel.open(config)) {
      assertThat(model).isInstanceOf(DjlModel.class);
      model.warmUp();
      assertMatches(model.score(heldOutRows()), torchReference.get("predictions"));
    }
  }

  @Test
  void a_multi_row_request_is_split_back_by_its_row_count() throws Exception {
    RunnerConfig config = RunnerConfig.load(Path.of("config/breast-cancer/bc-torch.yaml"));
    List<InferenceRequest> rows = heldOutRows();
    double[] three = new double[90];
    for (int r = 0; r < 3; r++) {
      System.arraycopy(rows.get(r).inputs().get(0).data(), 0, three, r * 30, 30);
    }
    InferenceRequest multi = new InferenceRequest("three", null, "breast-cancer", "", 0, Long.MAX_VALUE,
        List.of(new Tensor("features", "FP32", new long[] {3, 30}, three)));
    try (ScoringModel model = ScoringModel.open(config)) {
      List<List<Tensor>> scores = model.score(List.of(rows.get(5), multi));
      assertThat(scores.get(0).get(0).shape()).containsExactly(1, 1);
      assertThat(scores.get(1).get(0).shape()).containsExactly(3, 1);
      JsonNode expected = torchReference.get("predictions");
      assertThat(scores.get(0).get(0).data()[0]).isCloseTo(expected.get(5).asDouble(), within(TOLERANCE));
      for (int r = 0; r < 3; r++) {
        assertThat(scores.get(1).get(0).data()[r]).isCloseTo(expected.get(r).asDouble(), within(TOLERANCE));
      }
      assertThat(model.incompatibility(multi)).isNull();
      InferenceRequest wrong = new InferenceRequest("wrong", null, "breast-cancer", "", 0, Long.MAX_VALUE,
          List.of(new Tensor("features", "FP32", new long[] {1, 10}, new double[10])));
      assertThat(model.incompatibility(wrong)).contains("[1, 10]").contains("[-1, 30]");
    }
  }

  @Test
  void an_onnx_model_through_djl_onnx_runtime_engine_matches_its_reference_and_names_its_own_tensors()
      throws Exception {
    RunnerConfig config = RunnerConfig.load(Path.of("config/breast-cancer/bc-mlp.yaml")).withEngine("djl");
    try (DjlModel model = (DjlModel) ScoringModel.open(config)) {
      assertThat(model.inputs()).extracting(s -> s.name()).containsExactly("features");
      assertMatches(model.score(heldOutRows()), reference.get("predictions").get("bc-mlp"));
    }
  }

  @Test
  void device_auto_without_a_gpu_runs_on_the_cpu_and_says_so() throws Exception {
    Assumptions.assumeTrue(Engine.getEngine("PyTorch").getGpuCount() == 0, "this machine has a GPU");
    RunnerConfig config = RunnerConfig.load(Path.of("config/breast-cancer/bc-torch.yaml")).withDevice("auto");
    try (ScoringModel model = ScoringModel.open(config)) {
      assertThat(model.device()).isEqualTo("cpu");
    }
  }

  @Test
  void device_cuda_without_a_gpu_refuses_to_start_rather_than_serve_slowly() throws Exception {
    Assumptions.assumeTrue(Engine.getEngine("PyTorch").getGpuCount() == 0, "this machine has a GPU");
    RunnerConfig config = RunnerConfig.load(Path.of("config/breast-cancer/bc-torch.yaml")).withDevice("cuda");
    assertThatThrownBy(() -> ScoringModel.open(config))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cuda:0")
        .hasMessageContaining("0 GPU(s)");
  }
}
