package dev.rendezvous.process;

import dev.rendezvous.common.Score;
import dev.rendezvous.common.Topics;
import dev.rendezvous.canary.ScoreMonitor;
import dev.rendezvous.rollout.ScoreObserver;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.runtime.Batch;
import dev.rendezvous.runtime.CommitPolicy;
import dev.rendezvous.runtime.Component;
import dev.rendezvous.runtime.ConsumerLoop;
import dev.rendezvous.runtime.ErrorPolicy;
import dev.rendezvous.runtime.Health;
import dev.rendezvous.runtime.OffPathFetch;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The readers of the scores topics in one process, behind one consumer: one {@link ConsumerLoop} (loop {@value
 * #LOOP}) reads every partition of every problem's scores topic from the end, without a group, with the {@link
 * OffPathFetch} settings, decodes each record once, and hands each score to the {@link ScoreObserver} and to
 * the problem's {@link ScoreMonitor}, both made without a consumer of their own. They read the same records,
 * so one consumer instead of two halves what they fetch and the threads they take from the request path.
 *
 * <p>Delivery: a score is seen at most once while the process runs, and scores written while it was not
 * running are not seen, as with the observer's own loop; a monitor builds its references from live scores
 * anyway. A record that is not a score is skipped, logged with its offset and counted once ({@code
 * rdv_consumer_poison_skipped_total{loop="score-readers", topic}}).
 */
public final class ScoreReaders implements Component {

  /** The loop's name, and its {@code loop} label. */
  public static final String LOOP = "score-readers";

  private final ScoreObserver observer;
  private final Map<String, String> problemOfTopic = new HashMap<>();
  private final Map<String, ScoreMonitor> monitorOf = new HashMap<>();
  private final ConsumerLoop<String, byte[]> loop;

  /**
   * @param observer an observer made without a Kafka cluster ({@link ScoreObserver#ScoreObserver(java.util.Set,
   *     dev.rendezvous.common.Clock)})
   * @param monitors monitors made without a Kafka cluster, one per problem read
   */
  public ScoreReaders(String bootstrapServers, ScoreObserver observer, List<ScoreMonitor> monitors,
      MeterRegistry metrics) {
    this.observer = observer;
    for (ScoreMonitor m : monitors) {
      String topic = Topics.of(m.config().problem()).scores();
      problemOfTopic.put(topic, m.config().problem());
      monitorOf.put(topic, m);
    }
    Properties props = OffPathFetch.apply(KafkaSettings.clientProperties(bootstrapServers));
    this.loop = ConsumerLoop.builder(LOOP, props, new StringDeserializer(), new ByteArrayDeserializer(),
            this::handle)
        .assignAll(List.copyOf(problemOfTopic.keySet()), ConsumerLoop.StartPosition.END)
        .commit(CommitPolicy.none())
        .errors(ErrorPolicy.retryThen(ErrorPolicy.Exhausted.SKIP))
        .metrics(metrics)
        .build();
  }

  private void handle(Batch<String, byte[]> batch) {
    for (ConsumerRecord<String, byte[]> r : batch) {
      Score s = batch.decode(r, Score::fromJson);
      if (s != null) {
        observer.observe(problemOfTopic.get(r.topic()), s);
        monitorOf.get(r.topic()).accept(s);
      }
    }
  }

  @Override
  public ScoreReaders start() {
    loop.start();
    return this;
  }

  /** Completes once the loop reads every scores partition, its positions resolved at the end. */
  public CompletableFuture<Void> assigned() {
    return loop.assigned();
  }

  @Override
  public String name() {
    return LOOP;
  }

  /** The health of the one loop that feeds the observer and the monitors. */
  @Override
  public Health health() {
    return loop.health();
  }

  @Override
  public void close() throws InterruptedException {
    loop.close();
  }
}
