package dev.rendezvous.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates the topics a problem needs and checks that input and scores are co-partitioned. */
public final class KafkaTopics {

  private KafkaTopics() {}

  /** How long a topic just created may stay unknown to the broker that answers a describe. */
  private static final long DESCRIBE_PATIENCE_MS = 15_000;

  /**
   * Describes the topics, asking again while the broker answers that it does not know one yet: a topic's
   * creation is acknowledged once the controller has committed it, and the answering broker's metadata may
   * take a moment longer to include it (a retriable error).
   */
  private static Map<String, TopicDescription> describe(Admin admin, List<String> names)
      throws ExecutionException, InterruptedException {
    long until = System.nanoTime() + DESCRIBE_PATIENCE_MS * 1_000_000;
    long backoffMs = 20;
    while (true) {
      try {
        return admin.describeTopics(names).allTopicNames().get();
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
   * Creates each missing topic with {@code partitions} partitions and the given replication factor, then
   * checks that every named topic has exactly {@code partitions} partitions (co-partitioning is what lets one
   * rendezvous instance own the same requests in input and scores).
   */
  public static void ensure(String bootstrapServers, List<String> names, int partitions, short replication) {
    try (Admin admin = Admin.create(KafkaSettings.adminProperties(bootstrapServers))) {
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
      }
      Map<String, TopicDescription> described = describe(admin, names);
      for (TopicDescription d : described.values()) {
        if (d.partitions().size() != partitions) {
          throw new IllegalStateException("topic " + d.name() + " has " + d.partitions().size()
              + " partitions but " + partitions + " are configured; input and scores must match");
        }
      }
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
}
