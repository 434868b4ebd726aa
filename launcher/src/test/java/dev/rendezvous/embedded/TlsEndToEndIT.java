package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.inferBody;
import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rendezvous.Main;
import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.auth.AdminToken;
import dev.rendezvous.auth.ApiKeys;
import dev.rendezvous.auth.Tls;
import dev.rendezvous.common.Json;
import dev.rendezvous.broker.EmbeddedKafka;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * HTTPS on the proxy's port from a PEM certificate and key (a self-signed one for localhost and 127.0.0.1,
 * in the test resources): the launcher's warm-up reaches it, a client that trusts the certificate is served,
 * plain HTTP is not, and the schedule command talks to it with --ca-cert.
 */
class TlsEndToEndIT {

  static final String P = "tls";

  @TempDir Path dir;

  static Path resource(String name) throws Exception {
    return Path.of(TlsEndToEndIT.class.getResource("/tls/" + name).toURI());
  }

  @Test
  void theProxyServesHttpsWithTheConfiguredCertificateAndNothingInClear() throws Exception {
    Path cert = resource("cert.pem");
    Tls tls = new Tls(cert, resource("key.pem"));
    Path schedules = Files.createDirectories(dir.resolve("schedules"));
    Files.writeString(schedules.resolve(P + ".yaml"), TestSystems.schedule(P));
    String admin = "admin-token-of-the-tls-test-00001";
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("broker"), 0);
        EmbeddedSystem system = EmbeddedSystem.start(EmbeddedSystem.Options.parse("--grpc-port", "-1", "--data",
            dir.resolve("data").toString(), "--schedules", schedules.toString(), "--port", "0",
            "--bootstrap-servers", broker.bootstrapServers(), "--partitions", "2", "--warm-up", "8", "--warm-up-jit-max", "0"),
            List.of(runner(P, "bc-mlp")), new AccessControl(AdminToken.of(admin), ApiKeys.open(), tls))) {
      assertThat(system.url()).startsWith("https://127.0.0.1:");
      HttpClient https = HttpClient.newBuilder().sslContext(Tls.trusting(cert)).build();
      HttpResponse<String> live = https.send(HttpRequest.newBuilder(URI.create(system.url() + "/v2/health/live"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(live.statusCode()).isEqualTo(200);
      HttpResponse<String> scored = https.send(HttpRequest.newBuilder(URI.create(system.url() + "/v2/models/" + P
              + "/infer")).header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(inferBody("t", TestSystems.reference().get("rows").get(0), null)))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(scored.statusCode()).isEqualTo(200);
      assertThat(Json.MAPPER.readTree(scored.body()).get("parameters").get("answered_by").asText())
          .isEqualTo("bc-mlp");

      // In clear, or without trusting the certificate: no answer.
      HttpClient plain = HttpClient.newHttpClient();
      assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + system.port()
          + "/v2/health/live")).build(), HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);
      assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create(system.url() + "/v2/health/live"))
          .build(), HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);

      // The schedule command with the certificate to trust.
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
          .execute("schedule", "show", P, "--url", system.url(), "--ca-cert", cert.toString(), "--token", admin);
      assertThat(code).as(err.toString()).isZero();
      assertThat(out.toString()).contains(P + ": version 1");
      int untrusted = new CommandLine(new Main()).setOut(new PrintWriter(new StringWriter()))
          .setErr(new PrintWriter(new StringWriter())).execute("schedule", "show", P, "--url", system.url(),
              "--token", admin);
      assertThat(untrusted).isEqualTo(2);
    }
  }
}
