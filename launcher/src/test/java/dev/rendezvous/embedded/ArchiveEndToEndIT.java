package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.inferBody;
import static dev.rendezvous.embedded.TestSystems.post;
import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.Main;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Score;
import dev.rendezvous.decoy.ArchiveLayout;
import dev.rendezvous.decoy.ArchiveReader;
import dev.rendezvous.decoy.ArchivedRecord;
import dev.rendezvous.decoy.Kind;
import dev.rendezvous.embedded.TestSystems.Response;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.tools.Replay;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The decoy's archive used as a data scientist would: requests through HTTP to the real models, outcomes
 * posted later, a training set exported with {@code rendezvous export}, and a model replayed over the archived
 * inputs with {@code rendezvous replay}.
 */
class ArchiveEndToEndIT {

  static final String PROBLEM = "archive-e2e";
  static final int N = 30;

  @TempDir Path dir;
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void exportJoinsInputsScoresAndOutcomesAndReplayReproducesTheLiveScores() throws Exception {
    JsonNode reference = TestSystems.reference();
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("broker"), 0);
        EmbeddedSystem system = TestSystems.start(broker, dir, PROBLEM, true, List.of(runner(PROBLEM, "bc-mlp"),
            runner(PROBLEM, "bc-gbt"), runner(PROBLEM, "bc-canary")))) {
      String base = system.url() + "/v2/models/" + PROBLEM;
      Map<String, Integer> rowOf = new HashMap<>();
      for (int i = 0; i < N; i++) {
        Response r = post(http, base + "/infer", inferBody(clientId(i), reference.get("rows").get(i), null));
        assertThat(r.status()).isEqualTo(200);
        rowOf.put(r.body().get("parameters").get("request_id").asText(), i);
      }
      assertThat(rowOf).hasSize(N);

      // Ground truth arrives later; one label is first reported wrongly, then corrected.
      String corrected = rowOf.keySet().iterator().next();
      String admin = TestSystems.admin(system);
      assertThat(post(http, base + "/outcome", "{\"request_id\":\"" + corrected + "\",\"outcome\":\"oops\"}", admin)
          .status()).isEqualTo(200);
      for (Map.Entry<String, Integer> e : rowOf.entrySet()) {
        Response r = post(http, base + "/outcome", "{\"request_id\":\"" + e.getKey() + "\",\"outcome\":"
            + reference.get("labels").get(e.getValue()).asInt() + "}", admin);
        assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
        assertThat(r.body().get("recorded").asBoolean()).isTrue();
      }
      outcomeEndpointRejectsBadInput(system.url(), admin);

      Path archive = dir.resolve(PROBLEM).resolve("archive");
      ArchiveLayout layout = new ArchiveLayout(archive);
      waitFor(() -> count(layout, Kind.INPUT, rowOf) == N && count(layout, Kind.SCORE, rowOf) == 3 * N
          && count(layout, Kind.OUTCOME, rowOf) == N + 1);
      assertThat(ArchiveReader.readDistinct(layout.segments(PROBLEM, Kind.INPUT, 0), Kind.INPUT))
          .as("warm-up requests are not archived; a client's request with the warm-up client id is").hasSize(N);

      // Export through the command line, both formats.
      Path csv = dir.resolve("train.csv");
      Path jsonl = dir.resolve("train.jsonl");
      assertThat(cli("export", PROBLEM, "--archive", archive.toString(), "--since", "-1h", "--out", csv.toString()))
          .isZero();
      assertThat(cli("export", PROBLEM, "--archive", archive.toString(), "--out", jsonl.toString(),
          "--format", "jsonl")).isZero();

      List<Map<String, String>> rows = readCsv(csv);
      assertThat(rows).hasSize(N);
      for (Map<String, String> row : rows) {
        int i = rowOf.get(row.get("request_id"));
        assertThat(row.get("client_id")).isEqualTo(clientId(i));
        for (int c = 0; c < 30; c++) {
          assertThat(Float.parseFloat(row.get("features_" + c)))
              .isEqualTo((float) reference.get("rows").get(i).get(c).asDouble());
        }
        for (String model : List.of("bc-mlp", "bc-gbt", "bc-canary")) {
          assertThat(Double.parseDouble(row.get(model + ".probability"))).as(model + " on row " + i)
              .isCloseTo(reference.get("predictions").get(model).get(i).asDouble(), within(1e-6));
        }
        assertThat(row.get("outcome")).isEqualTo(reference.get("labels").get(i).asText());
      }

      List<String> lines = Files.readAllLines(jsonl);
      assertThat(lines).hasSize(N);
      for (String line : lines) {
        JsonNode row = Json.MAPPER.readTree(line);
        int i = rowOf.get(row.get("request_id").asText());
        assertThat(row.get("inputs").get(0).get("data")).hasSize(30);
        assertThat(row.get("inputs").get(0).get("data").get(0).floatValue())
            .isEqualTo((float) reference.get("rows").get(i).get(0).asDouble());
        assertThat(row.get("scores").get("bc-gbt").get("outputs").get(0).get("data").get(0).asDouble())
            .isCloseTo(reference.get("predictions").get("bc-gbt").get(i).asDouble(), within(1e-6));
        assertThat(row.get("scores").get("bc-canary").get("role").asText()).isEqualTo("canary");
        assertThat(row.get("outcome").asInt()).isEqualTo(reference.get("labels").get(i).asInt());
      }

      // Replay the live bc-gbt's configuration over the archive: the very same scores.
      RunnerConfig gbt = RunnerConfig.load(TestSystems.REPO.resolve("model-runners/config/breast-cancer/bc-gbt.yaml"));
      Replay.Summary replay = Replay.run(layout, PROBLEM, gbt, 0, Long.MAX_VALUE, Clock.SYSTEM, null);
      assertThat(replay.scored()).isEqualTo(N);
      assertThat(replay.errors()).isZero();
      Map<String, Score> live = new HashMap<>();
      for (ArchivedRecord r : ArchiveReader.readDistinct(layout.segments(PROBLEM, Kind.SCORE, 0), Kind.SCORE)) {
        if (r.score().modelId().equals("bc-gbt") && rowOf.containsKey(r.requestId())) {
          live.put(r.requestId(), r.score());
        }
      }
      List<ArchivedRecord> replayed = ArchiveReader.readDistinct(List.of(replay.file()), Kind.REPLAY);
      assertThat(replayed).hasSize(N);
      for (ArchivedRecord r : replayed) {
        assertThat(r.score().outputs()).as(r.requestId()).isEqualTo(live.get(r.requestId()).outputs());
      }
      Path withReplay = dir.resolve("with-replay.csv");
      assertThat(cli("export", PROBLEM, "--archive", archive.toString(), "--out", withReplay.toString())).isZero();
      for (Map<String, String> row : readCsv(withReplay)) {
        assertThat(row.get("bc-gbt@replay.probability")).isEqualTo(row.get("bc-gbt.probability"));
      }
    }
  }

  /**
   * The client's id of row i; the last row claims to be the launcher's warm-up, which must change nothing:
   * warm-up is marked by the proxy, never by what a client sends.
   */
  private static String clientId(int i) {
    return i == N - 1 ? EmbeddedSystem.WARM_UP_ID : "row-" + i;
  }

  private void outcomeEndpointRejectsBadInput(String url, String admin) throws Exception {
    String base = url + "/v2/models/" + PROBLEM + "/outcome";
    Response anonymous = post(http, base, "{\"request_id\": \"x\", \"outcome\": 1}");
    assertThat(anonymous.status()).isEqualTo(401);
    assertThat(anonymous.body().get("error").asText()).contains("admin token");
    assertThat(post(http, base, "{\"request_id\": \"x\", \"outcome\": 1}", admin + "x").status()).isEqualTo(403);
    Response missingId = post(http, base, "{\"outcome\": 1}", admin);
    assertThat(missingId.status()).isEqualTo(400);
    assertThat(missingId.body().get("error").asText()).contains("request_id");
    assertThat(post(http, base, "{\"request_id\": \"x\"}", admin).body().get("error").asText()).contains("'outcome' is missing");
    assertThat(post(http, base, "{\"request_id\": \"x\", \"outcome\": null}", admin).status()).isEqualTo(400);
    assertThat(post(http, base, "{\"requestId\": \"x\", \"outcome\": 1}", admin).body().get("error").asText())
        .contains("unknown field 'requestId'");
    assertThat(post(http, base, "{\"request_id\": 7, \"outcome\": 1}", admin).status()).isEqualTo(400);
    assertThat(post(http, base, "[1]", admin).status()).isEqualTo(400);
    assertThat(post(http, base, "not json", admin).status()).isEqualTo(400);
    Response trailing = post(http, base, "{\"request_id\": \"x\", \"outcome\": 1} {}", admin);
    assertThat(trailing.status()).isEqualTo(400);
    assertThat(trailing.body().get("error").asText()).contains("not valid JSON");
    assertThat(post(http, url + "/v2/models/nope/outcome", "{\"request_id\": \"x\", \"outcome\": 1}", admin)
        .status()).isEqualTo(404);
  }

  private static int cli(String... args) {
    return new CommandLine(new Main()).execute(args);
  }

  private static long count(ArchiveLayout layout, Kind kind, Map<String, Integer> ids) {
    List<ArchivedRecord> all = new ArrayList<>();
    ArchiveReader.readAll(layout.segments(PROBLEM, kind, 0), kind, all::add, n -> {});
    return all.stream().filter(r -> ids.containsKey(r.requestId())).count();
  }

  /** A CSV without quoted cells (this one has none) as rows keyed by header. */
  private static List<Map<String, String>> readCsv(Path file) throws Exception {
    List<String> lines = Files.readAllLines(file);
    String[] header = lines.get(0).split(",", -1);
    List<Map<String, String>> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] cells = line.split(",", -1);
      assertThat(cells).hasSameSizeAs(header);
      Map<String, String> row = new HashMap<>();
      for (int i = 0; i < header.length; i++) {
        row.put(header[i], cells[i]);
      }
      rows.add(row);
    }
    return rows;
  }

  private static void waitFor(BooleanSupplier condition) {
    await("the archive").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(condition::getAsBoolean);
  }
}
