package dev.rendezvous.process;

import picocli.CommandLine.Option;

/** Where the Kafka cluster is, and the shape of the topics a process creates when they are missing. */
public final class KafkaOptions {

  /** The cluster a component process uses when none is given. */
  public static final String DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:9092";

  @Option(names = "--bootstrap-servers", defaultValue = "${env:RDV_BOOTSTRAP_SERVERS}",
      description = "Kafka bootstrap servers. Unset: " + DEFAULT_BOOTSTRAP_SERVERS + " for a component process; "
          + "`up` starts its embedded broker instead.")
  String bootstrapServers;

  @Option(names = "--partitions", defaultValue = "${env:RDV_PARTITIONS:-4}",
      description = "Partitions of each topic this process creates when missing; topics that exist must have "
          + "this many (input and scores are co-partitioned; the results topics need one per proxy).")
  int partitions;

  @Option(names = "--replication-factor", defaultValue = "${env:RDV_REPLICATION_FACTOR:-1}",
      description = "Replication factor of the topics this process creates; 3 on a real cluster.")
  short replicationFactor;

  /** The cluster given, or {@value #DEFAULT_BOOTSTRAP_SERVERS}. */
  public String bootstrapServers() {
    return given() ? bootstrapServers : DEFAULT_BOOTSTRAP_SERVERS;
  }

  /** Whether a cluster was given (option or variable); {@code up} starts its own broker otherwise. */
  public boolean given() {
    return bootstrapServers != null && !bootstrapServers.isBlank();
  }

  public int partitions() {
    return partitions;
  }

  public short replicationFactor() {
    return replicationFactor;
  }
}
