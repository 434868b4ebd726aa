package dev.rendezvous.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the topics a problem needs and checks that input and scores are co-partitioned, and that the results
 * topics have a partition for each proxy instance.
 */
public final class KafkaTopics {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaTopics.class);

  private KafkaTopics() {}

  /** How long a topic just created may stay unknown to the broker that answers a describe, or unled. */
  private static final long NEW_TOPIC_PATIENCE_MS = 15_000;

  /** A call to the admin client that may fail with a retriable error while a new topic settles. */
  private interface AdminCall<T> {
    T call() throws ExecutionException, InterruptedException;
  }

  /** Makes the call, again with a growing pause while it fails with a retriable error, for a while at most. */
  private static <T> T patiently(AdminCall<T> call) throws ExecutionException, InterruptedException {
    long until = System.nanoTime() + NEW_TOPIC_PATIENCE_MS * 1_000_000;
    long backoffMs = 20;
    while (true) {
      try {
        return call.call();
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > until) {
          throw e;
        }
        Thread.sleep(backoffMs);
        backoffMs = Math.min(500, backoffMs * 2);
      }
    }
  }

  /**
   * Describes the topics, asking again while the broker answers that it does not know one yet: a topic's
   * creation is acknowledged once the controller has committed it, and the answering broker's metadata may
   * take a moment longer to include it (a retriable error).
   */
  private static Map<String, TopicDescription> describe(Admin admin, List<String> names)
      throws ExecutionException, InterruptedException {
    return patiently(() -> admin.describeTopics(names).allTopicNames().get());
  }

  /** How many times {@link #prefetchMetadata} asks, each ask waiting the producer's {@code max.block.ms} at most. */
  public static final int METADATA_ATTEMPTS = 60;

  /**
   * Fetches {@code topic}'s metadata into {@code producer}'s cache, so that its first send does not wait for that
   * round trip; blocks. With {@code max.block.ms} at half a second (KafkaSettings), a broker still starting gets
   * half a minute. False when it gave none by then: the caller goes on, since a send fetches it anyway.
   */
  public static boolean prefetchMetadata(Producer<?, ?> producer, String topic) {
    for (int attempt = 1; attempt <= METADATA_ATTEMPTS; attempt++) {
      try {
        producer.partitionsFor(topic);
        return true;
      } catch (KafkaException e) {
        if (attempt == METADATA_ATTEMPTS) {
          return false;
        }
      }
    }
    return false;
  }

  /**
   * Creates each missing topic with {@code partitions} partitions and the given replication factor, then
   * checks that every named topic has exactly {@code partitions} partitions (co-partitioning is what lets one
   * rendezvous instance own the same requests in input and scores).
   */
  public static void ensure(String bootstrapServers, List<String> names, int partitions, short replication) {
    withAdmin(bootstrapServers, names, admin -> {
      createMissing(admin, names, partitions, replication);
      for (TopicDescription d : describe(admin, names).values()) {
        if (d.partitions().size() != partitions) {
          throw new IllegalStateException("topic " + d.name() + " has " + d.partitions().size()
              + " partitions but " + partitions + " are configured; input and scores must match");
        }
      }
    });
  }

  /**
   * Creates each missing topic with {@code partitions} partitions, and adds partitions to each that has fewer;
   * one with more keeps them. For topics whose records are written to a chosen partition and read by partition,
   * as the results topics are (each proxy instance reads its own partition): new partitions change where no
   * record goes. Several processes may grow the same topic at once; the largest count stays.
   */
  public static void ensureAtLeast(String bootstrapServers, List<String> names, int partitions, short replication) {
    withAdmin(bootstrapServers, names, admin -> {
      createMissing(admin, names, partitions, replication);
      Map<String, NewPartitions> grow = new HashMap<>();
      List<TopicPartition> added = new ArrayList<>();
      for (TopicDescription d : describe(admin, names).values()) {
        if (d.partitions().size() < partitions) {
          LOG.info("topic {} has {} partitions; adding partitions up to {}", d.name(), d.partitions().size(),
              partitions);
          grow.put(d.name(), NewPartitions.increaseTo(partitions));
          for (int p = d.partitions().size(); p < partitions; p++) {
            added.add(new TopicPartition(d.name(), p));
          }
        }
      }
      if (grow.isEmpty()) {
        return;
      }
      try {
        admin.createPartitions(grow).all().get();
        awaitLeaders(admin, added);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof InvalidPartitionsException)) {
          throw e;
        }
        // Another process grew it first; fine if it grew it far enough.
        for (TopicDescription d : describe(admin, List.copyOf(grow.keySet())).values()) {
          if (d.partitions().size() < partitions) {
            throw new IllegalStateException("topic " + d.name() + " has " + d.partitions().size()
                + " partitions and cannot get the " + partitions + " needed: " + e.getCause().getMessage(), e);
          }
        }
      }
    });
  }

  private interface AdminWork {
    void run(Admin admin) throws ExecutionException, InterruptedException;
  }

  private static void withAdmin(String bootstrapServers, List<String> names, AdminWork work) {
    try (Admin admin = Admin.create(KafkaSettings.adminProperties(bootstrapServers))) {
      work.run(admin);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AuthenticationException) {
        throw new IllegalStateException("Kafka at " + bootstrapServers + " refused this client's credentials: "
            + e.getCause().getMessage() + "; check RDV_KAFKA_SECURITY_PROTOCOL, RDV_KAFKA_SASL_MECHANISM, "
            + "RDV_KAFKA_SASL_JAAS_CONFIG, RDV_KAFKA_SSL_* or the file of RDV_KAFKA_PROPERTIES_FILE "
            + "(docs/security.md)", e);
      }
      throw new IllegalStateException("cannot create topics " + names + ": " + e.getCause().getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    }
  }

  private static void createMissing(Admin admin, List<String> names, int partitions, short replication)
      throws ExecutionException, InterruptedException {
    Set<String> existing = admin.listTopics().names().get();
    List<NewTopic> missing = new ArrayList<>();
    for (String name : names) {
      if (!existing.contains(name)) {
        missing.add(new NewTopic(name, partitions, replication));
      }
    }
    if (!missing.isEmpty()) {
      try {
        admin.createTopics(missing).all().get();
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
      List<TopicPartition> created = new ArrayList<>();
      for (NewTopic topic : missing) {
        for (int p = 0; p < partitions; p++) {
          created.add(new TopicPartition(topic.name(), p));
        }
      }
      awaitLeaders(admin, created);
    }
  }

  /**
   * Waits until the leader of each partition serves it. A broker publishes a new topic in its metadata a moment
   * before its replica manager leads the partitions; a produce in between fails with a retriable
   * NOT_LEADER_OR_FOLLOWER, and an idempotent producer whose later request to the same partition got in first
   * retries the earlier one forever with OUT_OF_ORDER_SEQUENCE_NUMBER (KAFKA-15591). Asking each leader for its
   * end offset, which the replica manager answers, closes that window before anyone writes.
   */
  public static void awaitLeaders(Admin admin, Collection<TopicPartition> partitions)
      throws ExecutionException, InterruptedException {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
    patiently(() -> admin.listOffsets(latest).all().get());
  }
}
