package dev.rendezvous.proxy;

import java.util.Map;

/**
 * The largest request record the proxy's producer will send, from its {@code max.request.size} (Kafka's default
 * 1 MiB unless {@code RDV_KAFKA_PRODUCER_MAX_REQUEST_SIZE} changes it). A request body under the HTTP limit can
 * still encode to a larger record (a big batch); the proxy refuses it with 413 up front instead of letting the
 * producer fail it, which would leave the client with the default and the archive without the request.
 *
 * @param maxRequestSize the producer's {@code max.request.size}, bytes
 */
record RecordLimit(int maxRequestSize) {

  /** Kafka's default {@code max.request.size}. */
  static final int KAFKA_DEFAULT = 1_048_576;

  /**
   * What the producer adds around a record's key and value when it checks the size: the batch header (61 bytes)
   * and the record's own length, offsets and header count (at most 21), rounded up.
   */
  static final int OVERHEAD = 128;

  static RecordLimit of(Map<String, String> producerSettings) {
    String v = producerSettings.get("max.request.size");
    try {
      return new RecordLimit(v == null ? KAFKA_DEFAULT : Integer.parseInt(v.strip()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("producer max.request.size must be a whole number of bytes, not " + v);
    }
  }

  /** Why a record of this key and value cannot be sent, or null when it fits. */
  String tooLarge(String key, byte[] value, long rows) {
    long size = (long) key.length() + value.length + OVERHEAD;
    if (size <= maxRequestSize) {
      return null;
    }
    return "the request encodes to a " + size + "-byte record, above the " + maxRequestSize + " bytes the proxy "
        + "may write to Kafka (producer max.request.size); send its " + rows + " rows in smaller batches";
  }
}
