package dev.rendezvous.proxy;

import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Settings of one proxy process.
 *
 * @param host the address to listen on; {@code 127.0.0.1} by default, so nothing is exposed by accident
 * @param port the HTTP port; 8080 by default, 0 picks a free one
 * @param bodyLimitBytes largest request body accepted; larger ones get HTTP 413. Default 1 MiB
 * @param proxyId prefix of the request ids this proxy stamps; random by default
 * @param resultsPartition the first of the partitions of each results topic that only this proxy reads (its
 *     return addresses): instance {@code i} reads {@code resultsPartition + i}. Every proxy of a deployment needs
 *     partitions of its own. Default 0
 * @param instances how many instances of the proxy serve the port, each on an event loop of its own (Vert.x
 *     hands each new connection to the next instance in turn) with its own results partition, so that one
 *     event loop is not the bottleneck; by default one per available processor
 * @param bootstrapServers the Kafka cluster
 * @param grpcPort the port of the Open Inference Protocol over gRPC, served by every instance like the HTTP port;
 *     0 picks a free one, {@link #GRPC_OFF} serves no gRPC (the default here; the launchers default to 8081)
 */
public record ProxyConfig(String host, int port, long bodyLimitBytes, String proxyId, int resultsPartition,
    int instances, String bootstrapServers, int grpcPort) {

  /** The gRPC port that serves no gRPC. */
  public static final int GRPC_OFF = -1;

  /** The port the launchers serve gRPC on unless told otherwise. */
  public static final int DEFAULT_GRPC_PORT = 8081;

  /** Settings without gRPC. */
  public ProxyConfig(String host, int port, long bodyLimitBytes, String proxyId, int resultsPartition,
      int instances, String bootstrapServers) {
    this(host, port, bodyLimitBytes, proxyId, resultsPartition, instances, bootstrapServers, GRPC_OFF);
  }

  public ProxyConfig {
    if (resultsPartition < 0) {
      throw new IllegalArgumentException("the results partition cannot be negative, not " + resultsPartition);
    }
    if (grpcPort < GRPC_OFF || grpcPort > 65_535) {
      throw new IllegalArgumentException("the gRPC port must be from 0 to 65535, or -1 for none, not " + grpcPort);
    }
    if (instances < 1) {
      throw new IllegalArgumentException("a proxy needs at least one instance, not " + instances);
    }
  }

  public static ProxyConfig defaults(String bootstrapServers) {
    return new ProxyConfig("127.0.0.1", 8080, 1 << 20, randomId(), 0, defaultInstances(), bootstrapServers);
  }

  /** One instance per processor the JVM may use (in a container, the processors its CPU limit allows). */
  public static int defaultInstances() {
    return Runtime.getRuntime().availableProcessors();
  }

  /**
   * The default for a proxy that shares its JVM with the rest of the pipeline (the embedded default: broker,
   * runners, rendezvous, decoy): one instance per two processors, at least one. The other half of the cores is
   * the pipeline's: on 2 cores one instance answered 1,000 req/s with p99 36.5 ms and 59 refusals where two gave
   * 44.0 ms and 352 (docs/benchmark.md).
   */
  public static int defaultInstancesBesideThePipeline() {
    return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
  }

  /**
   * The first results partition of a proxy that is replica {@code ordinal} of several alike, each with
   * {@code instances} instances: replica 0 reads from 0, replica 1 from {@code instances}, and so on, so that no
   * two replicas read the same partition.
   */
  public static int firstResultsPartitionOfReplica(int ordinal, int instances) {
    return Math.multiplyExact(ordinal, instances);
  }

  /** The results partition that instance {@code instance} (0 to {@code instances - 1}) reads. */
  public int resultsPartition(int instance) {
    return resultsPartition + Objects.checkIndex(instance, instances);
  }

  /** How many partitions each results topic needs for this proxy: one past its last partition. */
  public int resultsPartitionsNeeded() {
    return resultsPartition + instances;
  }

  public ProxyConfig withInstances(int n) {
    return new ProxyConfig(host, port, bodyLimitBytes, proxyId, resultsPartition, n, bootstrapServers, grpcPort);
  }

  /** The same settings with gRPC on this port (0: any free one) or off ({@link #GRPC_OFF}). */
  public ProxyConfig withGrpcPort(int newGrpcPort) {
    return new ProxyConfig(host, port, bodyLimitBytes, proxyId, resultsPartition, instances, bootstrapServers,
        newGrpcPort);
  }

  /** A random proxy id: eight characters of base 36. */
  public static String randomId() {
    return Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36);
  }
}
