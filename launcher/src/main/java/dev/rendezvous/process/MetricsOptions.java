package dev.rendezvous.process;

import dev.rendezvous.metrics.MetricsServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import picocli.CommandLine.Option;

/**
 * Where a component process without an HTTP port of its own serves {@code GET /metrics} (the proxy, and so
 * {@code up}, serve it on their HTTP port).
 */
public final class MetricsOptions {

  @Option(names = "--metrics-port", defaultValue = "${env:RDV_METRICS_PORT:--1}",
      description = "Port of this process's GET /metrics (Prometheus text format), e.g. 9404; -1 turns it off, "
          + "0 picks a free one.")
  int port;

  @Option(names = "--metrics-host", defaultValue = "${env:RDV_METRICS_HOST:-127.0.0.1}",
      description = "Address of /metrics; 0.0.0.0 in a container.")
  String host;

  /** Serves the registry, or returns null when the port is negative (metrics off). */
  MetricsServer serve(PrometheusMeterRegistry registry) throws IOException {
    return port < 0 ? null : MetricsServer.start(registry, host, port);
  }
}
