package dev.rendezvous.proxy;

import dev.rendezvous.auth.Secrets;
import io.vertx.core.http.HttpServerRequest;

/**
 * The secret by which the launcher's warm-up requests identify themselves to their proxy: a header,
 * {@value #HEADER}, whose value is 128 random bits drawn when the proxy is created and only ever handed to code
 * in the same process. A request carrying it gets a warm-up request id; a client cannot send it because it
 * cannot know it, and nothing a client sends is copied into the record.
 */
public final class WarmUpKey {

  /** The header that carries the key. */
  public static final String HEADER = "x-rendezvous-warm-up";

  private final String value = Secrets.random(16);
  private final byte[] digest = Secrets.digest(value);

  WarmUpKey() {}

  /** The value to send in {@value #HEADER}. */
  public String value() {
    return value;
  }

  /** Whether the request carries this key; constant time. */
  boolean marks(HttpServerRequest request) {
    return marks(request.getHeader(HEADER));
  }

  /** Whether this header value (null when absent) is the key; constant time. */
  boolean marks(String header) {
    return Secrets.matches(digest, header);
  }
}
