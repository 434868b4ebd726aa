package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.inferBody;
import static dev.rendezvous.embedded.TestSystems.post;
import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.Main;
import dev.rendezvous.common.Arrival;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.rollout.RecordedTraffic;
import dev.rendezvous.rollout.WhatIf;
import dev.rendezvous.runner.HostedModel;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleLoader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * What-if on traffic recorded by a real system, and the schedule command line against it. bc-gbt is made slow
 * (60 ms) so that the champion bc-mlp answers every request in tier 0; the proposal waits for bc-gbt instead.
 */
class WhatIfEndToEndIT {

  @TempDir Path dir;
  final HttpClient http = HttpClient.newHttpClient();

  /** One tier that waits for bc-gbt alone until 240 ms, within the recorded requests' 250 ms budgets. */
  static String waitForGbt(String problem) {
    String s = TestSystems.schedule(problem)
        .replace("  - until_ms: 100\n    accept: [bc-mlp]\n  - until_ms: 150\n    accept: [bc-mlp, bc-gbt]\n"
            + "  - until_ms: 200\n    accept: [\"*\"]\n", "  - until_ms: 240\n    accept: [bc-gbt]\n");
    assertThat(s).contains("until_ms: 240").doesNotContain("until_ms: 100");
    return s;
  }

  /** Waits until the runner has handled every request written so far (warm-ups included). */
  private static void awaitDrained(HostedModel runner) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    long before = -1;
    while (true) {
      long handled = runner.scored() + runner.skippedExpired() + runner.errors();
      if (handled == before) {
        return;
      }
      assertThat(System.nanoTime()).as("runner %s still busy", runner).isLessThan(deadline);
      before = handled;
      Thread.sleep(100);
    }
  }

  record Run(int code, String out, String err) {}

  static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void waiting_for_the_slow_model_shows_its_share_and_latency_going_up_by_its_recorded_arrivals() throws Exception {
    String p = "whatif";
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("broker"), 0);
        EmbeddedSystem system = TestSystems.start(broker, dir, p, true, List.of(runner(p, "bc-mlp"),
            runner(p, "bc-gbt").withFaultDelayMs(60)))) {
      JsonNode rows = TestSystems.reference().get("rows");
      HostedModel gbt = system.runners().stream().filter(r -> r.config().modelId().equals("bc-gbt")).findFirst()
          .orElseThrow();
      for (int i = 0; i < 20; i++) {
        // One request at a time, each scored by bc-gbt before the next, so that its 60 ms delay never queues.
        awaitDrained(gbt);
        assertThat(post(http, system.url() + "/v2/models/" + p + "/infer", inferBody("w" + i, rows.get(i), null))
            .status()).isEqualTo(200);
      }
      awaitDrained(gbt);
      Path proposal = Files.writeString(dir.resolve("proposal.yaml"), waitForGbt(p));
      Schedule proposed = ScheduleLoader.parse(waitForGbt(p), "proposal");

      List<WhatIf.Recorded> traffic = RecordedTraffic.read(broker.bootstrapServers(), p,
          new RecordedTraffic.Selection(20, 0));
      assertThat(traffic).hasSizeGreaterThanOrEqualTo(15);
      WhatIf.Report report = WhatIf.replay(traffic, proposed);

      // By hand: a request is now answered when bc-gbt arrives if that is before the cut (its tier ends at
      // 240 ms, the budget of 250 ms minus the 10 ms margin too), else with the default at 240 ms.
      double expectedMean = 0;
      double recordedMean = 0;
      long gbtAnswers = 0;
      long changed = 0;
      for (WhatIf.Recorded r : traffic) {
        assertThat(r.budgetMs()).isEqualTo(250.0);
        Arrival late = r.arrivals().stream().filter(a -> a.modelId().equals("bc-gbt")).findFirst().orElse(null);
        boolean inTime = late != null && !late.error() && late.atMs() < 240.0;
        expectedMean += (inTime ? late.atMs() : 240.0) / traffic.size();
        recordedMean += r.result().elapsedMs() / traffic.size();
        gbtAnswers += inTime ? 1 : 0;
        changed += r.result().answeredBy().equals(inTime ? "bc-gbt" : "default") ? 0 : 1;
      }
      assertThat(report.proposed().share("bc-gbt")).isEqualTo(gbtAnswers / (double) traffic.size());
      assertThat(report.changed()).isEqualTo(changed);
      assertThat(report.proposed().meanLatencyMs()).isCloseTo(expectedMean, within(1e-6));
      assertThat(report.proposed().meanLatencyMs() - report.recorded().meanLatencyMs())
          .isCloseTo(expectedMean - recordedMean, within(1e-6));
      // And the headline: the slow model's share goes up, and so does latency, by at least its 60 ms delay
      // less the champion's few milliseconds.
      assertThat(report.proposed().share("bc-gbt")).isGreaterThan(0.8).isGreaterThan(report.recorded().share("bc-gbt"));
      assertThat(report.proposed().meanLatencyMs() - report.recorded().meanLatencyMs()).isGreaterThan(40.0);

      // The command line: the same report through the running system's address, and the other subcommands.
      String data = dir.resolve(p).toString(); // where the system wrote its admin-token file
      Run whatIf = cli("schedule", "what-if", proposal.toString(), "--url", system.url(), "--data", data,
          "--last", "20");
      assertThat(whatIf.code()).as(whatIf.err()).isZero();
      assertThat(whatIf.out()).contains("against " + traffic.size() + " recorded requests")
          .contains("answered by bc-gbt").contains("(" + changed + " of " + traffic.size() + ")");

      Run validate = cli("schedule", "validate", proposal.toString(), "--url", system.url(), "--data", data);
      assertThat(validate.code()).as(validate.err()).isZero();
      assertThat(validate.out()).contains("valid schedule for " + p);

      Run anonymous = cli("schedule", "apply", proposal.toString(), "--url", system.url(), "--data",
          dir.resolve("nowhere").toString());
      assertThat(anonymous.code()).isEqualTo(1);
      assertThat(anonymous.err()).contains("needs the admin token").contains("found none");
      Run wrong = cli("schedule", "apply", proposal.toString(), "--url", system.url(), "--token",
          "not-the-admin-token-at-all");
      assertThat(wrong.code()).isEqualTo(1);
      assertThat(wrong.err()).contains("not the admin token");
      Run apply = cli("schedule", "apply", proposal.toString(), "--url", system.url(), "--data", data);
      assertThat(apply.code()).as(apply.err()).isZero();
      assertThat(apply.out()).contains("applied as version 2 of " + p);

      Run show = cli("schedule", "show", p, "--url", system.url(), "--data", data);
      assertThat(show.out()).contains(p + ": version 2").contains("bc-gbt").contains("serving");

      Run rollback = cli("schedule", "rollback", p, "1", "--bootstrap-servers", broker.bootstrapServers());
      assertThat(rollback.code()).as(rollback.err()).isZero();
      assertThat(rollback.out()).contains("applied as version 3");
      Run history = cli("schedule", "history", p, "--url", system.url(), "--token", TestSystems.admin(system));
      assertThat(history.out()).contains("version 1").contains("version 2").contains("(rollback to version 1)");

      Path bad = Files.writeString(dir.resolve("bad.yaml"), waitForGbt(p).replace("until_ms: 240", "until_ms: 900"));
      Run refused = cli("schedule", "validate", bad.toString());
      assertThat(refused.code()).isEqualTo(1);
      assertThat(refused.err()).contains("bad.yaml:").contains("the last tier must end by deadline_ms");
    }
  }
}
