package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.bench.LoadGenerator;
import dev.rendezvous.bench.Soak;
import dev.rendezvous.broker.EmbeddedKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short soak ({@code bin/rendezvous soak} runs the long one): a minute of steady load at 100 req/s through a
 * running system, after a warm-up. The heap after GC at the end stays within twice the heap after the warm-up
 * plus 64 MB (generous: the point is growth without bound), and the per-request tables (the rendezvous's
 * pending requests, the proxy's waiting requests) are back to 0 once the load stops.
 */
class SoakIT {

  static final String PROBLEM = "soak-e2e";

  @TempDir Path dir;

  @Test
  void a_minute_of_load_leaves_the_heap_bounded_and_the_request_tables_empty() throws Exception {
    List<String> bodies = LoadGenerator.bodiesFromRows(TestSystems.reference().get("rows"), "features", "FP32");
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("broker"), 0);
        EmbeddedSystem system = TestSystems.start(broker, dir, PROBLEM, true,
            List.of(runner(PROBLEM, "bc-mlp"), runner(PROBLEM, "bc-gbt"), runner(PROBLEM, "bc-canary")),
            TestSystems.PERMISSIVE)) {
      Soak.Report report = Soak.run(system, new Soak.Settings(PROBLEM, 100, 15_000, 60_000, 10_000, 30_000),
          bodies);
      Path file = report.write(dir.resolve("reports"));
      System.out.println(report.markdown());

      assertThat(Files.readString(file)).contains("# Soak run", "rendezvous pending", "proxy waiting");
      assertThat(report.samples()).as("after the warm-up, every 10 s of load, after the load").hasSizeGreaterThan(5);
      assertThat(report.load().sent()).isEqualTo(6000);
      assertThat(report.load().answered()).as("answered 200 (a model or the default)").isPositive();
      assertThat(system.metrics().find("rdv.proxy.waiting").gauge()).as("the tables are exported").isNotNull();
      assertThat(system.metrics().find("rdv.rendezvous.pending").gauge()).isNotNull();
      assertThat(report.last().tables()).as("every table empty once the load stopped")
          .containsEntry("rendezvous pending", 0.0).containsEntry("proxy waiting", 0.0);
      assertThat(report.heapBounded(2, 64L << 20))
          .as("heap after GC at the end (%d MB) < 2 x after the warm-up (%d MB) + 64 MB",
              report.last().heapAfterGcBytes() >> 20, report.afterWarmUp().heapAfterGcBytes() >> 20)
          .isTrue();
    }
  }
}
