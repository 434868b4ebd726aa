package dev.rendezvous.canary;

import dev.rendezvous.common.Role;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.runtime.Batch;
import dev.rendezvous.runtime.CommitPolicy;
import dev.rendezvous.runtime.Component;
import dev.rendezvous.runtime.ConsumerLoop;
import dev.rendezvous.runtime.ErrorPolicy;
import dev.rendezvous.runtime.Health;
import dev.rendezvous.runtime.OffPathFetch;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches every model's scores for one problem. Per model version it keeps a {@link DriftDetector} (its
 * recent scores against its own reference; for the canary, whose model never changes, a drift means the
 * input changed) and, for serving models, a {@link PairedWindow} against the canary on the same requests.
 * Everything is exported through the {@link MeterRegistry} given, tagged with problem, model, version and
 * role; a drift alarm is logged as a warning when it starts and at info when it ends.
 *
 * <p>Its {@link ConsumerLoop} reads the scores topic in the monitor's own group from the latest offset (auto
 * commit: a restarted monitor builds new references anyway), with the {@link OffPathFetch} settings. Failed
 * scores are ignored; a record that is not a score is skipped and counted ({@code
 * rdv_consumer_poison_skipped_total{loop="monitor-<problem>"}}). A monitor made without a Kafka cluster reads
 * nothing itself and is fed through {@link #accept}, for instance by a reader that shares one scores consumer
 * between the monitors and the score observer.
 */
public final class ScoreMonitor implements Component {

  private static final Logger LOG = LoggerFactory.getLogger(ScoreMonitor.class);
  /**
   * How long after a request was received its scores still wait for their pair (the canary's for a model's,
   * the models' for the canary's): two seconds, forty deadlines of the demo schedule. Models score a request
   * in parallel, so the scores of one request come within a few deadlines of each other unless a runner is
   * seconds behind, and such a runner's pairs would not describe the models' agreement anyway. Kept short on
   * purpose: a waiting pair outlives several young collections, and each copies it.
   */
  static final long PAIRING_TIMEOUT_US = 2_000_000;
  /** At most this many requests wait for their pairs, whatever the rate (a bound on memory). */
  static final int MAX_PENDING_PAIRS = 50_000;


  /** A snapshot of one model's state, for tests and tools; the same numbers the meters show. */
  public record ModelView(String modelId, String modelVersion, Role role, long scores, boolean referenceReady,
      long windows, double driftStatistic, double driftPValue, double driftThreshold, boolean alarm, long alarms,
      int pairs, double meanDifferenceToCanary, double rankCorrelationWithCanary,
      double distributionStatisticVsCanary) {}

  private final MonitorConfig config;
  private final MeterRegistry registry;
  private final Topics topics;
  private final ConsumerLoop<String, byte[]> loop;
  private final Map<String, ModelState> models = new ConcurrentHashMap<>();
  private volatile long notBeforeUs;
  /** Requests whose scores wait for a pair, in the order of their first score. */
  private final LinkedHashMap<String, PendingPair> pending = new LinkedHashMap<>(1024);
  /** The latest reception time of a request among the scores taken, the clock pairs expire by. */
  private long latestReceivedAtUs = Long.MIN_VALUE;

  public ScoreMonitor(MonitorConfig config, String bootstrapServers, MeterRegistry registry) {
    this.config = config;
    this.registry = registry;
    this.topics = Topics.of(config.problem());
    this.loop = bootstrapServers == null ? null : ConsumerLoop.builder("monitor-" + config.problem(),
            consumerProps(bootstrapServers, config), new StringDeserializer(), new ByteArrayDeserializer(),
            this::handle)
        .subscribe(List.of(topics.scores()))
        .commit(CommitPolicy.auto(null))
        .errors(ErrorPolicy.retryThen(ErrorPolicy.Exhausted.SKIP))
        .metrics(registry)
        .build();
  }

  @Override
  public ScoreMonitor start() {
    if (loop == null) {
      throw new IllegalStateException("a monitor made without a Kafka cluster is fed through accept()");
    }
    loop.start();
    return this;
  }

  /** Completes once the monitor owns partitions of the scores topic, their positions resolved. */
  public CompletableFuture<Void> assigned() {
    if (loop == null) {
      throw new IllegalStateException("a monitor made without a Kafka cluster is fed through accept()");
    }
    return loop.assigned();
  }

  @Override
  public String name() {
    return "monitor-" + config.problem();
  }

  /** The health of its consumer loop; a monitor fed through {@link #accept} is always ready. */
  @Override
  public Health health() {
    return loop == null ? Health.up() : loop.health();
  }

  /**
   * Ignores the scores of requests received before this time (epoch µs), such as the launcher's warm-up
   * requests of zeros, which would otherwise become part of every model's reference. Warm-up requests are
   * skipped by their request id anyway ({@link dev.rendezvous.common.WarmUp}); this also covers a monitor
   * started after a burst of other start-up traffic.
   */
  public ScoreMonitor ignoreRequestsReceivedBefore(long epochUs) {
    this.notBeforeUs = epochUs;
    return this;
  }

  public MonitorConfig config() {
    return config;
  }

  private void handle(Batch<String, byte[]> batch) {
    for (ConsumerRecord<String, byte[]> r : batch) {
      Score score = batch.decode(r, Score::fromJson);
      if (score != null) {
        accept(score);
      }
    }
  }

  /** Takes one score into account. Called by the monitor's thread; call it from one thread only. */
  public void accept(Score score) {
    if (score.failed() || score.outputs() == null || score.outputs().isEmpty()
        || score.receivedAtUs() < notBeforeUs || dev.rendezvous.common.WarmUp.isWarmUp(score.requestId())) {
      return;
    }
    double[] values = values(score);
    if (values.length == 0) {
      return;
    }
    ModelState state = models.computeIfAbsent(score.modelId() + "@" + score.modelVersion(),
        k -> new ModelState(score.modelId(), score.modelVersion(), score.role()));
    for (double v : values) {
      state.add(v);
    }
    boolean canary = score.role() == Role.CANARY;
    expirePairs(score.receivedAtUs());
    if (score.receivedAtUs() < latestReceivedAtUs - PAIRING_TIMEOUT_US) {
      return; // its pair, if any, is no longer waiting
    }
    PendingPair p = pending.get(score.requestId());
    if (p == null) {
      p = new PendingPair(score.receivedAtUs());
      pending.put(score.requestId(), p);
    }
    if (canary) {
      if (p.canary == null) {
        p.canary = values;
        for (Map.Entry<ModelState, double[]> e : p.others.entrySet()) {
          pair(e.getKey(), e.getValue(), values);
        }
        p.others.clear();
      }
    } else if (p.canary != null) {
      pair(state, values, p.canary);
    } else {
      p.others.put(state, values);
    }
  }

  /**
   * Forgets the requests received more than {@link #PAIRING_TIMEOUT_US} before the latest one seen, and the
   * oldest beyond {@link #MAX_PENDING_PAIRS}. Time is the requests' reception as stamped by the proxy, not this
   * thread's clock, so a monitor catching up on a backlog pairs exactly as one keeping up.
   */
  private void expirePairs(long receivedAtUs) {
    latestReceivedAtUs = Math.max(latestReceivedAtUs, receivedAtUs);
    long oldest = latestReceivedAtUs - PAIRING_TIMEOUT_US;
    for (var it = pending.values().iterator(); it.hasNext(); ) {
      PendingPair p = it.next();
      if (p.receivedAtUs >= oldest && pending.size() <= MAX_PENDING_PAIRS) {
        break;
      }
      it.remove();
    }
  }

  /** Requests whose scores wait for a pair; for tests. */
  int pendingPairs() {
    return pending.size();
  }

  private void pair(ModelState model, double[] modelValues, double[] canaryValues) {
    for (int i = 0; i < Math.min(modelValues.length, canaryValues.length); i++) {
      model.addPair(modelValues[i], canaryValues[i]);
    }
  }

  private double[] values(Score score) {
    Tensor chosen = score.outputs().get(0);
    if (config.output() != null) {
      chosen = null;
      for (Tensor t : score.outputs()) {
        if (t.name().equals(config.output())) {
          chosen = t;
        }
      }
      if (chosen == null) {
        return new double[0];
      }
    }
    return chosen.data();
  }

  /** The state of a model (its latest version seen when several are live), or empty before its first score. */
  public Optional<ModelView> view(String modelId) {
    ModelView latest = null;
    for (ModelState s : models.values()) {
      if (s.modelId.equals(modelId) && (latest == null || s.scores > latest.scores())) {
        latest = s.view();
      }
    }
    return Optional.ofNullable(latest);
  }

  public List<ModelView> views() {
    List<ModelView> out = new ArrayList<>();
    models.values().forEach(s -> out.add(s.view()));
    return out;
  }

  static Properties consumerProps(String bootstrapServers, MonitorConfig config) {
    Properties p = KafkaSettings.clientProperties(bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
    return OffPathFetch.apply(p);
  }

  @Override
  public void close() throws InterruptedException {
    if (loop != null) {
      loop.close();
    }
  }

  private static final class PendingPair {
    final long receivedAtUs;
    double[] canary;
    final Map<ModelState, double[]> others = new HashMap<>(4);

    PendingPair(long receivedAtUs) {
      this.receivedAtUs = receivedAtUs;
    }
  }

  /** One model version's detector, paired window and meters. Written by one thread, read by scrapes. */
  private final class ModelState {
    final String modelId;
    final String version;
    final Role role;
    final DriftDetector drift;
    final PairedWindow pairedWindow;
    final Counter alarmCounter;
    volatile long scores;
    /** The last closed window, published as one value so that a reader never sees half of it. */
    volatile WindowState window;
    /** The paired comparison with the canary, published the same way. */
    volatile PairState paired = new PairState(0, Double.NaN, Double.NaN, Double.NaN);
    int pairsSinceUpdate;

    ModelState(String modelId, String version, Role role) {
      this.modelId = modelId;
      this.version = version;
      this.role = role;
      this.drift = new DriftDetector(config.referenceSize(), config.windowSize(), config.bins(), config.alarmPValue());
      this.pairedWindow = new PairedWindow(config.pairedWindow());
      this.window = new WindowState(0, Double.NaN, Double.NaN, drift.threshold(), false, 0);
      Tags tags = Tags.of("problem", config.problem(), "model", modelId, "version", version, "role",
          role.wireName());
      this.alarmCounter = Counter.builder("rdv.monitor.drift.alarms")
          .description("Windows whose scores drifted from the model's reference").tags(tags).register(registry);
      gauge("rdv.monitor.drift.statistic", "G statistic of the last window against the reference", tags,
          s -> s.window.statistic());
      gauge("rdv.monitor.drift.p.value", "p-value of the last window's G statistic (chi-square)", tags,
          s -> s.window.pValue());
      gauge("rdv.monitor.drift.threshold", "G above which a window raises the drift alarm", tags,
          s -> s.window.threshold());
      gauge("rdv.monitor.drift.alarm", "1 while the last window drifted, else 0", tags,
          s -> s.window.alarm() ? 1 : 0);
      if (role != Role.CANARY) {
        gauge("rdv.monitor.canary.mean.difference", "Mean of (model - canary) on the same requests", tags,
            s -> s.paired.meanDifference());
        gauge("rdv.monitor.canary.rank.correlation", "Spearman rank correlation with the canary", tags,
            s -> s.paired.rankCorrelation());
        gauge("rdv.monitor.canary.distribution.statistic",
            "G statistic of the model's against the canary's scores on the same requests", tags,
            s -> s.paired.distributionStatistic());
      }
    }

    private void gauge(String name, String description, Tags tags, ToDoubleFunction<ModelState> f) {
      Gauge.builder(name, this, f).description(description).tags(tags).register(registry);
    }

    void add(double value) {
      scores++;
      DriftDetector.Drift d = drift.add(value);
      if (d == null) {
        return;
      }
      WindowState before = window;
      double statistic = d.test().g();
      double pValue = d.test().pValue();
      double threshold = drift.threshold();
      LOG.debug("{} v{} window {} ({} scores seen): G = {}, p = {}", modelId, version, d.window(), scores,
          fmt(statistic), pValue);
      String what = role == Role.CANARY ? "input shift: the canary's" : "score drift: model";
      if (d.alarm()) {
        alarmCounter.increment();
        if (!before.alarm()) {
          LOG.warn("{} {} v{} scores on {} left their reference: G = {} > {} (df {}, p = {} < {}) over the last {} "
                  + "scores", what, modelId, version, config.problem(), fmt(statistic), fmt(threshold), d.test().df(),
              String.format("%.2g", pValue), config.alarmPValue(), config.windowSize());
        }
      } else if (before.alarm()) {
        LOG.info("{} {} v{} on {} is back within its reference: G = {} (p = {})", what, modelId, version,
            config.problem(), fmt(statistic), String.format("%.2g", pValue));
      }
      window = new WindowState(d.window(), statistic, pValue, threshold, d.alarm(),
          before.alarms() + (d.alarm() ? 1 : 0));
    }

    void addPair(double model, double canary) {
      pairedWindow.add(model, canary);
      int pairs = pairedWindow.size();
      if (++pairsSinceUpdate >= Math.min(config.windowSize(), config.pairedWindow()) || pairs < 20) {
        pairsSinceUpdate = 0;
        paired = new PairState(pairs, pairedWindow.meanDifference(), pairedWindow.spearman(), versusCanary());
      } else {
        PairState last = paired;
        paired = new PairState(pairs, last.meanDifference(), last.rankCorrelation(), last.distributionStatistic());
      }
    }

    /** G of the model's and the canary's scores in the paired window, over bins at the pooled deciles. */
    private double versusCanary() {
      double[] m = pairedWindow.modelScores();
      double[] c = pairedWindow.canaryScores();
      double[] pooled = new double[m.length + c.length];
      System.arraycopy(m, 0, pooled, 0, m.length);
      System.arraycopy(c, 0, pooled, m.length, c.length);
      java.util.Arrays.sort(pooled);
      double[] cuts = java.util.stream.IntStream.range(1, config.bins())
          .mapToDouble(i -> pooled[i * pooled.length / config.bins()]).distinct().toArray();
      double[] a = new double[cuts.length + 1];
      double[] b = new double[cuts.length + 1];
      for (double v : m) {
        a[bin(cuts, v)]++;
      }
      for (double v : c) {
        b[bin(cuts, v)]++;
      }
      return GTest.homogeneity(a, b).g();
    }

    ModelView view() {
      WindowState w = window;
      PairState p = paired;
      return new ModelView(modelId, version, role, scores, drift.referenceReady(), w.windows(), w.statistic(),
          w.pValue(), w.threshold(), w.alarm(), w.alarms(), p.pairs(), p.meanDifference(), p.rankCorrelation(),
          p.distributionStatistic());
    }
  }

  private record WindowState(long windows, double statistic, double pValue, double threshold, boolean alarm,
      long alarms) {
  }

  private record PairState(int pairs, double meanDifference, double rankCorrelation, double distributionStatistic) {
  }

  private static int bin(double[] cuts, double v) {
    int i = java.util.Arrays.binarySearch(cuts, v);
    return i >= 0 ? i : -i - 1;
  }

  private static String fmt(double v) {
    return String.format("%.1f", v);
  }
}
