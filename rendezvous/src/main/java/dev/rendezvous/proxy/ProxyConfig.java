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

  public ProxyConfig withPort(int newPort) {
    return new ProxyConfig(host, newPort, bodyLimitBytes, proxyId, resultsPartition, bootstrapServers);
  }

  public ProxyConfig withHost(String newHost) {
    return new ProxyConfig(newHost, port, bodyLimitBytes, proxyId, resultsPartition, bootstrapServers);
  }

  public ProxyConfig withBodyLimit(long bytes) {
    return new ProxyConfig(host, port, bytes, proxyId, resultsPartition, bootstrapServers);
  }

  private static String randomId() {
    return Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36);
  }
}
