package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.inferBody;
import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Json;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.rollout.AppliedSchedule;
import dev.rendezvous.rollout.ScheduleLog;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Back on its feet by itself: a restart keeps the schedule version in force (the log is the only truth, a
 * file only seeds an empty log), and a broker outage makes outcome posts answer 503 in bounded time and the
 * proxy report not ready, both recovering once the broker is back on the same port and data.
 */
class RecoveryIT {

  @TempDir Path dir;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  record Reply(int status, JsonNode body, double ms) {}

  @Test
  void a_restart_keeps_the_version_applied_over_http_and_an_empty_log_is_seeded_from_the_file() throws Exception {
    String p = "restart";
    Path file = dir.resolve(p + "-schedules").resolve(p + ".yaml");
    String promoted = ScheduleHotReloadIT.promoted(p);
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("broker"), 0)) {
      try (EmbeddedSystem system = TestSystems.start(broker, dir, p, true, List.of(runner(p, "bc-mlp")))) {
        // A fresh log: the file seeded it as version 1.
        List<AppliedSchedule> log = ScheduleLog.readAll(broker.bootstrapServers(), p);
        assertThat(log).extracting(AppliedSchedule::version).containsExactly(1L);
        assertThat(log.get(0).yaml()).isEqualTo(TestSystems.schedule(p));
        assertThat(log.get(0).source()).isEqualTo(file.toString());

        Reply applied = send(system, "POST", "/v2/models/" + p + "/schedule", promoted, TestSystems.admin(system),
            "application/yaml");
        assertThat(applied.status()).as(applied.body().toString()).isEqualTo(200);
        assertThat(status(system, p).get("version").asLong()).isEqualTo(2);
      }

      // The same broker and data, the same file (written again, unchanged): version 2 stays in force.
      try (EmbeddedSystem system = TestSystems.start(broker, dir, p, true, List.of(runner(p, "bc-mlp")))) {
        assertThat(Files.readString(file)).isEqualTo(TestSystems.schedule(p));
        JsonNode status = status(system, p);
        assertThat(status.get("version").asLong()).isEqualTo(2);
        assertThat(status.get("yaml").asText()).isEqualTo(promoted);
        assertThat(ScheduleLog.readAll(broker.bootstrapServers(), p)).as("nothing written at the restart")
            .extracting(AppliedSchedule::version).containsExactly(1L, 2L);
        JsonNode answer = TestSystems.postWithinFirstTier(http, system.url() + "/v2/models/" + p + "/infer",
            inferBody("after-restart", TestSystems.reference().get("rows").get(0), null)).body();
        assertThat(answer.get("parameters").get("schedule_version").asLong()).as(answer.toString()).isEqualTo(2);

        // An edit of the file after the start is a change, and goes in as the next version.
        String edited = TestSystems.schedule(p).replace("deadline_ms: 250", "deadline_ms: 240");
        Files.writeString(file, edited);
        await("the edit applied").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
            .until(() -> status(system, p).get("version").asLong() >= 3);
        assertThat(status(system, p).get("yaml").asText()).isEqualTo(edited);
      }
    }
  }

  @Test
  void while_the_broker_is_down_outcomes_answer_503_and_readiness_is_false_and_both_recover() throws Exception {
    String p = "outage";
    Path brokerDir = dir.resolve("broker");
    EmbeddedKafka broker = EmbeddedKafka.start(brokerDir, 0);
    String bootstrap = broker.bootstrapServers();
    int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
    EmbeddedSystem system = TestSystems.start(broker, dir, p, true, List.of(runner(p, "bc-mlp")));
    try {
      String token = TestSystems.admin(system);
      String ready = "/v2/health/ready";
      awaitStatus(system, ready, 200, Duration.ofSeconds(60));
      Reply answered = send(system, "POST", "/v2/models/" + p + "/infer",
          inferBody("before-outage", TestSystems.reference().get("rows").get(0), null), null, "application/json");
      String requestId = answered.body().get("parameters").get("request_id").asText();
      assertThat(outcome(system, p, requestId, token).status()).isEqualTo(200);

      broker.close();
      broker = null;
      double notReadyMs = awaitStatus(system, ready, 503, Duration.ofSeconds(30));

      Reply refused = outcome(system, p, requestId, token);
      assertThat(refused.status()).as(refused.body().toString()).isEqualTo(503);
      // delivery.timeout.ms is 5 s; the bound leaves room for a stalled machine.
      assertThat(refused.ms()).isLessThan(15_000);
      assertThat(refused.body().get("error").asText()).contains("could not be recorded");

      // An inference is not held either: the proxy answers it with the default by its deadline (250 ms).
      Reply inference = send(system, "POST", "/v2/models/" + p + "/infer",
          inferBody("during-outage", TestSystems.reference().get("rows").get(1), null), null, "application/json");
      assertThat(inference.status()).isEqualTo(200);
      assertThat(inference.body().get("parameters").get("default").asBoolean()).isTrue();
      assertThat(inference.ms()).isLessThan(5_000);

      broker = EmbeddedKafka.start(brokerDir, port);
      double readyAgainMs = awaitStatus(system, ready, 200, Duration.ofSeconds(60));
      Reply accepted = outcome(system, p, requestId, token);
      assertThat(accepted.status()).as(accepted.body().toString()).isEqualTo(200);
      System.out.printf("broker outage: not ready %.0f ms after the broker stopped; outcome 503 in %.0f ms; "
              + "inference default in %.0f ms; ready %.0f ms after the broker restarted; next outcome 200 in %.0f ms%n",
          notReadyMs, refused.ms(), inference.ms(), readyAgainMs, accepted.ms());
    } finally {
      if (broker == null) {
        broker = EmbeddedKafka.start(brokerDir, port); // so that the system's clients stop without waiting
      }
      system.close();
      broker.close();
    }
  }

  private Reply outcome(EmbeddedSystem system, String p, String requestId, String token) throws Exception {
    return send(system, "POST", "/v2/models/" + p + "/outcome",
        "{\"request_id\":\"" + requestId + "\",\"outcome\":1}", token, "application/json");
  }

  private JsonNode status(EmbeddedSystem system, String p) throws Exception {
    Reply r = send(system, "GET", "/v2/models/" + p + "/schedule", null, TestSystems.admin(system), null);
    assertThat(r.status()).isEqualTo(200);
    return r.body();
  }

  /** Polls a GET until it answers {@code status}; returns how long that took, in milliseconds. */
  private double awaitStatus(EmbeddedSystem system, String path, int status, Duration limit) {
    long t0 = System.nanoTime();
    await().atMost(limit).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
      int answered = send(system, "GET", path, null, null, null).status();
      assertThat(answered).as("%s still answers %d after %s", path, answered, limit).isEqualTo(status);
    });
    return (System.nanoTime() - t0) / 1e6;
  }

  /** One request, with a timeout so that a hang fails the test; the reply's time measured here. */
  private Reply send(EmbeddedSystem system, String method, String path, String body, String token,
      String contentType) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(system.url() + path)).timeout(Duration.ofSeconds(60))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("content-type", contentType);
    }
    if (token != null) {
      b.header("authorization", "Bearer " + token);
    }
    long t0 = System.nanoTime();
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    double ms = (System.nanoTime() - t0) / 1e6;
    return new Reply(r.statusCode(), Json.MAPPER.readTree(r.body()), ms);
  }
}
