package dev.rendezvous.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Json;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;

/**
 * The distributed shape on one machine: broker, rendezvous, three runners and the proxy, each its own JVM
 * started as {@code bin/rendezvous <component>} would start it, talking only through Kafka and HTTP.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SeparateProcessesTest {

  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path MODELS = REPO.resolve("model-runners/models/breast-cancer");
  static final String PROBLEM = "processes";
  static final List<ComponentProcess> processes = new ArrayList<>();
  static ComponentProcess champion;
  static String url;
  static JsonNode reference;
  static HttpClient http = HttpClient.newHttpClient();

  /** Wide tiers, as in the embedded end-to-end tests: a busy two-core machine must not change the outcome. */
  static final String SCHEDULE = """
      problem: processes
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
      """;

  static Path runnerConfig(Path dir, String id, String version, String file) throws Exception {
    Path f = dir.resolve(id + ".yaml");
    Files.writeString(f, "problem: " + PROBLEM + "\nmodel_id: " + id + "\nmodel_version: \"" + version
        + "\"\nmodel: " + MODELS.resolve(file) + "\n");
    return f;
  }

  @BeforeAll
  static void startEveryComponentAsItsOwnProcess() throws Exception {
    reference = Json.MAPPER.readTree(MODELS.resolve("reference.json").toFile());
    Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "processes");
    Path schedules = Files.createDirectories(dir.resolve("schedules"));
    Files.writeString(schedules.resolve(PROBLEM + ".yaml"), SCHEDULE);
    int kafkaPort;
    try (ServerSocket s = new ServerSocket(0)) {
      kafkaPort = s.getLocalPort();
    }
    String bootstrap = "127.0.0.1:" + kafkaPort;

    ComponentProcess broker = ComponentProcess.start("broker", dir, "512m", "broker", "--data",
        dir.resolve("data").toString(), "--port", Integer.toString(kafkaPort));
    processes.add(broker);
    assertThat(broker.awaitReady(90)).isEqualTo("broker " + bootstrap);

    String[] kafka = {"--bootstrap-servers", bootstrap, "--partitions", "2"};
    ComponentProcess rendezvous = ComponentProcess.start("rendezvous", dir, "256m",
        concat(new String[] {"rendezvous", "--schedules", schedules.toString()}, kafka));
    processes.add(rendezvous);
    champion = ComponentProcess.start("runner-bc-mlp", dir, "256m",
        concat(new String[] {"runner", runnerConfig(dir, "bc-mlp", "2", "bc-mlp-2.onnx").toString()}, kafka));
    processes.add(champion);
    ComponentProcess gbt = ComponentProcess.start("runner-bc-gbt", dir, "256m",
        concat(new String[] {"runner", runnerConfig(dir, "bc-gbt", "3", "bc-gbt-3.onnx").toString()}, kafka));
    processes.add(gbt);
    ComponentProcess logreg = ComponentProcess.start("runner-bc-logreg", dir, "256m",
        concat(new String[] {"runner", runnerConfig(dir, "bc-logreg", "1", "bc-logreg-1.onnx").toString()}, kafka));
    processes.add(logreg);
    // The proxy is configured through its environment only, as in a container.
    ComponentProcess proxy = ComponentProcess.start("proxy", dir, java.util.Map.of("RDV_BOOTSTRAP_SERVERS", bootstrap,
        "RDV_PARTITIONS", "2", "RDV_SCHEDULES", schedules.toString(), "RDV_PROXY_PORT", "0"), "256m", "proxy");
    processes.add(proxy);

    assertThat(rendezvous.awaitReady(120)).isEqualTo("rendezvous " + PROBLEM);
    assertThat(champion.awaitReady(120)).startsWith("runner bc-mlp v2 (serving, onnxruntime on cpu");
    assertThat(gbt.awaitReady(120)).startsWith("runner bc-gbt v3");
    assertThat(logreg.awaitReady(120)).startsWith("runner bc-logreg v1");
    url = proxy.awaitReady(120).substring("proxy ".length()) + "/v2/models/" + PROBLEM + "/infer";
  }

  @AfterAll
  static void stopAll() throws Exception {
    for (int i = processes.size() - 1; i >= 0; i--) {
      processes.get(i).close();
    }
  }

  static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  static JsonNode infer(int row) throws Exception {
    StringBuilder data = new StringBuilder();
    reference.get("rows").get(row).forEach(v -> data.append(data.length() == 0 ? "" : ",").append(v.asDouble()));
    String body = "{\"id\":\"row-" + row + "\",\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\","
        + "\"shape\":[1,30],\"data\":[" + data + "]}]}";
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.MAPPER.readTree(r.body());
  }

  @Test
  @Order(1)
  void requests_through_the_proxy_are_answered_by_the_champion_in_another_process() throws Exception {
    // The first requests pay for cold JVMs; with every model up the champion answers in the first tier.
    for (int row = 0; row < 10; row++) {
      infer(row);
    }
    for (int row = 10; row < 20; row++) {
      JsonNode answer = infer(row);
      JsonNode p = answer.get("parameters");
      assertThat(answer.get("id").asText()).isEqualTo("row-" + row);
      assertThat(p.get("answered_by").asText()).as(p.toString()).isEqualTo("bc-mlp");
      assertThat(answer.get("outputs").get(0).get("data").get(0).asDouble())
          .isCloseTo(reference.get("predictions").get("bc-mlp").get(row).asDouble(), within(1e-5));
    }
  }

  @Test
  @Order(2)
  void with_the_champion_process_killed_the_others_answer_within_the_deadline() throws Exception {
    champion.kill();
    assertThat(champion.process.isAlive()).isFalse();
    for (int row = 20; row < 30; row++) {
      long start = System.nanoTime();
      JsonNode answer = infer(row);
      double ms = (System.nanoTime() - start) / 1e6;
      String by = answer.get("parameters").get("answered_by").asText();
      assertThat(by).as(answer.toString()).isIn(Set.of("bc-gbt", "bc-logreg", "default"));
      if (!by.equals("default")) {
        assertThat(answer.get("outputs").get(0).get("data").get(0).asDouble())
            .isCloseTo(reference.get("predictions").get(by).get(row).asDouble(), within(1e-5));
      }
      // The proxy answers by the 250 ms deadline at the latest; allow for a busy machine's scheduling.
      assertThat(ms).as("row %d answered by %s", row, by).isLessThan(1_000);
    }
  }
}
