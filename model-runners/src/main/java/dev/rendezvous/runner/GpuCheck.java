package dev.rendezvous.runner;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Tensor;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The model part of {@code bin/gpu-check} (docs/gpu-and-engines.md): every ONNX model of a demo directory on the
 * GPU and on the CPU, fed the held-out rows of its {@code reference.json}. It compares the two devices' outputs
 * (at most {@link #TOLERANCE} apart) and times batch 1 and batch 64 side by side (median and p99 of
 * {@link #RUNS} calls after {@link #WARM_UP} unmeasured ones). Exit status 0 when every model agrees, 1 otherwise.
 * Run with {@code cpu} as the device, it checks the CPU against itself: how the tests exercise it on machines
 * without a GPU.
 */
public final class GpuCheck {

  /** The largest difference allowed between a model's GPU and CPU outputs. */
  public static final double TOLERANCE = 1e-5;
  static final int WARM_UP = 50;
  static final int RUNS = 300;

  private GpuCheck() {}

  /** Arguments: the model directory, then the device to compare with the CPU ({@code cuda} unless given). */
  public static void main(String[] args) throws Exception {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: GpuCheck MODEL_DIR [cuda|cuda:N|cpu]");
      System.exit(2);
    }
    System.exit(run(Path.of(args[0]), args.length > 1 ? args[1] : "cuda", System.out));
  }

  /** Checks every model of {@code dir} on {@code device} against the CPU; 0 when all agree, else 1. */
  static int run(Path dir, String device, PrintStream out) throws Exception {
    JsonNode rows = Json.MAPPER.readTree(dir.resolve("reference.json").toFile()).get("rows");
    List<InferenceRequest> one = requests(rows, 1);
    List<InferenceRequest> batch = requests(rows, 64);
    out.printf("%-18s %-7s %13s %13s %14s %14s %10s%n", "model", "device", "batch 1 p50", "batch 1 p99",
        "batch 64 p50", "batch 64 p99", "max diff");
    boolean agree = true;
    for (Path file : models(dir)) {
      try (OnnxModel on = new OnnxModel(file, 1, 1, DeviceChoice.parse(device));
          OnnxModel cpu = new OnnxModel(file, 1, 1, DeviceChoice.parse("cpu"))) {
        double diff = maxDifference(on.score(batch), cpu.score(batch));
        boolean ok = diff <= TOLERANCE;
        agree &= ok;
        String name = file.getFileName().toString();
        for (OnnxModel m : List.of(on, cpu)) {
          long[] t1 = time(m, one);
          long[] t64 = time(m, batch);
          out.printf("%-18s %-7s %10.1f µs %10.1f µs %11.1f µs %11.1f µs %10s%n", name, m.device(),
              t1[0] / 1e3, t1[1] / 1e3, t64[0] / 1e3, t64[1] / 1e3,
              m == on ? String.format("%.1e%s", diff, ok ? "" : " !") : "");
        }
      }
    }
    out.println(agree ? "every model's outputs agree within " + TOLERANCE
        : "MISMATCH: some model's outputs differ by more than " + TOLERANCE);
    return agree ? 0 : 1;
  }

  static List<Path> models(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".onnx")).sorted().toList();
    }
  }

  /** Requests of {@code size} rows each, one row per request, taken in turn from the reference rows. */
  static List<InferenceRequest> requests(JsonNode rows, int size) {
    List<InferenceRequest> out = new ArrayList<>(size);
    long farAway = Long.MAX_VALUE / 2;
    for (int i = 0; i < size; i++) {
      JsonNode row = rows.get(i % rows.size());
      double[] data = new double[row.size()];
      for (int j = 0; j < data.length; j++) {
        data[j] = row.get(j).asDouble();
      }
      out.add(new InferenceRequest("gpu-check-" + i, "gpu-check", "gpu-check", "none:0", 0, farAway,
          List.of(new Tensor("features", "FP32", new long[] {1, data.length}, data))));
    }
    return out;
  }

  static double maxDifference(List<List<Tensor>> a, List<List<Tensor>> b) {
    double max = 0;
    for (int r = 0; r < a.size(); r++) {
      for (int t = 0; t < a.get(r).size(); t++) {
        double[] x = a.get(r).get(t).data();
        double[] y = b.get(r).get(t).data();
        for (int i = 0; i < x.length; i++) {
          max = Math.max(max, Math.abs(x[i] - y[i]));
        }
      }
    }
    return max;
  }

  /** Median and p99 of the time of one call scoring {@code batch}, nanoseconds. */
  static long[] time(OnnxModel model, List<InferenceRequest> batch) throws Exception {
    for (int i = 0; i < WARM_UP; i++) {
      model.score(batch);
    }
    long[] ns = new long[RUNS];
    for (int i = 0; i < RUNS; i++) {
      long t0 = System.nanoTime();
      model.score(batch);
      ns[i] = System.nanoTime() - t0;
    }
    Arrays.sort(ns);
    return new long[] {ns[RUNS / 2], ns[(int) Math.ceil(RUNS * 0.99) - 1]};
  }
}
