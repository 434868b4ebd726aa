package dev.rendezvous.process;

import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.canary.MonitorConfig;
import dev.rendezvous.canary.ScoreMonitor;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.Topics;
import dev.rendezvous.decoy.Decoy;
import dev.rendezvous.decoy.DecoyConfig;
import dev.rendezvous.kafka.KafkaTopics;
import dev.rendezvous.proxy.AdmissionConfig;
import dev.rendezvous.proxy.BackendReadiness;
import dev.rendezvous.proxy.Proxy;
import dev.rendezvous.proxy.ProxyConfig;
import dev.rendezvous.rendezvous.RendezvousConfig;
import dev.rendezvous.rendezvous.RendezvousVerticle;
import dev.rendezvous.rollout.ScheduleControl;
import dev.rendezvous.rollout.ScheduleLog;
import dev.rendezvous.rollout.ScheduleRoutes;
import dev.rendezvous.rollout.ScheduleWatcher;
import dev.rendezvous.rollout.ScoreObserver;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.runner.RunnerHost;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleLoader;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The components one process hosts, each started from its configuration against one Kafka cluster: the schedule
 * control that puts the schedule files in force, one rendezvous, runner host, decoy and score monitor per
 * problem, and the HTTP proxy. Both launchers assemble through this class: {@code up} starts every component
 * (after the embedded broker), each component command starts one, so the two differ only in what one JVM hosts.
 *
 * <p>The topics of every problem a component serves are created when missing, with the partitions and
 * replication factor given (the schedule log with that replication factor and one partition); a results topic gets at least one partition per proxy instance, added to it when it
 * has fewer. Every component registers its meters with the one registry, which the caller owns.
 * {@link #close} stops the proxy first (no new work) and its readiness checks, then the rendezvous, the runners, the
 * decoys (after the runners, so that the last scores are archived), the monitors and the schedule control.
 */
public final class Assembly implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Assembly.class);
  private static final long START_TIMEOUT_S = 120;

  private final String bootstrapServers;
  private final int partitions;
  private final short replicationFactor;
  private final PrometheusMeterRegistry metrics;
  private final Clock clock = Clock.SYSTEM;
  private final ScheduleRegistry schedules = new ScheduleRegistry();
  private final Set<String> withTopics = new TreeSet<>();
  private final List<CompletableFuture<?>> pending = new ArrayList<>();
  private final List<RendezvousVerticle> rendezvous = new ArrayList<>();
  private final List<RunnerHost> hosts = new ArrayList<>();
  private final List<Decoy> decoys = new ArrayList<>();
  private final List<ScoreMonitor> monitors = new ArrayList<>();
  private int resultsPartitions;
  private Vertx vertx;
  private ScoreObserver sharedObserver;
  private ScoreReaders scoreReaders;
  private ScheduleControl control;
  private ScheduleWatcher watcher;
  private BackendReadiness readiness;
  private Proxy proxy;

  public Assembly(String bootstrapServers, int partitions, short replicationFactor,
      PrometheusMeterRegistry metrics) {
    this.bootstrapServers = bootstrapServers;
    this.partitions = partitions;
    this.replicationFactor = replicationFactor;
    this.metrics = metrics;
    this.resultsPartitions = partitions;
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

  /** The problems of the schedule files in the directory, validated. */
  public static Set<String> problems(Path dir) {
    Set<String> problems = new TreeSet<>();
    loadSchedules(dir).forEach(s -> problems.add(s.problem()));
    return problems;
  }

  /**
   * Puts the schedule files in force the way every process of a deployment agrees on them: through each
   * problem's schedule log. A file seeds its problem's log only when the log is empty (otherwise the version in
   * force stays, and a file that differs from it is logged); then this process follows the log, so edits applied
   * anywhere reach it too. With {@code watch}, later edits of the files are applied as the next version.
   *
   * @param runners the runners whose scores the schedule status shows (what-if and promotion checks)
   */
  public ScheduleRegistry followSchedules(Path dir, List<RunnerConfig> runners, boolean watch) throws Exception {
    Set<String> problems = problems(dir);
    problems.forEach(this::ensureTopics);
    control = sharedObserver == null
        ? new ScheduleControl(bootstrapServers, problems, schedules, runners, clock, ScheduleControl.DEFAULT_RECENT_MS,
            metrics).start()
        : new ScheduleControl(bootstrapServers, problems, schedules, runners, clock, ScheduleControl.DEFAULT_RECENT_MS,
            metrics, sharedObserver).start();
    Map<Path, String> applied = control.seedFrom(dir);
    if (watch) {
      watcher = new ScheduleWatcher(dir, control, ScheduleWatcher.DEFAULT_POLL_MS, applied).start();
    }
    return schedules;
  }

  /** Starts one rendezvous per problem followed (see {@link #followSchedules}). */
  public List<RendezvousVerticle> rendezvous(BiFunction<String, String, RendezvousConfig> config) throws Exception {
    for (String problem : schedules.problems()) {
      RendezvousVerticle r = new RendezvousVerticle(config.apply(problem, bootstrapServers), schedules, clock,
          metrics);
      await(vertx().deployVerticle(r));
      rendezvous.add(r);
      pending.add(r.assigned().toCompletionStage().toCompletableFuture());
    }
    return rendezvous;
  }

  /**
   * Starts the runners, one host per problem: the runners of one problem share one input consumer (each request
   * decoded once) and one score producer. Where schedules are followed, a runner of a problem without one is
   * left out with a warning.
   */
  public List<RunnerHost> runners(List<RunnerConfig> configs) throws Exception {
    Map<String, List<RunnerConfig>> byProblem = new LinkedHashMap<>();
    for (RunnerConfig rc : configs) {
      if (control != null && schedules.current(rc.problem()).isEmpty()) {
        LOG.warn("runner {} is for problem {} which has no schedule; not started", rc.modelId(), rc.problem());
        continue;
      }
      byProblem.computeIfAbsent(rc.problem(), p -> new ArrayList<>()).add(rc);
    }
    for (Map.Entry<String, List<RunnerConfig>> e : byProblem.entrySet()) {
      ensureTopics(e.getKey());
      RunnerHost host = new RunnerHost(e.getValue(), bootstrapServers, clock, metrics);
      if (control != null) {
        host.rankBy(this::firstTierAccepting);
      }
      host.start();
      hosts.add(host);
      pending.add(host.assigned());
    }
    return hosts;
  }

  /**
   * The first tier (0-based) of the problem's current schedule that accepts this runner's model, or the number
   * of tiers when none does (a shadow model) or there is no schedule: the order in which a runner host scores.
   */
  int firstTierAccepting(RunnerConfig rc) {
    Optional<ScheduleRegistry.Versioned> current = schedules.current(rc.problem());
    if (current.isEmpty()) {
      return Integer.MAX_VALUE;
    }
    Schedule s = current.get().schedule();
    for (int t = 0; t < s.tiers().size(); t++) {
      if (s.accepts(t, rc.modelId(), rc.modelVersion(), rc.role())) {
        return t;
      }
    }
    return s.tiers().size();
  }

  /** Starts one decoy per problem. */
  public List<Decoy> decoys(Set<String> problems, Function<String, DecoyConfig> config) {
    for (String problem : problems) {
      ensureTopics(problem);
      Decoy decoy = new Decoy(config.apply(problem), bootstrapServers, clock, metrics).start();
      decoys.add(decoy);
      pending.add(decoy.assigned());
    }
    return decoys;
  }

  /**
   * Starts one score monitor per problem.
   *
   * @param notBeforeUs requests received before this time (epoch microseconds) are not counted: the warm-up's
   */
  public List<ScoreMonitor> monitors(Set<String> problems, Function<String, MonitorConfig> config, long notBeforeUs) {
    for (String problem : problems) {
      ensureTopics(problem);
      ScoreMonitor monitor = new ScoreMonitor(config.apply(problem), bootstrapServers, metrics)
          .ignoreRequestsReceivedBefore(notBeforeUs).start();
      monitors.add(monitor);
      pending.add(monitor.assigned());
    }
    return monitors;
  }

  /**
   * Starts one score monitor per problem, made without a consumer of their own: one consumer ({@link
   * ScoreReaders}) feeds them and the score observer that {@link #followSchedules}, called after this, then uses.
   * They read the same scores, so one consumer halves what is fetched off the request path.
   */
  public List<ScoreMonitor> sharedMonitors(Set<String> problems, Function<String, MonitorConfig> config) {
    problems.forEach(this::ensureTopics);
    sharedObserver = new ScoreObserver(problems, clock);
    for (String problem : problems) {
      monitors.add(new ScoreMonitor(config.apply(problem), null, metrics));
    }
    scoreReaders = new ScoreReaders(bootstrapServers, sharedObserver, monitors, metrics).start();
    pending.add(scoreReaders.assigned());
    return monitors;
  }

  /**
   * Gives each results topic at least {@code n} partitions, those of the problems followed so far (partitions
   * added) and those created later: a proxy reads one per instance.
   */
  public void resultsPartitions(int n) {
    if (n > resultsPartitions) {
      resultsPartitions = n;
      List<String> results = withTopics.stream().map(p -> Topics.of(p).results()).toList();
      if (!results.isEmpty()) {
        KafkaTopics.ensureAtLeast(bootstrapServers, results, n, replicationFactor);
      }
    }
  }

  /**
   * Starts the HTTP proxy for every problem followed, its instances each reading a results partition of their own;
   * it also serves the schedule endpoints and, with every meter of this process, {@code /metrics}. It reports a
   * problem ready while its {@link BackendReadiness} finds a rendezvous and a scoring model behind it.
   */
  public Proxy proxy(ProxyConfig config, AdmissionConfig admission, AccessControl access) throws Exception {
    resultsPartitions(config.resultsPartitionsNeeded());
    readiness = new BackendReadiness(bootstrapServers, schedules, control.observer(), config.resultsPartition(0),
        clock, BackendReadiness.Settings.fromEnvironment(System.getenv()), metrics).start();
    proxy = new Proxy(config, schedules, clock, readiness::ready, new ScheduleRoutes(control), metrics, admission,
        access);
    await(vertx().deployVerticle(proxy));
    return proxy;
  }

  /** Waits until every consumer started so far owns its partitions, so that the first request reaches it. */
  public void awaitAssigned() throws Exception {
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(START_TIMEOUT_S, TimeUnit.SECONDS);
    pending.clear();
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  public ScheduleRegistry schedules() {
    return schedules;
  }

  public ScheduleControl scheduleControl() {
    return control;
  }

  public PrometheusMeterRegistry metrics() {
    return metrics;
  }

  public List<RendezvousVerticle> rendezvousVerticles() {
    return rendezvous;
  }

  public List<RunnerHost> runnerHosts() {
    return hosts;
  }

  public List<Decoy> decoys() {
    return decoys;
  }

  public List<ScoreMonitor> monitors() {
    return monitors;
  }

  /** The one scores consumer of {@link #sharedMonitors}; null when the monitors have their own. */
  public ScoreReaders scoreReaders() {
    return scoreReaders;
  }

  /** The proxy's readiness checks; null without a proxy. */
  public BackendReadiness readiness() {
    return readiness;
  }

  /** Stops every component, in the order of the class comment; what fails to stop is logged, not thrown. */
  @Override
  public void close() {
    List<AutoCloseable> order = new ArrayList<>();
    order.add(watcher);
    if (vertx != null) {
      order.add(() -> await(vertx.close()));
    }
    order.add(readiness);
    order.addAll(hosts);
    order.addAll(decoys);
    order.add(scoreReaders);
    order.addAll(monitors);
    order.add(control);
    for (AutoCloseable c : order) {
      if (c == null) {
        continue;
      }
      try {
        c.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        LOG.warn("error while stopping {}: {}", c, e.toString());
      }
    }
  }

  private void ensureTopics(String problem) {
    if (withTopics.add(problem)) {
      Topics t = Topics.of(problem);
      KafkaTopics.ensure(bootstrapServers, List.of(t.input(), t.scores(), t.outcomes()), partitions,
          replicationFactor);
      KafkaTopics.ensureAtLeast(bootstrapServers, List.of(t.results()), Math.max(partitions, resultsPartitions),
          replicationFactor);
      ScheduleLog.ensureTopic(bootstrapServers, problem, replicationFactor);
    }
  }

  private Vertx vertx() {
    if (vertx == null) {
      vertx = Vertx.vertx();
    }
    return vertx;
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
