package dev.rendezvous.rollout;

import dev.rendezvous.common.Json;
import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.kafka.KafkaTopics;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleException;
import dev.rendezvous.schedule.ScheduleLoader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.TransactionAbortedException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The schedule log: one single-partition topic per problem, {@code <prefix>.<problem>.schedule}, that holds
 * every applied version of the problem's schedule, keyed by version. It is compacted rather than deleted
 * by age, and since every version has its own key, compaction keeps them all: the log is the history, and
 * an instance that starts later reads it from the beginning and ends on the version in force.
 *
 * <p>Versions are agreed by construction. A publisher writes in a Kafka transaction under the transactional
 * id {@code <prefix>.<problem>.schedule-publisher}; starting one fences any other publisher of the same
 * problem and aborts its open transaction, then it reads the log to the end (read committed), takes the
 * last version plus one, and commits. Two concurrent publishers therefore never write the same version:
 * the fenced one fails and retries on top of the other's version, after a pause of random length.
 */
public final class ScheduleLog {

  private static final Logger LOG = LoggerFactory.getLogger(ScheduleLog.class);
  /**
   * Tries of a fenced publish. Every component process of a new deployment seeds the log at start, all at once:
   * each start fences the others, and with three tries and no pause a busy machine saw one of them give up
   * (SeparateProcessesIT). A pause of random length between tries breaks the tie: the first to commit wins, and
   * the others find its version on their next read.
   */
  static final int ATTEMPTS = 10;
  /** Longest pause before the next try, per try made so far, milliseconds; the pause is random below it. */
  static final long BACKOFF_STEP_MS = 200;

  private ScheduleLog() {}

  /** The schedule log's topic for a problem. */
  public static String topic(String problem) {
    return Topics.of(problem).prefix() + "." + problem + ".schedule";
  }

  /** The record key of a version: zero-padded so that keys sort as versions do. */
  static String key(long version) {
    return String.format("%012d", version);
  }

  /**
   * Creates the problem's schedule log, compacted and with one partition, unless it exists, with the cluster's
   * default replication factor (the brokers' {@code default.replication.factor}).
   */
  public static void ensureTopic(String bootstrapServers, String problem) {
    ensureTopic(bootstrapServers, problem, Optional.empty());
  }

  /** The same with the given replication factor: the one the problem's other topics have. */
  public static void ensureTopic(String bootstrapServers, String problem, short replicationFactor) {
    ensureTopic(bootstrapServers, problem, Optional.of(replicationFactor));
  }

  private static void ensureTopic(String bootstrapServers, String problem, Optional<Short> replicationFactor) {
    try (Admin admin = Admin.create(KafkaSettings.adminProperties(bootstrapServers))) {
      if (admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic(problem))) {
        return;
      }
      NewTopic t = new NewTopic(topic(problem), Optional.of(1), replicationFactor)
          .configs(Map.of("cleanup.policy", "compact"));
      try {
        admin.createTopics(List.of(t)).all().get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException("cannot create " + topic(problem) + ": " + e.getCause().getMessage(), e);
        }
      }
      KafkaTopics.awaitLeaders(admin, List.of(new TopicPartition(topic(problem), 0)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating " + topic(problem), e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("cannot list topics at " + bootstrapServers + ": " + e.getMessage(), e);
    }
  }

  /** Every version in the problem's log, oldest first (committed records only). */
  public static List<AppliedSchedule> readAll(String bootstrapServers, String problem) {
    TopicPartition tp = new TopicPartition(topic(problem), 0);
    try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrapServers)) {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      Map<Long, AppliedSchedule> byVersion = new HashMap<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (consumer.position(tp) < end) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("timed out reading " + topic(problem));
        }
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          AppliedSchedule a = decode(r);
          if (a != null) {
            byVersion.putIfAbsent(a.version(), a);
          }
        }
      }
      List<AppliedSchedule> out = new ArrayList<>(byVersion.values());
      out.sort((x, y) -> Long.compare(x.version(), y.version()));
      return out;
    }
  }

  /** What a publish did. */
  public record Published(AppliedSchedule applied, Schedule schedule, boolean changed) {}

  /**
   * Validates {@code yaml} and, when it differs from the version in force, writes it to its problem's log as
   * the next version. Nothing is written when validation fails.
   *
   * @param source where the text came from, for the history and for error messages
   * @param isCanary the models known to be canaries, which no tier may accept
   * @param rollbackOf the version being re-applied, or null; a rollback is written even when the text equals
   *     the version in force, so that the history shows it
   * @throws ScheduleException when the text is not a valid schedule
   */
  public static Published publish(String bootstrapServers, String yaml, String source, Predicate<String> isCanary,
      Long rollbackOf) {
    return publish(bootstrapServers, yaml, source, isCanary, rollbackOf, false);
  }

  /**
   * Writes {@code yaml} as version 1 of its problem's log only when the log holds no version yet: how a
   * schedule file seeds a new deployment. When the log already has a version, nothing is written and the
   * returned {@link Published} names the version in force ({@code changed} false), whatever the file says:
   * the log is the only truth, so a restart never reverts a rollout or rollback made since. The check and
   * the write happen in one transaction, so two processes starting at once on an empty log write one version.
   *
   * @throws ScheduleException when the text is not a valid schedule
   */
  public static Published seed(String bootstrapServers, String yaml, String source, Predicate<String> isCanary) {
    return publish(bootstrapServers, yaml, source, isCanary, null, true);
  }

  private static Published publish(String bootstrapServers, String yaml, String source,
      Predicate<String> isCanary, Long rollbackOf, boolean onlyIfEmpty) {
    Schedule schedule = ScheduleLoader.parse(yaml, source, isCanary);
    String problem = schedule.problem();
    ensureTopic(bootstrapServers, problem);
    for (int attempt = 1; ; attempt++) {
      try (KafkaProducer<String, byte[]> producer = producer(bootstrapServers, problem)) {
        producer.initTransactions();
        List<AppliedSchedule> history = readAll(bootstrapServers, problem);
        AppliedSchedule last = history.isEmpty() ? null : history.get(history.size() - 1);
        if (last != null && (onlyIfEmpty || rollbackOf == null && last.yaml().equals(yaml))) {
          return new Published(last, schedule, false);
        }
        long version = last == null ? 1 : last.version() + 1;
        AppliedSchedule applied = new AppliedSchedule(problem, version, yaml, dev.rendezvous.common.Clock.SYSTEM
            .nowMicros(), source, ScheduleDiff.between(last == null ? "" : last.yaml(), yaml), rollbackOf);
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic(problem), 0, key(version), Json.encode(applied)));
        producer.commitTransaction();
        LOG.info("schedule for problem {} written as version {} from {}", problem, version, source);
        return new Published(applied, schedule, true);
      } catch (ProducerFencedException | InvalidProducerEpochException | InvalidTxnStateException
          | TransactionAbortedException e) {
        // Another publisher of the problem started meanwhile (two processes starting at once on an empty log,
        // say): its start aborted this transaction, so nothing was written; read the log again and decide anew.
        if (attempt >= ATTEMPTS) {
          throw new IllegalStateException("another publisher kept writing the schedule of " + problem
              + "; try again", e);
        }
        LOG.info("schedule publish for {} fenced by another publisher; retrying on top of its version", problem);
        try {
          Thread.sleep(ThreadLocalRandom.current().nextLong(1, BACKOFF_STEP_MS * attempt + 1));
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while publishing the schedule of " + problem, interrupted);
        }
      } catch (KafkaException e) {
        throw new IllegalStateException("cannot write the schedule of " + problem + " to " + topic(problem)
            + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * Re-applies the text of an earlier version as a new version.
   *
   * @throws IllegalArgumentException when the log has no such version
   */
  public static Published rollback(String bootstrapServers, String problem, long version,
      Predicate<String> isCanary) {
    AppliedSchedule target = readAll(bootstrapServers, problem).stream()
        .filter(a -> a.version() == version).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("problem " + problem + " has no schedule version "
            + version));
    return publish(bootstrapServers, target.yaml(), "rollback to version " + version + " (" + target.source() + ")",
        isCanary, version);
  }

  static AppliedSchedule decode(ConsumerRecord<String, byte[]> r) {
    if (r.value() == null) {
      return null;
    }
    try {
      return Json.decode(r.value(), AppliedSchedule.class);
    } catch (RuntimeException e) {
      LOG.warn("skipping undecodable schedule record {}-{} offset {}: {}", r.topic(), r.partition(), r.offset(),
          e.getMessage());
      return null;
    }
  }

  static KafkaConsumer<String, byte[]> consumer(String bootstrapServers) {
    return new KafkaConsumer<>(consumerProperties(bootstrapServers), new StringDeserializer(),
        new ByteArrayDeserializer());
  }

  /** A reader of schedule logs: no group, committed transactions only. */
  static java.util.Properties consumerProperties(String bootstrapServers) {
    java.util.Properties props = KafkaSettings.clientProperties(bootstrapServers);
    props.put("enable.auto.commit", "false");
    props.put("isolation.level", "read_committed");
    props.put("fetch.min.bytes", "1");
    props.put("fetch.max.wait.ms", "100");
    return props;
  }

  private static KafkaProducer<String, byte[]> producer(String bootstrapServers, String problem) {
    Map<String, Object> props = new HashMap<>(KafkaSettings.client(bootstrapServers));
    props.put("transactional.id", Topics.of(problem).prefix() + "." + problem + ".schedule-publisher");
    props.put("enable.idempotence", "true");
    props.put("acks", "all");
    props.put("linger.ms", "0");
    props.put("max.block.ms", "30000");
    props.put("transaction.timeout.ms", "30000");
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }

  /** The schedule log partitions of these problems, one each. */
  static Set<TopicPartition> partitions(Iterable<String> problems) {
    Set<TopicPartition> out = new java.util.HashSet<>();
    for (String p : problems) {
      out.add(new TopicPartition(topic(p), 0));
    }
    return out;
  }
}
