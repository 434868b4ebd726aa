package dev.rendezvous.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.auth.AdminToken;
import dev.rendezvous.bench.BenchSuite;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.canary.ScoreMonitor;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import dev.rendezvous.decoy.Decoy;
import dev.rendezvous.metrics.Metrics;
import dev.rendezvous.process.AdmissionOptions;
import dev.rendezvous.process.Assembly;
import dev.rendezvous.process.DecoyOptions;
import dev.rendezvous.process.KafkaOptions;
import dev.rendezvous.process.MonitorOptions;
import dev.rendezvous.process.ProxyOptions;
import dev.rendezvous.process.RendezvousOptions;
import dev.rendezvous.process.RunnerOptions;
import dev.rendezvous.process.SchedulesOptions;
import dev.rendezvous.process.ScoreReaders;
import dev.rendezvous.proxy.BackendReadiness;
import dev.rendezvous.proxy.Proxy;
import dev.rendezvous.proxy.ProxyConfig;
import dev.rendezvous.proxy.WarmUpKey;
import dev.rendezvous.rendezvous.RendezvousVerticle;
import dev.rendezvous.rollout.ScheduleControl;
import dev.rendezvous.runner.HostedModel;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.runner.RunnerHost;
import dev.rendezvous.runtime.JitWarmUp;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * Everything in one process: an embedded Kafka broker (unless an external cluster is given) and every component
 * of {@link Assembly}: one rendezvous per problem, the model runners (canary included) of each problem in one
 * {@link RunnerHost}, one decoy (archiving to {@code <data>/archive}) and one score monitor per problem (the
 * monitors and the score observer share one scores consumer, {@link ScoreReaders}), and the HTTP proxy (one
 * instance per processor unless told otherwise, each on an event loop of its own). {@link #start} returns once every consumer owns its partitions and the path is warmed up, so the
 * first request is scored by every model.
 */
public final class EmbeddedSystem implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedSystem.class);

  /**
   * What {@code up} starts: every component's options, each falling back to its {@code RDV_*} variable, plus the
   * embedded system's own. {@link #parse} reads them from a command line, the way {@code up} does.
   */
  public static final class Options {

    @Mixin KafkaOptions kafka;
    @Mixin SchedulesOptions schedules;
    @Mixin ProxyOptions proxy;
    @Mixin AdmissionOptions admission;
    @Mixin RendezvousOptions rendezvous;
    @Mixin RunnerOptions runner;
    @Mixin DecoyOptions decoy;
    @Mixin MonitorOptions monitor;

    @Option(names = "--data", defaultValue = "${env:RDV_DATA:-data}",
        description = "Directory of the embedded broker's data (<data>/kafka), the decoy's archive (<data>/archive) "
            + "and the admin token (<data>/admin-token); kept across restarts.")
    Path data;

    @Option(names = "--runners", split = ",", defaultValue = "${env:RDV_RUNNERS:-model-runners/config,canary/config}",
        description = "Directories searched for runner configurations (*.yaml), comma-separated.")
    List<Path> runnerDirs;

    @Option(names = "--warm-up", defaultValue = "${env:RDV_WARM_UP:-200}",
        description = "Zero-valued requests sent through the whole path per problem, eight at a time, before "
            + "reporting ready; then more of them until the JIT compiler is quiet (--warm-up-jit-max); then single "
            + "requests until five in a row are answered within the first tier (at most as many again, and 20 s), "
            + "so that the first real request is answered by the champion. 0 turns the warm-up off.")
    int warmUp;

    @Option(names = "--warm-up-jit-max", defaultValue = "${env:RDV_WARM_UP_JIT_MAX:-30}",
        description = "After the --warm-up requests, warm-up load goes on (eight requests at a time per problem) "
            + "until the JIT compiler is quiet: it compiled less than 20 ms per second over the last 5 s. This "
            + "bounds that step, in seconds (on two cores the compiler is not quiet within a minute, so the bound "
            + "is what applies); 0 skips it. Without it the compiler still takes most of a core for tens of "
            + "seconds after start, and the first requests miss the first tier.")
    int warmUpJitMaxSeconds;

    @Option(names = "--rendezvous", negatable = true, defaultValue = "${env:RDV_RENDEZVOUS:-true}",
        fallbackValue = "true",
        description = "--no-rendezvous leaves the rendezvous out: the proxy then answers every request with the "
            + "default at the deadline, which shows the deadline guard at work.")
    boolean startRendezvous;

    /** The options of this command line, each unset one from its variable or its default. */
    public static Options parse(String... args) {
      Options options = new Options();
      new CommandLine(options).parseArgs(args);
      return options;
    }

    public Path dataDir() {
      return data;
    }

    /** The address the proxy listens on. */
    public String host() {
      return proxy.host();
    }

    public KafkaOptions kafka() {
      return kafka;
    }

    public ProxyOptions proxy() {
      return proxy;
    }

    public AdmissionOptions admission() {
      return admission;
    }

    public RendezvousOptions rendezvous() {
      return rendezvous;
    }

    public RunnerOptions runner() {
      return runner;
    }

    public DecoyOptions decoy() {
      return decoy;
    }

    public MonitorOptions monitor() {
      return monitor;
    }

    /** The runner configurations of the {@code --runners} directories, with the runner overrides applied. */
    public List<RunnerConfig> runners() {
      return RunnerConfig.loadAll(runnerDirs);
    }
  }

  /** The client id of warm-up requests; only a readable label: what marks them is their request id. */
  public static final String WARM_UP_ID = "rendezvous-warm-up";

  private final EmbeddedKafka broker;
  private final Assembly assembly;
  private final Proxy proxy;
  private final AccessControl access;
  private final boolean ownsMetrics;
  private final int warmUpRequests;

  private EmbeddedSystem(EmbeddedKafka broker, Assembly assembly, Proxy proxy, AccessControl access,
      boolean ownsMetrics, int warmUpRequests) {
    this.broker = broker;
    this.assembly = assembly;
    this.proxy = proxy;
    this.access = access;
    this.ownsMetrics = ownsMetrics;
    this.warmUpRequests = warmUpRequests;
  }

  /** The systems {@code bench --suite} measures: each an embedded system on the suite's own broker. */
  public static BenchSuite.Systems forBenchmarks() {
    return (data, schedules, runners, bootstrap, warmUp) -> {
      EmbeddedSystem system = start(Options.parse("--grpc-port", "-1", "--data", data.toString(), "--schedules", schedules.toString(),
          "--port", "0", "--bootstrap-servers", bootstrap, "--partitions", "4", "--warm-up",
          Integer.toString(warmUp), "--warm-up-jit-max", "0"), runners);
      return new BenchSuite.Running(system.url(), system);
    };
  }

  /** Starts everything the options say, with the runners of their {@code --runners} directories. */
  public static EmbeddedSystem start(Options options) throws Exception {
    return start(options, options.runners());
  }

  /** Starts everything with these runners (the runner options still apply) and the options' credentials. */
  public static EmbeddedSystem start(Options options, List<RunnerConfig> runners) throws Exception {
    return start(options, runners, null);
  }

  /**
   * Starts everything with these credentials (null: the options') and a new registry of its own, served by the
   * proxy on {@code /metrics}.
   */
  public static EmbeddedSystem start(Options options, List<RunnerConfig> runners, AccessControl access)
      throws Exception {
    PrometheusMeterRegistry metrics = Metrics.newRegistry();
    try {
      return start(options, runners, metrics, access, true);
    } catch (Exception e) {
      Metrics.close(metrics);
      throw e;
    }
  }

  /** Starts everything; every component registers its meters with {@code metrics}, which the caller closes. */
  public static EmbeddedSystem start(Options options, List<RunnerConfig> runners, PrometheusMeterRegistry metrics,
      AccessControl access) throws Exception {
    return start(options, runners, metrics, access, false);
  }

  private static EmbeddedSystem start(Options options, List<RunnerConfig> runners, PrometheusMeterRegistry metrics,
      AccessControl access, boolean ownsMetrics) throws Exception {
    long t0 = System.nanoTime();
    AccessControl credentials = access != null ? access
        : options.proxy.access(options.data.resolve(AdminToken.FILE_NAME));
    // Validated first, so that a bad file stops the start with its message before anything runs.
    Set<String> problems = Assembly.problems(options.schedules.dir());
    EmbeddedKafka broker = options.kafka.given() ? null : EmbeddedKafka.start(options.data.resolve("kafka"), 0);
    String bootstrap = broker != null ? broker.bootstrapServers() : options.kafka.bootstrapServers();
    Assembly assembly = new Assembly(bootstrap, options.kafka.partitions(), options.kafka.replicationFactor(),
        metrics);
    try {
      List<RunnerConfig> configs = runners.stream().map(options.runner::apply).toList();
      ProxyConfig proxyConfig = options.proxy.toConfig(bootstrap, ProxyConfig.defaultInstancesBesideThePipeline());
      // A results partition per proxy instance, on a data directory of fewer partitions too.
      assembly.resultsPartitions(proxyConfig.resultsPartitionsNeeded());
      // The score observer and the monitors read the same scores: one consumer feeds them all, off the request path.
      assembly.sharedMonitors(problems, options.monitor::toConfig);
      ScheduleRegistry schedules = assembly.followSchedules(options.schedules.dir(), configs, true);
      if (options.startRendezvous) {
        assembly.rendezvous(options.rendezvous::toConfig);
      }
      assembly.runners(configs);
      Path archive = options.data.resolve("archive");
      assembly.decoys(schedules.problems(), p -> options.decoy.toConfig(p, archive));
      assembly.awaitAssigned();
      Proxy proxy = assembly.proxy(proxyConfig, options.admission.toConfig(), credentials);
      Set<String> localModels = new TreeSet<>();
      assembly.runnerHosts().forEach(h -> h.models().forEach(
          m -> localModels.add(m.config().problem() + "/" + m.config().modelId())));
      int warmUps = warmUp(proxy.actualPort(), schedules, options.warmUp,
          TimeUnit.SECONDS.toMillis(options.warmUpJitMaxSeconds), proxy.warmUpKey(), credentials, localModels);
      // The monitors count no request received before the warm-up ended.
      long afterWarmUp = Clock.SYSTEM.nowMicros();
      assembly.monitors().forEach(m -> m.ignoreRequestsReceivedBefore(afterWarmUp));
      assembly.readiness().checkNow();
      LOG.info("embedded system ready in {} ms: {} runner host(s) {}, problems {}",
          (System.nanoTime() - t0) / 1_000_000, assembly.runnerHosts().size(), assembly.runnerHosts(),
          schedules.problems());
      return new EmbeddedSystem(broker, assembly, proxy, credentials, ownsMetrics, warmUps);
    } catch (Exception e) {
      assembly.close();
      if (broker != null) {
        broker.close();
      }
      throw e;
    }
  }

  /**
   * Warms the whole path up in three steps. First {@code count} requests per problem, eight at a time, so that
   * the JVM compiles the hot code. Then, for at most {@code jitMaxMs}, more of them until the JIT compiler is
   * quiet ({@link #JIT_QUIET}): the compiler's queue outlasts the first step by tens of seconds, and while it
   * drains, it takes a core and the path runs partly interpreted. Then, where a model of the first tier runs in
   * this process, single requests one after the other until {@link #SETTLED_IN_A_ROW} in a row are answered
   * within the first tier, at most {@code count} of them and {@link #SETTLE_LIMIT_MS} in all: the first real
   * request then meets the path as a steady client would.
   *
   * @param localModels {@code problem/model} of every runner in this process
   */
  private static int warmUp(int port, ScheduleRegistry schedules, int count, long jitMaxMs, WarmUpKey key,
      AccessControl access, Set<String> localModels) throws Exception {
    if (count <= 0) {
      return 0;
    }
    AdminToken admin = access.admin();
    HttpClient http = access.tls().map(t -> HttpClient.newBuilder().sslContext(t.pinnedClientContext()).build())
        .orElseGet(HttpClient::newHttpClient);
    String scheme = access.tls().isPresent() ? "https" : "http";
    Map<String, HttpRequest> requests = new LinkedHashMap<>();
    for (String problem : schedules.problems()) {
      requests.put(problem, HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + port + "/v2/models/"
              + problem + "/infer"))
          .header("content-type", "application/json")
          .header(WarmUpKey.HEADER, key.value())
          .header("authorization", "Bearer " + admin.value())
          .POST(HttpRequest.BodyPublishers.ofString(zeroRequest(schedules, problem)))
          .build());
    }
    int[] total = {0};
    for (HttpRequest request : requests.values()) {
      for (int sent = 0; sent < count; sent += WARM_UP_WAVE) {
        total[0] += wave(http, request, Math.min(WARM_UP_WAVE, count - sent));
      }
    }
    if (jitMaxMs > 0) {
      JitWarmUp.Result jit = JitWarmUp.run(new JitWarmUp.Policy(0, JIT_QUIET_WINDOW_MS, jitMaxMs,
          JIT_QUIET_WINDOW_MS, JIT_QUIET, 500), ms -> {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
            while (System.nanoTime() < end) {
              for (HttpRequest request : requests.values()) {
                total[0] += wave(http, request, WARM_UP_WAVE);
              }
            }
          });
      LOG.info("warm-up until the JIT is quiet: {}", jit.describe());
    }
    for (Map.Entry<String, HttpRequest> e : requests.entrySet()) {
      String problem = e.getKey();
      List<String> firstTier = schedules.current(problem).orElseThrow().schedule().tiers().get(0).accept();
      if (firstTier.stream().anyMatch(m -> localModels.contains(problem + "/" + m))) {
        total[0] += settle(http, e.getValue(), problem, count);
      }
    }
    return total[0];
  }

  /** Warm-up requests in flight at once, per problem. */
  static final int WARM_UP_WAVE = 8;
  /** Compiler milliseconds per second below which the JIT counts as quiet, over {@link #JIT_QUIET_WINDOW_MS}. */
  static final double JIT_QUIET = 20;
  static final long JIT_QUIET_WINDOW_MS = 5_000;

  /** Sends {@code n} copies of the request at once and waits for every answer; returns {@code n}. */
  private static int wave(HttpClient http, HttpRequest request, int n) throws Exception {
    List<CompletableFuture<HttpResponse<Void>>> wave = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      wave.add(http.sendAsync(request, HttpResponse.BodyHandlers.discarding()));
    }
    CompletableFuture.allOf(wave.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    return n;
  }

  /** A request of zeros (false, empty strings) in the shape of the problem's inputs, 1 for each open dimension. */
  private static String zeroRequest(ScheduleRegistry schedules, String problem) {
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
    return "{\"id\":\"" + WARM_UP_ID + "\",\"inputs\":[" + inputs + "]}";
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
    return assembly.readiness();
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
    return assembly.bootstrapServers();
  }

  /** The credentials the proxy checks; {@code access().admin().value()} is the admin token. */
  public AccessControl access() {
    return access;
  }

  public ScheduleRegistry schedules() {
    return assembly.schedules();
  }

  /** Every model runner of this process, one per model, whichever host it is in. */
  public List<HostedModel> runners() {
    return assembly.runnerHosts().stream().flatMap(h -> h.models().stream()).toList();
  }

  /** The runner hosts of this process: one per problem, each with one input consumer for all its models. */
  public List<RunnerHost> runnerHosts() {
    return assembly.runnerHosts();
  }

  /** Applies, rolls back and describes this system's schedules. */
  public ScheduleControl scheduleControl() {
    return assembly.scheduleControl();
  }

  /** The registry every component of this process reports to, served on {@code /metrics}. */
  public PrometheusMeterRegistry metrics() {
    return assembly.metrics();
  }

  public List<RendezvousVerticle> rendezvous() {
    return assembly.rendezvousVerticles();
  }

  public List<Decoy> decoys() {
    return assembly.decoys();
  }

  public List<ScoreMonitor> monitors() {
    return assembly.monitors();
  }

  /** The one consumer of the scores topics that feeds the score monitors and the score observer. */
  public ScoreReaders scoreReaders() {
    return assembly.scoreReaders();
  }

  /** Stops every component ({@link Assembly#close} says in which order), then the broker. */
  @Override
  public void close() throws Exception {
    assembly.close();
    if (broker != null) {
      broker.close();
    }
    if (ownsMetrics) {
      Metrics.close(assembly.metrics());
    }
  }
}
