package dev.rendezvous.common;

/**
 * How the launcher's warm-up requests are told apart: the proxy gives them request ids that start with
 * {@value #PREFIX}. Request ids are stamped by the proxy alone, so no client can make its request look like
 * warm-up traffic (and so escape the archive, the score histograms or what-if), whatever it sends; the client's
 * own {@code id} plays no part.
 */
public final class WarmUp {

  /** The start of every warm-up request id; ordinary ids never contain a colon. */
  public static final String PREFIX = "warm-up:";

  private WarmUp() {}

  /** Whether the request with this id was a warm-up request. */
  public static boolean isWarmUp(String requestId) {
    return requestId != null && requestId.startsWith(PREFIX);
  }
}
