package dev.rendezvous.rollout;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.Role;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.runtime.Batch;
import dev.rendezvous.runtime.CommitPolicy;
import dev.rendezvous.runtime.Component;
import dev.rendezvous.runtime.ConsumerLoop;
import dev.rendezvous.runtime.ErrorPolicy;
import dev.rendezvous.runtime.Health;
import dev.rendezvous.runtime.OffPathFetch;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Watches the scores topics of some problems and keeps, for each model seen scoring, its role, device,
 * runners, when it last scored and its recent latency. This is how the status endpoint lists models that
 * run in shadow, and how a schedule naming a model that nobody runs is noticed.
 *
 * <p>Bounded: at most {@value #MAX_MODELS} models per problem are remembered (the longest silent is
 * forgotten first) and latency is kept for the last {@value #WINDOW} scores of each. Its {@link ConsumerLoop}
 * reads every partition from the end, without a consumer group, with the {@link OffPathFetch} settings; a score
 * is counted at most once while this observer runs, and scores written while it was not running are not seen. A
 * record that is not a score is skipped and counted ({@code
 * rdv_consumer_poison_skipped_total{loop="score-observer"}}). An observer made without a Kafka cluster reads
 * nothing itself: a reader that shares its scores consumer feeds it through {@link #observe}.
 */
public final class ScoreObserver implements Component {

  static final int MAX_MODELS = 256;
  static final int WINDOW = 256;

  /** What is known of one model version on one device, as of the moment it was asked. */
  public record Sighting(String problem, String modelId, String modelVersion, Role role, String device,
      Set<String> runners, long scores, long errors, long lastSeenUs, double latencyP50Ms, double latencyP99Ms) {}

  private static final class Tally {
    final String problem;
    final String modelId;
    final String modelVersion;
    final Role role;
    final String device;
    final Set<String> runners = new TreeSet<>();
    final double[] latencies = new double[WINDOW];
    long scores;
    long errors;
    long lastSeenUs;

    Tally(Score s, String problem) {
      this.problem = problem;
      this.modelId = s.modelId();
      this.modelVersion = s.modelVersion();
      this.role = s.role();
      this.device = s.device();
    }

    synchronized void add(Score s, long nowUs) {
      if (runners.size() < 16) {
        runners.add(s.runnerId());
      }
      latencies[(int) (scores % WINDOW)] = (s.scoredAtUs() - s.receivedAtUs()) / 1000.0;
      scores++;
      if (s.failed()) {
        errors++;
      }
      lastSeenUs = nowUs;
    }

    synchronized Sighting snapshot() {
      int n = (int) Math.min(scores, WINDOW);
      double[] sorted = Arrays.copyOf(latencies, n);
      Arrays.sort(sorted);
      return new Sighting(problem, modelId, modelVersion, role, device, Set.copyOf(runners), scores, errors,
          lastSeenUs, percentile(sorted, 0.50), percentile(sorted, 0.99));
    }
  }

  private final Clock clock;
  private final ConsumerLoop<String, byte[]> loop;
  private final Map<String, String> problemOfTopic = new HashMap<>();
  private final Map<String, LinkedHashMap<String, Tally>> byProblem = new HashMap<>();

  /** An observer whose consumer meters are kept but not exported. */
  public ScoreObserver(String bootstrapServers, Set<String> problems, Clock clock) {
    this(bootstrapServers, problems, clock, new SimpleMeterRegistry());
  }

  /** An observer fed through {@link #observe} by a reader that shares its scores consumer. */
  public ScoreObserver(Set<String> problems, Clock clock) {
    this(null, problems, clock, new SimpleMeterRegistry());
  }

  /**
   * An observer whose consumer loop registers its {@code rdv_consumer_*} meters with {@code metrics}; with a
   * null {@code bootstrapServers}, one fed through {@link #observe}.
   */
  public ScoreObserver(String bootstrapServers, Set<String> problems, Clock clock, MeterRegistry metrics) {
    this.clock = clock;
    for (String p : problems) {
      problemOfTopic.put(Topics.of(p).scores(), p);
      byProblem.put(p, new LinkedHashMap<>(16, 0.75f, true));
    }
    if (bootstrapServers == null) {
      this.loop = null;
      return;
    }
    Properties props = OffPathFetch.apply(KafkaSettings.clientProperties(bootstrapServers));
    this.loop = ConsumerLoop.builder("score-observer", props, new StringDeserializer(),
            new ByteArrayDeserializer(), this::handle)
        .assignAll(List.copyOf(problemOfTopic.keySet()), ConsumerLoop.StartPosition.END)
        .commit(CommitPolicy.none())
        .errors(ErrorPolicy.retryThen(ErrorPolicy.Exhausted.SKIP))
        .metrics(metrics)
        .build();
  }

  @Override
  public ScoreObserver start() {
    if (loop != null) {
      loop.start();
    }
    return this;
  }

  @Override
  public String name() {
    return loop == null ? "score-observer" : loop.name();
  }

  /**
   * The health of its consumer loop: ready once it reads every scores partition. An observer fed by another
   * reader is always ready: that reader's loop reports for it.
   */
  @Override
  public Health health() {
    return loop == null ? Health.up() : loop.health();
  }

  /** Every model seen scoring for the problem, most recently seen first. */
  public List<Sighting> models(String problem) {
    LinkedHashMap<String, Tally> tallies = byProblem.get(problem);
    if (tallies == null) {
      return List.of();
    }
    List<Tally> copy;
    synchronized (tallies) {
      copy = new ArrayList<>(tallies.values());
    }
    List<Sighting> out = new ArrayList<>();
    for (Tally t : copy) {
      out.add(t.snapshot());
    }
    out.sort(Comparator.comparingLong(Sighting::lastSeenUs).reversed());
    return out;
  }

  private void handle(Batch<String, byte[]> batch) {
    for (ConsumerRecord<String, byte[]> r : batch) {
      Score s = batch.decode(r, Score::fromJson);
      if (s != null) {
        observe(problemOfTopic.get(r.topic()), s);
      }
    }
  }

  /**
   * Takes one score of the problem into account; scores of problems this observer was not made for are
   * ignored. Call it from one thread at a time (its own loop's, or the feeding reader's).
   */
  public void observe(String problem, Score s) {
    LinkedHashMap<String, Tally> tallies = byProblem.get(problem);
    if (tallies == null) {
      return;
    }
    String key = s.modelId() + "\u0000" + s.modelVersion() + "\u0000" + s.role() + "\u0000" + s.device();
    Tally t;
    synchronized (tallies) {
      t = tallies.get(key);
      if (t == null) {
        if (tallies.size() >= MAX_MODELS) {
          // Access order: the first entry is the one looked up least recently, i.e. the longest silent.
          tallies.remove(tallies.keySet().iterator().next());
        }
        t = new Tally(s, problem);
        tallies.put(key, t);
      }
    }
    t.add(s, clock.nowMicros());
  }

  private static double percentile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  @Override
  public void close() throws InterruptedException {
    if (loop != null) {
      loop.close();
    }
  }
}
