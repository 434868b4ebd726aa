package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.inferBody;
import static dev.rendezvous.embedded.TestSystems.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Role;
import dev.rendezvous.embedded.TestSystems.Response;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.runner.RunnerConfig;
import io.micrometer.core.instrument.Counter;
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
 * Two versions of one model side by side: version 2 of bc-mlp (the demo's MLP) and a version 3 of bc-mlp that is
 * another network (the demo's logistic regression file stands in for a retrained model, so that the two versions'
 * answers differ). Both score every request in shadow; a schedule that names {@code bc-mlp@3} is answered by
 * version 3 with version 3's prediction, and one that names {@code bc-mlp@2} by version 2.
 */
class ModelVersionsIT {

  @TempDir static Path dir;
  final HttpClient http = HttpClient.newHttpClient();

  private static String schedule(String problem, String first) {
    return TestSystems.schedule(problem).replace("accept: [bc-mlp]\n", "accept: [" + first + "]\n");
  }

  private static RunnerConfig version(String problem, String version, String file) {
    return new RunnerConfig(problem, "bc-mlp", version, Role.SERVING, TestSystems.MODELS.resolve(file), 64, 1, 1,
        null, null, 0);
  }

  @Test
  void two_versions_of_one_model_score_side_by_side_and_the_schedule_picks_one_by_version() throws Exception {
    String p = "versions";
    JsonNode reference = TestSystems.reference();
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("broker"), 0)) {
      Path schedules = Files.createDirectories(dir.resolve(p + "-schedules"));
      Files.writeString(schedules.resolve(p + ".yaml"), schedule(p, "bc-mlp@3"));
      List<RunnerConfig> runners = List.of(version(p, "2", "bc-mlp-2.onnx"), version(p, "3", "bc-logreg-1.onnx"));
      try (EmbeddedSystem system = TestSystems.start(dir.resolve(p), schedules, broker.bootstrapServers(), 2,
          runners, TestSystems.PERMISSIVE)) {
        String url = system.url() + "/v2/models/" + p + "/infer";
        int requests = 10;
        for (int i = 0; i < requests; i++) {
          Response r = TestSystems.postWithinFirstTier(http, url, inferBody("v3-" + i, reference.get("rows").get(i),
              null));
          JsonNode params = r.body().path("parameters");
          assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
          assertThat(params.path("answered_by").asText()).as(params.toString()).isEqualTo("bc-mlp");
          assertThat(params.path("model_version").asText()).as(params.toString()).isEqualTo("3");
          assertThat(params.path("tier").asInt()).isZero();
          assertThat(r.body().at("/outputs/0/data/0").asDouble())
              .isCloseTo(reference.at("/predictions/bc-logreg/" + i).asDouble(), within(1e-5));
        }

        HttpResponse<String> applied = http.send(HttpRequest.newBuilder(
                URI.create(system.url() + "/v2/models/" + p + "/schedule")).timeout(Duration.ofSeconds(60))
            .header("content-type", "application/yaml").header("authorization", "Bearer " + TestSystems.admin(system))
            .POST(HttpRequest.BodyPublishers.ofString(schedule(p, "bc-mlp@2"))).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        for (int i = 0; i < requests; i++) {
          Response r = TestSystems.postWithinFirstTier(http, url, inferBody("v2-" + i, reference.get("rows").get(i),
              null));
          JsonNode params = r.body().path("parameters");
          assertThat(params.path("model_version").asText()).as(params.toString()).isEqualTo("2");
          assertThat(params.path("schedule_version").asLong()).isEqualTo(2);
          assertThat(r.body().at("/outputs/0/data/0").asDouble())
              .isCloseTo(reference.at("/predictions/bc-mlp/" + i).asDouble(), within(1e-5));
        }

        // Each version took every request once, counted apart (warm-up requests included in both): scored, or
        // skipped as expired when a version got to it after its deadline.
        double v2 = taken(system, "2");
        double v3 = taken(system, "3");
        assertThat(v2).isEqualTo(v3).isGreaterThanOrEqualTo(2 * requests);
      }
    }
  }

  private static double taken(EmbeddedSystem system, String version) {
    double taken = 0;
    for (String name : List.of("rdv.runner.scored", "rdv.runner.skipped.expired")) {
      taken += system.metrics().find(name).tags("model", "bc-mlp", "version", version).counters().stream()
          .mapToDouble(Counter::count).sum();
    }
    return taken;
  }
}
