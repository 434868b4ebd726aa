package dev.rendezvous.proxy;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the Vert.x instance of a process: its event loops wait on Linux's epoll (Netty's native transport, shipped
 * for x86-64 Linux) where it loads, and on the JDK's selector elsewhere: fewer system calls and no selector
 * bookkeeping per wake-up (docs/benchmark.md has what it changed for the embedded default). Whatever the transport,
 * the process behaves the same; on Linux without it, the log says why it did not load.
 */
public final class NativeTransport {

  private static final Logger LOG = LoggerFactory.getLogger(NativeTransport.class);

  private NativeTransport() {}

  /** A new Vert.x instance on the native transport when it loads, with Vert.x's defaults otherwise. */
  public static Vertx vertx() {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    if (vertx.isNativeTransportEnabled()) {
      LOG.debug("event loops on the native transport (epoll)");
    } else if (System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
      LOG.info("event loops on the JDK's selector: the native transport did not load ({})",
          vertx.unavailableNativeTransportCause());
    }
    return vertx;
  }
}
