package dev.rendezvous.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.Main;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * The Kubernetes manifests and the compose file parse, name real files and real command-line options, and
 * say what the deployment needs: replicas, a GPU runner on GPU nodes, a persistent decoy, scrape annotations.
 */
class DeploymentManifestsTest {

  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path K8S = REPO.resolve("deploy/k8s");
  /** Subcommands that come with modules not in this build; their arguments cannot be parsed here. */
  static final Set<String> ELSEWHERE = Set.of("decoy", "monitor");
  static List<Map<String, Object>> docs;

  @BeforeAll
  static void loadAll() throws IOException {
    docs = new ArrayList<>();
    try (Stream<Path> files = Files.list(K8S)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        for (Object doc : new Yaml().loadAll(Files.readString(f))) {
          if (doc != null) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) doc;
            m.put("__file", f.getFileName().toString());
            docs.add(m);
          }
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  static <T> T at(Object node, String... path) {
    Object n = node;
    for (String key : path) {
      n = n instanceof Map<?, ?> m ? m.get(key) : n instanceof List<?> l ? l.get(Integer.parseInt(key)) : null;
    }
    return (T) n;
  }

  static List<Map<String, Object>> kind(String kind) {
    return docs.stream().filter(d -> kind.equals(d.get("kind"))).toList();
  }

  static Map<String, Object> named(String kind, String name) {
    return kind(kind).stream().filter(d -> name.equals(at(d, "metadata", "name"))).findFirst().orElseThrow(
        () -> new AssertionError("no " + kind + " named " + name));
  }

  static List<Map<String, Object>> workloads() {
    return docs.stream().filter(d -> Set.of("Deployment", "StatefulSet").contains(d.get("kind"))).toList();
  }

  @Test
  void every_document_has_an_api_version_a_kind_and_a_name_and_kustomize_lists_every_file() throws IOException {
    for (Map<String, Object> d : docs) {
      if (d.get("__file").equals("kustomization.yaml")) {
        continue;
      }
      assertThat(d.get("apiVersion")).as(d.get("__file").toString()).isNotNull();
      assertThat(d.get("kind")).as(d.get("__file").toString()).isNotNull();
      assertThat((String) at(d, "metadata", "name")).as(d.get("__file").toString()).isNotBlank();
    }
    Map<String, Object> kustomization = docs.stream().filter(d -> "Kustomization".equals(d.get("kind")))
        .findFirst().orElseThrow();
    List<String> resources = at(kustomization, "resources");
    try (Stream<Path> files = Files.list(K8S)) {
      assertThat(resources).containsExactlyInAnyOrderElementsOf(files.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).toList());
    }
  }

  @Test
  void every_workload_selects_its_own_pods_and_runs_a_real_subcommand_with_real_options() {
    assertThat(workloads()).isNotEmpty();
    for (Map<String, Object> w : workloads()) {
      String name = at(w, "metadata", "name");
      Map<String, Object> selector = at(w, "spec", "selector", "matchLabels");
      Map<String, Object> labels = at(w, "spec", "template", "metadata", "labels");
      assertThat(labels).as(name).containsAllEntriesOf(selector);
      List<Map<String, Object>> containers = at(w, "spec", "template", "spec", "containers");
      for (Map<String, Object> c : containers) {
        assertThat((String) c.get("image")).as(name).isIn("rendezvous", "rendezvous-gpu");
        List<String> args = ((List<?>) c.get("args")).stream().map(Object::toString).toList();
        if (!ELSEWHERE.contains(args.get(0))) {
          // Throws on an unknown subcommand or option, as the container would at start.
          CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
          assertThat(parsed.subcommand().commandSpec().name()).isEqualTo(args.get(0));
        }
      }
    }
  }

  @Test
  void runners_name_configurations_that_exist_in_the_image_and_load() {
    List<Map<String, Object>> runners = workloads().stream()
        .filter(w -> "runner".equals(at(w, "spec", "template", "metadata", "labels", "app.kubernetes.io/component")))
        .toList();
    assertThat(runners).hasSizeGreaterThanOrEqualTo(4);
    Set<String> models = runners.stream()
        .map(w -> (String) at(w, "spec", "template", "metadata", "labels", "rendezvous.dev/model"))
        .collect(Collectors.toSet());
    assertThat(models).contains("bc-mlp", "bc-gbt", "bc-logreg", "bc-torch", "bc-mlp-gpu");
    for (Map<String, Object> w : runners) {
      List<?> args = at(w, "spec", "template", "spec", "containers", "0", "args");
      String config = args.get(1).toString();
      if (!config.startsWith("/")) { // baked into the image under /app from the repository
        RunnerConfig loaded = RunnerConfig.load(REPO.resolve(config));
        assertThat(loaded.modelId()).isEqualTo(at(w, "spec", "template", "metadata", "labels", "rendezvous.dev/model"));
      }
    }
  }

  @Test
  void the_gpu_runner_requests_a_gpu_on_gpu_nodes_and_insists_on_cuda(@TempDir Path dir) throws IOException {
    Map<String, Object> gpu = named("Deployment", "runner-bc-mlp-gpu");
    Map<String, Object> pod = at(gpu, "spec", "template", "spec");
    assertThat(at(pod, "containers", "0", "resources", "limits", "nvidia.com/gpu").toString()).isEqualTo("1");
    assertThat((Map<?, ?>) pod.get("nodeSelector")).isNotEmpty();
    List<Map<String, Object>> tolerations = at(pod, "tolerations");
    assertThat(tolerations).anySatisfy(t -> assertThat(t.get("key")).isEqualTo("nvidia.com/gpu"));
    String yaml = at(named("ConfigMap", "runner-gpu-config"), "data", "bc-mlp-gpu.yaml");
    Path f = dir.resolve("bc-mlp-gpu.yaml");
    Files.writeString(f, yaml);
    RunnerConfig config = RunnerConfig.load(f);
    assertThat(config.device()).isEqualTo("cuda");
    assertThat(config.model().toString()).startsWith("/app/model-runners/models/");
    assertThat(REPO.resolve(config.model().toString().substring("/app/".length()))).exists();
  }

  @Test
  void the_schedule_prefers_the_gpu_runner_and_falls_back_to_the_same_model_on_cpu(@TempDir Path dir)
      throws IOException {
    Path f = dir.resolve("breast-cancer.yaml");
    Files.writeString(f, (String) at(named("ConfigMap", "rendezvous-schedules"), "data", "breast-cancer.yaml"));
    Schedule schedule = ScheduleLoader.load(f);
    assertThat(schedule.tiers().get(0).accept()).containsExactly("bc-mlp-gpu");
    assertThat(schedule.tiers().get(1).accept()).containsExactly("bc-mlp-gpu", "bc-mlp");
  }

  @Test
  void proxies_and_rendezvous_are_replicated_and_every_pod_is_scraped() {
    assertThat((Integer) at(named("StatefulSet", "proxy"), "spec", "replicas")).isGreaterThanOrEqualTo(2);
    assertThat((Integer) at(named("Deployment", "rendezvous"), "spec", "replicas")).isGreaterThanOrEqualTo(2);
    for (Map<String, Object> w : workloads()) {
      Map<String, Object> annotations = at(w, "spec", "template", "metadata", "annotations");
      assertThat(annotations).as(at(w, "metadata", "name").toString())
          .containsEntry("prometheus.io/scrape", "true").containsKeys("prometheus.io/port", "prometheus.io/path");
    }
  }

  @Test
  void the_decoy_keeps_its_archive_on_a_persistent_volume_claim() {
    Map<String, Object> decoy = named("Deployment", "decoy");
    List<Map<String, Object>> volumes = at(decoy, "spec", "template", "spec", "volumes");
    String claim = at(volumes.get(0), "persistentVolumeClaim", "claimName");
    assertThat(named("PersistentVolumeClaim", claim)).isNotNull();
    assertThat((String) at(decoy, "spec", "strategy", "type")).isEqualTo("Recreate");
  }

  @Test
  void kafka_is_a_strimzi_cluster_whose_bootstrap_service_the_components_use() {
    Map<String, Object> kafka = kind("Kafka").get(0);
    assertThat((String) kafka.get("apiVersion")).startsWith("kafka.strimzi.io/");
    String bootstrap = at(named("ConfigMap", "rendezvous-env"), "data", "RDV_BOOTSTRAP_SERVERS");
    assertThat(bootstrap).isEqualTo(at(kafka, "metadata", "name") + "-kafka-bootstrap:9092");
  }

  @Test
  void the_compose_file_runs_each_component_with_real_options_and_files() throws IOException {
    Map<String, Object> compose = new Yaml().load(Files.readString(REPO.resolve("deploy/compose/compose.yaml")));
    Map<String, Map<String, Object>> services = at(compose, "services");
    assertThat(services).containsKeys("kafka", "rendezvous", "proxy", "runner-bc-mlp", "runner-bc-torch");
    for (Map.Entry<String, Map<String, Object>> s : services.entrySet()) {
      if (s.getKey().equals("kafka")) {
        continue;
      }
      List<String> command = ((List<?>) s.getValue().get("command")).stream().map(Object::toString).toList();
      new CommandLine(new Main()).parseArgs(command.toArray(String[]::new));
      Map<String, Object> env = at(s.getValue(), "environment");
      assertThat(env).as(s.getKey()).containsEntry("RDV_BOOTSTRAP_SERVERS", "kafka:9092");
      if (command.get(0).equals("runner")) {
        assertThat(REPO.resolve(command.get(1))).exists();
      }
    }
  }
}
