package dev.rendezvous.bench;

import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.runner.OnnxModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Times one model's inference call in process, through the same {@link OnnxModel} the runners use, so the
 * cost of the model itself can be set beside the end-to-end latency. Values in microseconds.
 */
public final class OnnxTiming {

  /** Percentiles of one model at one batch size, in microseconds per call. */
  public record Result(String model, int batch, long calls, double p50Us, double p99Us, double meanUs) {}

  private OnnxTiming() {}

  public static Result time(Path modelFile, String modelName, List<double[]> rows, int batch, int calls)
      throws Exception {
    try (OnnxModel model = new OnnxModel(modelFile, 1, 1)) {
      String input = model.inputs().keySet().iterator().next();
      int width = rows.get(0).length;
      double[] data = new double[batch * width];
      for (int r = 0; r < batch; r++) {
        System.arraycopy(rows.get(r % rows.size()), 0, data, r * width, width);
      }
      List<InferenceRequest> one = List.of(new InferenceRequest("timing", null, "", "", 0, 0,
          List.of(new Tensor(input, "FP32", new long[] {batch, width}, data))));
      Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
      for (int i = 0; i < calls / 2; i++) {
        model.score(one); // warm-up: the JIT and ORT's first-call allocations
      }
      for (int i = 0; i < calls; i++) {
        long t0 = System.nanoTime();
        model.score(one);
        h.recordValue(System.nanoTime() - t0);
      }
      return new Result(modelName, batch, calls, h.getValueAtPercentile(50) / 1000.0,
          h.getValueAtPercentile(99) / 1000.0, h.getMean() / 1000.0);
    }
  }

  /** Rows of a reference file as arrays. */
  public static List<double[]> rows(com.fasterxml.jackson.databind.JsonNode rows) {
    List<double[]> out = new ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode row : rows) {
      double[] r = new double[row.size()];
      for (int i = 0; i < r.length; i++) {
        r[i] = row.get(i).asDouble();
      }
      out.add(r);
    }
    return out;
  }
}
