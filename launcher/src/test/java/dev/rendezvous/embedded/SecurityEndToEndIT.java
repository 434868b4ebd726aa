package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.inferBody;
import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.auth.AdminToken;
import dev.rendezvous.auth.ApiKeys;
import dev.rendezvous.common.Json;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.rollout.AppliedSchedule;
import dev.rendezvous.rollout.ScheduleFollower;
import dev.rendezvous.rollout.ScheduleLog;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Credentials and bounded state on a real system with scoring keys on: who may score, read, change the
 * schedule, roll back and post outcomes; a schedule sent to the wrong endpoint changes nothing; a flood of
 * made-up problem names leaves nothing behind; followers keep only the newest versions.
 */
class SecurityEndToEndIT {

  static final String P = "secured";
  static final String KEY = "scoring-key-of-the-test-client-0001";
  static final String ADMIN = "admin-token-of-the-test-operator-0001";

  @TempDir static Path dir;
  static EmbeddedKafka broker;
  static EmbeddedSystem system;
  static JsonNode reference;
  final HttpClient http = HttpClient.newHttpClient();

  record Reply(int status, JsonNode body, String authenticate) {}

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedKafka.start(dir.resolve("broker"), 0);
    reference = TestSystems.reference();
    Path keys = Files.writeString(dir.resolve("keys"), "# test clients\n" + KEY + "\n");
    Path schedules = Files.createDirectories(dir.resolve("schedules"));
    Files.writeString(schedules.resolve(P + ".yaml"), TestSystems.schedule(P));
    system = EmbeddedSystem.start(EmbeddedSystem.Options.parse("--grpc-port", "-1", "--data", dir.resolve("data").toString(),
        "--schedules", schedules.toString(), "--port", "0", "--bootstrap-servers", broker.bootstrapServers(),
        "--partitions", "2", "--warm-up", "8", "--warm-up-jit-max", "0"), List.of(runner(P, "bc-mlp")), new AccessControl(AdminToken.of(ADMIN), ApiKeys.load(keys)));
  }

  @AfterAll
  static void stop() throws Exception {
    system.close();
    broker.close();
  }

  Reply send(String method, String path, String body, String token, String contentType) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(system.url() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("content-type", contentType);
    }
    if (token != null) {
      b.header("authorization", "Bearer " + token);
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode json = r.body().isEmpty() || r.body().charAt(0) != '{' ? null : Json.MAPPER.readTree(r.body());
    return new Reply(r.statusCode(), json, r.headers().firstValue("www-authenticate").orElse(null));
  }

  Reply post(String path, String body, String token) throws Exception {
    return send("POST", path, body, token, "application/json");
  }

  Reply get(String path, String token) throws Exception {
    return send("GET", path, null, token, null);
  }

  long version() {
    return system.schedules().current(P).orElseThrow().version();
  }

  String infer() {
    return "/v2/models/" + P + "/infer";
  }

  String body() {
    return inferBody("c", reference.get("rows").get(0), null);
  }

  @Test
  void probes_and_metrics_need_no_credential() throws Exception {
    assertThat(get("/v2/health/live", null).status()).isEqualTo(200);
    assertThat(get("/v2/health/ready", null).status()).isEqualTo(200);
    assertThat(get("/v2/models/" + P + "/ready", null).status()).isEqualTo(200);
    assertThat(get("/metrics", null).status()).isEqualTo(200);
  }

  @Test
  void scoring_and_metadata_need_a_listed_key_or_the_admin_token() throws Exception {
    Reply anonymous = post(infer(), body(), null);
    assertThat(anonymous.status()).isEqualTo(401);
    assertThat(anonymous.authenticate()).startsWith("Bearer");
    assertThat(anonymous.body().get("error").asText()).contains("scoring key").contains(ApiKeys.ENV);
    Reply wrong = post(infer(), body(), KEY + "x");
    assertThat(wrong.status()).isEqualTo(403);
    assertThat(wrong.body().get("error").asText()).contains("not a scoring key");
    Reply keyed = post(infer(), body(), KEY);
    assertThat(keyed.status()).isEqualTo(200);
    assertThat(keyed.body().get("parameters").get("answered_by").asText()).isEqualTo("bc-mlp");
    assertThat(post(infer(), body(), ADMIN).status()).isEqualTo(200);

    assertThat(get("/v2/models/" + P, null).status()).isEqualTo(401);
    assertThat(get("/v2/models/" + P, "nope-nope-nope-nope").status()).isEqualTo(403);
    assertThat(get("/v2/models/" + P, KEY).body().get("name").asText()).isEqualTo(P);
    assertThat(get("/v2/models", KEY).status()).isEqualTo(200);
    assertThat(get("/v2", null).status()).isEqualTo(401);
  }

  @Test
  void the_schedule_status_names_the_kafka_cluster_to_the_admin_only() throws Exception {
    String path = "/v2/models/" + P + "/schedule";
    assertThat(get(path, null).status()).isEqualTo(401);
    Reply forClient = get(path, KEY);
    assertThat(forClient.status()).isEqualTo(200);
    assertThat(forClient.body().has("version")).isTrue();
    assertThat(forClient.body().has("bootstrap_servers")).isFalse();
    assertThat(forClient.body().toString()).doesNotContain(broker.bootstrapServers());
    assertThat(get(path, ADMIN).body().get("bootstrap_servers").asText()).isEqualTo(broker.bootstrapServers());
  }

  @Test
  void schedule_changes_rollbacks_and_outcomes_need_the_admin_token() throws Exception {
    String path = "/v2/models/" + P + "/schedule";
    String edited = TestSystems.schedule(P).replace("data: [-1.0]", "data: [-2.0]");
    long before = version();
    for (String token : new String[] {null, KEY, ADMIN + "x"}) {
      Reply refused = send("POST", path, edited, token, "application/yaml");
      assertThat(refused.status()).as(String.valueOf(token)).isEqualTo(token == null ? 401 : 403);
      assertThat(refused.authenticate()).startsWith("Bearer");
      assertThat(refused.body().get("error").asText()).contains("admin token");
      Reply dryRun = send("POST", path + "?dry_run=true", edited, token, "application/yaml");
      assertThat(dryRun.status()).isEqualTo(token == null ? 401 : 403);
      Reply rollback = post(path + "/rollback?version=1", "", token);
      assertThat(rollback.status()).isEqualTo(token == null ? 401 : 403);
      Reply outcome = post("/v2/models/" + P + "/outcome", "{\"request_id\": \"r\", \"outcome\": 1}", token);
      assertThat(outcome.status()).isEqualTo(token == null ? 401 : 403);
    }
    assertThat(version()).isEqualTo(before);

    Reply applied = send("POST", path, edited, ADMIN, "application/yaml; charset=utf-8");
    assertThat(applied.status()).as(String.valueOf(applied.body())).isEqualTo(200);
    assertThat(applied.body().get("version").asLong()).isEqualTo(before + 1);
    Reply rolledBack = post(path + "/rollback?version=" + before, "", ADMIN);
    assertThat(rolledBack.status()).as(String.valueOf(rolledBack.body())).isEqualTo(200);
    assertThat(rolledBack.body().get("version").asLong()).isEqualTo(before + 2);
    assertThat(version()).isEqualTo(before + 2);
    Reply outcome = post("/v2/models/" + P + "/outcome", "{\"request_id\": \"r\", \"outcome\": 1}", ADMIN);
    assertThat(outcome.status()).isEqualTo(200);
    assertThat(outcome.body().get("recorded").asBoolean()).isTrue();
  }

  @Test
  void a_schedule_sent_to_another_problems_endpoint_is_refused_and_changes_nothing() throws Exception {
    String edited = TestSystems.schedule(P).replace("data: [-1.0]", "data: [-3.0]");
    long before = version();
    Reply r = send("POST", "/v2/models/other/schedule", edited, ADMIN, "application/yaml");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body().get("error").asText()).contains("is '" + P + "' but was sent to the endpoint of 'other'")
        .contains("nothing was applied");
    // Nothing was written to the log either.
    List<AppliedSchedule> log = ScheduleLog.readAll(broker.bootstrapServers(), P);
    assertThat(log.get(log.size() - 1).version()).isEqualTo(before);
    assertThat(version()).isEqualTo(before);
    assertThat(get("/v2/models/" + P + "/schedule", ADMIN).body().get("version").asLong()).isEqualTo(before);
  }

  @Test
  void ten_thousand_made_up_problem_names_leave_nothing_behind() throws Exception {
    String yaml = TestSystems.schedule(P).replace("data: [-1.0]", "data: [-4.0]");
    long before = version();
    int historyBefore = system.scheduleControl().follower().history(P).size();
    int n = 10_000;
    int refused = 0;
    for (int wave = 0; wave < n; wave += 100) {
      List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
      for (int i = wave; i < wave + 100; i++) {
        // Half valid schedules of the served problem sent to a made-up endpoint, half schedules of the made-up one.
        String body = i % 2 == 0 ? yaml : yaml.replace("problem: " + P, "problem: made-up-" + i);
        sent.add(http.sendAsync(HttpRequest.newBuilder(URI.create(system.url() + "/v2/models/made-up-" + i
                + "/schedule")).header("authorization", "Bearer " + ADMIN).header("content-type", "application/yaml")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
      }
      for (CompletableFuture<HttpResponse<String>> f : sent) {
        refused += f.get(60, TimeUnit.SECONDS).statusCode() == 400 ? 1 : 0;
      }
    }
    assertThat(refused).isEqualTo(n);
    assertThat(system.scheduleControl().rememberedRejections()).isLessThanOrEqualTo(1);
    assertThat(system.scheduleControl().follower().history(P)).hasSize(historyBefore);
    assertThat(version()).isEqualTo(before);
  }

  @Test
  void wrong_content_types_and_non_finite_defaults_are_refused() throws Exception {
    Reply form = send("POST", infer(), body(), KEY, "application/x-www-form-urlencoded");
    assertThat(form.status()).isEqualTo(415);
    assertThat(form.body().get("error").asText()).contains("application/json").contains("curl -d");
    assertThat(send("POST", infer(), body(), KEY, "application/json; charset=utf-8").status()).isEqualTo(200);
    String path = "/v2/models/" + P + "/schedule";
    assertThat(send("POST", path, TestSystems.schedule(P), ADMIN, "application/x-www-form-urlencoded").status())
        .isEqualTo(415);
    assertThat(send("POST", "/v2/models/" + P + "/outcome", "{}", ADMIN, "text/plain").status()).isEqualTo(415);
    long before = version();
    Reply nan = send("POST", path, TestSystems.schedule(P).replace("data: [-1.0]", "data: [.nan]"), ADMIN,
        "application/yaml");
    assertThat(nan.status()).isEqualTo(400);
    assertThat(nan.body().get("error").asText()).contains("must be a finite number");
    assertThat(send("POST", path, TestSystems.schedule(P).replace("data: [-1.0]", "data: [-.inf]"), ADMIN,
        "application/yaml").status()).isEqualTo(400);
    assertThat(version()).isEqualTo(before);
  }

  @Test
  void followers_keep_only_the_newest_versions_while_the_log_keeps_them_all() throws Exception {
    ScheduleFollower follower = system.scheduleControl().follower().keepingLast(3);
    try {
      for (int k = 1; k <= 4; k++) {
        String yaml = TestSystems.schedule(P).replace("data: [-1.0]", "data: [-1" + k + ".0]");
        Reply r = send("POST", "/v2/models/" + P + "/schedule", yaml, ADMIN, "application/yaml");
        assertThat(r.status()).as(String.valueOf(r.body())).isEqualTo(200);
      }
      long current = version();
      assertThat(follower.history(P)).extracting(AppliedSchedule::version)
          .containsExactly(current - 2, current - 1, current);
      JsonNode history = get("/v2/models/" + P + "/schedule", ADMIN).body().get("history");
      assertThat(history).hasSize(3);
      assertThat(history.get(2).get("version").asLong()).isEqualTo(current);
      assertThat(ScheduleLog.readAll(broker.bootstrapServers(), P)).extracting(AppliedSchedule::version)
          .hasSize((int) current).startsWith(1L).endsWith(current);
    } finally {
      follower.keepingLast(ScheduleFollower.DEFAULT_HISTORY_LIMIT);
    }
  }
}
