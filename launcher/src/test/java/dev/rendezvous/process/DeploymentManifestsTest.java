package dev.rendezvous.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.Main;
import dev.rendezvous.metrics.Metrics;
import dev.rendezvous.metrics.MetricsServer;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleLoader;
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
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The Kubernetes manifests and the compose file parse, name real files and real command-line options, and
 * say what the deployment needs: replicas, a GPU runner on GPU nodes, a persistent decoy, scrape annotations.
 * Every path a workload's command reads (from its arguments or an {@code RDV_*} variable) lies in a volume
 * mounted into its container or in the image, every mount and variable is backed by something the manifests
 * define, and every workload has liveness and readiness probes on an endpoint its process serves.
 */
class DeploymentManifestsTest {

  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path K8S = REPO.resolve("deploy/k8s");
  /** The image's working directory (deploy/container/Dockerfile): relative paths resolve against it. */
  static final Path IMAGE_WORKDIR = Path.of("/app");
  /** A default that reads a variable: {@code ${env:NAME}} or {@code ${env:NAME:-fallback}}. */
  static final Pattern ENV_DEFAULT = Pattern.compile("^\\$\\{env:([A-Z0-9_]+)(?::-(.*))?}$");
  static final Pattern RDV_VARIABLE = Pattern.compile("\\bRDV_[A-Z0-9_]+\\b");
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
        // Throws on an unknown subcommand or option, as the container would at start.
        CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
        assertThat(parsed.subcommand().commandSpec().name()).isEqualTo(args.get(0));
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

  // ---- mounts, variables and probes --------------------------------------------------------------------

  /** One container of a workload, its environment as the pod would see it, and its parsed command line. */
  record Container(String workload, Map<String, Object> pod, Map<String, Object> spec, Map<String, String> env,
      Set<String> ownEnv, CommandLine.ParseResult command) {

    String name() {
      return workload + "/" + spec.get("name");
    }

    List<Map<String, Object>> mounts() {
      List<Map<String, Object>> mounts = at(spec, "volumeMounts");
      return mounts == null ? List.of() : mounts;
    }

    Map<String, Object> volume(String name) {
      List<Map<String, Object>> volumes = at(pod, "volumes");
      return (volumes == null ? List.<Map<String, Object>>of() : volumes).stream()
          .filter(v -> name.equals(v.get("name"))).findFirst()
          .orElseThrow(() -> new AssertionError(name() + " mounts volume " + name + ", which its pod does not define"));
    }

    /** The mount whose path holds {@code path} (the deepest one), or null. */
    Map<String, Object> mountHolding(Path path) {
      Map<String, Object> best = null;
      for (Map<String, Object> m : mounts()) {
        Path at = Path.of((String) m.get("mountPath"));
        if (path.startsWith(at) && (best == null || at.startsWith(Path.of((String) best.get("mountPath"))))) {
          best = m;
        }
      }
      return best;
    }

    /**
     * The sources of the command's class and of its options classes: variables it reads by name (the admin token
     * of the environment, for one) are named there.
     */
    String commandSource() throws IOException {
      StringBuilder out = new StringBuilder();
      List<CommandLine.Model.CommandSpec> specs = new ArrayList<>(List.of(command.commandSpec()));
      for (int i = 0; i < specs.size(); i++) {
        specs.addAll(specs.get(i).mixins().values());
        String file = specs.get(i).userObject().getClass().getName().replaceFirst("\\$.*", "").replace('.', '/')
            + ".java";
        try (Stream<Path> modules = Files.list(REPO)) {
          for (Path source : modules.map(m -> m.resolve("src/main/java").resolve(file)).filter(Files::exists).toList()) {
            out.append(Files.readString(source));
          }
        }
      }
      return out.toString();
    }
  }

  static List<Container> containers;

  /** Every container of every workload, parsed once (picocli builds the whole command tree each time). */
  static synchronized List<Container> containers() {
    if (containers == null) {
      containers = parseContainers();
    }
    return containers;
  }

  static List<Container> parseContainers() {
    List<Container> out = new ArrayList<>();
    for (Map<String, Object> w : workloads()) {
      Map<String, Object> pod = at(w, "spec", "template", "spec");
      List<Map<String, Object>> containers = at(pod, "containers");
      for (Map<String, Object> c : containers) {
        String where = at(w, "metadata", "name") + "/" + c.get("name");
        Map<String, String> env = new TreeMap<>();
        Set<String> own = new TreeSet<>();
        List<Map<String, Object>> envFrom = at(c, "envFrom");
        for (Map<String, Object> from : envFrom == null ? List.<Map<String, Object>>of() : envFrom) {
          assertThat(from).as(where + " envFrom: only ConfigMaps of these manifests").containsOnlyKeys("configMapRef");
          Map<String, Object> data = at(named("ConfigMap", at(from, "configMapRef", "name")), "data");
          data.forEach((k, v) -> env.put(k, v.toString()));
        }
        List<Map<String, Object>> vars = at(c, "env");
        for (Map<String, Object> v : vars == null ? List.<Map<String, Object>>of() : vars) {
          String name = (String) v.get("name");
          own.add(name);
          if (v.containsKey("value")) {
            env.put(name, v.get("value").toString());
          } else if (at(v, "valueFrom", "fieldRef") != null) {
            // The pod's own fields (its name): always there.
            env.put(name, "<field " + at(v, "valueFrom", "fieldRef", "fieldPath") + ">");
          } else {
            // Secrets are made by the operator (docs/security.md), not shipped: a pod must start without one.
            Map<String, Object> secret = at(v, "valueFrom", "secretKeyRef");
            assertThat(secret).as(where + " " + name + ": a value or a secret").isNotNull();
            assertThat(secret.get("optional")).as(where + " " + name + ": the secret is optional").isEqualTo(true);
            env.put(name, "<secret " + secret.get("name") + ">");
          }
        }
        List<String> args = ((List<?>) c.get("args")).stream().map(Object::toString).toList();
        CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
        out.add(new Container((String) at(w, "metadata", "name"), pod, c, env, own, parsed.subcommand()));
      }
    }
    return out;
  }

  /**
   * What the container's process gets for an option or parameter, as strings: what its arguments say, else the
   * variable its default names when the container sets it, else the default's fallback (empty when none).
   */
  static List<String> effective(Container c, ArgSpec arg) {
    if (c.command().matchedArgs().contains(arg)) {
      return arg.originalStringValues();
    }
    String raw = arg.defaultValueString(false);
    if (raw == null) {
      return List.of();
    }
    Matcher m = ENV_DEFAULT.matcher(raw);
    if (!m.matches()) {
      return List.of(raw);
    }
    if (c.env().containsKey(m.group(1))) {
      return List.of(c.env().get(m.group(1)));
    }
    return m.group(2) == null ? List.of() : List.of(m.group(2));
  }

  static String effective(Container c, String option) {
    OptionSpec spec = c.command().commandSpec().findOption(option);
    assertThat(spec).as(c.name() + " has option " + option).isNotNull();
    List<String> values = effective(c, spec);
    return values.isEmpty() ? null : values.get(0);
  }

  /** Whether the value came from the arguments or a variable the container sets (not a built-in fallback). */
  static boolean setByTheManifest(Container c, ArgSpec arg) {
    if (c.command().matchedArgs().contains(arg)) {
      return true;
    }
    String raw = arg.defaultValueString(false);
    Matcher m = raw == null ? null : ENV_DEFAULT.matcher(raw);
    return m != null && m.matches() && c.env().containsKey(m.group(1));
  }

  static boolean isPath(ArgSpec arg) {
    return arg.type() == Path.class || (java.util.Collection.class.isAssignableFrom(arg.type())
        && arg.auxiliaryTypes().length > 0 && arg.auxiliaryTypes()[0] == Path.class);
  }

  static Path inContainer(String value) {
    Path p = Path.of(value);
    return p.isAbsolute() ? p.normalize() : IMAGE_WORKDIR.resolve(p).normalize();
  }

  @Test
  void every_path_a_workload_reads_is_in_a_volume_mounted_into_it_or_in_the_image() throws IOException {
    int checked = 0;
    for (Container c : containers()) {
      // Paths from the arguments or a variable the manifests set; the built-in fallbacks are the program's own.
      Map<String, String> paths = new TreeMap<>();
      for (ArgSpec arg : c.command().commandSpec().args()) {
        if (isPath(arg) && setByTheManifest(c, arg)) {
          String label = arg.isOption() ? ((OptionSpec) arg).longestName() : "parameter " + arg.paramLabel();
          effective(c, arg).forEach(v -> paths.put(v, label));
        }
      }
      // Variables the command reads itself (System.getenv), such as RDV_RUNNER_CONFIG.
      Matcher read = RDV_VARIABLE.matcher(c.commandSource());
      while (read.find()) {
        String value = c.env().get(read.group());
        if (value != null && value.startsWith("/")) {
          paths.putIfAbsent(value, "env " + read.group());
        }
      }
      for (Map.Entry<String, String> p : paths.entrySet()) {
        Path path = inContainer(p.getKey());
        Map<String, Object> mount = c.mountHolding(path);
        if (mount == null) {
          assertThat(path.startsWith(IMAGE_WORKDIR))
              .as("%s reads %s (%s), which is in no volume mounted into the container and not in the image",
                  c.name(), p.getKey(), p.getValue()).isTrue();
          assertThat(REPO.resolve(IMAGE_WORKDIR.relativize(path).toString()))
              .as("%s reads %s (%s) from the image", c.name(), p.getKey(), p.getValue()).exists();
        }
        checked++;
      }
    }
    assertThat(checked).as("paths checked").isGreaterThanOrEqualTo(10);
  }

  @Test
  void every_command_that_reads_schedules_has_the_schedules_config_map_mounted_where_it_looks() {
    Set<String> reading = new TreeSet<>();
    for (Container c : containers()) {
      if (c.command().commandSpec().findOption("--schedules") == null) {
        continue;
      }
      String dir = effective(c, "--schedules");
      Map<String, Object> mount = c.mountHolding(inContainer(dir));
      assertThat(mount).as("%s reads schedules from %s, which is not mounted", c.name(), dir).isNotNull();
      assertThat(inContainer((String) mount.get("mountPath"))).as(c.name()).isEqualTo(inContainer(dir));
      assertThat((String) at(c.volume((String) mount.get("name")), "configMap", "name")).as(c.name())
          .isEqualTo("rendezvous-schedules");
      assertThat(mount.get("readOnly")).as(c.name() + " mounts the schedules read-only").isEqualTo(true);
      reading.add(c.workload());
    }
    assertThat(reading).containsExactlyInAnyOrder("proxy", "rendezvous", "decoy", "monitor");
  }

  @Test
  void the_decoy_writes_its_archive_to_its_persistent_volume() {
    Container decoy = containers().stream().filter(c -> c.workload().equals("decoy")).findFirst().orElseThrow();
    String archive = effective(decoy, "--archive");
    Map<String, Object> mount = decoy.mountHolding(inContainer(archive));
    assertThat(mount).as("the archive " + archive + " is on a mounted volume").isNotNull();
    assertThat(mount.get("readOnly")).as("the archive's mount is writable").isNotEqualTo(true);
    String claim = at(decoy.volume((String) mount.get("name")), "persistentVolumeClaim", "claimName");
    assertThat(named("PersistentVolumeClaim", claim)).isNotNull();
  }

  @Test
  void every_mount_and_volume_is_backed_and_used() {
    for (Map<String, Object> w : workloads()) {
      Map<String, Object> pod = at(w, "spec", "template", "spec");
      List<Map<String, Object>> volumes = at(pod, "volumes");
      Set<String> mounted = new TreeSet<>();
      for (Container c : containers().stream().filter(c -> c.workload().equals(at(w, "metadata", "name"))).toList()) {
        Set<String> paths = new TreeSet<>();
        for (Map<String, Object> m : c.mounts()) {
          assertThat(paths.add((String) m.get("mountPath"))).as(c.name() + " mounts one thing per path").isTrue();
          Map<String, Object> v = c.volume((String) m.get("name"));
          mounted.add((String) v.get("name"));
          if (v.containsKey("configMap")) {
            assertThat(named("ConfigMap", at(v, "configMap", "name"))).isNotNull();
            assertThat(m.get("readOnly")).as(c.name() + " mounts ConfigMap " + v.get("name") + " read-only").isEqualTo(true);
          } else if (v.containsKey("persistentVolumeClaim")) {
            assertThat(named("PersistentVolumeClaim", at(v, "persistentVolumeClaim", "claimName"))).isNotNull();
          } else {
            assertThat(v).as(c.name() + " volume " + v.get("name")).containsKey("emptyDir");
          }
        }
      }
      Set<String> defined = (volumes == null ? List.<Map<String, Object>>of() : volumes).stream()
          .map(v -> (String) v.get("name")).collect(Collectors.toCollection(TreeSet::new));
      assertThat(mounted).as(at(w, "metadata", "name") + ": every volume is mounted").isEqualTo(defined);
    }
  }

  @Test
  void every_rdv_variable_the_manifests_set_is_read_by_the_code_and_each_container_reads_its_own() throws IOException {
    StringBuilder sources = new StringBuilder();
    List<Path> modules;
    try (Stream<Path> dirs = Files.list(REPO)) {
      modules = dirs.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).toList();
    }
    for (Path module : modules) {
      try (Stream<Path> files = Files.walk(module)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
          sources.append(Files.readString(f));
        }
      }
    }
    Set<String> set = new TreeSet<>();
    for (Container c : containers()) {
      c.env().keySet().stream().filter(k -> k.startsWith("RDV_")).forEach(set::add);
      Set<String> readByCommand = new TreeSet<>();
      for (ArgSpec arg : c.command().commandSpec().args()) {
        Matcher m = arg.defaultValueString(false) == null ? null : ENV_DEFAULT.matcher(arg.defaultValueString(false));
        if (m != null && m.matches()) {
          readByCommand.add(m.group(1));
        }
      }
      Matcher read = RDV_VARIABLE.matcher(c.commandSource());
      while (read.find()) {
        readByCommand.add(read.group());
      }
      for (String own : c.ownEnv()) {
        if (own.startsWith("RDV_")) {
          assertThat(readByCommand).as("%s sets %s; does its command read it?", c.name(), own).contains(own);
        }
      }
    }
    assertThat(set).contains("RDV_SCHEDULES", "RDV_METRICS_PORT", "RDV_BOOTSTRAP_SERVERS");
    for (String v : set) {
      assertThat(Pattern.compile("\\b" + v + "\\b").matcher(sources).find()).as("%s is read by the code", v).isTrue();
    }
  }

  @Test
  void every_workload_has_liveness_and_readiness_probes_on_an_endpoint_its_process_serves() throws Exception {
    String proxyRoutes = Files.readString(REPO.resolve("rendezvous/src/main/java/dev/rendezvous/proxy/ProxyVerticle.java"));
    var registry = Metrics.newRegistry();
    HttpClient http = HttpClient.newHttpClient();
    try (MetricsServer metrics = MetricsServer.start(registry, "127.0.0.1", 0)) {
      for (Container c : containers()) {
        boolean proxy = c.command().commandSpec().name().equals("proxy");
        // The port the process listens on, from its arguments or environment: the proxy's HTTP port, or the
        // metrics server of every other process (off unless --metrics-port or RDV_METRICS_PORT says a port).
        int port = Integer.parseInt(effective(c, proxy ? "--port" : "--metrics-port"));
        assertThat(port).as(c.name() + " listens on a port").isPositive();
        String host = effective(c, proxy ? "--host" : "--metrics-host");
        assertThat(host).as(c.name() + " listens on the pod's address, where the kubelet probes").isEqualTo("0.0.0.0");
        List<Map<String, Object>> ports = at(c.spec(), "ports");
        for (String kind : List.of("livenessProbe", "readinessProbe")) {
          Map<String, Object> get = at(c.spec(), kind, "httpGet");
          assertThat(get).as("%s has a %s over HTTP", c.name(), kind).isNotNull();
          Object probePort = get.get("port");
          int probed = probePort instanceof Integer n ? n : ports.stream()
              .filter(p -> probePort.equals(p.get("name"))).map(p -> (Integer) p.get("containerPort")).findFirst()
              .orElseThrow(() -> new AssertionError(c.name() + " " + kind + " names port " + probePort + ", not declared"));
          assertThat(probed).as("%s %s probes the port the process listens on", c.name(), kind).isEqualTo(port);
          String path = (String) get.get("path");
          if (proxy) {
            assertThat(proxyRoutes).as("%s %s path %s is a route of the proxy", c.name(), kind, path)
                .contains("router.get(\"" + path + "\")");
          } else {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + metrics.port() + path)).build(), HttpResponse.BodyHandlers.discarding());
            assertThat(r.statusCode()).as("%s %s path %s on the metrics server", c.name(), kind, path).isEqualTo(200);
          }
        }
        Map<String, Object> annotations = at(workloads().stream()
            .filter(w -> c.workload().equals(at(w, "metadata", "name"))).findFirst().orElseThrow(),
            "spec", "template", "metadata", "annotations");
        assertThat(annotations).as(c.name() + " is scraped where it serves /metrics")
            .containsEntry("prometheus.io/port", String.valueOf(port)).containsEntry("prometheus.io/path", "/metrics");
      }
      // The check above can fail: the metrics server answers nothing but /metrics.
      assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.port() + "/healthz"))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(404);
    } finally {
      Metrics.close(registry);
    }
  }
}
