package dev.rendezvous.common;

/**
 * The results topic partition that one proxy reads, so each proxy receives only its own answers.
 * Written as {@code topic:partition}.
 */
public record ReturnAddress(String topic, int partition) {

  public String format() {
    return topic + ":" + partition;
  }

  /** Parses {@code topic:partition}; throws IllegalArgumentException with the bad text otherwise. */
  public static ReturnAddress parse(String text) {
    int colon = text == null ? -1 : text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException("return address must be topic:partition, not '" + text + "'");
    }
    try {
      return new ReturnAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("return address must be topic:partition, not '" + text + "'");
    }
  }
}
