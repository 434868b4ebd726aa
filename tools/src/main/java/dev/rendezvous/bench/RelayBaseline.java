package dev.rendezvous.bench;

import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.kafka.KafkaTopics;
import dev.rendezvous.runtime.CommitPolicy;
import dev.rendezvous.runtime.ConsumerLoop;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The transport limit: HTTP in, three topic hops, HTTP out, and nothing else. It mirrors the rendezvous path
 * with the same clients and settings (a Vert.x front that produces and reads its own results partition, a
 * consumer-loop relay like a runner, a Vert.x relay like the rendezvous) but parses nothing and decides
 * nothing: the request body comes back as the answer.
 */
public final class RelayBaseline implements AutoCloseable {

  private static final String PREFIX = "rdv-bench-relay";

  private final Vertx vertx;
  private final HttpServer server;
  private final ConsumerLoop<String, byte[]> runnerLike;

  private RelayBaseline(Vertx vertx, HttpServer server, ConsumerLoop<String, byte[]> runnerLike) {
    this.vertx = vertx;
    this.server = server;
    this.runnerLike = runnerLike;
  }

  public static RelayBaseline start(String bootstrap, int partitions) throws Exception {
    String a = PREFIX + ".a";
    String b = PREFIX + ".b";
    String c = PREFIX + ".c";
    KafkaTopics.ensure(bootstrap, List.of(a, b, c), partitions, (short) 1);
    Vertx vertx = Vertx.vertx();
    Map<String, String> producerProps = KafkaSettings.producer(bootstrap);

    // Hop 1 -> 2, like a runner: a consumer loop with the raw clients.
    Properties cp = KafkaSettings.consumerProperties(bootstrap);
    cp.put("group.id", PREFIX + ".runner-like");
    cp.put("auto.offset.reset", "latest");
    Properties pp = new Properties();
    pp.putAll(producerProps);
    var rawProducer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(pp, new StringSerializer(),
        new ByteArraySerializer());
    ConsumerLoop<String, byte[]> runnerLike = ConsumerLoop.<String, byte[]>builder("relay-runner-like", cp,
            new StringDeserializer(), new ByteArrayDeserializer(), batch -> {
              for (ConsumerRecord<String, byte[]> r : batch) {
                rawProducer.send(new ProducerRecord<>(b, r.key(), r.value()));
              }
            })
        .subscribe(List.of(a)).commit(CommitPolicy.auto(null)).pollTimeout(Duration.ofMillis(100))
        .onStop(rawProducer::close)
        .build().start();

    // Hop 2 -> 3, like the rendezvous: Vert.x clients, results sent to the front's partition.
    Map<String, String> groupProps = KafkaSettings.consumer(bootstrap);
    groupProps.put("group.id", PREFIX + ".rendezvous-like");
    groupProps.put("auto.offset.reset", "latest");
    KafkaConsumer<String, byte[]> middle = KafkaConsumer.create(vertx, groupProps, new StringDeserializer(),
        new ByteArrayDeserializer());
    KafkaProducer<String, byte[]> middleOut = KafkaProducer.create(vertx, producerProps, new StringSerializer(),
        new ByteArraySerializer());
    io.vertx.core.Promise<Void> middleAssigned = io.vertx.core.Promise.promise();
    middle.partitionsAssignedHandler(p -> middleAssigned.tryComplete());
    middle.handler(r -> middleOut.send(KafkaProducerRecord.create(c, r.key(), r.value(), null, 0)));
    middle.pollTimeout(Duration.ofMillis(100));
    await(middle.subscribe(b));

    // The front, like the proxy: HTTP in, produce, answer from its own partition of the last topic.
    Map<String, HttpServerRequest> waiting = new HashMap<>();
    KafkaProducer<String, byte[]> frontOut = KafkaProducer.create(vertx, producerProps, new StringSerializer(),
        new ByteArraySerializer());
    Map<String, String> frontProps = KafkaSettings.consumer(bootstrap);
    frontProps.put("enable.auto.commit", "false");
    KafkaConsumer<String, byte[]> frontIn = KafkaConsumer.create(vertx, frontProps, new StringDeserializer(),
        new ByteArrayDeserializer());
    long[] sequence = {0};
    HttpServer server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      String id = Long.toString(sequence[0]++, 36);
      waiting.put(id, req);
      frontOut.send(KafkaProducerRecord.create(a, id, body.getBytes()));
    }));
    frontIn.handler(r -> {
      HttpServerRequest req = waiting.remove(r.key());
      if (req != null) {
        req.response().putHeader("content-type", "application/json").end(Buffer.buffer(r.value()));
      }
    });
    frontIn.pollTimeout(Duration.ofMillis(100));
    TopicPartition own = new TopicPartition(c, 0);
    await(frontIn.assign(java.util.Set.of(own)).compose(v -> frontIn.seekToEnd(own)));
    runnerLike.assigned().get(60, TimeUnit.SECONDS);
    await(middleAssigned.future());
    await(server.listen(0, "127.0.0.1"));
    return new RelayBaseline(vertx, server, runnerLike);
  }

  public String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  @Override
  public void close() throws Exception {
    runnerLike.close();
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
