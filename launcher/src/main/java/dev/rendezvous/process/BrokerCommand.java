package dev.rendezvous.process;

import dev.rendezvous.broker.EmbeddedKafka;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A single-node Kafka broker (KRaft) on 127.0.0.1 and nothing else: the cluster that separately started
 * components share on one machine. Not for production, which uses a real cluster.
 */
@Command(name = "broker", mixinStandardHelpOptions = true,
    description = "Run only the embedded single-node Kafka broker on 127.0.0.1 (for the other processes on "
        + "this machine).")
public final class BrokerCommand implements Callable<Integer> {

  @Option(names = "--data", defaultValue = "${env:RDV_DATA:-data}",
      description = "Directory of the broker's log (<data>/kafka); formatted when empty.")
  Path data;

  @Option(names = "--port", defaultValue = "${env:RDV_KAFKA_PORT:-9092}",
      description = "Port of the broker's client listener on 127.0.0.1.")
  int port;

  @Override
  public Integer call() throws Exception {
    EmbeddedKafka broker = EmbeddedKafka.start(data.resolve("kafka"), port);
    Processes.ready("broker " + broker.bootstrapServers());
    return Processes.runUntilStopped(broker);
  }
}
