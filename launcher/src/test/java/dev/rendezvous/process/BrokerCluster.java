package dev.rendezvous.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A Kafka cluster of {@code size} nodes on 127.0.0.1 for end-to-end tests: each node broker and controller in one,
 * in a JVM of its own ({@code bin/rendezvous broker --node-id N --quorum-voters ...}, with a small heap), every
 * node a voter of the controller quorum, formatted with one cluster id. A node can be killed with SIGKILL, as a
 * crashed machine would die (no controlled shutdown: its partitions keep it as their leader until the controller
 * fences it), and started again on its data directory and ports.
 */
final class BrokerCluster implements AutoCloseable {

  private final Path dir;
  private final int[] ports;
  private final String voters;
  private final ComponentProcess[] nodes;
  private int starts;

  private BrokerCluster(Path dir, int[] ports, String voters) {
    this.dir = dir;
    this.ports = ports;
    this.voters = voters;
    this.nodes = new ComponentProcess[ports.length];
  }

  /** Starts every node side by side (a node serves once a majority of the quorum runs) and waits until all serve. */
  static BrokerCluster start(Path dir, int size) throws Exception {
    int[] ports = new int[size];
    List<String> voters = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      ports[i] = freePort();
      voters.add(nodeId(i) + "@127.0.0.1:" + freePort());
    }
    BrokerCluster cluster = new BrokerCluster(Files.createDirectories(dir), ports, String.join(",", voters));
    try {
      for (int i = 0; i < size; i++) {
        cluster.launch(nodeId(i));
      }
      for (int i = 0; i < size; i++) {
        cluster.awaitServing(nodeId(i));
      }
      return cluster;
    } catch (Exception | AssertionError e) {
      cluster.close();
      throw e;
    }
  }

  /** Node ids run from 1. */
  private static int nodeId(int index) {
    return index + 1;
  }

  /** The {@code bootstrap.servers} value listing every node. */
  String bootstrapServers() {
    return IntStream.of(ports).mapToObj(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
  }

  /** The node's client listener, {@code 127.0.0.1:port}. */
  String address(int nodeId) {
    return "127.0.0.1:" + ports[nodeId - 1];
  }

  /** Kills the node's JVM with SIGKILL and waits until it is gone. */
  void kill(int nodeId) throws InterruptedException {
    nodes[nodeId - 1].kill();
    assertThat(nodes[nodeId - 1].process.isAlive()).as("node %d after SIGKILL", nodeId).isFalse();
  }

  /** Starts the node again on its data directory and ports, and waits until it serves. */
  void restart(int nodeId) throws Exception {
    launch(nodeId);
    awaitServing(nodeId);
  }

  private void launch(int nodeId) throws IOException {
    // -XX:+UseSerialGC and a small heap (ComponentProcess): three brokers and the system share two cores.
    nodes[nodeId - 1] = ComponentProcess.start("broker-" + nodeId + "-" + (++starts), dir, "256m", "broker",
        "--data", dir.resolve("node-" + nodeId).toString(), "--port", Integer.toString(ports[nodeId - 1]),
        "--node-id", Integer.toString(nodeId), "--quorum-voters", voters);
  }

  private void awaitServing(int nodeId) throws Exception {
    assertThat(nodes[nodeId - 1].awaitReady(120)).isEqualTo("broker " + address(nodeId) + " node " + nodeId);
  }

  @Override
  public void close() throws InterruptedException {
    // Every node asked at once: one by one, the last would wait for a quorum that has already gone.
    for (ComponentProcess node : nodes) {
      if (node != null) {
        node.process.destroy();
      }
    }
    for (ComponentProcess node : nodes) {
      if (node != null) {
        node.close();
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
