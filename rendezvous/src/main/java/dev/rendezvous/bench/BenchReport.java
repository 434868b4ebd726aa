package dev.rendezvous.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

/** Writes a run's numbers as Markdown: the machine, the settings, a table per scenario. */
public final class BenchReport {

  private BenchReport() {}

  public static String machine() {
    long memBytes = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getTotalMemorySize();
    return Runtime.getRuntime().availableProcessors() + " cores, " + (memBytes >> 30) + " GiB memory, "
        + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", "
        + System.getProperty("os.name") + " " + System.getProperty("os.arch");
  }

  public static String table(String title, List<LoadGenerator.Outcome> outcomes) {
    StringBuilder b = new StringBuilder("### ").append(title).append("\n\n");
    b.append("| target req/s | achieved req/s | sent | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | SLA attainment "
        + "| errors | answers |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (LoadGenerator.Outcome o : outcomes) {
      b.append(String.format("| %.0f | %.0f | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f%% | %d | %s |%n",
          o.settings().rate(), o.achievedRate(), o.sent(), o.percentileMs(50), o.percentileMs(90),
          o.percentileMs(99), o.percentileMs(99.9), o.latencyUs().getMaxValue() / 1000.0, o.slaAttainment() * 100,
          o.errors(), answers(o.answers())));
    }
    return b.append('\n').toString();
  }

  public static String onnxTable(List<OnnxTiming.Result> results) {
    StringBuilder b = new StringBuilder("### Single-model inference in process (ONNX Runtime, 1 intra-op thread)\n\n");
    b.append("| model | batch | calls | p50 µs | p99 µs | mean µs |\n|---|---|---|---|---|---|\n");
    for (OnnxTiming.Result r : results) {
      b.append(String.format("| %s | %d | %d | %.1f | %.1f | %.1f |%n", r.model(), r.batch(), r.calls(), r.p50Us(),
          r.p99Us(), r.meanUs()));
    }
    return b.append('\n').toString();
  }

  private static String answers(Map<String, Long> answers) {
    StringBuilder b = new StringBuilder();
    answers.forEach((k, v) -> b.append(b.length() == 0 ? "" : "; ").append(k).append(": ").append(v));
    return b.toString();
  }

  /** Writes {@code body} under {@code dir} as {@code <prefix>-<UTC time>.md} and returns the file. */
  public static Path write(Path dir, String prefix, String title, String settings, String body) throws IOException {
    Files.createDirectories(dir);
    String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path file = dir.resolve(prefix + "-" + stamp + ".md");
    Files.writeString(file, "# " + title + "\n\n- When: " + stamp + " UTC\n- Machine: " + machine() + "\n"
        + settings + "\n" + body);
    return file;
  }
}
