package dev.rendezvous.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates the topics a problem needs and checks that input and scores are co-partitioned. */
public final class KafkaTopics {

  private KafkaTopics() {}

  /**
   * Creates each missing topic with {@code partitions} partitions and the given replication factor, then
   * checks that every named topic has exactly {@code partitions} partitions (co-partitioning is what lets one
   * rendezvous instance own the same requests in input and scores).
   */
  public static void ensure(String bootstrapServers, List<String> names, int partitions, short replication) {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
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
      Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames().get();
      for (TopicDescription d : described.values()) {
        if (d.partitions().size() != partitions) {
          throw new IllegalStateException("topic " + d.name() + " has " + d.partitions().size()
              + " partitions but " + partitions + " are configured; input and scores must match");
        }
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot create topics " + names + ": " + e.getCause().getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    }
  }
}
