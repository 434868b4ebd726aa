package dev.rendezvous.process;

import dev.rendezvous.broker.EmbeddedKafka;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A Kafka broker (KRaft) on 127.0.0.1 and nothing else: a single node, the cluster that separately started
 * components share on one machine, or, with {@code --quorum-voters}, one node of a cluster of several on this
 * machine (each node its own process, for trying and testing fail-over). Not for production, which uses a real
 * cluster.
 */
@Command(name = "broker", mixinStandardHelpOptions = true,
    description = "Run only an embedded Kafka broker on 127.0.0.1 (for the other processes on this machine): a "
        + "single node, or one node of a cluster on this machine with --node-id and --quorum-voters.")
public final class BrokerCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--data", defaultValue = "${env:RDV_DATA:-data}",
      description = "Directory of the broker's log (<data>/kafka); formatted when empty. Each node of a cluster "
          + "needs its own.")
  Path data;

  @Option(names = "--port", defaultValue = "${env:RDV_KAFKA_PORT:-9092}",
      description = "Port of the broker's client listener on 127.0.0.1.")
  int port;

  @Option(names = "--quorum-voters", defaultValue = "${env:RDV_KAFKA_QUORUM_VOTERS}",
      description = "Every node of a cluster on this machine as id@127.0.0.1:controller-port, comma-separated "
          + "(Kafka's controller.quorum.voters), the same for every node, e.g. "
          + "1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097. Unset: a single node.")
  String quorumVoters;

  @Option(names = "--node-id", defaultValue = "${env:RDV_KAFKA_NODE_ID}",
      description = "This node's id among --quorum-voters; its controller listens on the port given there.")
  Integer nodeId;

  @Option(names = "--cluster-id", defaultValue = "${env:RDV_KAFKA_CLUSTER_ID}",
      description = "The cluster id a new node's data directory is formatted with. Unset: derived from "
          + "--quorum-voters, so that nodes given the same voters agree (a single node: a random one).")
  String clusterId;

  @Override
  public Integer call() throws Exception {
    boolean cluster = quorumVoters != null && !quorumVoters.isBlank();
    if (!cluster && (nodeId != null || clusterId != null)) {
      throw new ParameterException(spec.commandLine(), "--node-id and --cluster-id need --quorum-voters");
    }
    if (cluster && nodeId == null) {
      throw new ParameterException(spec.commandLine(), "--quorum-voters needs --node-id");
    }
    EmbeddedKafka broker = cluster
        ? EmbeddedKafka.startNode(data.resolve("kafka"), port, nodeId, quorumVoters.strip(), clusterId)
        : EmbeddedKafka.start(data.resolve("kafka"), port);
    Processes.ready("broker " + broker.bootstrapServers() + (cluster ? " node " + nodeId : ""));
    return Processes.runUntilStopped(broker);
  }
}
