package dev.rendezvous.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.runner.ScoringModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * What micro-batching buys: one runner's model call on a batch of N one-row requests (the runner's unit of
 * work, stacking and splitting included) for N = 1, 2, 4, ... 128, through the same {@link ScoringModel} the
 * runner uses, in process, one thread. Per call: p50 and p99 in microseconds; per request: the median call's
 * cost divided by N, in microseconds, and the throughput one runner thread reaches at that cost, in requests per
 * second. Medians, because on a shared machine the mean measures the neighbours as much as the model.
 *
 * <p>Run: {@code java -cp "launcher/target/classes:launcher/target/lib/*" dev.rendezvous.bench.BatchSizeTiming
 * [CONFIG...]} (default: the demo runner configurations).
 */
public final class BatchSizeTiming {

  /** One model at one batch size. */
  public record Result(String model, String device, int batch, double p50Us, double p99Us, double usPerRequest,
      double requestsPerSecond) {}

  private BatchSizeTiming() {}

  public static List<Result> time(RunnerConfig config, List<double[]> rows, int[] batches, long budgetNanos)
      throws Exception {
    List<Result> out = new ArrayList<>();
    try (ScoringModel model = ScoringModel.open(config)) {
      for (int batch : batches) {
        List<InferenceRequest> requests = new ArrayList<>(batch);
        for (int r = 0; r < batch; r++) {
          requests.add(new InferenceRequest("timing-" + r, null, "", "", 0, 0,
              List.of(new Tensor("features", "FP32", new long[] {1, 30}, rows.get(r % rows.size())))));
        }
        long warmUntil = System.nanoTime() + budgetNanos / 2;
        while (System.nanoTime() < warmUntil) {
          model.score(requests); // the JIT and the engine's first-call allocations
        }
        Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        long until = System.nanoTime() + budgetNanos;
        while (System.nanoTime() < until || h.getTotalCount() < 50) {
          long t0 = System.nanoTime();
          model.score(requests);
          h.recordValue(System.nanoTime() - t0);
        }
        double p50Us = h.getValueAtPercentile(50) / 1000.0;
        out.add(new Result(config.modelId(), model.device(), batch, p50Us, h.getValueAtPercentile(99) / 1000.0,
            p50Us / batch, batch * 1e6 / p50Us));
      }
    }
    return out;
  }

  /** A Markdown table of the results. */
  public static String table(List<Result> results) {
    StringBuilder b = new StringBuilder("| model | device | batch | p50 per call (µs) | p99 per call (µs) "
        + "| µs per request | requests/s per thread |\n|---|---|---:|---:|---:|---:|---:|\n");
    for (Result r : results) {
      b.append(String.format(Locale.ROOT, "| %s | %s | %d | %.1f | %.1f | %.2f | %,.0f |%n", r.model(), r.device(),
          r.batch(), r.p50Us(), r.p99Us(), r.usPerRequest(), r.requestsPerSecond()));
    }
    return b.toString();
  }

  public static void main(String[] args) throws Exception {
    List<Path> configs = new ArrayList<>();
    for (String a : args) {
      configs.add(Path.of(a));
    }
    if (configs.isEmpty()) {
      for (String m : List.of("bc-logreg", "bc-mlp", "bc-gbt", "bc-torch")) {
        configs.add(Path.of("model-runners/config/breast-cancer/" + m + ".yaml"));
      }
    }
    JsonNode reference = Json.MAPPER.readTree(Path.of("model-runners/models/breast-cancer/reference.json").toFile());
    List<double[]> rows = OnnxTiming.rows(reference.get("rows"));
    int[] batches = {1, 2, 4, 8, 16, 32, 64, 128};
    List<Result> all = new ArrayList<>();
    for (Path c : configs) {
      all.addAll(time(RunnerConfig.load(c).withDevice(System.getProperty("device", "auto")), rows, batches,
          TimeUnit.MILLISECONDS.toNanos(Long.getLong("budgetMs", 1500))));
    }
    System.out.print(table(all));
  }
}
