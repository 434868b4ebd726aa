package dev.rendezvous.runtime;

import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/**
 * Fetch settings for readers off the request path (decoy, score monitor, score observer): the broker answers their
 * fetch once {@value #MIN_BYTES} bytes are there or after {@value #MAX_WAIT_MS} ms, whichever comes first, so
 * that they make few, large fetches and leave the broker's and the machine's time to the request path's
 * consumers, which fetch as soon as one record is there. A few hundred milliseconds of delay costs a drift
 * statistic, a "last seen" or an archive line nothing (the decoy syncs every 200 ms anyway).
 */
public final class OffPathFetch {

  public static final int MIN_BYTES = 64 * 1024;
  public static final int MAX_WAIT_MS = 200;
  public static final int MAX_POLL_RECORDS = 2000;

  private OffPathFetch() {}

  /** Puts the settings into {@code props} and returns it. */
  public static Properties apply(Properties props) {
    props.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, Integer.toString(MIN_BYTES));
    props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, Integer.toString(MAX_WAIT_MS));
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(MAX_POLL_RECORDS));
    return props;
  }
}
