package dev.rendezvous.proxy;

import dev.rendezvous.kafka.KafkaSettings;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the proxy can reach Kafka, for {@code /v2/health/ready}: every {@code intervalMs} it asks the cluster
 * for its brokers ({@code describeCluster}, one small request) with a timeout of the same length, and Kafka
 * counts as reachable while the last answer came back. Without it readiness said 200 throughout a broker
 * outage, since nothing else the proxy checks changes when the broker goes away.
 *
 * <p>The check never blocks the event loop: the periodic timer only hands the request to the admin client,
 * whose own network thread sends it and completes it; a check still in flight when the next tick comes is not
 * doubled. Exported as {@code rdv_proxy_kafka_reachable} (1 or 0).
 */
final class KafkaReachability {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaReachability.class);

  /** Default interval (and timeout) of the check, milliseconds. */
  static final long DEFAULT_INTERVAL_MS = 1000;

  /** The environment variable that changes {@link #DEFAULT_INTERVAL_MS}. */
  static final String INTERVAL_ENV = "RDV_KAFKA_CHECK_MS";

  private final Admin admin;
  private final long intervalMs;
  private final AtomicBoolean inFlight = new AtomicBoolean();
  private volatile boolean reachable = true;
  private long timerId = -1;

  /**
   * Starts reachable: the proxy starts only after it fetched its topics' metadata, which needs the broker.
   */
  KafkaReachability(String bootstrapServers, long intervalMs, MeterRegistry metrics) {
    if (intervalMs < 1) {
      throw new IllegalArgumentException(INTERVAL_ENV + " must be at least 1 ms, not " + intervalMs);
    }
    Map<String, Object> props = new HashMap<>(KafkaSettings.admin(bootstrapServers));
    props.putIfAbsent("client.id", "rdv-proxy-reachability");
    this.admin = Admin.create(props);
    this.intervalMs = intervalMs;
    Gauge.builder("rdv.proxy.kafka.reachable", this, r -> r.reachable ? 1 : 0).strongReference(true)
        .description("1 while the proxy's last check reached Kafka, else 0").register(metrics);
  }

  /** The check interval of {@value #INTERVAL_ENV}, else {@link #DEFAULT_INTERVAL_MS}. */
  static long intervalFromEnvironment(Map<String, String> env) {
    String v = env.get(INTERVAL_ENV);
    try {
      return v == null || v.isBlank() ? DEFAULT_INTERVAL_MS : Long.parseLong(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(INTERVAL_ENV + " must be a whole number of milliseconds, not " + v);
    }
  }

  void start(Vertx vertx) {
    timerId = vertx.setPeriodic(intervalMs, id -> check());
  }

  /** True while the last check reached Kafka. */
  boolean reachable() {
    return reachable;
  }

  private void check() {
    if (!inFlight.compareAndSet(false, true)) {
      return;
    }
    admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) Math.min(Integer.MAX_VALUE, intervalMs)))
        .nodes().whenComplete((nodes, e) -> {
          boolean ok = e == null && nodes != null && !nodes.isEmpty();
          String error = ok ? null : e == null ? "the cluster named no broker" : e.getMessage();
          if (ok != reachable) {
            if (ok) {
              LOG.info("Kafka reachable again; the proxy is ready");
            } else {
              LOG.warn("Kafka unreachable ({}); the proxy reports not ready until it answers again", error);
            }
          }
          reachable = ok;
          inFlight.set(false);
        });
  }

  void stop(Vertx vertx) {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
    admin.close(Duration.ZERO);
  }
}
