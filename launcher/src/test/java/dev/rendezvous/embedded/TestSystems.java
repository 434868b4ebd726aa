package dev.rendezvous.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Json;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.runner.RunnerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds embedded systems for end-to-end tests on one shared real broker: each system serves its own
 * problem (own topics and consumer groups) with the real demo models and a schedule written for the test.
 */
public final class TestSystems {

  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path MODELS = REPO.resolve("model-runners/models/breast-cancer");

  /**
   * Champion bc-mlp alone to 100 ms, bc-gbt too to 150 ms, any serving model to 200 ms, deadline 250 ms. The
   * demo's tiers are five times tighter; these are wide so that a cold JVM on a busy two-core CI machine
   * cannot push an answer across a boundary, while the order of events stays the same.
   */
  public static String schedule(String problem) {
    return """
        problem: %s
        deadline_ms: 250
        inputs:
          - {name: features, datatype: FP32, shape: [-1, 30]}
        outputs:
          - {name: probability, datatype: FP32, shape: [-1, 1]}
        tiers:
          - until_ms: 100
            accept: [bc-mlp]
          - until_ms: 150
            accept: [bc-mlp, bc-gbt]
          - until_ms: 200
            accept: ["*"]
        default:
          outputs: [{name: probability, datatype: FP32, shape: [1, 1], data: [-1.0]}]
        """.formatted(problem);
  }

  /** The demo model {@code modelId} (bc-mlp, bc-gbt, bc-logreg or bc-canary) as a runner of {@code problem}. */
  public static RunnerConfig runner(String problem, String modelId) {
    Map<String, String> files = Map.of("bc-mlp", "bc-mlp-2.onnx", "bc-gbt", "bc-gbt-3.onnx",
        "bc-logreg", "bc-logreg-1.onnx", "bc-canary", "bc-canary-1.onnx");
    Map<String, String> versions = Map.of("bc-mlp", "2", "bc-gbt", "3", "bc-logreg", "1", "bc-canary", "1");
    return new RunnerConfig(problem, modelId, versions.get(modelId),
        modelId.equals("bc-canary") ? dev.rendezvous.common.Role.CANARY : dev.rendezvous.common.Role.SERVING,
        MODELS.resolve(files.get(modelId)), 64, 1, 1, null, null, 0);
  }

  static EmbeddedSystem start(EmbeddedKafka broker, Path dir, String problem, boolean rendezvous,
      List<RunnerConfig> runners) throws Exception {
    return start(broker, dir, problem, rendezvous, runners, new String[0]);
  }

  /**
   * Admission that never refuses: a limit no test load reaches (its gauge still exported) and an event-loop
   * delay target no stall reaches. For tests that count every answer of an ordinary load and must not see a
   * refusal when the shared machine stalls the system and the load piles up; AdmissionEndToEndIT covers
   * admission itself.
   */
  static final String[] PERMISSIVE = {"--admission-initial-limit", "100000", "--admission-min-limit", "100000",
      "--admission-max-limit", "100000", "--admission-lag-target-ms", "60000", "--admission-lag-interval-ms", "60000"};

  /** A system of the problem on the shared broker; {@code more} are further options of {@code up}. */
  static EmbeddedSystem start(EmbeddedKafka broker, Path dir, String problem, boolean rendezvous,
      List<RunnerConfig> runners, String... more) throws Exception {
    Path schedules = Files.createDirectories(dir.resolve(problem + "-schedules"));
    Files.writeString(schedules.resolve(problem + ".yaml"), schedule(problem));
    List<String> args = new ArrayList<>(List.of(rendezvous ? "--rendezvous" : "--no-rendezvous"));
    args.addAll(List.of(more));
    return start(dir.resolve(problem), schedules, broker.bootstrapServers(), 2, runners,
        args.toArray(String[]::new));
  }

  /**
   * A system of the schedules directory on the shared broker, on port 0 with a warm-up of 24 requests;
   * {@code more} are further options of {@code up}.
   */
  static EmbeddedSystem start(Path data, Path schedules, String bootstrapServers, int partitions,
      List<RunnerConfig> runners, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("--data", data.toString(), "--schedules", schedules.toString(),
        "--port", "0", "--bootstrap-servers", bootstrapServers, "--partitions", Integer.toString(partitions),
        "--warm-up", "24", "--warm-up-jit-max", "0"));
    if (!List.of(more).contains("--grpc-port")) {
      args.addAll(List.of("--grpc-port", "-1")); // no gRPC unless asked: systems of one test run side by side
    }
    args.addAll(List.of(more));
    return EmbeddedSystem.start(EmbeddedSystem.Options.parse(args.toArray(String[]::new)), runners);
  }

  /** Held-out rows of the data set and each model's reference prediction for them. */
  public static JsonNode reference() throws IOException {
    return Json.MAPPER.readTree(MODELS.resolve("reference.json").toFile());
  }

  static String inferBody(String id, JsonNode row, Double deadlineMs) {
    List<Double> data = new ArrayList<>();
    row.forEach(v -> data.add(v.asDouble()));
    StringBuilder b = new StringBuilder("{\"id\":\"").append(id).append("\",");
    if (deadlineMs != null) {
      b.append("\"parameters\":{\"deadline_ms\":").append(deadlineMs).append("},");
    }
    b.append("\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,30],\"data\":")
        .append(data).append("}]}");
    return b.toString();
  }

  record Response(int status, JsonNode body) {}

  static Response post(HttpClient http, String url, String body) throws Exception {
    return post(http, url, body, null);
  }

  /** A POST with {@code Authorization: Bearer <token>} unless the token is null. */
  static Response post(HttpClient http, String url, String body, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("content-type", "application/json");
    if (token != null) {
      b.header("authorization", "Bearer " + token);
    }
    HttpResponse<String> r = http.send(b.POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    return new Response(r.statusCode(), Json.MAPPER.readTree(r.body()));
  }

  /** Where the champion's tier of {@link #schedule} ends, in milliseconds after receipt. */
  static final double CHAMPION_TIER_END_MS = 100;

  /**
   * Posts a request whose answer the test expects from the first tier. A busy two-core machine that stalls a JVM
   * for longer than the tier (a GC pause, a compilation, another process) rightly makes the schedule pick a later
   * tier; an answer given after the tier's end is not what such a test is about, so the request is sent again,
   * at most five times in all. An answer given within the tier is returned at once, whoever gave it, for the
   * caller to check; so is the last answer when none came in time.
   */
  static Response postWithinFirstTier(HttpClient http, String url, String body) throws Exception {
    Response r = null;
    for (int attempt = 0; attempt < 5; attempt++) {
      r = post(http, url, body);
      JsonNode elapsed = r.body().path("parameters").path("elapsed_ms");
      if (r.status() != 200 || !elapsed.isNumber() || elapsed.asDouble() < CHAMPION_TIER_END_MS) {
        return r;
      }
      System.out.printf("answer after the first tier (%s), sending again%n", r.body().path("parameters"));
    }
    return r;
  }

  /** The admin token of a system started by these tests. */
  static String admin(EmbeddedSystem system) {
    return system.access().admin().value();
  }

  static Response get(HttpClient http, String url) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    return new Response(r.statusCode(), Json.MAPPER.readTree(r.body()));
  }

  private TestSystems() {}
}
