package dev.rendezvous.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The generators in a JVM of their own: a load and a flood run there come back with every count, the answers'
 * breakdown and the latency histogram intact; two runs go side by side; a run that fails comes back as an error
 * with the child's reason; closing ends the child.
 */
class GeneratorProcessIT {

  @Test
  void runs_in_a_child_jvm_come_back_whole_side_by_side_and_the_child_ends_on_close() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      // Scoring answers after 20 ms, the way a proxy names who answered; GET /metrics answers at once.
      HttpServer server = vertx.createHttpServer().requestHandler(req -> {
        if (req.method() == HttpMethod.GET) {
          req.response().end("# metrics\n");
        } else {
          vertx.setTimer(20, id -> req.response().end("{\"parameters\":{\"answered_by\":\"m1\",\"tier\":0}}"));
        }
      });
      server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      String url = "http://127.0.0.1:" + server.actualPort();
      GeneratorProcess gen = GeneratorProcess.start();
      try {
        assertThat(gen.separateProcess()).isTrue();
        assertThat(gen.pid()).isNotEqualTo(ProcessHandle.current().pid());
        CompletableFuture<FloodGenerator.Outcome> pollers = CompletableFuture.supplyAsync(() -> {
          try {
            return gen.flood(new FloodGenerator.Settings(url, HttpMethod.GET, "/metrics", List.of(), 4, 1_500, 50));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        LoadGenerator.Outcome load = gen.load(new LoadGenerator.Settings(url, "p", List.of("{\"a\":1}", "{\"a\":2}"),
            200, 1_000, 10, 16));
        FloodGenerator.Outcome flood = pollers.get(60, TimeUnit.SECONDS);

        assertThat(load.sent()).isEqualTo(200);
        assertThat(load.answered()).isEqualTo(200);
        assertThat(load.errors()).isZero();
        assertThat(load.statuses()).containsExactly(java.util.Map.entry(200, 200L));
        assertThat(load.answers()).containsExactly(java.util.Map.entry("m1 / tier 0", 200L));
        assertThat(load.slaMisses()).as("every answer is later than the 10 ms SLA").isEqualTo(200);
        assertThat(load.latencyUs().getTotalCount()).isEqualTo(200);
        assertThat(load.percentileMs(1)).isGreaterThanOrEqualTo(20.0);
        assertThat(load.settings().bodies()).containsExactly("{\"a\":1}", "{\"a\":2}");
        assertThat(load.settings().rate()).isEqualTo(200.0);

        assertThat(flood.settings().method()).isEqualTo(HttpMethod.GET);
        assertThat(flood.connectionErrors()).isZero();
        assertThat(flood.status(200)).isPositive();
        assertThat(flood.statuses()).containsOnlyKeys(200);
        assertThat(flood.latencyUs().getTotalCount()).isEqualTo(flood.status(200));

        // The child refuses a target off this machine; the reason comes back, and the child carries on.
        assertThatThrownBy(() -> gen.load(new LoadGenerator.Settings("http://10.1.2.3:80", "p", List.of("{}"), 10,
            100, 50, 1))).isInstanceOf(IllegalStateException.class).hasMessageContaining("loopback");
        assertThat(gen.load(new LoadGenerator.Settings(url, "p", List.of("{}"), 20, 500, 100, 4)).answered())
            .isEqualTo(10);
      } finally {
        gen.close();
      }
      assertThat(ProcessHandle.of(gen.pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
