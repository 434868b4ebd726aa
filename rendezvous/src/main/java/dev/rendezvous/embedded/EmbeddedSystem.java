package dev.rendezvous.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Topics;
import dev.rendezvous.decoy.Decoy;
import dev.rendezvous.decoy.DecoyConfig;
import dev.rendezvous.monitor.MonitorConfig;
import dev.rendezvous.monitor.ScoreMonitor;
import dev.rendezvous.kafka.EmbeddedKafka;
import dev.rendezvous.kafka.KafkaTopics;
import dev.rendezvous.metrics.Metrics;
import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.auth.AdminToken;
import dev.rendezvous.auth.ApiKeys;
import dev.rendezvous.proxy.WarmUpKey;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.rendezvous.proxy.AdmissionConfig;
import dev.rendezvous.proxy.BackendReadiness;
import dev.rendezvous.proxy.ProxyConfig;
import dev.rendezvous.proxy.Proxy;
import dev.rendezvous.rendezvous.RendezvousConfig;
import dev.rendezvous.rendezvous.RendezvousVerticle;
import dev.rendezvous.runner.HostedModel;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.runner.RunnerHost;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleLoader;
import dev.rendezvous.schedule.ScheduleRegistry;
import dev.rendezvous.rollout.ScheduleControl;
import dev.rendezvous.rollout.ScheduleRoutes;
import dev.rendezvous.rollout.ScheduleWatcher;
import dev.rendezvous.rollout.ScoreObserver;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.Collections;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything in one process: an embedded Kafka broker (unless an external cluster is given), one rendezvous
 * per problem, the model runners (canary included) of each problem in one {@link RunnerHost} (one input
 * consumer and one score producer for all of them), one decoy (archiving to {@code <dataDir>/archive}) and one
 * score monitor per problem (the monitors and the score observer share one scores consumer, {@link
 * ScoreReaders}), and the HTTP proxy (one instance per processor unless told otherwise, each on an event loop of
 * its own). {@link #start} returns once every
 * consumer owns its partitions, so the first request is scored by every model.
 */
public final class EmbeddedSystem implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedSystem.class);

  /**
   * What to start.
   *
   * @param dataDir where the embedded broker keeps its data
   * @param schedulesDir the schedule files, one {@code *.yaml} per problem
   * @param runners the runners to start
   * @param host the proxy's listen address
   * @param port the proxy's port (0 = any free port)
   * @param bootstrapServers an external Kafka cluster, or null to start the embedded broker
   * @param partitions partitions of each topic created (input and scores must match)
   * @param startRendezvous false leaves the rendezvous out (the proxy then answers every request with the
   *     default at the deadline); useful to see the deadline guard at work
   * @param warmUpRequests requests of zeros sent through the whole path per problem before the system is
   *     reported ready, so that the JVM has compiled the hot code before the first real request; the proxy
   *     gives them warm-up request ids ({@link dev.rendezvous.common.WarmUp}) so that recorders can tell them
   *     apart
   * @param admission the proxy's admission control and guard settings; null reads them from the environment
   *     ({@link AdmissionConfig#fromEnvironment})
   * @param proxyInstances instances of the proxy, each on an event loop of its own ({@link ProxyConfig#instances});
   *     0 is one per available processor. The results topics get at least this many partitions
   * @param grpcPort the proxy's gRPC port (0 = any free port; {@link ProxyConfig#GRPC_OFF} = no gRPC)
   */
  public record Options(Path dataDir, Path schedulesDir, List<RunnerConfig> runners, String host, int port,
      String bootstrapServers, int partitions, boolean startRendezvous, int warmUpRequests,
      int[] monitorWindows, AdmissionConfig admission, int proxyInstances, int grpcPort) {

    /** Options without gRPC. */
    public Options(Path dataDir, Path schedulesDir, List<RunnerConfig> runners, String host, int port,
        String bootstrapServers, int partitions, boolean startRendezvous, int warmUpRequests,
        int[] monitorWindows, AdmissionConfig admission, int proxyInstances) {
      this(dataDir, schedulesDir, runners, host, port, bootstrapServers, partitions, startRendezvous, warmUpRequests,
          monitorWindows, admission, proxyInstances, ProxyConfig.GRPC_OFF);
    }

    /** Options with the given monitor windows, admission settings from the environment, a proxy per processor. */
    public Options(Path dataDir, Path schedulesDir, List<RunnerConfig> runners, String host, int port,
        String bootstrapServers, int partitions, boolean startRendezvous, int warmUpRequests, int[] monitorWindows) {
      this(dataDir, schedulesDir, runners, host, port, bootstrapServers, partitions, startRendezvous, warmUpRequests,
          monitorWindows, null, 0);
    }

    /** Options with the score monitor's default windows. */
    public Options(Path dataDir, Path schedulesDir, List<RunnerConfig> runners, String host, int port,
        String bootstrapServers, int partitions, boolean startRendezvous, int warmUpRequests) {
      this(dataDir, schedulesDir, runners, host, port, bootstrapServers, partitions, startRendezvous, warmUpRequests,
          null);
    }

    /**
     * The same options with the score monitor's reference, window and paired-window sizes (scores), for
     * short runs that must still see the monitor's statistics; null keeps {@link MonitorConfig#defaults}.
     */
    public Options withMonitorWindows(int reference, int window, int paired) {
      return new Options(dataDir, schedulesDir, runners, host, port, bootstrapServers, partitions, startRendezvous,
          warmUpRequests, new int[] {reference, window, paired}, admission, proxyInstances, grpcPort);
    }

    /** The same options with these admission settings instead of the environment's. */
    public Options withAdmission(AdmissionConfig settings) {
      return new Options(dataDir, schedulesDir, runners, host, port, bootstrapServers, partitions, startRendezvous,
          warmUpRequests, monitorWindows, settings, proxyInstances, grpcPort);
    }

    /** The same options with {@code n} proxy instances; 0 is one per available processor. */
    public Options withProxyInstances(int n) {
      return new Options(dataDir, schedulesDir, runners, host, port, bootstrapServers, partitions, startRendezvous,
          warmUpRequests, monitorWindows, admission, n, grpcPort);
    }

    /** The same options with the proxy's gRPC port (0: any free one; {@link ProxyConfig#GRPC_OFF}: none). */
    public Options withGrpcPort(int newGrpcPort) {
      return new Options(dataDir, schedulesDir, runners, host, port, bootstrapServers, partitions, startRendezvous,
          warmUpRequests, monitorWindows, admission, proxyInstances, newGrpcPort);
    }

    ProxyConfig proxyConfig(String bootstrapServers) {
      ProxyConfig c = ProxyConfig.defaults(bootstrapServers).withHost(host).withPort(port).withGrpcPort(grpcPort);
      return proxyInstances > 0 ? c.withInstances(proxyInstances) : c;
    }

    MonitorConfig monitorConfig(String problem) {
      MonitorConfig c = MonitorConfig.defaults(problem);
      return monitorWindows == null ? c : c.withWindows(monitorWindows[0], monitorWindows[1], monitorWindows[2]);
    }
  }

  /** The client id of warm-up requests; only a readable label: what marks them is their request id. */
  public static final String WARM_UP_ID = "rendezvous-warm-up";

  private final EmbeddedKafka broker;
  private final Vertx vertx;
  private final ScheduleRegistry schedules;
  private final List<RunnerHost> hosts;
  private final List<RendezvousVerticle> rendezvous;
  private final Proxy proxy;
  private final String bootstrapServers;
  private final ScheduleControl control;
  private final ScheduleWatcher watcher;
  private final List<Decoy> decoys;
  private final List<ScoreMonitor> monitors;
  private final ScoreReaders scoreReaders;
  private final PrometheusMeterRegistry metrics;
  private final AccessControl access;
  private final int warmUpRequests;
  private final BackendReadiness readiness;
  private boolean ownsMetrics;

  private EmbeddedSystem(EmbeddedKafka broker, Vertx vertx, ScheduleRegistry schedules, List<RunnerHost> hosts,
      List<RendezvousVerticle> rendezvous, Proxy proxy, String bootstrapServers, ScheduleControl control,
      ScheduleWatcher watcher, List<Decoy> decoys, List<ScoreMonitor> monitors, ScoreReaders scoreReaders,
      PrometheusMeterRegistry metrics, AccessControl access, int warmUpRequests, BackendReadiness readiness) {
    this.scoreReaders = scoreReaders;
    this.readiness = readiness;
    this.warmUpRequests = warmUpRequests;
    this.metrics = metrics;
    this.access = access;
    this.broker = broker;
    this.vertx = vertx;
    this.schedules = schedules;
    this.hosts = hosts;
    this.rendezvous = rendezvous;
    this.proxy = proxy;
    this.bootstrapServers = bootstrapServers;
    this.control = control;
    this.watcher = watcher;
    this.decoys = decoys;
    this.monitors = monitors;
  }

  /** Reads every {@code *.yaml} schedule in the directory; any invalid file stops the start with its message. */
  public static List<Schedule> loadSchedules(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      List<Schedule> out = new ArrayList<>();
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted().toList()) {
        out.add(ScheduleLoader.load(f));
      }
      if (out.isEmpty()) {
        throw new IllegalArgumentException("no schedule files (*.yaml) in " + dir);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read schedules from " + dir, e);
    }
  }

  /** Reads every {@code *.yaml} runner configuration under the directories. */
  public static List<RunnerConfig> loadRunners(List<Path> dirs) {
    List<RunnerConfig> out = new ArrayList<>();
    for (Path dir : dirs) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
          out.add(RunnerConfig.load(f));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read runner configurations from " + dir, e);
      }
    }
    return out;
  }

  /**
   * The credentials of the environment: the admin token of {@value AdminToken#ENV}, else the one in
   * {@code <dataDir>/admin-token} (created when missing), and the scoring keys of {@value ApiKeys#ENV} if set.
   */
  public static AccessControl credentialsFromEnvironment(Path dataDir) {
    return new AccessControl(AdminToken.resolve(System.getenv(), dataDir.resolve(AdminToken.FILE_NAME)),
        ApiKeys.fromEnvironment(System.getenv()), dev.rendezvous.auth.Tls.fromEnvironment(System.getenv()));
  }

  /** Starts everything with a new registry of its own, served by the proxy on {@code /metrics}. */
  public static EmbeddedSystem start(Options options) throws Exception {
    return start(options, credentialsFromEnvironment(options.dataDir()));
  }

  /** Starts everything with these credentials and a new registry of its own. */
  public static EmbeddedSystem start(Options options, AccessControl access) throws Exception {
    PrometheusMeterRegistry metrics = Metrics.newRegistry();
    try {
      EmbeddedSystem system = start(options, metrics, access);
      system.ownsMetrics = true;
      return system;
    } catch (Exception e) {
      Metrics.close(metrics);
      throw e;
    }
  }

  /** Starts everything; every component registers its meters with {@code metrics}. */
  public static EmbeddedSystem start(Options options, PrometheusMeterRegistry metrics) throws Exception {
    return start(options, metrics, credentialsFromEnvironment(options.dataDir()));
  }

  /** Starts everything with these credentials; every component registers its meters with {@code metrics}. */
  public static EmbeddedSystem start(Options options, PrometheusMeterRegistry metrics, AccessControl access)
      throws Exception {
    long t0 = System.nanoTime();
    ScheduleRegistry schedules = new ScheduleRegistry();
    // Validated here so that a bad file stops the start with its message; put in force below through the
    // schedule log, which every process serving these problems follows.
    Set<String> problems = new TreeSet<>();
    loadSchedules(options.schedulesDir()).forEach(s -> problems.add(s.problem()));

    EmbeddedKafka broker = null;
    String bootstrap = options.bootstrapServers();
    if (bootstrap == null) {
      broker = EmbeddedKafka.start(options.dataDir().resolve("kafka"), 0);
      bootstrap = broker.bootstrapServers();
    }
    ProxyConfig pc = options.proxyConfig(bootstrap);
    for (String problem : problems) {
      Topics t = Topics.of(problem);
      KafkaTopics.ensure(bootstrap, List.of(t.input(), t.scores(), t.outcomes()), options.partitions(), (short) 1);
      // A results partition per proxy instance, on a data directory of fewer partitions too.
      KafkaTopics.ensureAtLeast(bootstrap, List.of(t.results()),
          Math.max(options.partitions(), pc.resultsPartitionsNeeded()), (short) 1);
    }
    // The score observer and the monitors read the same scores: one consumer feeds them all, off the request path.
    ScoreObserver observer = new ScoreObserver(problems, Clock.SYSTEM);
    List<ScoreMonitor> monitors = new ArrayList<>();
    for (String problem : problems) {
      monitors.add(new ScoreMonitor(options.monitorConfig(problem), null, metrics));
    }
    ScoreReaders scoreReaders = new ScoreReaders(bootstrap, observer, monitors, metrics).start();
    ScheduleControl control;
    try {
      control = new ScheduleControl(bootstrap, problems, schedules, options.runners(), Clock.SYSTEM,
          ScheduleControl.DEFAULT_RECENT_MS, metrics, observer).start();
    } catch (Exception e) {
      scoreReaders.close();
      throw e;
    }
    // A file seeds only an empty log; the watcher applies later edits. A restart keeps the version in force.
    Map<Path, String> applied = control.seedFrom(options.schedulesDir());
    ScheduleWatcher watcher = new ScheduleWatcher(options.schedulesDir(), control, ScheduleWatcher.DEFAULT_POLL_MS,
        applied).start();

    Vertx vertx = Vertx.vertx();
    List<RendezvousVerticle> rendezvous = new ArrayList<>();
    List<RunnerHost> hosts = new ArrayList<>();
    List<Decoy> decoys = new ArrayList<>();
    BackendReadiness readiness = null;
    try {
      List<CompletableFuture<Void>> ready = new ArrayList<>();
      ready.add(scoreReaders.assigned());
      if (options.startRendezvous()) {
        for (String problem : schedules.problems()) {
          RendezvousVerticle r = new RendezvousVerticle(
              RendezvousConfig.fromEnvironment(problem, bootstrap, System.getenv()), schedules,
              Clock.SYSTEM, metrics);
          await(vertx.deployVerticle(r));
          rendezvous.add(r);
          ready.add(r.assigned().toCompletionStage().toCompletableFuture());
        }
      }
      // The runners of one problem share one host: one input consumer, each request decoded once, one producer.
      Map<String, List<RunnerConfig>> byProblem = new LinkedHashMap<>();
      for (RunnerConfig rc : options.runners()) {
        if (schedules.current(rc.problem()).isEmpty()) {
          LOG.warn("runner {} is for problem {} which has no schedule; not started", rc.modelId(), rc.problem());
          continue;
        }
        byProblem.computeIfAbsent(rc.problem(), p -> new ArrayList<>()).add(rc);
      }
      for (List<RunnerConfig> configs : byProblem.values()) {
        RunnerHost host = new RunnerHost(configs, bootstrap, Clock.SYSTEM, metrics).start();
        hosts.add(host);
        ready.add(host.assigned());
      }
      for (String problem : schedules.problems()) {
        Decoy decoy = new Decoy(DecoyConfig.defaults(problem, options.dataDir().resolve("archive")), bootstrap,
            Clock.SYSTEM, metrics).start();
        decoys.add(decoy);
        ready.add(decoy.assigned());
      }
      CompletableFuture.allOf(ready.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      readiness = new BackendReadiness(bootstrap, schedules, control.observer(), pc.resultsPartition(0),
          Clock.SYSTEM, BackendReadiness.Settings.fromEnvironment(System.getenv()), metrics).start();
      // Unless given, admission and guard settings come from RDV_ADMISSION_*, RDV_GUARD_MARGIN_MS, RDV_ADMIN_THREADS.
      Proxy proxy = new Proxy(pc, schedules, Clock.SYSTEM, readiness::ready, new ScheduleRoutes(control),
          metrics, options.admission() != null ? options.admission() : AdmissionConfig.fromEnvironment(System.getenv()),
          access);
      await(vertx.deployVerticle(proxy));
      Set<String> localModels = new TreeSet<>();
      hosts.forEach(h -> h.models().forEach(m -> localModels.add(m.config().problem() + "/" + m.config().modelId())));
      int warmUps = warmUp(proxy.actualPort(), schedules, options.warmUpRequests(), proxy.warmUpKey(), access,
          localModels);
      long afterWarmUp = Clock.SYSTEM.nowMicros();
      for (ScoreMonitor monitor : monitors) {
        monitor.ignoreRequestsReceivedBefore(afterWarmUp);
      }
      readiness.checkNow();
      LOG.info("embedded system ready in {} ms: {} runner host(s) {}, problems {}",
          (System.nanoTime() - t0) / 1_000_000, hosts.size(), hosts, schedules.problems());
      return new EmbeddedSystem(broker, vertx, schedules, hosts, rendezvous, proxy, bootstrap, control, watcher,
          decoys, monitors, scoreReaders, metrics, access, warmUps, readiness);
    } catch (Exception e) {
      watcher.close();
      if (readiness != null) {
        readiness.close();
      }
      for (RunnerHost h : hosts) {
        h.close();
      }
      for (Decoy d : decoys) {
        d.close();
      }
      scoreReaders.close();
      await(vertx.close());
      control.close();
      if (broker != null) {
        broker.close();
      }
      throw e;
    }
  }

  /**
   * Warms the whole path up in two steps. First {@code count} requests, eight at a time, so that the JVM compiles
   * the hot code. Then, where a model of the first tier runs in this process, single requests one after the
   * other until {@link #SETTLED_IN_A_ROW} in a row are answered within the first tier, at most {@code count} of
   * them and {@link #SETTLE_LIMIT_MS} in all: the first real request then meets the path as a steady client
   * would, not the last of the compiler's work or a consumer still settling into its fetch sessions.
   *
   * @param localModels {@code problem/model} of every runner in this process
   */
  private static int warmUp(int port, ScheduleRegistry schedules, int count, WarmUpKey key, AccessControl access,
      Set<String> localModels) throws Exception {
    if (count <= 0) {
      return 0;
    }
    int total = 0;
    AdminToken admin = access.admin();
    HttpClient http = access.tls().map(t -> HttpClient.newBuilder().sslContext(t.pinnedClientContext()).build())
        .orElseGet(HttpClient::newHttpClient);
    String scheme = access.tls().isPresent() ? "https" : "http";
    for (String problem : schedules.problems()) {
      StringBuilder inputs = new StringBuilder();
      for (TensorSpec spec : schedules.current(problem).orElseThrow().schedule().inputs()) {
        long[] shape = spec.shape().clone();
        for (int i = 0; i < shape.length; i++) {
          shape[i] = shape[i] < 1 ? 1 : shape[i];
        }
        String zero = switch (spec.datatype()) {
          case "BOOL" -> "false";
          case "BYTES" -> "\"\"";
          default -> "0";
        };
        String zeros = String.join(",", Collections.nCopies((int) Tensor.elementCount(shape), zero));
        inputs.append(inputs.length() == 0 ? "" : ",").append("{\"name\":\"").append(spec.name())
            .append("\",\"datatype\":\"").append(spec.datatype()).append("\",\"shape\":")
            .append(Arrays.toString(shape).replace(" ", "")).append(",\"data\":[").append(zeros).append("]}");
      }
      HttpRequest request = HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + port + "/v2/models/" + problem
              + "/infer"))
          .header("content-type", "application/json")
          .header(WarmUpKey.HEADER, key.value())
          .header("authorization", "Bearer " + admin.value())
          .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + WARM_UP_ID + "\",\"inputs\":[" + inputs + "]}"))
          .build();
      for (int sent = 0; sent < count; sent += 8) {
        List<CompletableFuture<HttpResponse<Void>>> wave = new ArrayList<>();
        for (int i = sent; i < Math.min(count, sent + 8); i++) {
          wave.add(http.sendAsync(request, HttpResponse.BodyHandlers.discarding()));
        }
        CompletableFuture.allOf(wave.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        total += wave.size();
      }
      List<String> firstTier = schedules.current(problem).orElseThrow().schedule().tiers().get(0).accept();
      if (firstTier.stream().anyMatch(m -> localModels.contains(problem + "/" + m))) {
        total += settle(http, request, problem, count);
      }
    }
    return total;
  }

  /** Answers in a row within the first tier after which the warm-up counts the path as settled. */
  static final int SETTLED_IN_A_ROW = 5;
  /** The most time the settling step of the warm-up takes, per problem. */
  static final long SETTLE_LIMIT_MS = 20_000;

  /** Returns the number of requests it sent. */
  private static int settle(HttpClient http, HttpRequest request, String problem, int maxRequests)
      throws Exception {
    long start = System.nanoTime();
    int inARow = 0;
    int sent = 0;
    while (inARow < SETTLED_IN_A_ROW && sent < maxRequests
        && System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(SETTLE_LIMIT_MS)) {
      sent++;
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      boolean firstTier = false;
      if (r.statusCode() == 200) {
        JsonNode tier = Json.MAPPER.readTree(r.body()).path("parameters").path("tier");
        firstTier = tier.isInt() && tier.asInt() == 0;
      }
      inARow = firstTier ? inARow + 1 : 0;
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    if (inARow >= SETTLED_IN_A_ROW) {
      LOG.info("warm-up of {}: {} answers in a row within the first tier after {} single request(s), {} ms",
          problem, inARow, sent, ms);
    } else {
      LOG.warn("warm-up of {}: the first tier's models did not answer {} times in a row within their tier "
          + "({} single request(s), {} ms); the first requests may get a later tier or the default", problem,
          SETTLED_IN_A_ROW, sent, ms);
    }
    return sent;
  }

  /** The warm-up requests sent through the proxy before the system reported ready, every problem together. */
  public int warmUpRequests() {
    return warmUpRequests;
  }

  /** What the proxy's readiness reports, per problem (a rendezvous owns its partitions, its models score). */
  public BackendReadiness readiness() {
    return readiness;
  }

  public int port() {
    return proxy.actualPort();
  }

  /** The proxy's gRPC port, or -1 without gRPC. */
  public int grpcPort() {
    return proxy.actualGrpcPort();
  }

  /** The proxy: its instances, each on an event loop of its own with a results partition of its own. */
  public Proxy proxy() {
    return proxy;
  }

  /** The proxy's address on the loopback interface: {@code https://} when TLS is configured. */
  public String url() {
    return (access.tls().isPresent() ? "https" : "http") + "://127.0.0.1:" + port();
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The credentials the proxy checks; {@code access().admin().value()} is the admin token. */
  public AccessControl access() {
    return access;
  }

  public ScheduleRegistry schedules() {
    return schedules;
  }

  /** Every model runner of this process, one per model, whichever host it is in. */
  public List<HostedModel> runners() {
    return hosts.stream().flatMap(h -> h.models().stream()).toList();
  }

  /** The runner hosts of this process: one per problem, each with one input consumer for all its models. */
  public List<RunnerHost> runnerHosts() {
    return hosts;
  }

  /** Applies, rolls back and describes this system's schedules. */
  public ScheduleControl scheduleControl() {
    return control;
  }

  /** The registry every component of this process reports to, served on {@code /metrics}. */
  public PrometheusMeterRegistry metrics() {
    return metrics;
  }

  public List<RendezvousVerticle> rendezvous() {
    return rendezvous;
  }

  public List<Decoy> decoys() {
    return decoys;
  }

  public List<ScoreMonitor> monitors() {
    return monitors;
  }

  /** The one consumer of the scores topics that feeds the score monitors and the score observer. */
  public ScoreReaders scoreReaders() {
    return scoreReaders;
  }

  /**
   * Stops the proxy first (so no new work arrives), then the rendezvous, the runners, the decoys (after the
   * runners, so that the last scores are archived), the monitors and the broker.
   */
  @Override
  public void close() throws Exception {
    watcher.close();
    await(vertx.close());
    readiness.close();
    for (RunnerHost h : hosts) {
      h.close();
    }
    for (Decoy d : decoys) {
      d.close();
    }
    scoreReaders.close();
    control.close();
    if (broker != null) {
      broker.close();
    }
    if (ownsMetrics) {
      Metrics.close(metrics);
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
