package dev.rendezvous.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rendezvous.common.Json;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.schedule.ScheduleLoader;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load generator is open loop, counts what it is told, and only targets loopback. */
class LoadGeneratorIT {

  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void a_server_that_answers_after_30_ms_shows_at_least_30_ms_at_every_percentile() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      HttpServer server = vertx.createHttpServer().requestHandler(req -> vertx.setTimer(30, id -> req.response()
          .end("{\"parameters\":{\"answered_by\":\"slow\",\"tier\":0}}")));
      server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      LoadGenerator.Outcome o = LoadGenerator.run(new LoadGenerator.Settings("http://127.0.0.1:" + server.actualPort(),
          "p", List.of("{}"), 100, 1_000, 20, 8));
      assertThat(o.sent()).isEqualTo(100);
      assertThat(o.answered()).isEqualTo(100);
      assertThat(o.errors()).isZero();
      assertThat(o.percentileMs(1)).isGreaterThanOrEqualTo(30.0);
      assertThat(o.slaMisses()).as("every answer is later than the 20 ms SLA").isEqualTo(100);
      assertThat(o.answers()).containsEntry("slow / tier 0", 100L);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void latency_counts_from_the_due_time_so_a_stalled_server_is_not_hidden() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      // One connection and 10 ms of service time per request: at 200 req/s the queue grows, and requests sent
      // late must carry the wait they spent queued.
      HttpServer server = vertx.createHttpServer().requestHandler(req -> vertx.setTimer(10, id -> req.response()
          .end("{}")));
      server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      LoadGenerator.Outcome o = LoadGenerator.run(new LoadGenerator.Settings("http://127.0.0.1:" + server.actualPort(),
          "p", List.of("{}"), 200, 1_000, 1000, 1));
      assertThat(o.answered()).isEqualTo(200);
      // The last request is due at 1 s but cannot finish before 200 x 10 ms = 2 s: about 1 s of queueing.
      assertThat(o.latencyUs().getMaxValue() / 1000.0).isGreaterThan(800.0);
      // ... and the generator says why: its one connection was busy, so requests went out behind schedule.
      assertThat(o.maxInFlight()).isGreaterThan(1);
      assertThat(o.poolCapped()).isTrue();
      assertThat(o.lateSends()).isGreaterThan(100);
      assertThat(o.maxSendLagUs() / 1000.0).isGreaterThan(500.0);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void refusals_are_answers_counted_by_status_and_not_as_answered() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      int[] n = {0};
      HttpServer server = vertx.createHttpServer().requestHandler(req -> {
        if (n[0]++ % 2 == 0) {
          req.response().end("{\"parameters\":{\"answered_by\":\"m\",\"tier\":0}}");
        } else {
          req.response().setStatusCode(503).putHeader("retry-after", "1").end();
        }
      });
      server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      LoadGenerator.Outcome o = LoadGenerator.run(new LoadGenerator.Settings("http://127.0.0.1:" + server.actualPort(),
          "p", List.of("{}"), 100, 1_000, 5_000, 200));
      assertThat(o.statuses()).containsOnlyKeys(200, 503);
      assertThat(o.statuses().get(200) + o.statuses().get(503)).isEqualTo(100);
      assertThat(o.answered()).isEqualTo(o.statuses().get(200));
      assertThat(o.errors()).isEqualTo(o.statuses().get(503));
      assertThat(o.connectionErrors()).isZero();
      assertThat(o.latencyUs().getTotalCount()).as("refusals are recorded too").isEqualTo(100);
      assertThat(o.answers()).containsOnlyKeys("m / tier 0");
      assertThat(o.firstGoodDueMs()).isZero();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void a_server_that_is_not_there_gives_connection_errors_and_no_latency() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    LoadGenerator.Outcome o = LoadGenerator.run(new LoadGenerator.Settings("http://127.0.0.1:" + port, "p",
        List.of("{}"), 20, 500, 50, 4));
    assertThat(o.sent()).isEqualTo(10);
    assertThat(o.connectionErrors()).isEqualTo(10);
    assertThat(o.statuses()).isEmpty();
    assertThat(o.percentileMs(99)).isNaN();
    assertThat(o.firstGoodDueMs()).isEqualTo(-1);
  }

  @Test
  void a_flood_keeps_every_worker_busy_and_counts_every_status() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      int[] codes = {200, 429, 503, 500};
      int[] n = {0};
      HttpServer server = vertx.createHttpServer().requestHandler(req -> req.response()
          .setStatusCode(codes[n[0]++ % codes.length]).end("{}"));
      server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      FloodGenerator.Outcome o = FloodGenerator.run(new FloodGenerator.Settings("http://127.0.0.1:"
          + server.actualPort(), io.vertx.core.http.HttpMethod.POST, "/v2/models/p/infer", List.of("{}"), 8, 500, 50));
      long answered = o.statuses().values().stream().mapToLong(Long::longValue).sum();
      assertThat(o.connectionErrors()).isZero();
      assertThat(answered).as("every request sent was answered once the workers stopped").isEqualTo(o.sent());
      assertThat(answered).isGreaterThan(8);
      assertThat(o.statuses()).containsOnlyKeys(200, 429, 503, 500);
      assertThat(o.otherStatuses()).isEqualTo(o.status(500));
      assertThat(o.latencyUs().getTotalCount()).isEqualTo(answered);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void only_loopback_is_a_target() {
    assertThatThrownBy(() -> LoadGenerator.run(new LoadGenerator.Settings("http://10.0.0.1:8080", "p", List.of("{}"),
        1, 1, 1, 1))).hasMessageContaining("only targets loopback");
  }

  @Test
  void the_three_limits_answer_real_requests(@TempDir Path dir) throws Exception {
    List<String> bodies = LoadGenerator.bodiesFromRows(Json.MAPPER.readTree(
        ROOT.resolve("model-runners/models/breast-cancer/reference.json").toFile()).get("rows"), "features", "FP32");
    var schedule = ScheduleLoader.load(ROOT.resolve("schedules/breast-cancer.yaml"));
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir, 0);
        RelayBaseline relay = RelayBaseline.start(broker.bootstrapServers(), 2);
        FanOutRelay fanOut = FanOutRelay.start(broker.bootstrapServers(), 2, FanOutRelay.Shape.embeddedDefault(3));
        DirectOnnxServer direct = DirectOnnxServer.start(
            ROOT.resolve("model-runners/models/breast-cancer/bc-mlp-2.onnx"), schedule.inputs())) {
      LoadGenerator.Outcome r = LoadGenerator.run(new LoadGenerator.Settings(relay.url(), "x", bodies, 50, 1_000,
          5_000, 4));
      assertThat(r.answered()).isEqualTo(50);
      assertThat(r.answers()).containsOnlyKeys("echo");
      BrokerRequests.Count before = BrokerRequests.read().orElseThrow();
      LoadGenerator.Outcome f = LoadGenerator.run(new LoadGenerator.Settings(fanOut.url(), "x", bodies, 50, 1_000,
          5_000, 4));
      BrokerRequests.Count during = BrokerRequests.read().orElseThrow().minus(before);
      assertThat(f.answered()).isEqualTo(50);
      assertThat(f.answers()).containsOnlyKeys("echo");
      // At least the front's input and outcome, and three scores, were produced for each request.
      assertThat(during.produce()).isPositive();
      assertThat(during.fetch()).isPositive();
      LoadGenerator.Outcome d = LoadGenerator.run(new LoadGenerator.Settings(direct.url(), "breast-cancer", bodies, 50,
          1_000, 5_000, 4));
      assertThat(d.answered()).isEqualTo(50);
      assertThat(d.answers()).containsOnlyKeys("direct / tier 0");
    }
  }

}
