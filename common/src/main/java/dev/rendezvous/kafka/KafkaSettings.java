package dev.rendezvous.kafka;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Client settings of the request path (proxy, runners, rendezvous), in one place. Each default is chosen for
 * latency and can be overridden without a rebuild, by a system property {@code rdv.kafka.producer.<name>} /
 * {@code rdv.kafka.consumer.<name>} or an environment variable {@code RDV_KAFKA_PRODUCER_<NAME>} /
 * {@code RDV_KAFKA_CONSUMER_<NAME>} (upper case, dots as underscores: {@code RDV_KAFKA_PRODUCER_LINGER_MS=1}).
 * System properties win over environment variables.
 *
 * <ul>
 *   <li>producer {@code linger.ms} = 1: a record waits up to 1 ms for others to share its produce request.
 *       Measured on 2 cores (docs/benchmark.md): it adds about 1 ms per hop when idle, but halves the broker's
 *       requests under load, and the full rendezvous then kept its 50 ms SLA at 2000 req/s instead of falling
 *       below 99.9% at 1000.
 *   <li>producer {@code acks} = 1: the leader's write is enough; a request lives for milliseconds, and waiting
 *       for replicas would cost more than a lost record (its request is then answered by the proxy's guard).
 *   <li>producer {@code max.block.ms} = 500: the longest a {@code send} may wait for a topic's metadata or
 *       for room in its buffer. Kafka's default of 60 s let a broker outage hold the proxy's send threads for a
 *       minute; a request's deadline is milliseconds, so a send that cannot even start within half a second
 *       fails at once and the request is answered with its default. Start-up fetches the metadata beforehand
 *       (and retries), so the bound only bites when the broker is gone.
 *   <li>consumer {@code fetch.min.bytes} = 1 and {@code fetch.max.wait.ms} = 100: the broker answers a fetch as
 *       soon as one record is there, and an idle fetch costs one round trip every 100 ms.
 * </ul>
 *
 * <p>The proxy's outcome producer ({@link #outcomeProducer}) starts from the producer settings and adds its
 * own, overridable as {@code rdv.kafka.outcomes.<name>} / {@code RDV_KAFKA_OUTCOMES_<NAME>}: an outcome is the
 * ground truth of a training label, so it waits for every in-sync replica ({@code acks=all}, idempotent), and
 * its client waits a bounded time: {@code request.timeout.ms} = 2000 and {@code delivery.timeout.ms} = 5000,
 * so that {@code POST .../outcome} answers 503 within about five seconds when Kafka is down instead of holding
 * the client for Kafka's default two minutes. The proxy's reachability check ({@link #admin}) has the overrides
 * {@code rdv.kafka.admin.<name>} / {@code RDV_KAFKA_ADMIN_<NAME>}.
 */
public final class KafkaSettings {

  private static final Map<String, String> PRODUCER = Map.of("linger.ms", "1", "acks", "1", "max.block.ms", "500");
  private static final Map<String, String> OUTCOMES = Map.of("acks", "all", "enable.idempotence", "true",
      "request.timeout.ms", "2000", "delivery.timeout.ms", "5000");
  private static final Map<String, String> ADMIN = Map.of();
  private static final Map<String, String> CONSUMER = Map.of("fetch.min.bytes", "1", "fetch.max.wait.ms", "100");

  private KafkaSettings() {}

  /** Producer settings of the request path, defaults plus overrides. */
  public static Map<String, String> producer(String bootstrapServers) {
    return with(bootstrapServers, PRODUCER, "producer");
  }

  /** Consumer settings of the request path, defaults plus overrides. */
  public static Map<String, String> consumer(String bootstrapServers) {
    return with(bootstrapServers, CONSUMER, "consumer");
  }

  /**
   * Settings of the proxy's outcome producer: the producer settings with the outcome defaults and overrides
   * on top (see the class comment).
   */
  public static Map<String, String> outcomeProducer(String bootstrapServers) {
    Map<String, String> out = producer(bootstrapServers);
    out.putAll(with(bootstrapServers, OUTCOMES, "outcomes"));
    return out;
  }

  /** Admin client settings (the proxy's reachability check), defaults plus overrides. */
  public static Map<String, String> admin(String bootstrapServers) {
    return with(bootstrapServers, ADMIN, "admin");
  }

  /** The same as {@link #producer}, as Properties for the plain Kafka client. */
  public static Properties producerProperties(String bootstrapServers) {
    Properties p = new Properties();
    p.putAll(producer(bootstrapServers));
    return p;
  }

  /** The same as {@link #consumer}, as Properties for the plain Kafka client. */
  public static Properties consumerProperties(String bootstrapServers) {
    Properties p = new Properties();
    p.putAll(consumer(bootstrapServers));
    return p;
  }

  private static Map<String, String> with(String bootstrapServers, Map<String, String> defaults, String kind) {
    Map<String, String> out = new HashMap<>(defaults);
    out.put("bootstrap.servers", bootstrapServers);
    String envPrefix = "RDV_KAFKA_" + kind.toUpperCase(Locale.ROOT) + "_";
    System.getenv().forEach((k, v) -> {
      if (k.startsWith(envPrefix)) {
        out.put(k.substring(envPrefix.length()).toLowerCase(Locale.ROOT).replace('_', '.'), v);
      }
    });
    String propPrefix = "rdv.kafka." + kind + ".";
    System.getProperties().forEach((k, v) -> {
      if (k.toString().startsWith(propPrefix)) {
        out.put(k.toString().substring(propPrefix.length()), v.toString());
      }
    });
    return out;
  }
}
