package dev.rendezvous.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The model part of {@code bin/gpu-check}, on a machine without a GPU: the CPU checked against itself walks the
 * same comparison and timing code a GPU run does.
 */
class GpuCheckTest {

  @Test
  void every_demo_onnx_model_is_compared_and_timed_at_batch_1_and_64() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int code = GpuCheck.run(Path.of("models/breast-cancer"), "cpu", new PrintStream(bytes, true,
        StandardCharsets.UTF_8));
    String out = bytes.toString(StandardCharsets.UTF_8);
    System.out.print(out);
    assertThat(code).isZero();
    assertThat(out).contains("batch 1 p50", "batch 64 p99", "every model's outputs agree within 1.0E-5");
    for (Path model : GpuCheck.models(Path.of("models/breast-cancer"))) {
      // One line per device; both are the CPU here.
      assertThat(out.lines().filter(l -> l.startsWith(model.getFileName().toString()))).hasSize(2);
    }
    assertThat(GpuCheck.models(Path.of("models/breast-cancer"))).hasSizeGreaterThanOrEqualTo(4);
  }

  @Test
  void outputs_that_differ_by_more_than_the_tolerance_are_found() {
    var a = java.util.List.of(java.util.List.of(new dev.rendezvous.common.Tensor("p", "FP32", new long[] {1, 1},
        new double[] {0.5})));
    var b = java.util.List.of(java.util.List.of(new dev.rendezvous.common.Tensor("p", "FP32", new long[] {1, 1},
        new double[] {0.5 + 2e-5})));
    assertThat(GpuCheck.maxDifference(a, b)).isGreaterThan(GpuCheck.TOLERANCE);
    assertThat(GpuCheck.maxDifference(a, a)).isZero();
  }
}
