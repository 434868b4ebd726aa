package dev.rendezvous.kafka;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Kafka client settings, in one place: what every client of every component gets (where the cluster is and how
 * to reach it: security protocol, SASL, TLS), and the defaults of the request path (proxy, runners, rendezvous).
 *
 * <p>Every client (producers, consumers and admin clients of the proxy, rendezvous, runners, decoy, monitor,
 * schedule log, score observer, tools and benchmarks) starts from {@link #client}: the bootstrap servers, then
 * the properties of the file {@code RDV_KAFKA_PROPERTIES_FILE} (system property {@code rdv.kafka.properties.file};
 * a Java properties file of Kafka client settings, as Kafka's own tools take with {@code --command-config}), then
 * the security settings of the environment: {@code RDV_KAFKA_SECURITY_PROTOCOL} is {@code security.protocol},
 * and every {@code RDV_KAFKA_SASL_<NAME>} / {@code RDV_KAFKA_SSL_<NAME>} is {@code sasl.<name>} /
 * {@code ssl.<name>} (lower case, underscores as dots: {@code RDV_KAFKA_SASL_JAAS_CONFIG} is
 * {@code sasl.jaas.config}), each also as a system property {@code rdv.kafka.security.protocol},
 * {@code rdv.kafka.sasl.<name>}, {@code rdv.kafka.ssl.<name>}. A component's own settings go on top.
 *
 * <p>The request path's clients then take their defaults and overrides below. Each default is chosen for
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
 *   <li>producer {@code acks} = all and {@code enable.idempotence} = true: a record is acknowledged once every
 *       in-sync replica has it, so an acknowledged request, score or result survives the loss of its leader (with
 *       {@code min.insync.replicas} 2 of 3), and a send retried after a lost acknowledgement is not written twice.
 *       It costs the request path nothing: a consumer reads a record only once every in-sync replica has it (the
 *       high watermark), whatever the producer's {@code acks}, and no component waits for an acknowledgement before
 *       going on. With {@code acks=1} a record the dead leader had acknowledged but not replicated was truncated
 *       away: never scored, never archived. On a single broker both are the same write. A send keeps Kafka's
 *       {@code delivery.timeout.ms} (120 s) and retries, so a record buffered while its partition has no leader
 *       (a few seconds of fail-over) is written once a new leader is elected rather than dropped: its request was
 *       answered by the proxy's guard meanwhile, and the decoy still archives it. Measured in docs/reliability.md.
 *   <li>producer {@code max.block.ms} = 500: the longest a {@code send} may wait for a topic's metadata or
 *       for room in its buffer. Kafka's default of 60 s let a broker outage hold the proxy's send threads for a
 *       minute; a request's deadline is milliseconds, so a send that cannot even start within half a second
 *       fails at once and the request is answered with its default. Start-up fetches the metadata beforehand
 *       (and retries), so the bound only bites when the broker is gone.
 *   <li>producer and consumer {@code retry.backoff.max.ms} = 250: while a partition has no leader, a client asks
 *       for metadata again after a backoff that doubles from {@code retry.backoff.ms} (100 ms) up to this cap
 *       (Kafka's: 1 s), so after a broker's death it finds the new leader at most a quarter of a second after the
 *       election instead of a second; three hops each waited up to that long. A few more metadata requests per
 *       client while a broker is gone are all it costs.
 *   <li>consumer {@code fetch.min.bytes} = 1 and {@code fetch.max.wait.ms} = 100: the broker answers a fetch as
 *       soon as one record is there, and an idle fetch costs one round trip every 100 ms.
 *   <li>consumer {@code session.timeout.ms} = 6000 and {@code heartbeat.interval.ms} = 1000 (classic group
 *       protocol): a member that died without leaving its group (kill -9, a lost machine) gives its partitions
 *       up after 6 s instead of Kafka's default 45 s; 6 s is the brokers' default lowest session timeout
 *       ({@code group.min.session.timeout.ms}). Heartbeats run on the client's own thread, so slow work between
 *       polls does not end a session. Measured takeovers are in docs/reliability.md.
 * </ul>
 *
 * <p>The proxy's outcome producer ({@link #outcomeProducer}) starts from the producer settings and adds its
 * own, overridable as {@code rdv.kafka.outcomes.<name>} / {@code RDV_KAFKA_OUTCOMES_<NAME>}: an outcome is the
 * ground truth of a training label, so it waits for every in-sync replica ({@code acks=all}, idempotent), and
 * its client waits a bounded time: {@code request.timeout.ms} = 2000 and {@code delivery.timeout.ms} = 5000,
 * so that {@code POST .../outcome} answers 503 within about five seconds when Kafka is down instead of holding
 * the client for Kafka's default two minutes. Its {@code max.block.ms} is 5000 too, not the request path's 500:
 * an outcome has no deadline, and just after a broker comes back the producer may hold no metadata for the
 * outcomes topic for longer than half a second (its reconnect backoff alone reaches a second), which made the
 * first outcome after a recovery fail although the broker was ready. The wait runs on the Kafka client's
 * worker thread, never on an event loop, and this producer carries outcomes only. Admin clients
 * ({@link #admin}: topic creation, the proxy's checks) have the overrides {@code rdv.kafka.admin.<name>} /
 * {@code RDV_KAFKA_ADMIN_<NAME>}.
 */
public final class KafkaSettings {

  /** The environment variable naming a properties file of client settings applied to every client. */
  public static final String PROPERTIES_FILE_ENV = "RDV_KAFKA_PROPERTIES_FILE";
  /** The system property naming that file; it wins over the environment variable. */
  public static final String PROPERTIES_FILE_PROPERTY = "rdv.kafka.properties.file";

  private static final Map<String, String> PRODUCER = Map.of("linger.ms", "1", "acks", "all", "enable.idempotence",
      "true", "max.block.ms", "500", "retry.backoff.max.ms", "250");
  private static final Map<String, String> OUTCOMES = Map.of("acks", "all", "enable.idempotence", "true",
      "request.timeout.ms", "2000", "delivery.timeout.ms", "5000", "max.block.ms", "5000");
  private static final Map<String, String> ADMIN = Map.of();
  private static final Map<String, String> CONSUMER = Map.of("fetch.min.bytes", "1", "fetch.max.wait.ms", "100",
      "session.timeout.ms", "6000", "heartbeat.interval.ms", "1000", "retry.backoff.max.ms", "250");
  /** Settings of the classic group protocol that a consumer of {@code group.protocol=consumer} refuses. */
  private static final java.util.List<String> CLASSIC_ONLY = java.util.List.of("session.timeout.ms",
      "heartbeat.interval.ms", "partition.assignment.strategy");

  private KafkaSettings() {}

  /**
   * What every Kafka client gets: the bootstrap servers, the properties file's settings and the security
   * settings of the environment (see the class comment).
   *
   * @throws IllegalArgumentException when the properties file is named but cannot be read
   */
  public static Map<String, String> client(String bootstrapServers) {
    return client(bootstrapServers, System.getenv(), System.getProperties());
  }

  /** The same as {@link #client}, as Properties for the plain Kafka client. */
  public static Properties clientProperties(String bootstrapServers) {
    return properties(client(bootstrapServers));
  }

  /** Producer settings of the request path: {@link #client} settings, defaults, overrides. */
  public static Map<String, String> producer(String bootstrapServers) {
    return with(bootstrapServers, PRODUCER, "producer");
  }

  /**
   * Consumer settings of the request path: {@link #client} settings, defaults, overrides. With
   * {@code group.protocol=consumer} (Kafka 4's group protocol, where the broker sets the session timeout and
   * the heartbeat) the classic protocol's settings are left out.
   */
  public static Map<String, String> consumer(String bootstrapServers) {
    Map<String, String> out = with(bootstrapServers, CONSUMER, "consumer");
    if (usesConsumerProtocol(out)) {
      CLASSIC_ONLY.forEach(out::remove);
    }
    return out;
  }

  /** Whether these consumer settings ask for Kafka 4's group protocol ({@code group.protocol=consumer}). */
  public static boolean usesConsumerProtocol(Map<?, ?> consumerSettings) {
    Object protocol = consumerSettings.get("group.protocol");
    return protocol != null && protocol.toString().strip().equalsIgnoreCase("consumer");
  }

  /**
   * Settings of the proxy's outcome producer: the producer settings with the outcome defaults and overrides
   * on top (see the class comment).
   */
  public static Map<String, String> outcomeProducer(String bootstrapServers) {
    Map<String, String> out = producer(bootstrapServers);
    out.putAll(overrides(OUTCOMES, "outcomes", System.getenv(), System.getProperties()));
    return out;
  }

  /** Admin client settings (topic creation, the proxy's checks): {@link #client} settings plus overrides. */
  public static Map<String, String> admin(String bootstrapServers) {
    return with(bootstrapServers, ADMIN, "admin");
  }

  /** The same as {@link #producer}, as Properties for the plain Kafka client. */
  public static Properties producerProperties(String bootstrapServers) {
    return properties(producer(bootstrapServers));
  }

  /** The same as {@link #consumer}, as Properties for the plain Kafka client. */
  public static Properties consumerProperties(String bootstrapServers) {
    return properties(consumer(bootstrapServers));
  }

  /** The same as {@link #admin}, as Properties for the plain Kafka client. */
  public static Properties adminProperties(String bootstrapServers) {
    return properties(admin(bootstrapServers));
  }

  /** {@link #client} with the environment and system properties given, for tests. */
  static Map<String, String> client(String bootstrapServers, Map<String, String> env, Properties system) {
    Map<String, String> out = new HashMap<>();
    String file = system.getProperty(PROPERTIES_FILE_PROPERTY, env.get(PROPERTIES_FILE_ENV));
    if (file != null && !file.isBlank()) {
      out.putAll(readFile(Path.of(file.strip())));
    }
    env.forEach((k, v) -> {
      if (k.equals("RDV_KAFKA_SECURITY_PROTOCOL") || k.startsWith("RDV_KAFKA_SASL_")
          || k.startsWith("RDV_KAFKA_SSL_")) {
        out.put(k.substring("RDV_KAFKA_".length()).toLowerCase(Locale.ROOT).replace('_', '.'), v);
      }
    });
    system.forEach((k, v) -> {
      String name = k.toString();
      if (name.equals("rdv.kafka.security.protocol") || name.startsWith("rdv.kafka.sasl.")
          || name.startsWith("rdv.kafka.ssl.")) {
        out.put(name.substring("rdv.kafka.".length()), v.toString());
      }
    });
    out.put("bootstrap.servers", bootstrapServers);
    return out;
  }

  private static Map<String, String> readFile(Path file) {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file)) {
      p.load(in);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the Kafka client properties of " + PROPERTIES_FILE_ENV
          + " (" + file + "): " + e, e);
    }
    Map<String, String> out = new HashMap<>();
    p.forEach((k, v) -> out.put(k.toString().strip(), v.toString().strip()));
    return out;
  }

  private static Properties properties(Map<String, String> settings) {
    Properties p = new Properties();
    p.putAll(settings);
    return p;
  }

  private static Map<String, String> with(String bootstrapServers, Map<String, String> defaults, String kind) {
    Map<String, String> out = new HashMap<>(defaults);
    out.putAll(client(bootstrapServers));
    out.putAll(overrides(Map.of(), kind, System.getenv(), System.getProperties()));
    return out;
  }

  /** The defaults with the kind's overrides on top: {@code RDV_KAFKA_<KIND>_<NAME>}, then {@code rdv.kafka.<kind>.<name>}. */
  private static Map<String, String> overrides(Map<String, String> defaults, String kind, Map<String, String> env,
      Properties system) {
    Map<String, String> out = new HashMap<>(defaults);
    String envPrefix = "RDV_KAFKA_" + kind.toUpperCase(Locale.ROOT) + "_";
    env.forEach((k, v) -> {
      if (k.startsWith(envPrefix)) {
        out.put(k.substring(envPrefix.length()).toLowerCase(Locale.ROOT).replace('_', '.'), v);
      }
    });
    String propPrefix = "rdv.kafka." + kind + ".";
    system.forEach((k, v) -> {
      if (k.toString().startsWith(propPrefix)) {
        out.put(k.toString().substring(propPrefix.length()), v.toString());
      }
    });
    return out;
  }
}
