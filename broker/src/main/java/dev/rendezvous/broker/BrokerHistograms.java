package dev.rendezvous.broker;

import com.yammer.metrics.core.Histogram;
import com.yammer.metrics.core.Metric;
import com.yammer.metrics.core.MetricName;
import com.yammer.metrics.stats.ExponentiallyDecayingSample;
import com.yammer.metrics.stats.Sample;
import com.yammer.metrics.stats.UniformSample;
import java.lang.reflect.Field;
import java.util.Map;
import org.apache.kafka.server.metrics.KafkaYammerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the broker's own histograms on uniform reservoirs, which allocate nothing per update.
 *
 * <p>The broker records each request's queue, local, remote, send and total time, and its size, in histograms
 * of the Yammer metrics library, about twenty updates per Fetch or Produce request. It creates them all with the
 * library's time-biased reservoir, a concurrent skip list of 1,028 samples in which every update inserts a node
 * and a boxed key and drops an older one. Those nodes live from seconds to minutes: in a broker that shares its
 * JVM with the rest of the system they were most of what every young collection copied again and again, and their
 * links from old nodes to new ones were most of the old-to-young references it scanned. A uniform reservoir (the
 * library's other kind, fixed arrays of the same size) keeps the same counts, sums, minimum and maximum; its
 * percentiles cover the broker's whole life rather than favouring the last five minutes, which nothing here reads
 * (the benchmark reads the request rates, which are meters).
 *
 * <p>The library gives no way to choose the reservoir of a histogram the broker creates, so this replaces it in
 * each one after the broker has started, through the histogram's field; if the library ever changes shape, the
 * broker keeps its biased reservoirs and a warning says so.
 */
final class BrokerHistograms {

  private static final Logger LOG = LoggerFactory.getLogger(BrokerHistograms.class);
  /** The library's default reservoir size, as the biased reservoirs had. */
  static final int RESERVOIR = 1028;

  private BrokerHistograms() {}

  /**
   * Gives every histogram in the broker's registry that still has a time-biased reservoir a uniform one;
   * returns how many it changed (0 the second time). Safe to call again after another broker started in this
   * JVM: the registry is shared, and only what is still biased is changed.
   */
  static int makeUniform() {
    Field sample;
    try {
      sample = Histogram.class.getDeclaredField("sample");
      sample.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("the broker's histograms keep their time-biased reservoirs: {}", e.toString());
      return 0;
    }
    int changed = 0;
    for (Map.Entry<MetricName, Metric> e : KafkaYammerMetrics.defaultRegistry().allMetrics().entrySet()) {
      if (e.getValue() instanceof Histogram h) {
        try {
          if (sample.get(h) instanceof ExponentiallyDecayingSample) {
            sample.set(h, (Sample) new UniformSample(RESERVOIR));
            changed++;
          }
        } catch (IllegalAccessException ex) {
          LOG.warn("histogram {} keeps its time-biased reservoir: {}", e.getKey(), ex.toString());
        }
      }
    }
    return changed;
  }
}
