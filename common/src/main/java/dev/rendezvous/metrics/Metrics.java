package dev.rendezvous.metrics;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.WeakHashMap;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * Builds the one registry a process exports on {@code /metrics}, and the meters whose layout every
 * component shares. Names follow Prometheus conventions once exported: base units (seconds), counters end
 * in {@code _total}, and no label ever holds a per-request value, so the number of series stays bounded by
 * problems x models x tiers.
 */
public final class Metrics {

  /**
   * Latency bucket bounds in seconds, from 0.5 ms to 2.5 s: fine where the demo's tiers are (tens of
   * milliseconds) and wide enough to show a cold start or a stalled model.
   */
  public static final double[] LATENCY_BUCKETS_SECONDS = {
      0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05, 0.075,
      0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.5};

  /** Probability buckets: twenty bins of 0.05 between 0 and 1. */
  public static final double[] PROBABILITY_BUCKETS = probabilityBuckets();

  /** Batch size buckets, powers of two up to 1024 requests. */
  public static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

  /** Binders that hold JVM listeners, by registry, released by {@link #close}. */
  private static final Map<PrometheusMeterRegistry, JvmGcMetrics> GC_BINDERS = new WeakHashMap<>();

  /** A Prometheus registry with the JVM, process and uptime metrics already bound; {@link #close} it when done. */
  public static PrometheusMeterRegistry newRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Counted in nanoseconds, against the base-unit convention; process_cpu_usage says the same thing.
    registry.config().meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time"));
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    synchronized (GC_BINDERS) {
      GC_BINDERS.put(registry, gc);
    }
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    return registry;
  }

  /** Closes a registry made by {@link #newRegistry}, and the garbage collection listeners it registered. */
  public static void close(PrometheusMeterRegistry registry) {
    JvmGcMetrics gc;
    synchronized (GC_BINDERS) {
      gc = GC_BINDERS.remove(registry);
    }
    if (gc != null) {
      gc.close();
    }
    registry.close();
  }

  /**
   * Exports a Kafka client's own metrics ({@code kafka_consumer_*}, {@code kafka_producer_*}, {@code
   * kafka_app_info_*}) labelled with the component that owns it and the kind of client (a consumer and a
   * producer may share a client id, and both export {@code kafka_app_info_*}). Close the returned binder when
   * the client is closed.
   */
  public static KafkaClientMetrics bindKafka(MeterRegistry registry, Consumer<?, ?> consumer, String component) {
    KafkaClientMetrics m = new KafkaClientMetrics(consumer, Tags.of("component", component, "client", "consumer"));
    m.bindTo(registry);
    return m;
  }

  /** See {@link #bindKafka(MeterRegistry, Consumer, String)}. */
  public static KafkaClientMetrics bindKafka(MeterRegistry registry, Producer<?, ?> producer, String component) {
    KafkaClientMetrics m = new KafkaClientMetrics(producer, Tags.of("component", component, "client", "producer"));
    m.bindTo(registry);
    return m;
  }

  /**
   * A latency timer exported as a Prometheus histogram with {@link #LATENCY_BUCKETS_SECONDS}, so quantiles
   * can be aggregated across instances with {@code histogram_quantile}.
   */
  public static Timer latency(MeterRegistry registry, String name, String description, Tags tags) {
    Duration[] slos = new Duration[LATENCY_BUCKETS_SECONDS.length];
    for (int i = 0; i < slos.length; i++) {
      slos[i] = Duration.ofNanos(Math.round(LATENCY_BUCKETS_SECONDS[i] * 1e9));
    }
    return Timer.builder(name).description(description).tags(tags).serviceLevelObjectives(slos)
        .minimumExpectedValue(slos[0]).maximumExpectedValue(Duration.ofSeconds(10)).register(registry);
  }

  /** A distribution of counts (batch sizes) with {@link #BATCH_BUCKETS}. */
  public static DistributionSummary batchSizes(MeterRegistry registry, String name, String description,
      Tags tags) {
    return DistributionSummary.builder(name).description(description).tags(tags)
        .serviceLevelObjectives(BATCH_BUCKETS).register(registry);
  }

  private static double[] probabilityBuckets() {
    double[] b = new double[20];
    for (int i = 0; i < b.length; i++) {
      b[i] = Math.round((i + 1) * 5) / 100.0;
    }
    return b;
  }

  private Metrics() {}
}
