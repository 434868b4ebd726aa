package dev.rendezvous.proxy;

import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

/**
 * The proxy's executor for work off the request path: {@code /metrics} scrapes, the status page, schedule
 * changes and schedule status. It is a Vert.x shared worker pool of its own, apart from Vert.x's worker pool,
 * on which the Kafka producer of the request path sends (vertx-kafka-client runs every
 * {@code KafkaProducer.send} on a worker context of that pool): however many scrapes arrive at once, they
 * queue here, and the sends never wait behind them.
 *
 * <p>One per process: {@link Proxy} makes it when it starts, with {@link AdmissionConfig#adminThreads()} threads,
 * and hands it to every instance and to the routes added beside the proxy's own; Vert.x closes it when the proxy
 * is undeployed.
 */
public final class AdminExecutor {

  /** The shared pool's name; its threads are named {@code rdv-admin-N}. */
  public static final String NAME = "rdv-admin";

  private AdminExecutor() {}

  /** Makes the pool, owned by the calling verticle. */
  static WorkerExecutor create(Vertx vertx, int threads) {
    return vertx.createSharedWorkerExecutor(NAME, threads);
  }
}
