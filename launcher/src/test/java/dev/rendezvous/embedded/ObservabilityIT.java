package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.REPO;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Json;
import dev.rendezvous.runner.HostedModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Observability of the embedded default (the repository's schedules and runner configurations, canary
 * included) under real load: its {@code /metrics} against the table in docs/metrics.md, every query of
 * every shipped Grafana dashboard evaluated by a real Prometheus that scraped it, and the {@code /ui} page
 * drawn by a real headless Chromium.
 *
 * <p>Needs the {@code prometheus} and {@code chromium} binaries (Debian packages of the same names); the
 * tests fail with the install command when they are missing.
 */
class ObservabilityIT {

  private static final Path DASHBOARDS = REPO.resolve("dashboards/grafana");
  /** Dashboards whose queries are not evaluated (their JSON is still checked): none. */
  private static final Set<String> NOT_YET_EXPORTED = Set.of();
  private static final Set<String> GRAFANA_BUILTINS = Set.of("__rate_interval", "__interval", "__interval_ms",
      "__range", "__range_s", "__range_ms");
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{?(\\w+)}?");

  @TempDir static Path dir;
  static EmbeddedSystem system;
  static PrometheusServer prometheus;
  static int requestsSent;
  static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void startSystemPrometheusAndLoad() throws Exception {
    PrometheusServer.binary(); // fail first, and clearly, when it is missing
    List<String> args = new ArrayList<>(List.of("--data", dir.resolve("data").toString(), "--schedules",
        REPO.resolve("schedules").toString(), "--runners", REPO.resolve("model-runners/config") + ","
            + REPO.resolve("canary/config"), "--port", "0", "--partitions", "2", "--warm-up", "40", "--warm-up-jit-max", "0",
        "--monitor-reference-size", "200", "--monitor-window-size", "100", "--monitor-paired-window", "100"));
    // This test counts every request of an ordinary load: no refusals, even when the shared machine stalls the
    // system and the load piles up (AdmissionEndToEndIT covers admission).
    args.addAll(List.of(TestSystems.PERMISSIVE));
    // gRPC on, so that every documented proxy meter is exported.
    args.addAll(List.of("--grpc-port", "0"));
    system = EmbeddedSystem.start(EmbeddedSystem.Options.parse(args.toArray(String[]::new)));
    prometheus = PrometheusServer.start(dir.resolve("prometheus"), "127.0.0.1:" + system.port());
    awaitFirstScrape();
    requestsSent = sendLoad();
    awaitScraped();
  }

  @AfterAll
  static void stop() throws Exception {
    if (prometheus != null) {
      prometheus.close();
    }
    if (system != null) {
      system.close();
    }
  }

  /**
   * Open loop: 100 requests a second for 6 seconds, each a held-out row of the data set (so scores spread over
   * [0, 1]); enough for the score monitor, started with small windows here (reference 200, windows of 100), to
   * test a window and pair models with the canary, so that its series carry numbers. Plus requests that must show up elsewhere: ones with a 1 ms deadline (skipped as expired by the
   * runners, defaulted at once by the rendezvous), a malformed one (400) and one for an unknown problem (404).
   */
  private static int sendLoad() throws Exception {
    JsonNode rows = TestSystems.reference().get("rows");
    String url = system.url() + "/v2/models/breast-cancer/infer";
    List<CompletableFuture<HttpResponse<Void>>> answers = new ArrayList<>();
    long start = System.nanoTime();
    int total = 600;
    for (int i = 0; i < total; i++) {
      long due = start + i * 10_000_000L;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      // Every 60th request gets a deadline shorter than the guard's shortest delay (1 ms): answered after it.
      Double deadline = i % 60 == 0 ? 0.5 : null;
      answers.add(send(url, TestSystems.inferBody("load-" + i, rows.get(i % rows.size()), deadline)));
    }
    answers.add(send(url, "{\"inputs\": []}"));
    answers.add(send(system.url() + "/v2/models/no-such-problem/infer", "{}"));
    CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    return answers.size();
  }

  private static CompletableFuture<HttpResponse<Void>> send(String url, String body) {
    return http.sendAsync(HttpRequest.newBuilder(URI.create(url)).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding());
  }

  /**
   * Waits until Prometheus holds a sample of the warm-up's histograms taken before the load. Every rate the
   * dashboards draw then spans samples from before and after the load, even if a busy machine makes the scrapes
   * during the load time out (a histogram quantile over rates that are all zero is NaN, not a number).
   */
  private static void awaitFirstScrape() throws Exception {
    try {
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
        JsonNode r = prometheus.query("count(rdv_rendezvous_score_arrival_seconds_count)").path("data").path("result");
        return r.size() > 0 && r.get(0).get("value").get(1).asDouble() >= 1;
      });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("Prometheus did not scrape the system within 60 s; its log: " + prometheus.log());
    }
  }

  /** Waits until Prometheus has scraped every request sent (warm-ups come on top), and two scrapes more. */
  private static void awaitScraped() throws Exception {
    try {
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
        JsonNode r = prometheus.query("sum(rdv_proxy_requests_total)").path("data").path("result");
        return r.size() > 0 && r.get(0).get("value").get(1).asDouble() >= requestsSent;
      });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("Prometheus did not scrape the load within 60 s; its log: " + prometheus.log());
    }
    Thread.sleep(2_500);
  }

  // ---- the metrics table -------------------------------------------------------------------------------

  private record Row(String name, String kind, Set<String> labels) {
    boolean isPrefix() {
      return name.endsWith("*");
    }

    boolean covers(String family) {
      return isPrefix() ? family.startsWith(name.substring(0, name.length() - 1)) : family.equals(name);
    }
  }

  private static List<Row> documentedMetrics() throws Exception {
    Pattern row = Pattern.compile("^\\| `([a-z_*]+)` \\|([^|]+)\\|([^|]*)\\|");
    List<Row> rows = new ArrayList<>();
    for (String line : Files.readAllLines(REPO.resolve("docs/metrics.md"))) {
      Matcher m = row.matcher(line);
      if (m.find()) {
        Set<String> labels = new TreeSet<>();
        for (String l : m.group(3).split(",")) {
          String label = l.trim();
          if (!label.isEmpty() && !label.equals("...")) {
            labels.add(label);
          }
        }
        rows.add(new Row(m.group(1), m.group(2).trim(), labels));
      }
    }
    return rows;
  }

  /** Family name to its Prometheus type, and family name to the label names its samples carry. */
  private record Exported(Map<String, String> types, Map<String, Set<String>> labels) {}

  private static Exported exported() throws Exception {
    String text = http.send(HttpRequest.newBuilder(URI.create(system.url() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    Map<String, String> types = new TreeMap<>();
    Map<String, Set<String>> labels = new TreeMap<>();
    Pattern sample = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? ");
    Pattern labelName = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"");
    for (String line : text.split("\n")) {
      if (line.startsWith("# TYPE ")) {
        String[] parts = line.split(" ");
        types.put(parts[2], parts[3]);
        continue;
      }
      Matcher m = sample.matcher(line);
      if (line.startsWith("#") || !m.find()) {
        continue;
      }
      String family = familyOf(m.group(1), types);
      Set<String> names = labels.computeIfAbsent(family, k -> new TreeSet<>());
      if (m.group(3) != null) {
        Matcher l = labelName.matcher(m.group(3));
        while (l.find()) {
          if (!l.group(1).equals("le")) {
            names.add(l.group(1));
          }
        }
      }
    }
    return new Exported(types, labels);
  }

  private static String familyOf(String sampleName, Map<String, String> types) {
    if (types.containsKey(sampleName)) {
      return sampleName;
    }
    for (String suffix : List.of("_bucket", "_count", "_sum", "_created")) {
      if (sampleName.endsWith(suffix) && types.containsKey(sampleName.substring(0, sampleName.length()
          - suffix.length()))) {
        return sampleName.substring(0, sampleName.length() - suffix.length());
      }
    }
    return sampleName;
  }

  @Test
  void metricsTableMatchesWhatMetricsExports() throws Exception {
    List<Row> documented = documentedMetrics();
    Exported exported = exported();
    Map<String, Row> exact = new LinkedHashMap<>();
    documented.stream().filter(r -> !r.isPrefix()).forEach(r -> exact.put(r.name(), r));

    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, String> family : exported.types().entrySet()) {
      String name = family.getKey();
      Row row = exact.get(name);
      if (row == null && name.endsWith("_max")) {
        Row histogram = exact.get(name.substring(0, name.length() - 4));
        if (histogram != null && histogram.kind().contains("`_max`") && family.getValue().equals("gauge")) {
          continue; // Micrometer's companion gauge of a documented histogram
        }
      }
      if (row != null) {
        if (!row.kind().startsWith(family.getValue())) {
          problems.add(name + " is documented as " + row.kind() + " but exported as " + family.getValue());
        }
        Set<String> labels = exported.labels().getOrDefault(name, Set.of());
        if (!labels.equals(row.labels())) {
          problems.add(name + " is documented with labels " + row.labels() + " but exported with " + labels);
        }
      } else if (documented.stream().noneMatch(r -> r.isPrefix() && r.covers(name))) {
        problems.add(name + " is exported but not documented in docs/metrics.md");
      }
    }
    for (Row row : documented) {
      if (exported.types().keySet().stream().noneMatch(row::covers)) {
        problems.add(row.name() + " is documented but not exported");
      }
    }
    assertThat(problems).as("docs/metrics.md against %s/metrics", system.url()).isEmpty();
    assertThat(exact.keySet()).as("the rdv_ rows of the table").hasSizeGreaterThan(20);
  }

  @Test
  void metricsAgreeWithTheLoadSent() throws Exception {
    var m = system.metrics();
    int warmUps = system.warmUpRequests();
    int answered = requestsSent - 2 + warmUps; // all but the malformed and the unknown-problem request
    // Readiness probes (an idle moment between tests) are decided and scored too, but never reach the proxy's
    // HTTP meters: the rendezvous and the runners count between the probes sent before and after reading them.
    double probesBefore = sum(m, "rdv.proxy.readiness.probes");
    double reached = answered + probesBefore;
    // Answers may be defaults given before a slow runner or the rendezvous got to the request: let them catch up.
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      assertThat(sum(m, "rdv.rendezvous.decisions")).as("rendezvous decisions").isGreaterThanOrEqualTo(reached);
      for (HostedModel runner : system.runners()) {
        String model = runner.config().modelId();
        assertThat(sum(m, "rdv.runner.scored", "model", model) + sum(m, "rdv.runner.skipped.expired", "model", model))
            .as(model + " scored + skipped").isGreaterThanOrEqualTo(reached);
      }
    });
    assertThat(sum(m, "rdv.proxy.requests", "problem", "breast-cancer", "status", "200")).isEqualTo(answered);
    assertThat(sum(m, "rdv.proxy.requests", "problem", "breast-cancer", "status", "400")).isEqualTo(1);
    assertThat(sum(m, "rdv.proxy.requests", "problem", "unknown", "status", "404")).isEqualTo(1);
    assertThat(sum(m, "rdv.proxy.answers")).isEqualTo(answered);
    assertThat(sum(m, "rdv.proxy.sla")).isEqualTo(answered);
    assertThat(sum(m, "rdv.proxy.defaults")).isEqualTo(sum(m, "rdv.proxy.answers", "answered_by", "default"));
    assertThat(m.get("rdv.proxy.request.duration").timer().count()).isEqualTo(answered);
    // Each answer written after its deadline says how late it was; those of half a millisecond are among them.
    long late = m.get("rdv.proxy.answer.lateness").timer().count();
    assertThat((double) late).isEqualTo(sum(m, "rdv.proxy.sla", "result", "missed"));
    assertThat(late).isGreaterThanOrEqualTo(10);
    assertThat(m.get("rdv.proxy.in.flight").gauge().value()).isZero();

    double decisions = sum(m, "rdv.rendezvous.decisions");
    double rendezvousSla = sum(m, "rdv.rendezvous.sla");
    Map<String, double[]> runnerCounts = new HashMap<>();
    for (HostedModel runner : system.runners()) {
      String model = runner.config().modelId();
      runnerCounts.put(model, new double[] {sum(m, "rdv.runner.scored", "model", model),
          sum(m, "rdv.runner.skipped.expired", "model", model)});
    }
    double pending = m.get("rdv.rendezvous.pending").gauge().value();
    double probesAfter = sum(m, "rdv.proxy.readiness.probes");

    // The rendezvous decides every request it reads; the ten with a 1 ms deadline get the default at once.
    assertThat(decisions).isBetween(answered + probesBefore, answered + probesAfter);
    assertThat(sum(m, "rdv.rendezvous.decisions", "answered_by", "default", "reason", "deadline"))
        .isGreaterThanOrEqualTo(10);
    assertThat(rendezvousSla).isBetween(answered + probesBefore, answered + probesAfter);
    assertThat(m.get("rdv.rendezvous.schedule.version").gauge().value()).isEqualTo(1);
    assertThat(m.get("rdv.rendezvous.schedule.deadline").gauge().value()).isEqualTo(0.050);
    assertThat(pending).as("nothing pending but the probes sent while counting").isLessThanOrEqualTo(
        probesAfter - probesBefore);

    // Every runner saw every request: scored, skipped as expired, or (none here) failed.
    for (HostedModel runner : system.runners()) {
      String model = runner.config().modelId();
      double scored = runnerCounts.get(model)[0];
      double skipped = runnerCounts.get(model)[1];
      assertThat(scored + skipped).as(model + " scored + skipped")
          .isBetween(answered + probesBefore, answered + probesAfter);
      assertThat(sum(m, "rdv.runner.errors", "model", model)).as(model + " errors").isZero();
      assertThat(m.get("rdv.runner.score.latency").tag("model", model).timer().count())
          .isEqualTo((long) sum(m, "rdv.runner.scored", "model", model));
      assertThat(m.get("rdv.runner.batch.size").tag("model", model).summary().totalAmount())
          .isEqualTo(sum(m, "rdv.runner.scored", "model", model));
    }
    assertThat(sum(m, "rdv.runner.skipped.expired")).as("1 ms deadlines have passed when runners read them")
        .isPositive();
  }

  /** The sum of a counter over the series that carry these label values. */
  private static double sum(io.micrometer.core.instrument.MeterRegistry m, String name, String... tags) {
    return m.find(name).tags(tags).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  // ---- the dashboards ----------------------------------------------------------------------------------

  private static List<Path> dashboards() throws Exception {
    try (Stream<Path> files = Files.list(DASHBOARDS)) {
      return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
    }
  }

  /** Every panel, those nested in collapsed rows included. */
  private static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode p : dashboard.path("panels")) {
      out.add(p);
      p.path("panels").forEach(out::add);
    }
    return out;
  }

  private static Set<String> referencedVariables(String text) {
    Set<String> names = new HashSet<>();
    Matcher m = VARIABLE.matcher(text);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  @Test
  void everyDashboardIsWellFormedForGrafana() throws Exception {
    List<Path> files = dashboards();
    assertThat(files).extracting(f -> f.getFileName().toString())
        .contains("sla.json", "models.json", "scores.json", "rollin.json", "drift.json");
    for (Path file : files) {
      JsonNode d = Json.MAPPER.readTree(file.toFile());
      String where = file.getFileName().toString();
      assertThat(d.path("uid").asText()).as(where + " uid").isNotBlank();
      assertThat(d.path("title").asText()).as(where + " title").isNotBlank();
      assertThat(d.path("schemaVersion").asInt()).as(where + " schemaVersion").isGreaterThanOrEqualTo(30);

      Map<String, JsonNode> variables = new LinkedHashMap<>();
      d.path("templating").path("list").forEach(v -> variables.put(v.path("name").asText(), v));
      assertThat(variables.get("datasource")).as(where + ": the datasource variable").isNotNull();
      assertThat(variables.get("datasource").path("type").asText()).isEqualTo("datasource");
      assertThat(variables.get("datasource").path("query").asText()).isEqualTo("prometheus");
      assertThat(variables.get("problem")).as(where + ": the problem variable").isNotNull();
      for (JsonNode v : variables.values()) {
        if (v.path("type").asText().equals("query")) {
          assertThat(v.path("datasource").path("uid").asText()).as(where + " variable " + v.path("name"))
              .isEqualTo("${datasource}");
          assertThat(v.path("query").path("query").asText()).as(where + " variable " + v.path("name"))
              .startsWith("label_values(");
        }
      }

      Set<Integer> ids = new HashSet<>();
      for (JsonNode p : panels(d)) {
        String panel = where + " panel '" + p.path("title").asText() + "'";
        assertThat(p.path("id").isInt()).as(panel + " has an id").isTrue();
        assertThat(ids.add(p.path("id").asInt())).as(panel + " id " + p.path("id") + " is unique").isTrue();
        JsonNode grid = p.path("gridPos");
        assertThat(grid.path("x").asInt() + grid.path("w").asInt()).as(panel + " fits 24 columns")
            .isBetween(1, 24);
        assertThat(grid.path("h").asInt()).as(panel + " height").isPositive();
        if (p.path("type").asText().equals("row")) {
          continue;
        }
        assertThat(p.path("datasource").path("uid").asText()).as(panel + " datasource").isEqualTo("${datasource}");
        assertThat(p.path("targets").size()).as(panel + " targets").isPositive();
        Set<String> refIds = new HashSet<>();
        for (JsonNode t : p.path("targets")) {
          assertThat(t.path("datasource").path("uid").asText()).as(panel + " target datasource")
              .isEqualTo("${datasource}");
          assertThat(refIds.add(t.path("refId").asText())).as(panel + " refIds unique").isTrue();
          assertThat(t.path("expr").asText()).as(panel + " expr").isNotBlank();
        }
        Set<String> used = referencedVariables(p.toString());
        used.removeAll(GRAFANA_BUILTINS);
        used.removeAll(variables.keySet());
        assertThat(used).as(panel + " uses only variables the dashboard defines").isEmpty();
      }
      for (JsonNode v : variables.values()) {
        Set<String> used = referencedVariables(v.path("query").toString());
        used.removeAll(variables.keySet());
        assertThat(used).as(where + " variable " + v.path("name") + " uses only defined variables").isEmpty();
      }
    }
  }

  @Test
  void everyDashboardQueryReturnsDataFromARealPrometheus() throws Exception {
    List<String> failures = new ArrayList<>();
    int evaluated = 0;
    for (Path file : dashboards()) {
      String where = file.getFileName().toString();
      if (NOT_YET_EXPORTED.contains(where)) {
        continue;
      }
      JsonNode d = Json.MAPPER.readTree(file.toFile());
      // Grafana picks $__rate_interval from the scrape interval; here it spans the whole run, so a rate still has
      // the load's samples however long the other tests of this class took after the load ended.
      Map<String, String> values = new HashMap<>(Map.of("__rate_interval", "10m", "__interval", "15s",
          "__range", "10m"));
      for (JsonNode v : d.path("templating").path("list")) {
        if (!v.path("type").asText().equals("query")) {
          continue;
        }
        String name = v.path("name").asText();
        Matcher m = Pattern.compile("label_values\\((.*),\\s*(\\w+)\\)").matcher(
            substitute(v.path("query").path("query").asText(), values));
        assertThat(m.matches()).as(where + " variable " + name).isTrue();
        List<String> options = new ArrayList<>();
        prometheus.labelValues(m.group(2), m.group(1)).path("data").forEach(o -> options.add(o.asText()));
        String current = v.path("current").path("value").asText();
        if (!options.contains(current)) {
          failures.add(where + " variable $" + name + ": default '" + current + "' is not among " + options);
        }
        values.put(name, current);
      }
      for (JsonNode p : panels(d)) {
        for (JsonNode t : p.path("targets")) {
          String expr = substitute(t.path("expr").asText(), values);
          evaluated++;
          JsonNode r = prometheus.query(expr);
          String what = where + " / '" + p.path("title").asText() + "' / " + t.path("refId").asText() + ": " + expr;
          if (!r.path("status").asText().equals("success")) {
            failures.add(what + " -> error " + r.path("error").asText());
          } else if (!hasFiniteValue(r.path("data").path("result"))) {
            failures.add(what + " -> no data " + r.path("data").path("result"));
          }
        }
      }
    }
    assertThat(failures).as("dashboard queries that failed on Prometheus").isEmpty();
    assertThat(evaluated).as("queries evaluated").isGreaterThan(40);
  }

  private static String substitute(String text, Map<String, String> values) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = values.get(m.group(1));
      m.appendReplacement(out, Matcher.quoteReplacement(value != null ? value : m.group()));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static boolean hasFiniteValue(JsonNode result) {
    for (JsonNode series : result) {
      String v = series.path("value").path(1).asText();
      if (!v.isEmpty() && !v.equals("NaN") && !v.endsWith("Inf")) {
        return true;
      }
    }
    return false;
  }

  // ---- the page ----------------------------------------------------------------------------------------

  @Test
  void uiDrawsEveryModelsScoreDistributionBesideTheCanarys() throws Exception {
    Chromium chromium = Chromium.find(dir.resolve("chromium"));
    String url = system.url() + "/ui/";
    String dom = chromium.dumpDom(url, 10_000);
    assertThat(dom).contains("data-rendered=\"true\"").contains("data-problem=\"breast-cancer\"")
        .contains("Schedule in force").contains("class=\"deadline\"");

    List<String> models = system.runners().stream().map(HostedModel::config).map(c -> c.modelId()).toList();
    assertThat(models).contains("bc-mlp", "bc-gbt", "bc-logreg", "bc-canary");
    Pattern drawn = Pattern.compile("<path d=\"M([0-9.]+,[0-9.]+ ?)(L[0-9.]+,[0-9.]+ ?){19}\" fill=\"none\" "
        + "stroke=\"[^\"]+\" stroke-width=\"1.5\" class=\"dist\" data-model=\"([\\w-]+)\" data-count=\"(\\d+)\"");
    Map<String, Integer> counts = new TreeMap<>();
    Matcher m = drawn.matcher(dom);
    while (m.find()) {
      counts.put(m.group(3), Integer.parseInt(m.group(4)));
    }
    assertThat(counts.keySet()).as("models whose distribution is drawn").containsExactlyInAnyOrderElementsOf(models);
    assertThat(counts.values()).as("scores behind each chart").allMatch(n -> n > 100);
    // Each serving model's chart also draws the canary's distribution, dashed.
    long canaryOverlays = Pattern.compile("class=\"canary\" data-model=\"bc-canary\"").matcher(dom).results().count();
    assertThat(canaryOverlays).isEqualTo(models.size() - 1);
    // Who answered recently: one bar per model (or the default) among the answers the page keeps. No request is
    // sent after the load, so the server's list is the one the page drew; which models answered depends on how
    // busy the machine was, so the page is checked against the server, not against a fixed model.
    JsonNode status = Json.MAPPER.readTree(http.send(HttpRequest.newBuilder(URI.create(system.url()
        + "/ui/api/status")).build(), HttpResponse.BodyHandlers.ofString()).body());
    Set<String> answeredBy = new TreeSet<>();
    status.path("problems").get(0).path("recent").forEach(a -> answeredBy.add(a.path("answered_by").asText()));
    assertThat(answeredBy).as("who answered the last requests").isNotEmpty();
    Set<String> bars = new TreeSet<>();
    Pattern.compile("data-answered-by=\"([\\w-]+)\"").matcher(dom).results().forEach(r -> bars.add(r.group(1)));
    assertThat(bars).as("bars of who answered").isEqualTo(answeredBy);

    Path png = Path.of("target", "ui-screenshot.png");
    chromium.screenshot(url, 10_000, png, 1400, 1000);
    assertThat(Files.size(png)).isGreaterThan(10_000);
  }
}
