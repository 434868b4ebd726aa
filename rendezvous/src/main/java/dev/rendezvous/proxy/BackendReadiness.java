package dev.rendezvous.proxy;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.ReturnAddress;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import dev.rendezvous.common.Topics;
import dev.rendezvous.common.WarmUp;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.rendezvous.RendezvousVerticle;
import dev.rendezvous.rollout.ScoreObserver;
import dev.rendezvous.runtime.Health;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the components behind the proxy can answer a problem's requests, for {@code /v2/health/ready} and
 * {@code /v2/models/{problem}/ready}. A problem is ready while both hold:
 *
 * <ul>
 *   <li>a rendezvous owns its requests: a member of the group {@code rdv.<problem>.rendezvous} is assigned
 *       partitions of the input topic (the group coordinator's view, asked with {@code describeConsumerGroups});
 *   <li>a model can answer: a model that the schedule in force accepts in some tier (named, or any serving model
 *       where a tier says {@code "*"}) has scored within {@code scoredWithinMs}, as the process's
 *       {@link ScoreObserver} saw on the scores topic.
 * </ul>
 *
 * <p>An idle system sends no requests, so no scores: once no accepted model has scored for half of
 * {@code scoredWithinMs}, this writes a probe request of zeros to the input topic (at most one per check and
 * problem). Its request id is a warm-up id ({@link WarmUp}), so the decoy, the score histograms and what-if skip
 * it; its result comes back to this proxy's results partition, where nobody waits for it.
 *
 * <p>The checks run every {@code intervalMs} on a thread of their own, never on an event loop; the answers the
 * HTTP handlers read are the last check's. Exported as {@code rdv_proxy_backend_ready{problem}} (1 or 0), the
 * probes as {@code rdv_proxy_readiness_probes_total{problem}}; every change is logged with its reason. Probes are
 * decided and scored like any request, so they count in the rendezvous's and the runners' meters.
 */
public final class BackendReadiness implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(BackendReadiness.class);

  /** The client id of probe requests; a readable label only (their request id is what marks them). */
  public static final String PROBE_CLIENT_ID = "rendezvous-readiness-probe";

  /**
   * How often readiness is checked, and how recently an accepted model must have scored.
   *
   * @param intervalMs period (and timeout) of the checks; env {@code RDV_READY_CHECK_MS}, default 1000
   * @param scoredWithinMs how recently a model the schedule accepts must have scored; env
   *     {@code RDV_READY_SCORED_WITHIN_MS}, default 10000 (probes keep an idle system's scores fresh)
   */
  public record Settings(long intervalMs, long scoredWithinMs) {

    public static final String INTERVAL_ENV = "RDV_READY_CHECK_MS";
    public static final String SCORED_WITHIN_ENV = "RDV_READY_SCORED_WITHIN_MS";

    public Settings {
      if (intervalMs < 1 || scoredWithinMs < 2 * intervalMs) {
        throw new IllegalArgumentException(INTERVAL_ENV + " must be at least 1 ms and " + SCORED_WITHIN_ENV
            + " at least twice as long, not " + intervalMs + " and " + scoredWithinMs);
      }
    }

    public static Settings defaults() {
      return new Settings(1000, 10_000);
    }

    /** The settings of the environment's variables, each defaulted when unset. */
    public static Settings fromEnvironment(Map<String, String> env) {
      return new Settings(number(env, INTERVAL_ENV, 1000), number(env, SCORED_WITHIN_ENV, 10_000));
    }

    private static long number(Map<String, String> env, String name, long fallback) {
      String v = env.get(name);
      try {
        return v == null || v.isBlank() ? fallback : Long.parseLong(v.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(name + " must be a whole number of milliseconds, not " + v);
      }
    }
  }

  private final ScheduleRegistry schedules;
  private final ScoreObserver observer;
  private final int resultsPartition;
  private final Clock clock;
  private final Settings settings;
  private final Admin admin;
  private final KafkaProducer<String, byte[]> probes;
  private final ScheduledExecutorService thread;
  private final Map<String, Health> health = new ConcurrentHashMap<>();
  private final Map<String, Long> lastProbeUs = new HashMap<>();
  private final Map<String, Counter> probesSent = new HashMap<>();

  /**
   * @param observer the score observer of this process (its schedule control's), which sees every score
   * @param resultsPartition the proxy's results partition: the return address of probe requests
   */
  public BackendReadiness(String bootstrapServers, ScheduleRegistry schedules, ScoreObserver observer,
      int resultsPartition, Clock clock, Settings settings, MeterRegistry metrics) {
    this.schedules = schedules;
    this.observer = observer;
    this.resultsPartition = resultsPartition;
    this.clock = clock;
    this.settings = settings;
    Map<String, Object> adminProps = new HashMap<>(KafkaSettings.admin(bootstrapServers));
    adminProps.putIfAbsent("client.id", "rdv-proxy-readiness");
    this.admin = Admin.create(adminProps);
    Map<String, Object> producerProps = new HashMap<>(KafkaSettings.producer(bootstrapServers));
    producerProps.put("client.id", "rdv-proxy-readiness-probes");
    this.probes = new KafkaProducer<>(producerProps, new StringSerializer(), new ByteArraySerializer());
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "rdv-readiness");
      t.setDaemon(true);
      return t;
    });
    for (String p : schedules.problems()) {
      health.put(p, Health.down("not checked yet"));
      Gauge.builder("rdv.proxy.backend.ready", this, r -> r.ready(p) ? 1 : 0).strongReference(true)
          .description("1 while a rendezvous owns the problem's partitions and a model its schedule accepts has "
              + "scored recently, else 0").tag("problem", p).register(metrics);
      probesSent.put(p, Counter.builder("rdv.proxy.readiness.probes").tag("problem", p)
          .description("Probe requests written to the input topic because no model that the schedule accepts "
              + "had scored for half the readiness window").register(metrics));
    }
  }

  /** Starts the periodic checks, the first at once. */
  public BackendReadiness start() {
    thread.scheduleWithFixedDelay(this::checkQuietly, 0, settings.intervalMs(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** True while the last check found the problem ready; false for a problem not served here. */
  public boolean ready(String problem) {
    Health h = health.get(problem);
    return h != null && h.ready();
  }

  /** The last check's finding for the problem, with the reason when it is not ready. */
  public Health health(String problem) {
    return health.getOrDefault(problem, Health.down("not served here"));
  }

  /**
   * Checks now, on the caller's thread, and waits for the answer (at most the check interval for Kafka's part);
   * a launcher calls it before it reports the system ready, so that readiness is current at that moment.
   */
  public void checkNow() throws InterruptedException {
    try {
      thread.submit(this::checkQuietly).get();
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  private void checkQuietly() {
    try {
      check();
    } catch (RuntimeException e) {
      LOG.warn("readiness check failed: {}", e.toString());
    }
  }

  private void check() {
    Map<String, String> rendezvous = rendezvousOwners();
    long now = clock.nowMicros();
    for (String problem : schedules.problems()) {
      Schedule schedule = schedules.current(problem).map(v -> v.schedule()).orElse(null);
      if (schedule == null) {
        update(problem, Health.down("no schedule in force"));
        continue;
      }
      long lastScoredUs = lastAcceptedScoreUs(schedule, observer.models(problem));
      long silentMs = lastScoredUs == Long.MIN_VALUE ? Long.MAX_VALUE : (now - lastScoredUs) / 1000;
      if (silentMs >= settings.scoredWithinMs() / 2) {
        probe(schedule, now);
      }
      String rendezvousProblem = rendezvous.get(problem);
      if (rendezvousProblem != null) {
        update(problem, Health.down(rendezvousProblem));
      } else if (silentMs > settings.scoredWithinMs()) {
        update(problem, Health.down("no model that the schedule accepts has scored in the last "
            + settings.scoredWithinMs() / 1000.0 + " s (probe requests sent)"));
      } else {
        update(problem, Health.up());
      }
    }
  }

  /** Problem to why no rendezvous owns it, for every problem whose group has no member with input partitions. */
  private Map<String, String> rendezvousOwners() {
    Map<String, String> group = new HashMap<>();
    for (String p : schedules.problems()) {
      group.put(RendezvousVerticle.group(p), p);
    }
    Map<String, String> problems = new HashMap<>();
    Map<String, KafkaFuture<ConsumerGroupDescription>> described =
        admin.describeConsumerGroups(group.keySet()).describedGroups();
    for (Map.Entry<String, KafkaFuture<ConsumerGroupDescription>> e : described.entrySet()) {
      String problem = group.get(e.getKey());
      try {
        ConsumerGroupDescription d = e.getValue().get(settings.intervalMs(), TimeUnit.MILLISECONDS);
        String input = Topics.of(problem).input();
        boolean owned = false;
        for (MemberDescription m : d.members()) {
          owned |= m.assignment().topicPartitions().stream().anyMatch(tp -> tp.topic().equals(input));
        }
        if (!owned) {
          problems.put(problem, "no rendezvous owns the partitions of " + input + " (group " + e.getKey() + ": "
              + d.members().size() + " member(s), " + d.groupState() + ")");
        }
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ex) {
        Throwable cause = ex.getCause() != null ? ex.getCause() : ex;
        problems.put(problem, cause instanceof GroupIdNotFoundException
            ? "no rendezvous has joined group " + e.getKey()
            : "cannot ask Kafka who owns " + problem + "'s partitions: " + cause.getMessage());
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        problems.put(problem, "interrupted");
      }
    }
    return problems;
  }

  /**
   * When a model that the schedule accepts in some tier last scored, epoch microseconds, or
   * {@link Long#MIN_VALUE} when none has been seen.
   */
  static long lastAcceptedScoreUs(Schedule schedule, List<ScoreObserver.Sighting> seen) {
    long last = Long.MIN_VALUE;
    for (ScoreObserver.Sighting s : seen) {
      for (int tier = 0; tier < schedule.tiers().size(); tier++) {
        if (schedule.accepts(tier, s.modelId(), s.modelVersion(), s.role())) {
          last = Math.max(last, s.lastSeenUs());
          break;
        }
      }
    }
    return last;
  }

  private void probe(Schedule schedule, long nowUs) {
    String problem = schedule.problem();
    Long last = lastProbeUs.get(problem);
    if (last != null && nowUs - last < settings.intervalMs() * 1000) {
      return;
    }
    lastProbeUs.put(problem, nowUs);
    List<Tensor> inputs = schedule.inputs().stream().map(BackendReadiness::zeros).toList();
    String id = WarmUp.PREFIX + "readiness-" + UUID.randomUUID();
    probesSent.get(problem).increment();
    InferenceRequest request = new InferenceRequest(id, PROBE_CLIENT_ID, problem,
        new ReturnAddress(Topics.of(problem).results(), resultsPartition).format(), nowUs,
        nowUs + schedule.deadlineMs() * 1000, inputs);
    probes.send(new ProducerRecord<>(Topics.of(problem).input(), id, Json.encode(request)), (meta, e) -> {
      if (e != null) {
        LOG.debug("readiness probe for {} not written: {}", problem, e.getMessage());
      }
    });
  }

  /** A tensor of zeros of the spec's shape, variable dimensions taken as 1. */
  private static Tensor zeros(TensorSpec spec) {
    long[] shape = spec.shape().clone();
    for (int i = 0; i < shape.length; i++) {
      shape[i] = Math.max(1, shape[i]);
    }
    return new Tensor(spec.name(), spec.datatype(), shape, new double[(int) Tensor.elementCount(shape)]);
  }

  private void update(String problem, Health now) {
    Health before = health.put(problem, now);
    if (before != null && before.ready() != now.ready()) {
      if (now.ready()) {
        LOG.info("problem {} ready: a rendezvous owns its partitions and its models score", problem);
      } else {
        LOG.warn("problem {} not ready: {}", problem, now.reason());
      }
    }
  }

  @Override
  public void close() {
    thread.shutdownNow();
    try {
      thread.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    probes.close(Duration.ZERO);
    admin.close(Duration.ZERO);
  }
}
