package dev.rendezvous.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.kafka.KafkaTopics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The consumer loop against the real embedded broker: order, commits, retries, poison, failure and stop. */
class ConsumerLoopIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  static Path dir;
  static EmbeddedKafka broker;
  static KafkaProducer<String, String> producer;

  private final MeterRegistry meters = new SimpleMeterRegistry();

  @BeforeAll
  static void startBroker() {
    broker = EmbeddedKafka.start(dir, 0);
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("linger.ms", "0");
    producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  @AfterAll
  static void stopBroker() {
    producer.close();
    broker.close();
  }

  @Test
  void batches_reach_the_handler_in_offset_order() throws Exception {
    String topic = topic("order");
    send(topic, 0, 300);
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    try (ConsumerLoop<String, String> loop = builder("order", noGroup(), batch -> batch.forEach(r -> seen.add(r.value())))
        .assignAll(List.of(topic), ConsumerLoop.StartPosition.BEGINNING).build().start()) {
      loop.caughtUp().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      send(topic, 300, 400);
      await(() -> seen.size() >= 400);
      assertThat(seen).containsExactlyElementsOf(values(0, 400));
      assertThat(count("rdv.consumer.records", "order")).isEqualTo(400);
      assertThat(count("rdv.consumer.batches", "order")).isBetween(2.0, 400.0);
      assertThat(loop.health()).isEqualTo(Health.up());
    }
  }

  @Test
  void a_restarted_loop_in_the_same_group_resumes_after_the_last_committed_batch() throws Exception {
    String topic = topic("resume");
    send(topic, 0, 50);
    List<String> first = Collections.synchronizedList(new ArrayList<>());
    Properties group = group("resume-group");
    try (ConsumerLoop<String, String> loop = builder("resume", group, b -> b.forEach(r -> first.add(r.value())))
        .subscribe(List.of(topic)).commit(CommitPolicy.afterBatch()).build().start()) {
      await(() -> first.size() >= 50);
    }
    assertThat(first).containsExactlyElementsOf(values(0, 50));
    assertThat(committed("resume-group", topic)).isEqualTo(50);

    send(topic, 50, 80);
    List<String> second = Collections.synchronizedList(new ArrayList<>());
    try (ConsumerLoop<String, String> loop = builder("resume", group, b -> b.forEach(r -> second.add(r.value())))
        .subscribe(List.of(topic)).commit(CommitPolicy.afterBatch()).build().start()) {
      loop.assigned().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      producer.send(new ProducerRecord<>(topic, 0, null, "end")).get();
      await(() -> second.contains("end"));
    }
    List<String> expected = new ArrayList<>(values(50, 80));
    expected.add("end");
    assertThat(second).as("exactly the records after the last commit, once each").containsExactlyElementsOf(expected);
    assertThat(committed("resume-group", topic)).isEqualTo(81);
  }

  @Test
  void a_failing_batch_is_retried_with_backoff_until_it_succeeds() throws Exception {
    String topic = topic("retry");
    send(topic, 0, 20);
    AtomicInteger calls = new AtomicInteger();
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    BatchHandler<String, String> flaky = batch -> {
      if (calls.incrementAndGet() <= 2) {
        throw new IllegalStateException("transient failure " + calls.get());
      }
      batch.forEach(r -> seen.add(r.value()));
    };
    try (ConsumerLoop<String, String> loop = builder("retry", noGroup(), flaky)
        .assignAll(List.of(topic), ConsumerLoop.StartPosition.BEGINNING)
        .errors(new ErrorPolicy(5, Duration.ofMillis(20), Duration.ofMillis(100), ErrorPolicy.Exhausted.FAIL))
        .build().start()) {
      loop.caughtUp().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      await(() -> seen.size() >= 20);
      assertThat(seen).containsExactlyElementsOf(values(0, 20));
      assertThat(count("rdv.consumer.handler.errors", "retry")).isEqualTo(2);
      assertThat(count("rdv.consumer.retries", "retry")).isEqualTo(2);
      assertThat(count("rdv.consumer.failures", "retry")).isZero();
      assertThat(loop.health()).isEqualTo(Health.up());
      assertThat(gauge("rdv.consumer.ready", "retry")).isEqualTo(1);
    }
  }

  @Test
  void backoff_doubles_up_to_its_bound() {
    ErrorPolicy p = new ErrorPolicy(10, Duration.ofMillis(100), Duration.ofMillis(700), ErrorPolicy.Exhausted.SKIP);
    assertThat(IntStream.rangeClosed(1, 5).mapToObj(p::backoff).map(Duration::toMillis))
        .containsExactly(100L, 200L, 400L, 700L, 700L);
  }

  @Test
  void a_record_the_handler_cannot_decode_is_skipped_counted_once_and_reported_with_its_offset() throws Exception {
    String topic = topic("poison");
    for (String v : List.of("1", "2", "not a number", "4", "5")) {
      producer.send(new ProducerRecord<>(topic, 0, null, v)).get();
    }
    List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger calls = new AtomicInteger();
    BatchHandler<String, String> handler = batch -> {
      List<Integer> decoded = new ArrayList<>();
      batch.forEach(r -> {
        Integer v = batch.decode(r, Integer::parseInt);
        if (v != null) {
          decoded.add(v);
        }
      });
      if (calls.incrementAndGet() == 1) {
        throw new IllegalStateException("fails once after decoding, so the batch is handled twice");
      }
      seen.addAll(decoded);
    };
    try (ConsumerLoop<String, String> loop = builder("poison", noGroup(), handler)
        .assignAll(List.of(topic), ConsumerLoop.StartPosition.BEGINNING)
        .errors(new ErrorPolicy(3, Duration.ofMillis(10), Duration.ofMillis(10), ErrorPolicy.Exhausted.FAIL))
        .build().start()) {
      loop.caughtUp().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      await(() -> seen.size() >= 4);
      assertThat(seen).containsExactly(1, 2, 4, 5);
      assertThat(count("rdv.consumer.poison.skipped", "poison")).isEqualTo(1);
      assertThat(loop.lastPoisoned()).isNotNull();
      assertThat(loop.lastPoisoned().topic()).isEqualTo(topic);
      assertThat(loop.lastPoisoned().partition()).isZero();
      assertThat(loop.lastPoisoned().offset()).isEqualTo(2);
      assertThat(loop.lastPoisoned().reason()).contains("NumberFormatException");
    }
  }

  @Test
  void a_handler_that_keeps_failing_fails_the_loop_visibly() throws Exception {
    String topic = topic("fail");
    send(topic, 0, 5);
    AtomicInteger calls = new AtomicInteger();
    try (ConsumerLoop<String, String> loop = builder("fail", noGroup(), batch -> {
      calls.incrementAndGet();
      throw new IllegalStateException("disk full");
    }).assignAll(List.of(topic), ConsumerLoop.StartPosition.BEGINNING)
        .errors(new ErrorPolicy(2, Duration.ofMillis(10), Duration.ofMillis(20), ErrorPolicy.Exhausted.FAIL))
        .build().start()) {
      await(() -> loop.failure() != null);
      assertThat(calls.get()).isEqualTo(3);
      assertThat(loop.health().ready()).isFalse();
      assertThat(loop.health().reason()).startsWith("failed:").contains("disk full").contains(topic + "-0@0..4");
      assertThat(count("rdv.consumer.failures", "fail")).isEqualTo(1);
      assertThat(count("rdv.consumer.handler.errors", "fail")).isEqualTo(3);
      assertThat(count("rdv.consumer.retries", "fail")).isEqualTo(2);
      assertThat(count("rdv.consumer.records", "fail")).isZero();
      assertThat(gauge("rdv.consumer.ready", "fail")).isZero();
      assertThat(loop.caughtUp()).isCompletedExceptionally();
    }
  }

  @Test
  void a_batch_whose_retries_are_spent_is_skipped_and_the_loop_goes_on() throws Exception {
    String topic = topic("skip");
    send(topic, 0, 3);
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    try (ConsumerLoop<String, String> loop = builder("skip", noGroup(), batch -> {
      for (var r : batch) {
        if (Integer.parseInt(r.value()) < 3) {
          throw new IllegalStateException("cannot handle " + r.value());
        }
        seen.add(r.value());
      }
    }).assignAll(List.of(topic), ConsumerLoop.StartPosition.BEGINNING)
        .errors(new ErrorPolicy(1, Duration.ofMillis(10), Duration.ofMillis(10), ErrorPolicy.Exhausted.SKIP))
        .build().start()) {
      await(() -> count("rdv.consumer.batches.skipped", "skip") >= 1);
      send(topic, 3, 6);
      await(() -> seen.size() >= 3);
      assertThat(seen).containsExactly("3", "4", "5");
      assertThat(loop.health()).isEqualTo(Health.up());
      assertThat(loop.failure()).isNull();
      assertThat(count("rdv.consumer.records", "skip")).isEqualTo(6);
    }
  }

  @Test
  void a_durable_loop_flushes_before_it_commits_and_commits_on_stop() throws Exception {
    String topic = topic("durable");
    send(topic, 0, 25);
    List<String> written = Collections.synchronizedList(new ArrayList<>());
    List<Integer> flushedAt = Collections.synchronizedList(new ArrayList<>());
    try (ConsumerLoop<String, String> loop = builder("durable", group("durable-group"),
        b -> b.forEach(r -> written.add(r.value())))
        .subscribe(List.of(topic)).commit(CommitPolicy.durable(1_000_000, Duration.ofHours(1)))
        .flush(() -> flushedAt.add(written.size())).build().start()) {
      await(() -> written.size() >= 25);
      assertThat(flushedAt).as("nothing reached a threshold yet").isEmpty();
      assertThat(committed("durable-group", topic)).isEqualTo(-1);
    }
    assertThat(flushedAt).containsExactly(25);
    assertThat(committed("durable-group", topic)).isEqualTo(25);
  }

  @Test
  void a_durable_loop_stopped_while_its_handler_runs_flushes_once_and_commits() throws Exception {
    String topic = topic("durable-stop");
    send(topic, 0, 5);
    CountDownLatch handling = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<Integer> flushes = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger handled = new AtomicInteger();
    ConsumerLoop<String, String> loop = builder("durable-stop", group("durable-stop-group"), b -> {
      handling.countDown();
      release.await();
      b.forEach(r -> handled.incrementAndGet());
    }).subscribe(List.of(topic)).commit(CommitPolicy.durable(1_000_000, Duration.ofHours(1)))
        .flush(() -> flushes.add(handled.get())).build().start();
    assertThat(handling.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    Thread closing = new Thread(() -> {
      try {
        loop.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    closing.start();
    // The close wakes the consumer while the handler runs: the wake-up is pending when the stop commits.
    Thread.sleep(200);
    release.countDown();
    closing.join(WAIT.toMillis());
    assertThat(closing.isAlive()).isFalse();
    assertThat(flushes).as("one flush, then the commit on stop; the revocation finds nothing left").containsExactly(5);
    assertThat(committed("durable-stop-group", topic)).isEqualTo(5);
  }

  @Test
  void a_durable_loop_flushes_and_commits_what_it_handled_when_its_partitions_are_revoked() throws Exception {
    String topic = "loop-revoke";
    KafkaTopics.ensure(broker.bootstrapServers(), List.of(topic), 2, (short) 1);
    for (int partition = 0; partition < 2; partition++) {
      for (int i = 0; i < 10; i++) {
        producer.send(new ProducerRecord<>(topic, partition, null, partition + "-" + i));
      }
    }
    producer.flush();
    List<String> first = Collections.synchronizedList(new ArrayList<>());
    List<Integer> flushedAt = Collections.synchronizedList(new ArrayList<>());
    Properties group = group("revoke-group");
    try (ConsumerLoop<String, String> a = builder("revoke-a", group, b -> b.forEach(r -> first.add(r.value())))
        .subscribe(List.of(topic)).commit(CommitPolicy.durable(1_000_000, Duration.ofHours(1)))
        .flush(() -> flushedAt.add(first.size())).build().start()) {
      await(() -> first.size() >= 20);
      assertThat(committed("revoke-group", topic)).as("no threshold reached: nothing committed").isEqualTo(-1);

      List<String> second = Collections.synchronizedList(new ArrayList<>());
      try (ConsumerLoop<String, String> b = builder("revoke-b", group, x -> x.forEach(r -> second.add(r.value())))
          .subscribe(List.of(topic)).commit(CommitPolicy.durable(1_000_000, Duration.ofHours(1))).build().start()) {
        b.assigned().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(flushedAt).as("flushed once, on revocation, after all 20 were handled").containsExactly(20);
        assertThat(committed("revoke-group", topic, 0)).isEqualTo(10);
        assertThat(committed("revoke-group", topic, 1)).isEqualTo(10);
        for (int partition = 0; partition < 2; partition++) {
          producer.send(new ProducerRecord<>(topic, partition, null, "end-" + partition)).get();
        }
        await(() -> first.size() + second.size() >= 22);
        List<String> all = new ArrayList<>(first);
        all.addAll(second);
        assertThat(all).as("each record handled exactly once across the two members").hasSize(22)
            .doesNotHaveDuplicates().contains("end-0", "end-1");
        assertThat(second).as("the new member reads only what came after the commit").allMatch(v -> v.startsWith("end-"));
      }
    }
  }

  @Test
  void a_durable_loop_whose_flush_fails_discards_and_reads_again_from_its_last_commit_once() throws Exception {
    String topic = topic("durable-fail");
    send(topic, 0, 20);
    List<String> unsynced = Collections.synchronizedList(new ArrayList<>());
    List<String> durable = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger flushes = new AtomicInteger();
    List<Boolean> readyWhileFailing = Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicReference<ConsumerLoop<String, String>> self =
        new java.util.concurrent.atomic.AtomicReference<>();
    try (ConsumerLoop<String, String> loop = builder("durable-fail", group("durable-fail-group"),
        b -> b.forEach(r -> unsynced.add(r.value())))
        .subscribe(List.of(topic)).commit(CommitPolicy.durable(1_000_000, Duration.ofMillis(50)))
        .errors(ErrorPolicy.retryFor(null, ErrorPolicy.Exhausted.FAIL))
        .flush(() -> {
          if (flushes.incrementAndGet() <= 2) {
            readyWhileFailing.add(self.get().health().ready());
            throw new java.io.IOException("No space left on device");
          }
          durable.addAll(unsynced);
          unsynced.clear();
        })
        .discard(unsynced::clear)
        .build()) {
      self.set(loop);
      loop.start();
      await(() -> {
        try {
          return committed("durable-fail-group", topic) == 20;
        } catch (Exception e) {
          return false;
        }
      });
      assertThat(durable).as("each record made durable once, after two failed flushes")
          .containsExactlyInAnyOrderElementsOf(values(0, 20));
      assertThat(readyWhileFailing).as("ready at the first flush, not ready at the retry").containsExactly(true, false);
      assertThat(count("rdv.consumer.retries", "durable-fail")).isEqualTo(2);
      assertThat(count("rdv.consumer.failures", "durable-fail")).isZero();
      await(() -> loop.health().ready());
    }
  }

  @Test
  void close_stops_a_loop_that_waits_in_poll_or_in_a_backoff_within_a_bound() throws Exception {
    String topic = topic("stop");
    ConsumerLoop<String, String> idle = builder("stop-idle", noGroup(), b -> { })
        .assignAll(List.of(topic), ConsumerLoop.StartPosition.END).pollTimeout(Duration.ofMinutes(5)).build().start();
    idle.assigned().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    send(topic, 0, 1);
    ConsumerLoop<String, String> backingOff = builder("stop-backoff", noGroup(), b -> {
      throw new IllegalStateException("always");
    }).assignAll(List.of(topic), ConsumerLoop.StartPosition.BEGINNING)
        .errors(new ErrorPolicy(3, Duration.ofMinutes(5), Duration.ofMinutes(5), ErrorPolicy.Exhausted.FAIL))
        .build().start();
    // The error is counted a moment before the loop reports that it retries: wait for the report.
    await(() -> backingOff.health().reason().startsWith("retrying"));
    assertThat(count("rdv.consumer.handler.errors", "stop-backoff")).isEqualTo(1);

    long t0 = System.nanoTime();
    idle.close();
    backingOff.close();
    long stopMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(stopMs).as("both stopped, well within their five-minute waits").isLessThan(15_000);
    assertThat(idle.health()).isEqualTo(Health.down("stopped"));
    assertThat(backingOff.health()).isEqualTo(Health.down("stopped"));
    assertThat(backingOff.failure()).isNull();
    assertThat(count("rdv.consumer.failures", "stop-backoff")).isZero();
    assertThat(meters.find("rdv.consumer.ready").tag("loop", "stop-idle").gauge()).as("gauges removed").isNull();
  }

  // --- helpers

  private ConsumerLoop.Builder<String, String> builder(String name, Properties props,
      BatchHandler<String, String> handler) {
    return ConsumerLoop.builder(name, props, new StringDeserializer(), new StringDeserializer(), handler)
        .metrics(meters).pollTimeout(Duration.ofMillis(100));
  }

  private static Properties noGroup() {
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("max.poll.records", "50");
    return p;
  }

  private static Properties group(String id) {
    Properties p = noGroup();
    p.put("group.id", id);
    p.put("auto.offset.reset", "earliest");
    return p;
  }

  private static String topic(String name) {
    KafkaTopics.ensure(broker.bootstrapServers(), List.of("loop-" + name), 1, (short) 1);
    return "loop-" + name;
  }

  private static void send(String topic, int from, int to) throws Exception {
    for (String v : values(from, to)) {
      producer.send(new ProducerRecord<>(topic, 0, null, v));
    }
    producer.flush();
  }

  private static List<String> values(int from, int to) {
    return IntStream.range(from, to).mapToObj(Integer::toString).toList();
  }

  private static long committed(String group, String topic) throws Exception {
    return committed(group, topic, 0);
  }

  private static long committed(String group, String topic, int partition) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
      OffsetAndMetadata o = offsets.get(new TopicPartition(topic, partition));
      return o == null ? -1 : o.offset();
    }
  }

  private double count(String name, String loop) {
    var c = meters.find(name).tag("loop", loop).counter();
    return c == null ? 0 : c.count();
  }

  private double gauge(String name, String loop) {
    return meters.get(name).tag("loop", loop).gauge().value();
  }

  /** Waits for a condition the loop's thread makes true; the assertions come after, on counts and order. */
  private static void await(BooleanSupplier condition) {
    Awaitility.await("the loop").atMost(WAIT).pollInterval(Duration.ofMillis(10)).until(condition::getAsBoolean);
  }
}
