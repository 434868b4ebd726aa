package dev.rendezvous.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
 * A real Kafka broker (KRaft, broker and controller in one) running inside this JVM: a single node for the
 * embedded default and for tests, or one node of a cluster on this machine ({@link #startNode}, each node in a
 * process of its own). Its data lives in a directory the caller chooses; starting again on the same directory
 * keeps the topics and their records.
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

  /**
   * One node of a cluster of several on this machine (127.0.0.1): broker and controller in one, a voter of the
   * controller quorum {@code quorumVoters} (Kafka's {@code controller.quorum.voters}: {@code id@127.0.0.1:port} of
   * every node, comma-separated; this node's controller listens on the port of its own entry). Formats
   * {@code dataDir} with {@code clusterId} if it holds no broker yet (null: {@link #clusterIdOf} the voters, so
   * that nodes given the same voters agree), then starts and returns once this node serves, which needs a
   * majority of the voters running: start the nodes side by side, each in its own process.
   *
   * <p>The internal topics (consumer offsets, transactions) get a replication factor of min(3, voters) and the
   * topics' default {@code min.insync.replicas} is one less (2 of 3), so that a producer with {@code acks=all}
   * keeps writing while one node is down and an acknowledged record survives the loss of any one node. Brokers
   * heartbeat every 500 ms and a broker silent for 3 s is fenced (Kafka's defaults: 2 s and 9 s), so that the
   * partitions of a crashed node get new leaders, and drop it from their in-sync replicas, within seconds: on
   * loopback only the machine itself could stall a live broker's heartbeats that long, and a broker fenced by
   * mistake costs seconds of leader changes, never a record (docs/reliability.md).
   */
  public static EmbeddedKafka startNode(Path dataDir, int port, int nodeId, String quorumVoters, String clusterId) {
    Map<Integer, Integer> voters = parseVoters(quorumVoters);
    Integer controllerPort = voters.get(nodeId);
    if (controllerPort == null) {
      throw new IllegalArgumentException("node " + nodeId + " is not among the quorum voters " + quorumVoters);
    }
    return start(dataDir, port, new Node(nodeId, controllerPort, quorumVoters, voters.size(),
        clusterId != null ? clusterId : clusterIdOf(quorumVoters)), null);
  }

  /** The cluster id derived from the quorum voters: the same for every node given the same voters. */
  public static String clusterIdOf(String quorumVoters) {
    UUID id = UUID.nameUUIDFromBytes(("rendezvous " + quorumVoters.strip()).getBytes(StandardCharsets.UTF_8));
    return new Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits()).toString();
  }

  /** {@code id@127.0.0.1:port,...} as controller port by node id. */
  static Map<Integer, Integer> parseVoters(String quorumVoters) {
    Map<Integer, Integer> out = new TreeMap<>();
    for (String voter : quorumVoters.split(",")) {
      Matcher m = VOTER.matcher(voter.strip());
      if (!m.matches()) {
        throw new IllegalArgumentException("quorum voter '" + voter.strip() + "' is not id@127.0.0.1:port (every "
            + "node of this cluster runs on 127.0.0.1)");
      }
      if (out.put(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))) != null) {
        throw new IllegalArgumentException("node " + m.group(1) + " is listed twice in " + quorumVoters);
      }
    }
    return out;
  }

  private static final Pattern VOTER = Pattern.compile("(\\d+)@127\\.0\\.0\\.1:(\\d+)");

  /** Where a node stands in its quorum: its id, its controller's port, every voter, and the cluster's id. */
  private record Node(int id, int controllerPort, String voters, int size, String clusterId) {

    /** The node of a cluster of one, with a controller port of its own and a new cluster id. */
    static Node alone() throws IOException {
      int controllerPort = freePort();
      return new Node(1, controllerPort, "1@127.0.0.1:" + controllerPort, 1, Uuid.randomUuid().toString());
    }

    /** Replicas of the internal topics and of topics created without a replication factor. */
    int replicationFactor() {
      return Math.min(3, size);
    }

    /** In-sync replicas an {@code acks=all} write needs: all but one, at least one. */
    int minInSync() {
      return Math.max(1, replicationFactor() - 1);
    }
  }

  private static EmbeddedKafka start(Path dataDir, int port, Map<String, String> saslUsers) {
    try {
      return start(dataDir, port, Node.alone(), saslUsers);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded Kafka in " + dataDir, e);
    }
  }

  private static EmbeddedKafka start(Path dataDir, int port, Node node, Map<String, String> saslUsers) {
    try {
      Files.createDirectories(dataDir);
      int brokerPort = port == 0 ? freePort() : port;
      int controllerPort = node.controllerPort();
      String logDir = dataDir.resolve("kraft").toAbsolutePath().toString();
      Properties props = new Properties();
      props.put("process.roles", "broker,controller");
      props.put("node.id", Integer.toString(node.id()));
      props.put("controller.quorum.voters", node.voters());
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
      String replicas = Integer.toString(node.replicationFactor());
      String minInSync = Integer.toString(node.minInSync());
      props.put("offsets.topic.replication.factor", replicas);
      props.put("offsets.topic.num.partitions", "4");
      props.put("transaction.state.log.replication.factor", replicas);
      props.put("transaction.state.log.min.isr", minInSync);
      props.put("share.coordinator.state.topic.replication.factor", replicas);
      props.put("share.coordinator.state.topic.min.isr", minInSync);
      props.put("default.replication.factor", replicas);
      props.put("min.insync.replicas", minInSync);
      if (node.size() > 1) {
        props.put("broker.heartbeat.interval.ms", "500");
        props.put("broker.session.timeout.ms", "3000");
        // Kafka's 50 partitions, each with a replica on every node, only add work to a small cluster's recovery.
        props.put("transaction.state.log.num.partitions", "4");
      }
      // The components' consumers join at once; waiting for more members before the first rebalance only delays them.
      props.put("group.initial.rebalance.delay.ms", "0");
      props.put("num.partitions", "4");
      props.put("auto.create.topics.enable", "false");
      props.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
      // The log cleaner's map of keys, allocated once on the heap when the broker starts: Kafka's default of
      // 128 MB was most of this JVM's live heap, enough to keep G1 in concurrent cycles (each with a remark pause of
      // 15-28 ms) every few seconds. The topics compacted here (consumer offsets, schedule logs) have few keys; 8 MB
      // holds about 300,000 per cleaning pass, and a topic with more is cleaned in several passes.
      props.put("log.cleaner.dedupe.buffer.size", Integer.toString(8 * 1024 * 1024));
      // Any broker setting can be given as RDV_KAFKA_BROKER_<NAME> (upper case, dots as underscores) or as a system
      // property rdv.kafka.broker.<name>, which wins, for tuning experiments.
      System.getenv().forEach((k, v) -> {
        if (k.startsWith(BROKER_ENV_PREFIX)) {
          props.put(k.substring(BROKER_ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.'), v);
        }
      });
      System.getProperties().forEach((k, v) -> {
        if (k.toString().startsWith("rdv.kafka.broker.")) {
          props.put(k.toString().substring("rdv.kafka.broker.".length()), v.toString());
        }
      });

      // Format only a new directory: a formatted one keeps its cluster id, topics and records.
      if (!Files.exists(Path.of(logDir, "meta.properties"))) {
        new Formatter()
            .setNodeId(node.id())
            .setClusterId(node.clusterId())
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
      LOG.debug("{} broker histograms moved to uniform reservoirs", BrokerHistograms.makeUniform());
      LOG.info("Embedded Kafka broker serving {} on 127.0.0.1:{} with data in {}{}", listener, brokerPort, dataDir,
          node.size() > 1 ? " (node " + node.id() + " of " + node.voters() + ")" : "");
      return new EmbeddedKafka(dataDir, brokerPort, server);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded Kafka in " + dataDir, e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot start embedded Kafka in " + dataDir + ": " + e.getMessage(), e);
    }
  }

  /** The prefix of the environment variables that set any broker setting. */
  public static final String BROKER_ENV_PREFIX = "RDV_KAFKA_BROKER_";

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
