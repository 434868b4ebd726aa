package dev.rendezvous.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.common.Json;
import dev.rendezvous.embedded.EmbeddedSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole suite in its quick mode, as a smoke test: the report names every system and scenario and carries
 * numbers for each. Nothing here is a statement about speed.
 */
class BenchSuiteQuickIT {

  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void a_quick_run_reports_every_system_and_scenario_with_numbers(@TempDir Path out) throws Exception {
    List<String> bodies = LoadGenerator.bodiesFromRows(Json.MAPPER.readTree(
        ROOT.resolve("model-runners/models/breast-cancer/reference.json").toFile()).get("rows"), "features", "FP32");
    BenchSuite.Settings quick = BenchSuite.Settings.quick(ROOT, out);
    Path report = BenchSuite.run(quick, bodies, EmbeddedSystem.forBenchmarks());

    String md = Files.readString(report);
    assertThat(report.getFileName().toString()).startsWith("suite-").endsWith(".md");
    assertThat(md).contains("- When: ").contains("- Machine: ").contains(" cores").contains("- Mode: quick")
        .contains("- Warm-up used: ").contains("- Fan-out relay: 5 runner-like relays");
    for (String section : List.of("Transport limit: bare relay", "Design limit: fan-out relay",
        "Serving limit: champion", "Full rendezvous", "Ratios of medians", "## /metrics flood", "## Flood",
        "Champion slowed, then stopped", "Model count", "Every measurement")) {
      assertThat(md).as(section).contains(section);
    }
    // One numeric row per system at the quick rate, and per scenario.
    for (String row : List.of("| 100 | 1 | ", "| champion slowed | 1 | ", "| champion stopped | 1 | ",
        "| 1 model | 1 | ", "| 2 models | 1 | ")) {
      assertThat(md).as(row).containsPattern(java.util.regex.Pattern.quote(row) + "\\d+ \\| \\d+\\.\\d\\d \\|");
    }
    assertThat(md.lines().filter(l -> l.startsWith("| 100 | 1 | ")).count()).as("four systems").isEqualTo(4);
    // Every measurement was taken and counted broker requests (the broker runs in this JVM).
    List<String> measured = md.lines().filter(l -> l.matches("\\| \\d+ \\| [a-z0-9 -]+ \\| 100 \\| 1 \\|.*")).toList();
    assertThat(measured).hasSize(8);
    assertThat(measured).as("broker requests per HTTP request").allMatch(l -> l.split("\\|")[10].trim()
        .matches("\\d+\\.\\d"));
    // The server's own count of late answers, read from the /metrics of each rendezvous; the relays have none.
    assertThat(measured).allMatch(l -> l.matches(".*\\| (bare relay|fan-out relay|direct) \\|.*")
        ? l.contains("| n/a |") : l.matches(".*\\| \\d+ / \\d+ \\|.*"));
    // The flood and the /metrics flood each have a row of figures.
    assertThat(md).containsPattern("\\| 1 \\| \\d+ \\| \\d+ \\| \\d+ \\| \\d+ \\| \\d+ \\| \\d+ \\|");
    assertThat(md).containsPattern("\\| 1 \\| \\d+ \\| \\d+\\.\\d\\d \\| \\d+\\.\\d\\d \\|");
    assertThat(out.resolve(md.replaceAll("(?s).*!\\[latency against rate\\]\\(([^)]+)\\).*", "$1"))).exists();
  }
}
