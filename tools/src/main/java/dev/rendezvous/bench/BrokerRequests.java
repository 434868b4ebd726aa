package dev.rendezvous.bench;

import java.lang.management.ManagementFactory;
import java.util.Optional;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The requests a broker running in this JVM has handled, from its JMX meters
 * {@code kafka.network:type=RequestMetrics,name=RequestsPerSec,request=Fetch|Produce} (summed over their
 * {@code version} tags). Only {@code Fetch} and {@code Produce} are counted: they are the request path's traffic,
 * and {@code FetchConsumer} is a subset of {@code Fetch} (adding it would count consumer fetches twice).
 */
public final class BrokerRequests {

  /** Counts since the broker started. */
  public record Count(long fetch, long produce) {

    public long total() {
      return fetch + produce;
    }

    public Count minus(Count earlier) {
      return new Count(fetch - earlier.fetch, produce - earlier.produce);
    }
  }

  private BrokerRequests() {}

  /** The counts now, or empty when no broker in this JVM has registered them (the system measured is elsewhere). */
  public static Optional<Count> read() {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    try {
      long fetch = sum(server, "Fetch");
      long produce = sum(server, "Produce");
      return fetch < 0 || produce < 0 ? Optional.empty() : Optional.of(new Count(fetch, produce));
    } catch (javax.management.JMException e) {
      return Optional.empty();
    }
  }

  private static long sum(MBeanServer server, String request) throws javax.management.JMException {
    var names = server.queryNames(new ObjectName(
        "kafka.network:type=RequestMetrics,name=RequestsPerSec,request=" + request + ",*"), null);
    if (names.isEmpty()) {
      return -1;
    }
    long total = 0;
    for (ObjectName n : names) {
      total += ((Number) server.getAttribute(n, "Count")).longValue();
    }
    return total;
  }
}
