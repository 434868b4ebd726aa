package dev.rendezvous.process;

import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaTopics;
import java.util.List;
import picocli.CommandLine.Option;

/** Where the Kafka cluster is and how the topics a process needs are created if missing. */
public final class KafkaOptions {

  @Option(names = "--bootstrap-servers", defaultValue = "${env:RDV_BOOTSTRAP_SERVERS:-127.0.0.1:9092}",
      description = "Kafka bootstrap servers (env RDV_BOOTSTRAP_SERVERS; default: ${DEFAULT-VALUE}).")
  String bootstrapServers;

  @Option(names = "--partitions", defaultValue = "${env:RDV_PARTITIONS:-4}",
      description = "Partitions of each topic this process creates when missing; existing topics must have "
          + "this many, the results topics at least this many (env RDV_PARTITIONS; default: ${DEFAULT-VALUE}).")
  int partitions;

  @Option(names = "--replication-factor", defaultValue = "${env:RDV_REPLICATION_FACTOR:-1}",
      description = "Replication factor of topics this process creates (env RDV_REPLICATION_FACTOR; "
          + "default: ${DEFAULT-VALUE}).")
  short replicationFactor;

  @Option(names = "--metrics-port", defaultValue = "${env:RDV_METRICS_PORT:--1}",
      description = "Port of this process's GET /metrics (Prometheus text format), e.g. 9404; -1 (the default) turns it off, 0 picks a free "
          + "one. The proxy serves /metrics on its own HTTP port instead (env RDV_METRICS_PORT; default: "
          + "${DEFAULT-VALUE}).")
  int metricsPort;

  @Option(names = "--metrics-host", defaultValue = "${env:RDV_METRICS_HOST:-127.0.0.1}",
      description = "Address of /metrics; 0.0.0.0 in a container (env RDV_METRICS_HOST; default: ${DEFAULT-VALUE}).")
  String metricsHost;

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /**
   * Creates the input, scores, outcomes and results topics of the problem unless they exist: the first three must
   * have exactly {@code --partitions} partitions, the results topic at least as many.
   */
  void ensureTopics(String problem) {
    ensureTopics(problem, partitions);
  }

  /**
   * {@link #ensureTopics(String)}, with the results topic given at least {@code resultsPartitions} partitions
   * (added to it when it has fewer): a proxy needs one per instance.
   */
  void ensureTopics(String problem, int resultsPartitions) {
    Topics t = Topics.of(problem);
    KafkaTopics.ensure(bootstrapServers, List.of(t.input(), t.scores(), t.outcomes()), partitions, replicationFactor);
    KafkaTopics.ensureAtLeast(bootstrapServers, List.of(t.results()), Math.max(partitions, resultsPartitions),
        replicationFactor);
  }
}
