package dev.rendezvous.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Checks the shipped demo models against the predictions the training script wrote next to them,
 * so a retrained or hand-edited .onnx file cannot silently change what the runners serve.
 */
class ReferencePredictionsTest {

  private static final Path MODEL_DIR = Path.of("models/breast-cancer");

  /**
   * Linear models and the MLP differ from the float32 numpy mirror only in summation order and in
   * ONNX Runtime's Sigmoid approximation; observed: at most 1.5e-7.
   */
  private static final double DENSE_TOLERANCE = 1e-5;

  /**
   * The trees see bit-identical inputs (Sub and Div are exact IEEE operations in numpy and ONNX
   * Runtime alike) and the same float32 thresholds, so every split goes the same way and only the
   * float32 sum of 100 leaf values (and the Sigmoid) can differ; observed: at most 1.2e-7. Row 78
   * has a standardized "worst texture" three float32 ulps (1.8e-7) below a threshold used by two
   * trees; sending it the other way would move its output by about 1.1e-4, so this tolerance also
   * catches a drift in the scaling or in the split semantics (x <= threshold goes left).
   */
  private static final double TREE_TOLERANCE = 1e-5;

  private static final List<String> MODELS = List.of("bc-gbt", "bc-mlp", "bc-logreg", "bc-canary");

  // A process-wide singleton: left open because other test classes may share it.
  private static OrtEnvironment env;
  private static float[][] rows;
  private static int[] labels;
  private static Map<String, float[]> expected;

  @BeforeAll
  static void loadReference() throws IOException {
    env = OrtEnvironments.shared(); // the process's one environment, shared with DJL's ONNX Runtime engine
    JsonNode reference = new ObjectMapper().readTree(MODEL_DIR.resolve("reference.json").toFile());

    assertThat(reference.get("feature_names")).hasSize(30);
    JsonNode rowNodes = reference.get("rows");
    rows = new float[rowNodes.size()][];
    for (int r = 0; r < rows.length; r++) {
      rows[r] = toFloats(rowNodes.get(r));
      assertThat(rows[r]).hasSize(30);
    }
    assertThat(rows).hasNumberOfRows(114);

    JsonNode labelNodes = reference.get("labels");
    labels = new int[labelNodes.size()];
    for (int r = 0; r < labels.length; r++) {
      labels[r] = labelNodes.get(r).asInt();
    }
    assertThat(labels).hasSize(rows.length);

    expected = new LinkedHashMap<>();
    for (String model : MODELS) {
      float[] predictions = toFloats(reference.get("predictions").get(model));
      assertThat(predictions).as(model).hasSize(rows.length);
      expected.put(model, predictions);
    }
  }

  @ParameterizedTest(name = "{0} v{1}")
  @CsvSource({"bc-gbt, 3", "bc-mlp, 2", "bc-logreg, 1", "bc-canary, 1"})
  void signatureIsFeaturesInProbabilityOut(String model, int version) throws OrtException {
    try (OrtSession session = open(model, version)) {
      assertThat(session.getInputNames()).containsExactly("features");
      assertThat(session.getOutputNames()).containsExactly("probability");

      TensorInfo input = tensorInfo(session.getInputInfo().get("features"));
      assertThat(input.type).isEqualTo(OnnxJavaType.FLOAT);
      assertThat(input.getShape()).containsExactly(-1, 30);

      TensorInfo output = tensorInfo(session.getOutputInfo().get("probability"));
      assertThat(output.type).isEqualTo(OnnxJavaType.FLOAT);
      assertThat(output.getShape()).containsExactly(-1, 1);

      assertThat(session.getMetadata().getVersion()).isEqualTo(version);
      assertThat(session.getMetadata().getCustomMetadata()).containsEntry("model_name", model);
    }
  }

  @ParameterizedTest(name = "{0} v{1}")
  @CsvSource({"bc-gbt, 3", "bc-mlp, 2", "bc-logreg, 1", "bc-canary, 1"})
  void wholeBatchMatchesReference(String model, int version) throws OrtException {
    try (OrtSession session = open(model, version)) {
      float[] actual = score(session, rows);
      float[] want = expected.get(model);
      double tolerance = tolerance(model);
      for (int r = 0; r < rows.length; r++) {
        assertThat((double) actual[r]).as("%s row %d", model, r).isCloseTo(want[r], within(tolerance));
      }
    }
  }

  @ParameterizedTest(name = "{0} v{1}")
  @CsvSource({"bc-gbt, 3", "bc-mlp, 2", "bc-logreg, 1", "bc-canary, 1"})
  void singleRowsMatchReference(String model, int version) throws OrtException {
    try (OrtSession session = open(model, version)) {
      float[] want = expected.get(model);
      double tolerance = tolerance(model);
      // A batch of one takes different kernel paths than a full batch; sample across the set,
      // including row 78, the one closest to a tree threshold.
      for (int r : new int[] {0, 1, 2, 37, 78, rows.length - 1}) {
        float[] actual = score(session, new float[][] {rows[r]});
        assertThat(actual).hasSize(1);
        assertThat((double) actual[0]).as("%s row %d", model, r).isCloseTo(want[r], within(tolerance));
      }
    }
  }

  @ParameterizedTest(name = "{0} v{1}")
  @CsvSource({"bc-gbt, 3", "bc-mlp, 2", "bc-logreg, 1", "bc-canary, 1"})
  void accuracyOnHeldOutRowsIsAboveNinetyPercent(String model, int version) throws OrtException {
    try (OrtSession session = open(model, version)) {
      float[] probability = score(session, rows);
      int correct = 0;
      for (int r = 0; r < rows.length; r++) {
        int predicted = probability[r] >= 0.5f ? 1 : 0;
        if (predicted == labels[r]) {
          correct++;
        }
      }
      assertThat((double) correct / rows.length).as(model).isGreaterThan(0.9);
    }
  }

  @Test
  void modelsAreGenuinelyDifferent() {
    // Guards against exporting the same model four times under different names.
    for (int a = 0; a < MODELS.size(); a++) {
      for (int b = a + 1; b < MODELS.size(); b++) {
        float[] first = expected.get(MODELS.get(a));
        float[] second = expected.get(MODELS.get(b));
        double largestGap = 0;
        for (int r = 0; r < rows.length; r++) {
          largestGap = Math.max(largestGap, Math.abs(first[r] - second[r]));
        }
        assertThat(largestGap).as("%s vs %s", MODELS.get(a), MODELS.get(b)).isGreaterThan(0.05);
      }
    }
  }

  @Test
  void exampleRequestIsAHeldOutRow() throws IOException {
    JsonNode request = new ObjectMapper().readTree(MODEL_DIR.resolve("example-request.json").toFile());
    JsonNode input = request.get("inputs").get(0);
    assertThat(input.get("name").asText()).isEqualTo("features");
    assertThat(input.get("datatype").asText()).isEqualTo("FP32");
    assertThat(toFloats(input.get("shape"))).containsExactly(1f, 30f);
    assertThat(toFloats(input.get("data"))).containsExactly(rows[0]);
  }

  private static OrtSession open(String model, int version) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    // Single-threaded so results do not depend on how a parallel reduction was split.
    options.setIntraOpNumThreads(1);
    options.setInterOpNumThreads(1);
    String path = MODEL_DIR.resolve(model + "-" + version + ".onnx").toString();
    try {
      return env.createSession(path, options);
    } finally {
      options.close();
    }
  }

  private static float[] score(OrtSession session, float[][] batch) throws OrtException {
    try (OnnxTensor features = OnnxTensor.createTensor(env, batch);
        OrtSession.Result result = session.run(Map.of("features", features))) {
      float[][] probability = (float[][]) result.get("probability").orElseThrow().getValue();
      assertThat(probability).hasNumberOfRows(batch.length);
      float[] flat = new float[batch.length];
      for (int r = 0; r < batch.length; r++) {
        assertThat(probability[r]).hasSize(1);
        flat[r] = probability[r][0];
      }
      return flat;
    }
  }

  private static TensorInfo tensorInfo(NodeInfo node) {
    assertThat(node.getInfo()).isInstanceOf(TensorInfo.class);
    return (TensorInfo) node.getInfo();
  }

  private static double tolerance(String model) {
    return model.equals("bc-gbt") ? TREE_TOLERANCE : DENSE_TOLERANCE;
  }

  /** Numbers in the reference files are written so that narrowing their double value is exact. */
  private static float[] toFloats(JsonNode array) {
    float[] values = new float[array.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) array.get(i).asDouble();
    }
    return values;
  }
}
