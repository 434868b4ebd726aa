package dev.rendezvous.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, broker and controller in one) running inside this JVM, for the
 * embedded default and for tests. Its data lives in a directory the caller chooses; starting again on the
 * same directory keeps the topics and their records.
 */
public final class EmbeddedKafka implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

  private final Path dataDir;
  private final int port;
  private final KafkaRaftServer server;

  private EmbeddedKafka(Path dataDir, int port, KafkaRaftServer server) {
    this.dataDir = dataDir;
    this.port = port;
    this.server = server;
  }

  /**
   * Formats {@code dataDir} if it holds no broker yet, then starts the broker on {@code port} (0 = any free
   * port) and returns once it serves.
   */
  public static EmbeddedKafka start(Path dataDir, int port) {
    return start(dataDir, port, null);
  }

  /**
   * The same broker with one client listener that asks for SASL (PLAIN mechanism, no TLS:
   * {@code SASL_PLAINTEXT}) and knows the given users and passwords; a client needs
   * {@code security.protocol=SASL_PLAINTEXT}, {@code sasl.mechanism=PLAIN} and one user's
   * {@link #plainJaasConfig}. For tests of clients with credentials: PLAIN sends the password in clear.
   */
  public static EmbeddedKafka startWithSasl(Path dataDir, int port, Map<String, String> users) {
    if (users.isEmpty()) {
      throw new IllegalArgumentException("a SASL listener needs at least one user");
    }
    return start(dataDir, port, users);
  }

  /** The {@code sasl.jaas.config} of a client that logs in with PLAIN as this user. */
  public static String plainJaasConfig(String user, String password) {
    return "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + user
        + "\" password=\"" + password + "\";";
  }

  private static EmbeddedKafka start(Path dataDir, int port, Map<String, String> saslUsers) {
    try {
      Files.createDirectories(dataDir);
      int brokerPort = port == 0 ? freePort() : port;
      int controllerPort = freePort();
      String logDir = dataDir.resolve("kraft").toAbsolutePath().toString();
      Properties props = new Properties();
      props.put("process.roles", "broker,controller");
      props.put("node.id", "1");
      props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
      String listener = saslUsers == null ? "PLAINTEXT" : "SASL_PLAINTEXT";
      props.put("listeners", listener + "://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
      props.put("advertised.listeners", listener + "://127.0.0.1:" + brokerPort);
      props.put("controller.listener.names", "CONTROLLER");
      props.put("inter.broker.listener.name", listener);
      props.put("listener.security.protocol.map", listener + ":" + listener + ",CONTROLLER:PLAINTEXT");
      if (saslUsers != null) {
        // The broker logs in to its own listener as a user of its own; every other user is a client.
        String brokerPassword = Uuid.randomUuid().toString();
        StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required")
            .append(" username=\"broker\" password=\"").append(brokerPassword).append("\" user_broker=\"")
            .append(brokerPassword).append('"');
        saslUsers.forEach((user, password) -> jaas.append(" user_").append(user).append("=\"").append(password)
            .append('"'));
        props.put("sasl.enabled.mechanisms", "PLAIN");
        props.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        props.put("listener.name.sasl_plaintext.plain.sasl.jaas.config", jaas.append(';').toString());
      }
      props.put("log.dirs", logDir);
      props.put("offsets.topic.replication.factor", "1");
      props.put("offsets.topic.num.partitions", "4");
      props.put("transaction.state.log.replication.factor", "1");
      props.put("transaction.state.log.min.isr", "1");
      props.put("share.coordinator.state.topic.replication.factor", "1");
      props.put("share.coordinator.state.topic.min.isr", "1");
      // One node: nobody else will join, so do not wait for them before the first rebalance.
      props.put("group.initial.rebalance.delay.ms", "0");
      props.put("num.partitions", "4");
      props.put("auto.create.topics.enable", "false");
      props.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
      // Any broker setting can be given as a system property rdv.kafka.broker.<name>, for tuning experiments.
      System.getProperties().forEach((k, v) -> {
        if (k.toString().startsWith("rdv.kafka.broker.")) {
          props.put(k.toString().substring("rdv.kafka.broker.".length()), v.toString());
        }
      });

      // Format only a new directory: a formatted one keeps its cluster id, topics and records.
      if (!Files.exists(Path.of(logDir, "meta.properties"))) {
        new Formatter()
            .setNodeId(1)
            .setClusterId(Uuid.randomUuid().toString())
            .setDirectories(List.of(logDir))
            .setMetadataLogDirectory(logDir)
            .setControllerListenerName("CONTROLLER")
            .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
            .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
            .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
            .run();
      }

      KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
      server.startup();
      LOG.info("Embedded Kafka broker serving {} on 127.0.0.1:{} with data in {}", listener, brokerPort, dataDir);
      return new EmbeddedKafka(dataDir, brokerPort, server);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded Kafka in " + dataDir, e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot start embedded Kafka in " + dataDir + ": " + e.getMessage(), e);
    }
  }

  /** The {@code bootstrap.servers} value that reaches this broker. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  public Path dataDir() {
    return dataDir;
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }
}
