package dev.rendezvous.proxy;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Settings of one proxy.
 *
 * @param host the address to listen on; {@code 127.0.0.1} by default, so nothing is exposed by accident
 * @param port the HTTP port; 8080 by default, 0 picks a free one
 * @param bodyLimitBytes largest request body accepted; larger ones get HTTP 413. Default 1 MiB
 * @param proxyId prefix of the request ids this proxy stamps; random by default
 * @param resultsPartition the partition of each results topic that only this proxy reads (its return
 *     address); every proxy of a deployment needs its own. Default 0
 * @param bootstrapServers the Kafka cluster
 */
public record ProxyConfig(
    String host, int port, long bodyLimitBytes, String proxyId, int resultsPartition, String bootstrapServers) {

  public static ProxyConfig defaults(String bootstrapServers) {
    return new ProxyConfig("127.0.0.1", 8080, 1 << 20, randomId(), 0, bootstrapServers);
  }

  /** A random proxy id: eight characters of base 36. */
  public static String randomId() {
    return Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36);
  }
}
