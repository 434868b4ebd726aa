package dev.rendezvous.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Json;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner as a container: the image Jib built ({@code mvn -Pimages}), loaded into podman and run with the
 * host's network against a broker, rendezvous and proxy started on the host; the containerized model's scores
 * are what the proxy answers with. Skipped, saying why, where podman or the image is missing
 * ({@code deploy/container/container-test.sh} does every step from nothing).
 */
class ContainerRunnerIT {

  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path IMAGE_TAR = Path.of("target/rendezvous-image.tar");
  /** podman runs here only with runc and limits below the machine's; see docs/containers.md. */
  static final List<String> PODMAN_RUN = List.of("podman", "run", "--rm", "--runtime", "runc",
      "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096", "--network", "host");

  static String run(List<String> command, long seconds) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(seconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + new String(out, StandardCharsets.UTF_8));
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  static boolean podmanWorks() {
    try {
      run(List.of("podman", "--version"), 30);
      return true;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  @Test
  void a_runner_in_a_container_scores_requests_for_the_rendezvous_on_the_host(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(podmanWorks(), "podman is not installed (apt-get install -y podman runc); "
        + "deploy/container/container-test.sh runs this test where it is");
    Assumptions.assumeTrue(Files.exists(IMAGE_TAR), "no image at rendezvous/" + IMAGE_TAR + ": build it with "
        + "mvn -Pimages package (or run deploy/container/container-test.sh)");
    Matcher loaded = Pattern.compile("Loaded image(?:\\(s\\))?: (\\S+)")
        .matcher(run(List.of("podman", "load", "-i", IMAGE_TAR.toString()), 300));
    assertThat(loaded.find()).as("podman load names the image").isTrue();
    String image = loaded.group(1);

    JsonNode reference = Json.MAPPER.readTree(REPO.resolve("model-runners/models/breast-cancer/reference.json")
        .toFile());
    Path schedules = Files.createDirectories(dir.resolve("schedules"));
    Files.writeString(schedules.resolve("containers.yaml"),
        SeparateProcessesIT.SCHEDULE.replace("problem: processes", "problem: containers"));
    // The configuration is mounted; the model file is the one baked into the image.
    Path config = Files.createDirectories(dir.resolve("config")).resolve("bc-mlp.yaml");
    Files.writeString(config, "problem: containers\nmodel_id: bc-mlp\nmodel_version: \"2\"\n"
        + "model: /app/model-runners/models/breast-cancer/bc-mlp-2.onnx\n");
    int kafkaPort;
    try (ServerSocket s = new ServerSocket(0)) {
      kafkaPort = s.getLocalPort();
    }
    String bootstrap = "127.0.0.1:" + kafkaPort;
    String container = "rdv-test-runner-" + ProcessHandle.current().pid();
    List<ComponentProcess> started = new ArrayList<>();
    try {
      ComponentProcess broker = ComponentProcess.start("broker", dir, "512m", "broker",
          "--data", dir.resolve("data").toString(), "--port", Integer.toString(kafkaPort));
      started.add(broker);
      broker.awaitReady(90);
      String[] kafka = {"--bootstrap-servers", bootstrap, "--partitions", "2"};
      ComponentProcess rendezvous = ComponentProcess.start("rendezvous", dir, "256m",
          SeparateProcessesIT.concat(new String[] {"rendezvous", "--schedules", schedules.toString()}, kafka));
      started.add(rendezvous);
      ComponentProcess proxy = ComponentProcess.start("proxy", dir, "256m",
          SeparateProcessesIT.concat(new String[] {"proxy", "--schedules", schedules.toString(), "--port", "0"},
              kafka));
      started.add(proxy);
      List<String> podman = new ArrayList<>(PODMAN_RUN);
      podman.addAll(List.of("--name", container, "-v", config.getParent() + ":/config:ro",
          "-e", "RDV_BOOTSTRAP_SERVERS=" + bootstrap, "-e", "RDV_PARTITIONS=2", "-e", "JAVA_TOOL_OPTIONS=-Xmx256m",
          image, "runner", "/config/bc-mlp.yaml"));
      ComponentProcess runner = ComponentProcess.start("container-runner", dir, podman);
      started.add(runner);

      rendezvous.awaitReady(120);
      assertThat(runner.awaitReady(180)).startsWith("runner bc-mlp v2 (serving, onnxruntime on cpu");
      String url = proxy.awaitReady(120).substring("proxy ".length()) + "/v2/models/containers/infer";

      HttpClient http = HttpClient.newHttpClient();
      int byContainer = 0;
      for (int row = 0; row < 20; row++) {
        StringBuilder data = new StringBuilder();
        reference.get("rows").get(row).forEach(v -> data.append(data.length() == 0 ? "" : ",").append(v.asDouble()));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\","
                + "\"shape\":[1,30],\"data\":[" + data + "]}]}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode answer = Json.MAPPER.readTree(r.body());
        // bc-mlp runs only in the container: every answer from it crossed the container boundary twice.
        if (answer.get("parameters").get("answered_by").asText().equals("bc-mlp")) {
          byContainer++;
          assertThat(answer.get("outputs").get(0).get("data").get(0).asDouble())
              .isCloseTo(reference.get("predictions").get("bc-mlp").get(row).asDouble(), within(1e-5));
        }
      }
      // The first requests may meet a cold container JVM and get the default; the rest must not.
      assertThat(byContainer).isGreaterThanOrEqualTo(15);
    } finally {
      try {
        run(List.of("podman", "rm", "-f", "-t", "2", container), 60);
      } catch (IOException e) {
        // already gone
      }
      for (int i = started.size() - 1; i >= 0; i--) {
        started.get(i).close();
      }
    }
  }
}
