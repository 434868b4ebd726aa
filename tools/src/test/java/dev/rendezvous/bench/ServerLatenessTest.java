package dev.rendezvous.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.metrics.Metrics;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The server's late answers, read from a real registry's exposition as the proxy exports them. */
class ServerLatenessTest {

  @Test
  void counts_the_late_answers_of_one_problem_and_those_beyond_five_milliseconds() {
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Timer p = Metrics.latency(registry, "rdv.proxy.answer.lateness", "late answers", Tags.of("problem", "p"));
    Timer q = Metrics.latency(registry, "rdv.proxy.answer.lateness", "late answers", Tags.of("problem", "q"));
    for (long us : new long[] {200, 4_000, 5_000, 5_001, 30_000}) {
      p.record(us, TimeUnit.MICROSECONDS);
    }
    q.record(80, TimeUnit.MILLISECONDS);

    ServerLateness.Count before = ServerLateness.parse(registry.scrape(), "p").orElseThrow();
    // 5,000 us is within the grace (the bucket's bound is inclusive); 5,001 and 30,000 are beyond it.
    assertThat(before).isEqualTo(new ServerLateness.Count(5, 2));
    assertThat(ServerLateness.parse(registry.scrape(), "q")).contains(new ServerLateness.Count(1, 1));

    p.record(6, TimeUnit.MILLISECONDS);
    ServerLateness.Count after = ServerLateness.parse(registry.scrape(), "p").orElseThrow();
    assertThat(after.minus(before)).isEqualTo(new ServerLateness.Count(1, 1));
  }

  @Test
  void a_system_without_the_metric_or_the_problem_has_no_count() {
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    assertThat(ServerLateness.parse(registry.scrape(), "p")).isEmpty();
    Metrics.latency(registry, "rdv.proxy.answer.lateness", "late answers", Tags.of("problem", "p"));
    assertThat(ServerLateness.parse(registry.scrape(), "other")).isEmpty();
    assertThat(ServerLateness.parse(registry.scrape(), "p")).contains(new ServerLateness.Count(0, 0));
    assertThat(ServerLateness.read("http://127.0.0.1:1", "p")).isEmpty();
  }
}
