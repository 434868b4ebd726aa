package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.rendezvous.common.Clock;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.rollout.ScoreObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readiness tells whether requests can be answered by the models: {@code /v2/health/ready} and
 * {@code /v2/models/{p}/ready} are 503 while no rendezvous owns the problem's partitions, 200 once one does,
 * 503 again when it stops (a static member too: it leaves its group on a clean stop) and 200 when another takes
 * its place; an idle system stays ready, because probe requests keep its models' scores fresh.
 */
class ReadinessIT {

  @TempDir Path dir;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @Test
  void readiness_follows_the_rendezvous_and_an_idle_system_stays_ready() throws Exception {
    String p = "readiness";
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("broker"), 0);
        EmbeddedSystem system = TestSystems.start(broker, dir, p, false, List.of(runner(p, "bc-mlp")))) {
      long startedUs = Clock.SYSTEM.nowMicros();
      List<String> paths = List.of("/v2/health/ready", "/v2/models/" + p + "/ready");
      assertThat(status(system, paths.get(0))).as("no rendezvous yet").isEqualTo(503);
      assertThat(status(system, paths.get(1))).isEqualTo(503);
      assertThat(system.readiness().health(p).reason()).contains("no rendezvous");

      double upMs;
      double downMs;
      // A static member with Kafka's default 45 s session: only its leaving the group on a clean stop can make
      // readiness fall within the 30 s bound.
      try (RendezvousProcess.Child first = new RendezvousProcess.Child(broker.bootstrapServers(), p, "rendezvous-0",
          Map.of("rdv.kafka.consumer.session.timeout.ms", "45000"), dir.resolve("first.log"))) {
        first.await("ready");
        upMs = awaitAll(system, paths, 200);
        first.close(); // SIGTERM: the rendezvous asks the group to remove it
        downMs = awaitAll(system, paths, 503);
      }
      assertThat(system.readiness().health(p).reason()).contains("no rendezvous");

      try (RendezvousProcess.Child second = new RendezvousProcess.Child(broker.bootstrapServers(), p, null,
          Map.of(), dir.resolve("second.log"))) {
        second.await("ready");
        double againMs = awaitAll(system, paths, 200);

        // No client request was sent; the warm-up's scores are older than the 10 s window by now, or soon.
        long idleUntilUs = startedUs + 12_000_000;
        while (Clock.SYSTEM.nowMicros() < idleUntilUs) {
          Thread.sleep(200);
          assertThat(status(system, paths.get(1))).as("an idle system stays ready").isEqualTo(200);
        }
        ScoreObserver.Sighting mlp = system.scheduleControl().observer().models(p).stream()
            .filter(s -> s.modelId().equals("bc-mlp")).findFirst().orElseThrow();
        assertThat(Clock.SYSTEM.nowMicros() - mlp.lastSeenUs()).as("bc-mlp scored a probe recently")
            .isLessThan(10_000_000);
        System.out.printf("readiness: 200 %.0f ms after the rendezvous owned partitions, 503 %.0f ms after it "
            + "stopped, 200 %.0f ms after the next one owned partitions%n", upMs, downMs, againMs);
      }
    }
  }

  /** Polls every path until each answers {@code status}; returns how long that took, in milliseconds. */
  private double awaitAll(EmbeddedSystem system, List<String> paths, int status) {
    long t0 = System.nanoTime();
    for (String path : paths) {
      // One budget of 30 s for all the paths; a path reached at its end still gets a second of its own.
      Duration left = Duration.ofSeconds(30).minusNanos(System.nanoTime() - t0);
      await().atMost(left.compareTo(Duration.ofSeconds(1)) > 0 ? left : Duration.ofSeconds(1)).pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(50))
          .untilAsserted(() -> assertThat(status(system, path)).as("%s still not %d after 30 s: %s", path, status,
              system.readiness().health(system.schedules().problems().iterator().next())).isEqualTo(status));
    }
    return (System.nanoTime() - t0) / 1e6;
  }

  private int status(EmbeddedSystem system, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(system.url() + path)).timeout(Duration.ofSeconds(30)).GET()
        .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
