package dev.rendezvous.bench;

import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.kafka.KafkaTopics;
import dev.rendezvous.runtime.CommitPolicy;
import dev.rendezvous.runtime.ConsumerLoop;
import dev.rendezvous.runtime.OffPathFetch;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The design's own limit: the full system's topic fan-out with no model work, no parsing and no decision rule.
 * A Vert.x front produces each HTTP request to an input topic and answers from its own partition of a results
 * topic, then writes an outcome record, like the proxy; runner-like relays (a dedicated thread each, raw clients,
 * like a model runner) read every input record and write a score record each; a rendezvous-like joiner (Vert.x
 * clients, one consumer on input and scores) answers with the first score of each request; watchers read the
 * topics and discard what they read, like the decoy (input, scores, outcomes) and the score monitor and status
 * observer (scores), with the same off-path fetch settings. Where {@link RelayBaseline} is the transport's limit,
 * this is what the full system could reach if its components cost nothing.
 */
public final class FanOutRelay implements AutoCloseable {

  private static final String PREFIX = "rdv-bench-fanout";
  private static final Duration POLL = Duration.ofMillis(100);
  /** The runner host's commit interval, so that the runner-like readers commit as often as the runners do. */
  private static final Duration RUNNER_COMMIT_INTERVAL = Duration.ofSeconds(1);

  /**
   * The fan-out to reproduce.
   *
   * @param runners runner-like relays: each reads every request and writes one score; 0 stands for "as many as
   *     the system compared with has runners", resolved with {@link #withRunners} before the relay starts
   * @param sharedInput true: one consumer reads the input for all runners and one producer writes their scores
   *     (a process hosting every runner on one input consumer); false: a consumer and a producer per runner
   * @param inputWatchers decoy-like readers of input, scores and outcomes
   * @param scoreWatchers monitor- or observer-like readers of scores
   */
  public record Shape(int runners, boolean sharedInput, int inputWatchers, int scoreWatchers) {

    public Shape {
      if (runners < 0 || inputWatchers < 0 || scoreWatchers < 0) {
        throw new IllegalArgumentException("a fan-out has no negative count of runners or readers");
      }
    }

    /** The same shape with this many runners if it left the count open (0), else itself. */
    public Shape withRunners(int count) {
      return runners > 0 ? this : new Shape(count, sharedInput, inputWatchers, scoreWatchers);
    }

    /**
     * The embedded default's fan-out for a problem served by {@code runners} runners (canary included): one
     * runner host reading the input for all of them and writing their scores with one producer, one decoy, and
     * one reader of scores that the score monitor and the status page's observer share.
     */
    public static Shape embeddedDefault(int runners) {
      return new Shape(runners, true, 1, 1);
    }

    public String describe() {
      return runners + " runner-like relays (" + (sharedInput ? "one shared input consumer and score producer"
          : "a consumer and a producer each") + "), " + inputWatchers + " decoy-like and " + scoreWatchers
          + " score-only watcher(s), one rendezvous-like joiner";
    }
  }

  private final Vertx vertx;
  private final HttpServer server;
  private final List<ConsumerLoop<String, byte[]>> loops;

  private FanOutRelay(Vertx vertx, HttpServer server, List<ConsumerLoop<String, byte[]>> loops) {
    this.vertx = vertx;
    this.server = server;
    this.loops = loops;
  }

  public static FanOutRelay start(String bootstrap, int partitions, Shape shape) throws Exception {
    if (shape.runners() < 1) {
      throw new IllegalArgumentException("the fan-out relay needs at least one runner-like relay");
    }
    String input = PREFIX + ".input";
    String scores = PREFIX + ".scores";
    String results = PREFIX + ".results";
    String outcomes = PREFIX + ".outcomes";
    KafkaTopics.ensure(bootstrap, List.of(input, scores, results, outcomes), partitions, (short) 1);
    Vertx vertx = Vertx.vertx();
    List<ConsumerLoop<String, byte[]>> loops = new ArrayList<>();
    List<CompletableFuture<Void>> ready = new ArrayList<>();

    int consumers = shape.sharedInput() ? 1 : shape.runners();
    int scoresEach = shape.sharedInput() ? shape.runners() : 1;
    for (int i = 0; i < consumers; i++) {
      String name = "runner-like-" + i;
      Properties cp = KafkaSettings.consumerProperties(bootstrap);
      cp.put("group.id", PREFIX + "." + name);
      cp.put("auto.offset.reset", "latest");
      cp.put("max.poll.records", "500");
      byte[][] payloads = new byte[scoresEach][];
      for (int k = 0; k < scoresEach; k++) {
        payloads[k] = ("{\"model\":\"m" + (i * scoresEach + k) + "\",\"outputs\":[{\"name\":\"probability\","
            + "\"datatype\":\"FP32\",\"shape\":[1,1],\"data\":[0.5]}]}").getBytes(StandardCharsets.UTF_8);
      }
      var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(
          KafkaSettings.producerProperties(bootstrap), new StringSerializer(), new ByteArraySerializer());
      loops.add(reader(name, cp, CommitPolicy.auto(RUNNER_COMMIT_INTERVAL), List.of(input), ready, r -> {
        for (byte[] p : payloads) {
          producer.send(new ProducerRecord<>(scores, r.key(), p));
        }
      }, producer::close));
    }
    for (int i = 0; i < shape.inputWatchers(); i++) {
      Properties cp = watcherProperties(bootstrap, PREFIX + ".decoy-like-" + i);
      loops.add(reader("decoy-like-" + i, cp, CommitPolicy.auto(null), List.of(input, scores, outcomes), ready,
          r -> {}, () -> {}));
    }
    for (int i = 0; i < shape.scoreWatchers(); i++) {
      Properties cp = watcherProperties(bootstrap, PREFIX + ".score-watcher-" + i);
      loops.add(reader("score-watcher-" + i, cp, CommitPolicy.auto(null), List.of(scores), ready, r -> {},
          () -> {}));
    }

    // The joiner, like the rendezvous: Vert.x clients, one consumer on input and scores, answers on the first
    // score. It counts each request's scores so that later ones are dropped and its memory stays bounded.
    Map<String, String> joinProps = KafkaSettings.consumer(bootstrap);
    joinProps.put("group.id", PREFIX + ".joiner");
    joinProps.put("auto.offset.reset", "latest");
    KafkaConsumer<String, byte[]> join = KafkaConsumer.create(vertx, joinProps, new StringDeserializer(),
        new ByteArrayDeserializer());
    KafkaProducer<String, byte[]> joinOut = KafkaProducer.create(vertx, KafkaSettings.producer(bootstrap),
        new StringSerializer(), new ByteArraySerializer());
    Map<String, int[]> seen = new LinkedHashMap<>(1024, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, int[]> eldest) {
        return size() > 100_000;
      }
    };
    Promise<Void> joinAssigned = Promise.promise();
    join.partitionsAssignedHandler(p -> joinAssigned.tryComplete());
    join.handler(r -> {
      if (r.topic().equals(input)) {
        seen.putIfAbsent(r.key(), new int[1]);
        return;
      }
      int[] count = seen.computeIfAbsent(r.key(), k -> new int[1]);
      if (count[0]++ == 0) {
        joinOut.send(KafkaProducerRecord.create(results, r.key(), r.value(), null, 0));
      }
      if (count[0] >= shape.runners()) {
        seen.remove(r.key());
      }
    });
    join.pollTimeout(POLL);
    await(join.subscribe(Set.of(input, scores)));

    // The front, like the proxy: HTTP in, produce, answer from its own results partition, then an outcome.
    Map<String, HttpServerRequest> waiting = new HashMap<>();
    KafkaProducer<String, byte[]> frontOut = KafkaProducer.create(vertx, KafkaSettings.producer(bootstrap),
        new StringSerializer(), new ByteArraySerializer());
    Map<String, String> frontProps = KafkaSettings.consumer(bootstrap);
    frontProps.put("enable.auto.commit", "false");
    KafkaConsumer<String, byte[]> frontIn = KafkaConsumer.create(vertx, frontProps, new StringDeserializer(),
        new ByteArrayDeserializer());
    long[] sequence = {0};
    byte[] outcome = "{\"outcome\":\"model\"}".getBytes(StandardCharsets.UTF_8);
    HttpServer server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      String id = Long.toString(sequence[0]++, 36);
      waiting.put(id, req);
      frontOut.send(KafkaProducerRecord.create(input, id, body.getBytes()));
    }));
    frontIn.handler(r -> {
      HttpServerRequest req = waiting.remove(r.key());
      if (req != null) {
        req.response().putHeader("content-type", "application/json").end(Buffer.buffer(r.value()));
        frontOut.send(KafkaProducerRecord.create(outcomes, r.key(), outcome));
      }
    });
    frontIn.pollTimeout(POLL);
    TopicPartition own = new TopicPartition(results, 0);
    await(frontIn.assign(Set.of(own)).compose(v -> frontIn.seekToEnd(own)));
    for (CompletableFuture<Void> f : ready) {
      f.get(60, TimeUnit.SECONDS);
    }
    await(joinAssigned.future());
    await(server.listen(0, "127.0.0.1"));
    return new FanOutRelay(vertx, server, loops);
  }

  /** A reader off the request path fetches as the decoy and the score readers do ({@link OffPathFetch}). */
  private static Properties watcherProperties(String bootstrap, String group) {
    Properties cp = KafkaSettings.clientProperties(bootstrap);
    cp.put("group.id", group);
    cp.put("auto.offset.reset", "latest");
    return OffPathFetch.apply(cp);
  }

  private interface OnRecord {
    void accept(ConsumerRecord<String, byte[]> r);
  }

  /** A reader on a consumer loop of its own, like the runners, the decoy and the monitor. */
  private static ConsumerLoop<String, byte[]> reader(String name, Properties props, CommitPolicy commit,
      List<String> topics, List<CompletableFuture<Void>> ready, OnRecord onRecord, Runnable onClose) {
    ConsumerLoop<String, byte[]> loop = ConsumerLoop.<String, byte[]>builder("fanout-" + name, props,
            new StringDeserializer(), new ByteArrayDeserializer(), batch -> {
              for (ConsumerRecord<String, byte[]> r : batch) {
                onRecord.accept(r);
              }
            })
        .subscribe(topics).commit(commit).pollTimeout(POLL)
        .onStop(onClose::run)
        .build().start();
    ready.add(loop.assigned());
    return loop;
  }

  public String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  @Override
  public void close() throws Exception {
    for (ConsumerLoop<String, byte[]> loop : loops) {
      loop.close();
    }
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
