package dev.rendezvous.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The process's Vert.x waits on epoll where the project ships it (x86-64 Linux) and serves HTTP over it. */
class NativeTransportTest {

  final Vertx vertx = NativeTransport.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  void on_x86_64_linux_the_event_loops_use_epoll_and_serve_http_over_it() throws Exception {
    assumeTrue(System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")
        && System.getProperty("os.arch", "").matches("amd64|x86_64"), "epoll is shipped for x86-64 Linux only");
    assertThat(vertx.isNativeTransportEnabled())
        .as("native transport (%s)", vertx.unavailableNativeTransportCause()).isTrue();

    HttpServer server = vertx.createHttpServer()
        .requestHandler(req -> req.body().onSuccess(b -> req.response().end("echo:" + b)))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    for (int i = 0; i < 3; i++) {
      String body = "request-" + i;
      String answer = vertx.createHttpClient()
          .request(HttpMethod.POST, server.actualPort(), "127.0.0.1", "/")
          .compose(r -> r.send(body))
          .compose(HttpClientResponse::body)
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).toString();
      assertThat(answer).isEqualTo("echo:" + body);
    }
  }
}
