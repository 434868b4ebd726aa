package dev.rendezvous.tools;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.auth.AdminToken;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Role;
import dev.rendezvous.rollout.AppliedSchedule;
import dev.rendezvous.rollout.RecordedTraffic;
import dev.rendezvous.rollout.ScheduleLog;
import dev.rendezvous.rollout.WhatIf;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleException;
import dev.rendezvous.schedule.ScheduleLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code rendezvous schedule ...}: validate, apply, show, list the history of, roll back and try out
 * schedules, against a running system's HTTP API ({@code --url}) or directly against the Kafka cluster
 * ({@code --bootstrap-servers}). Exit codes: 0 done, 1 refused (an invalid schedule, an unknown version),
 * 2 could not reach the system.
 */
@Command(name = "schedule", mixinStandardHelpOptions = true,
    description = "Roll models in and out: validate, apply, show, history, rollback and what-if of schedules.",
    subcommands = {ScheduleCli.Validate.class, ScheduleCli.Apply.class, ScheduleCli.Show.class,
        ScheduleCli.History.class, ScheduleCli.Rollback.class, ScheduleCli.WhatIfCommand.class})
public final class ScheduleCli implements Runnable {

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** A running system's HTTP API, reached with the admin token. */
  static final class Http {
    @Option(names = "--url", description = "A running system's HTTP address (default: http://127.0.0.1:8080 when "
        + "--bootstrap-servers is not given; validate asks a system only when --url is given).")
    String url;

    @Option(names = "--token", description = "The admin token to send (default: env RDV_ADMIN_TOKEN, else the file "
        + "admin-token in --data).")
    String token;

    @Option(names = "--data", defaultValue = "data", description = "The running system's data directory, whose "
        + "admin-token file holds the token when neither --token nor RDV_ADMIN_TOKEN gives it "
        + "(default: ${DEFAULT-VALUE}, as `up --data data` writes it).")
    Path data;

    @Option(names = "--ca-cert", defaultValue = "${env:RDV_TLS_CA_FILE}", description = "With an https --url: "
        + "trust the certificates of this PEM file (the server's own when self-signed) instead of the JDK's "
        + "(env RDV_TLS_CA_FILE).")
    Path caCert;

    private Optional<String> resolvedToken;
    private HttpClient client;

    private Path tokenFile() {
      return (data == null ? Path.of("data") : data).resolve(AdminToken.FILE_NAME);
    }

    /**
     * The admin token: --token, else RDV_ADMIN_TOKEN, else {@code <data>/admin-token}; empty when none is found.
     * Looked up once per command.
     */
    Optional<String> token() {
      if (resolvedToken == null) {
        resolvedToken = lookUpToken();
      }
      return resolvedToken;
    }

    private Optional<String> lookUpToken() {
      if (token != null && !token.isBlank()) {
        return Optional.of(token.strip());
      }
      String env = System.getenv(AdminToken.ENV);
      if (env != null && !env.isBlank()) {
        return Optional.of(env.strip());
      }
      try {
        return AdminToken.read(tokenFile());
      } catch (IOException e) {
        throw new Refused("cannot read the admin token from " + tokenFile() + ": " + e.getMessage());
      }
    }

    String url() {
      String u = url == null ? "http://127.0.0.1:8080" : url;
      return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
    }

    JsonNode get(String path) {
      return send(authorized(HttpRequest.newBuilder(URI.create(url() + path))).GET().build());
    }

    JsonNode post(String path, String body) {
      return send(authorized(HttpRequest.newBuilder(URI.create(url() + path))).header("content-type", "application/yaml")
          .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private HttpRequest.Builder authorized(HttpRequest.Builder b) {
      return token().map(t -> b.header("authorization", "Bearer " + t)).orElse(b);
    }

    private HttpClient client() {
      if (client == null) {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (caCert != null) {
          builder.sslContext(dev.rendezvous.auth.Tls.trusting(caCert));
        }
        client = builder.build();
      }
      return client;
    }

    private JsonNode send(HttpRequest request) {
      HttpResponse<String> r;
      try {
        r = client().send(request, HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new Unreachable("cannot reach " + url() + ": " + e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Unreachable("interrupted");
      }
      JsonNode body;
      try {
        body = Json.MAPPER.readTree(r.body());
      } catch (IOException e) {
        throw new Unreachable(url() + " answered HTTP " + r.statusCode() + " without JSON: " + r.body());
      }
      if (r.statusCode() == 400 || r.statusCode() == 404) {
        throw new Refused(body.path("error").asText(r.body()));
      }
      if (r.statusCode() == 401 || r.statusCode() == 403) {
        throw new Refused(body.path("error").asText(r.body()) + " (this command sends --token, else "
            + AdminToken.ENV + ", else the token in " + tokenFile() + (token().isEmpty() ? ", and found none" : "")
            + ")");
      }
      if (r.statusCode() != 200) {
        throw new Unreachable(url() + " answered HTTP " + r.statusCode() + ": " + body.path("error").asText());
      }
      return body;
    }
  }

  /** Runner configurations on disk, whose roles tell which models are canaries. */
  static final class Runners {
    @Option(names = "--runners", split = ",", defaultValue = "model-runners/config,canary/config",
        description = "Directories of runner configurations whose roles mark canaries (default: ${DEFAULT-VALUE}).")
    List<Path> runners;

    /** Canaries known from runner configurations on disk (missing directories are skipped). */
    boolean isCanary(String problem, String modelId) {
      for (Path dir : runners) {
        if (!Files.isDirectory(dir)) {
          continue;
        }
        try (Stream<Path> files = Files.walk(dir)) {
          for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
            RunnerConfig rc;
            try {
              rc = RunnerConfig.load(f);
            } catch (RuntimeException e) {
              continue;
            }
            if (rc.problem().equals(problem) && rc.modelId().equals(modelId) && rc.role() == Role.CANARY) {
              return true;
            }
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      return false;
    }
  }

  /** Where to reach the system: its HTTP API, or the Kafka cluster directly. */
  static final class Target {
    @Mixin Http http;
    @Mixin Runners runners;

    @Option(names = "--bootstrap-servers", description = "Work on the Kafka cluster directly instead of through a "
        + "running system's HTTP API.")
    String bootstrapServers;

    boolean viaHttp() {
      return bootstrapServers == null;
    }

    boolean isCanary(String problem, String modelId) {
      return runners.isCanary(problem, modelId);
    }

    /** The bootstrap servers given, or those the running system reports. */
    String bootstrap(String problem) {
      if (bootstrapServers != null) {
        return bootstrapServers;
      }
      return get("/v2/models/" + problem + "/schedule").get("bootstrap_servers").asText();
    }

    JsonNode get(String path) {
      return http.get(path);
    }

    JsonNode post(String path, String body) {
      return http.post(path, body);
    }
  }

  /** An invalid schedule, unknown problem or version: exit code 1. */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message);
    }
  }

  /** The system or cluster could not be reached: exit code 2. */
  static final class Unreachable extends RuntimeException {
    Unreachable(String message) {
      super(message);
    }
  }

  /** Runs a command body, turning failures into a message and an exit code. */
  abstract static class Base implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    @Override
    public Integer call() {
      try {
        execute();
        out().flush();
        return 0;
      } catch (ScheduleException | Refused | IllegalArgumentException e) {
        spec.commandLine().getErr().println("refused: " + e.getMessage());
        return 1;
      } catch (Unreachable | IllegalStateException | UncheckedIOException e) {
        spec.commandLine().getErr().println("error: " + e.getMessage());
        return 2;
      }
    }

    abstract void execute();

    static String read(Path file) {
      try {
        return Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new ScheduleException(file.toString(), 0, "", "cannot be read: " + e.getMessage());
      }
    }

    void printOutcome(JsonNode o) {
      if (o.has("version")) {
        out().printf("%s version %d of %s%n", o.path("changed").asBoolean(true) ? "applied as" : "unchanged: already",
            o.get("version").asLong(), o.get("problem").asText());
        if (o.path("changed").asBoolean(true) && !o.path("diff").asText().isEmpty()) {
          out().println(o.get("diff").asText());
        }
      } else {
        out().printf("valid schedule for %s%n", o.get("problem").asText());
      }
      for (JsonNode w : o.path("warnings")) {
        out().println("warning: " + w.asText());
      }
    }
  }

  @Command(name = "validate", mixinStandardHelpOptions = true,
      description = "Check a schedule file without applying it. With --url the running system also checks it "
          + "against the models it has seen scoring (canaries, models nobody runs).")
  static final class Validate extends Base {
    @Parameters(paramLabel = "FILE") Path file;
    @Mixin Http http;
    @Mixin Runners runners;

    @Override
    void execute() {
      String text = read(file);
      Schedule unchecked = ScheduleLoader.parse(text, file.toString());
      ScheduleLoader.parse(text, file.toString(), id -> runners.isCanary(unchecked.problem(), id));
      if (http.url == null) {
        out().printf("valid schedule for %s%n", unchecked.problem());
        return;
      }
      printOutcome(http.post("/v2/models/" + unchecked.problem() + "/schedule?dry_run=true&source="
          + URLEncoder.encode(file.toString(), StandardCharsets.UTF_8), text));
    }
  }

  @Command(name = "apply", mixinStandardHelpOptions = true,
      description = "Validate a schedule file and put it in force as the problem's next version.")
  static final class Apply extends Base {
    @Parameters(paramLabel = "FILE") Path file;
    @Mixin Target target;

    @Override
    void execute() {
      String text = read(file);
      if (target.viaHttp()) {
        Schedule s = ScheduleLoader.parse(text, file.toString());
        printOutcome(target.post("/v2/models/" + s.problem() + "/schedule?source="
            + URLEncoder.encode(file.toString(), StandardCharsets.UTF_8), text));
        return;
      }
      Schedule unchecked = ScheduleLoader.parse(text, file.toString());
      ScheduleLog.Published p = ScheduleLog.publish(target.bootstrapServers, text, file.toString(),
          id -> target.isCanary(unchecked.problem(), id), null);
      out().printf("%s version %d of %s%n", p.changed() ? "applied as" : "unchanged: already",
          p.applied().version(), p.applied().problem());
      if (p.changed()) {
        out().println(p.applied().diff());
      }
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true,
      description = "The schedule in force for a problem, and (with --url) every model seen scoring for it.")
  static final class Show extends Base {
    @Parameters(paramLabel = "PROBLEM") String problem;
    @Mixin Target target;

    @Override
    void execute() {
      if (!target.viaHttp()) {
        List<AppliedSchedule> h = ScheduleLog.readAll(target.bootstrapServers, problem);
        if (h.isEmpty()) {
          throw new Refused("no schedule was ever applied for " + problem);
        }
        AppliedSchedule a = h.get(h.size() - 1);
        out().printf("%s: version %d, applied %s from %s%n%n%s%n", problem, a.version(), instant(a.appliedAtUs()),
            a.source(), a.yaml());
        return;
      }
      JsonNode s = target.get("/v2/models/" + problem + "/schedule");
      out().printf("%s: version %d, applied %s from %s%n", problem, s.get("version").asLong(),
          s.path("applied_at").asText(), s.path("source").asText());
      for (JsonNode t : s.path("tiers")) {
        List<String> accept = new ArrayList<>();
        t.get("accept").forEach(a -> accept.add(a.asText()));
        out().printf("  until %5d ms accept %s%n", t.get("until_ms").asLong(), accept);
      }
      out().printf("  deadline %d ms, then the default%n%n", s.get("deadline_ms").asLong());
      out().printf("%-14s %-8s %-8s %-8s %-8s %10s %10s %10s%n", "model", "version", "role", "device", "status",
          "seen s ago", "p50 ms", "p99 ms");
      for (JsonNode m : s.path("models")) {
        out().printf("%-14s %-8s %-8s %-8s %-8s %10s %10s %10s%n", m.get("model_id").asText(),
            m.path("model_version").asText(), m.path("role").asText(), m.path("device").asText(),
            m.path("status").asText(), m.path("seconds_since_seen").asText(),
            m.path("latency_ms").path("p50").asText("-"), m.path("latency_ms").path("p99").asText("-"));
      }
      for (JsonNode w : s.path("warnings")) {
        out().println("warning: " + w.asText());
      }
      if (s.has("last_rejected")) {
        JsonNode r = s.get("last_rejected");
        out().printf("last rejected edit (%s): %s%n", r.path("at").asText(), r.path("message").asText());
      }
    }
  }

  @Command(name = "history", mixinStandardHelpOptions = true,
      description = "Every version applied for a problem, with its time, source and what it changed.")
  static final class History extends Base {
    @Parameters(paramLabel = "PROBLEM") String problem;
    @Mixin Target target;

    @Override
    void execute() {
      if (!target.viaHttp()) {
        for (AppliedSchedule a : ScheduleLog.readAll(target.bootstrapServers, problem)) {
          print(a.version(), instant(a.appliedAtUs()), a.source(), a.rollbackOf(), a.diff());
        }
        return;
      }
      for (JsonNode h : target.get("/v2/models/" + problem + "/schedule").path("history")) {
        print(h.get("version").asLong(), h.path("applied_at").asText(), h.path("source").asText(),
            h.has("rollback_of") ? h.get("rollback_of").asLong() : null, h.path("diff").asText());
      }
    }

    private void print(long version, String at, String source, Long rollbackOf, String diff) {
      out().printf("version %d  %s  %s%s%n", version, at, source,
          rollbackOf == null ? "" : "  (rollback to version " + rollbackOf + ")");
      for (String line : diff.split("\n")) {
        if (!line.isEmpty()) {
          out().println("    " + line);
        }
      }
    }
  }

  @Command(name = "rollback", mixinStandardHelpOptions = true,
      description = "Put an earlier version's schedule back in force (as a new version, so history stays linear).")
  static final class Rollback extends Base {
    @Parameters(index = "0", paramLabel = "PROBLEM") String problem;
    @Parameters(index = "1", paramLabel = "VERSION") long version;
    @Mixin Target target;

    @Override
    void execute() {
      if (target.viaHttp()) {
        printOutcome(target.post("/v2/models/" + problem + "/schedule/rollback?version=" + version, ""));
        return;
      }
      ScheduleLog.Published p = ScheduleLog.rollback(target.bootstrapServers, problem, version,
          id -> target.isCanary(problem, id));
      out().printf("applied as version %d of %s (the text of version %d)%n", p.applied().version(), problem, version);
    }
  }

  @Command(name = "what-if", mixinStandardHelpOptions = true,
      description = "Replay a proposed schedule against recorded traffic and compare it with what happened.")
  static final class WhatIfCommand extends Base {
    @Parameters(paramLabel = "FILE") Path file;
    @Mixin Target target;
    @Option(names = "--last", description = "Replay the newest N recorded requests (default: 1000 unless --since).")
    Integer last;
    @Option(names = "--since", description = "Replay requests decided since T: an ISO-8601 instant "
        + "(2026-11-25T10:00:00Z) or a duration back from now (90s, 15m, 2h).")
    String since;

    @Override
    void execute() {
      String text = read(file);
      Schedule proposed = ScheduleLoader.parse(text, file.toString());
      int n = last != null ? last : since == null ? 1000 : 0;
      long sinceUs = since == null ? 0 : parseSince(since);
      List<WhatIf.Recorded> traffic = RecordedTraffic.read(target.bootstrap(proposed.problem()), proposed.problem(),
          new RecordedTraffic.Selection(n, sinceUs));
      if (traffic.isEmpty()) {
        throw new Refused("no recorded results for " + proposed.problem() + " in the range asked");
      }
      out().printf("what-if %s against %d recorded requests of %s%n%n", file, traffic.size(), proposed.problem());
      out().print(WhatIf.replay(traffic, proposed).format());
    }
  }

  /** An ISO-8601 instant, or a duration back from now such as 90s, 15m, 2h or 1d. */
  static long parseSince(String text) {
    try {
      Instant at = text.matches("\\d+[smhd]")
          ? Instant.now().minus(Duration.parse("PT" + (text.endsWith("d")
              ? Long.parseLong(text.substring(0, text.length() - 1)) * 24 + "H" : text.toUpperCase())))
          : Instant.parse(text);
      return at.getEpochSecond() * 1_000_000L + at.getNano() / 1000;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("--since must be an instant like 2026-11-25T10:00:00Z or a duration like"
          + " 15m, not '" + text + "'");
    }
  }

  private static String instant(long epochUs) {
    return Instant.ofEpochSecond(epochUs / 1_000_000, (epochUs % 1_000_000) * 1000).toString();
  }
}
