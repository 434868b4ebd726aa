package dev.rendezvous.process;

import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.auth.AdminToken;
import dev.rendezvous.auth.ApiKeys;
import dev.rendezvous.common.Clock;
import dev.rendezvous.proxy.BackendReadiness;
import dev.rendezvous.proxy.ProxyConfig;
import dev.rendezvous.proxy.Proxy;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The HTTP proxy (Open Inference Protocol) alone, in front of a Kafka cluster. */
@Command(name = "proxy", mixinStandardHelpOptions = true,
    description = "Run the HTTP proxy for every problem in the schedules directory against a Kafka cluster.")
public final class ProxyCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;

  @Mixin AdmissionOptions admission;

  @Option(names = "--schedules", defaultValue = "${env:RDV_SCHEDULES:-schedules}",
      description = "Directory of schedule files; the proxy checks inputs against them and answers with their "
          + "default when nothing comes back in time (env RDV_SCHEDULES; default: ${DEFAULT-VALUE}).")
  Path schedules;

  @Option(names = "--host", defaultValue = "${env:RDV_PROXY_HOST:-127.0.0.1}",
      description = "Listen address; 0.0.0.0 in a container (env RDV_PROXY_HOST; default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", defaultValue = "${env:RDV_PROXY_PORT:-8080}",
      description = "HTTP port, 0 for any free one (env RDV_PROXY_PORT; default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--grpc-port", defaultValue = "${env:RDV_GRPC_PORT:-8081}",
      description = "Port of the Open Inference Protocol over gRPC, 0 for any free one, -1 for none "
          + "(env RDV_GRPC_PORT; default: ${DEFAULT-VALUE}).")
  int grpcPort;

  @Option(names = "--proxy-id", defaultValue = "${env:RDV_PROXY_ID}",
      description = "Prefix of the request ids this proxy stamps (env RDV_PROXY_ID; default: random).")
  String proxyId;

  @Option(names = "--results-partition", defaultValue = "${env:RDV_RESULTS_PARTITION:-0}",
      description = "The first of the partitions of each results topic that only this proxy reads, one per "
          + "instance (instance i reads this + i); every proxy replica needs partitions of its own. 'ordinal' "
          + "takes the number n at the end of the host name, as a Kubernetes StatefulSet pod gets, and reads from "
          + "n x --proxy-instances on (env RDV_RESULTS_PARTITION; default: ${DEFAULT-VALUE}).")
  String resultsPartition;

  @Option(names = "--proxy-instances", defaultValue = "${env:RDV_PROXY_INSTANCES:-0}",
      description = "Instances of the proxy serving the port, each on an event loop of its own with a results "
          + "partition of its own; 0 is one per available processor (env RDV_PROXY_INSTANCES; default: one per "
          + "processor).")
  int instances;

  @Option(names = "--admin-token-file", defaultValue = "${env:RDV_ADMIN_TOKEN_FILE:-data/admin-token}",
      description = "Where the admin token is read from, or written to (mode 600) when missing, unless "
          + "RDV_ADMIN_TOKEN sets it; give every replica the same token, e.g. RDV_ADMIN_TOKEN from a secret "
          + "(env RDV_ADMIN_TOKEN_FILE; default: ${DEFAULT-VALUE}).")
  Path adminTokenFile;

  @Option(names = "--api-keys-file", defaultValue = "${env:RDV_API_KEYS_FILE}",
      description = "Scoring keys, one per line ('#' starts a comment); when given, inference and metadata need "
          + "'Authorization: Bearer <key>' (env RDV_API_KEYS_FILE; default: none, scoring open).")
  Path apiKeysFile;

  @Override
  public Integer call() throws Exception {
    ApiKeys keys = apiKeysFile == null ? ApiKeys.open() : ApiKeys.load(apiKeysFile);
    AccessControl access;
    try {
      access = new AccessControl(AdminToken.resolve(System.getenv(), adminTokenFile), keys,
          dev.rendezvous.auth.Tls.fromEnvironment(System.getenv()));
    } catch (java.io.UncheckedIOException e) {
      // A read-only container without RDV_ADMIN_TOKEN: serve, but accept no write until a token is given.
      System.err.println("WARNING: " + e.getMessage() + "; schedule changes and outcomes are refused until "
          + AdminToken.ENV + " or a writable --admin-token-file is given");
      access = new AccessControl(AccessControl.locked().admin(), keys,
          dev.rendezvous.auth.Tls.fromEnvironment(System.getenv()));
    }
    ProxyConfig defaults = ProxyConfig.defaults(kafka.bootstrapServers());
    int n = instances == 0 ? defaults.instances() : instances;
    int first = firstResultsPartition(resultsPartition, System.getenv().getOrDefault("HOSTNAME", ""), n);
    ProxyConfig config = new ProxyConfig(host, port, defaults.bodyLimitBytes(),
        proxyId == null || proxyId.isBlank() ? defaults.proxyId() : proxyId, first, n, kafka.bootstrapServers(),
        grpcPort);
    ScheduleRegistry registry = new ScheduleRegistry();
    var control = Processes.followSchedules(kafka, schedules, registry);
    for (String problem : registry.problems()) {
      kafka.ensureTopics(problem, config.resultsPartitionsNeeded());
    }
    var metrics = dev.rendezvous.metrics.Metrics.newRegistry();
    BackendReadiness readiness = new BackendReadiness(kafka.bootstrapServers(), registry, control.observer(),
        config.resultsPartition(0), Clock.SYSTEM, BackendReadiness.Settings.fromEnvironment(System.getenv()),
        metrics).start();
    Vertx vertx = Vertx.vertx();
    Proxy proxy = new Proxy(config, registry, Clock.SYSTEM, readiness::ready,
        new dev.rendezvous.rollout.ScheduleRoutes(control), metrics, admission.config(), access);
    vertx.deployVerticle(proxy).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    Processes.ready("proxy " + (access.tls().isPresent() ? "https" : "http") + "://" + host + ":"
        + proxy.actualPort());
    return Processes.runUntilStopped(control, () -> dev.rendezvous.metrics.Metrics.close(metrics), readiness,
        () -> vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));
  }

  /**
   * The first results partition of a proxy of {@code instances} instances: the number set, or with {@code ordinal}
   * the replica's first ({@link ProxyConfig#firstResultsPartitionOfReplica}).
   */
  static int firstResultsPartition(String setting, String hostName, int instances) {
    int n = resultsPartition(setting, hostName);
    return setting.equals("ordinal") ? ProxyConfig.firstResultsPartitionOfReplica(n, instances) : n;
  }

  /** A partition number, or with {@code ordinal} the trailing number of the host name ({@code proxy-2} is 2). */
  static int resultsPartition(String setting, String hostName) {
    if (!setting.equals("ordinal")) {
      return Integer.parseInt(setting);
    }
    Matcher m = Pattern.compile("-(\\d+)$").matcher(hostName);
    if (!m.find()) {
      throw new IllegalArgumentException("--results-partition ordinal: host name '" + hostName
          + "' does not end in -<number>");
    }
    return Integer.parseInt(m.group(1));
  }
}
