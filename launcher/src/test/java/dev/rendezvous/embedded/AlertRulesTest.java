package dev.rendezvous.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Json;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The alerting rules shipped in dashboards/alerts.yml: valid for Prometheus ({@code promtool check rules}),
 * raised and not raised as their unit tests say ({@code promtool test rules dashboards/alerts-test.yml}),
 * loaded by dashboards/prometheus.yml, built only on metrics that docs/metrics.md lists with the labels they
 * match on, and each linked to a shipped Grafana dashboard.
 *
 * <p>Needs {@code promtool} (Debian's {@code prometheus} package ships it); the tests fail with the install
 * command when it is missing.
 */
class AlertRulesTest {

  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path DASHBOARDS = REPO.resolve("dashboards");
  static final Path RULES = DASHBOARDS.resolve("alerts.yml");
  static final Path RULE_TESTS = DASHBOARDS.resolve("alerts-test.yml");
  static final Set<String> SEVERITIES = Set.of("page", "ticket");
  /** A metric selector: a name, optionally followed by its label matchers. */
  static final Pattern SELECTOR = Pattern.compile("\\b((?:rdv|jvm|process|system|kafka)_[a-z0-9_]*)(\\{([^}]*)})?");
  static final Pattern MATCHER_LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)");
  static final Pattern DASHBOARD_LINK = Pattern.compile("^/d/([a-z0-9-]+)\\?var-problem=.+");

  static List<Map<String, Object>> rules;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void loadRules() throws IOException {
    Map<String, Object> file = new Yaml().load(Files.readString(RULES));
    rules = new ArrayList<>();
    for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
      rules.addAll((List<Map<String, Object>>) group.get("rules"));
    }
  }

  @Test
  void promtool_finds_the_rules_valid() throws Exception {
    Result r = promtool("check", "rules", RULES.toString());
    assertThat(r.exit()).as("promtool check rules said:%n%s", r.output()).isZero();
    assertThat(r.output()).contains("SUCCESS: " + rules.size() + " rules found");
  }

  @Test
  void promtool_runs_the_rule_unit_tests_and_they_pass() throws Exception {
    Result r = promtool("test", "rules", RULE_TESTS.toString());
    assertThat(r.exit()).as("promtool test rules said:%n%s", r.output()).isZero();
    assertThat(r.output()).contains("SUCCESS");
  }

  @Test
  @SuppressWarnings("unchecked")
  void the_shipped_prometheus_configuration_loads_the_rules() throws Exception {
    Path config = DASHBOARDS.resolve("prometheus.yml");
    Map<String, Object> yaml = new Yaml().load(Files.readString(config));
    assertThat((List<Object>) yaml.get("rule_files")).containsExactly("alerts.yml");
    // Checks the configuration and every rule file it names, resolved as Prometheus would.
    Result r = promtool("check", "config", config.toString());
    assertThat(r.exit()).as("promtool check config said:%n%s", r.output()).isZero();
    assertThat(r.output()).contains("SUCCESS: " + rules.size() + " rules found");
  }

  @Test
  void every_alert_waits_has_a_severity_says_what_and_why_and_links_a_shipped_dashboard() throws IOException {
    // Each dashboard's uid and the text of its queries.
    Map<String, String> queries = new TreeMap<>();
    try (Stream<Path> files = Files.list(DASHBOARDS.resolve("grafana"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".json")).toList()) {
        JsonNode d = Json.MAPPER.readTree(f.toFile());
        StringBuilder exprs = new StringBuilder();
        d.findValues("expr").forEach(e -> exprs.append(e.asText()).append('\n'));
        queries.put(d.path("uid").asText(), exprs.toString());
      }
    }
    Set<String> uids = queries.keySet();
    assertThat(rules).hasSizeGreaterThanOrEqualTo(8);
    Set<String> names = new TreeSet<>();
    for (Map<String, Object> rule : rules) {
      String name = (String) rule.get("alert");
      assertThat(name).as("every rule is an alert (no recording rules here): %s", rule).isNotBlank();
      assertThat(names.add(name)).as("%s is unique", name).isTrue();
      assertThat((String) rule.get("for")).as("%s for:", name).matches("\\d+[smh]");
      @SuppressWarnings("unchecked")
      Map<String, String> labels = (Map<String, String>) rule.get("labels");
      assertThat(labels.get("severity")).as("%s severity", name).isIn(SEVERITIES);
      @SuppressWarnings("unchecked")
      Map<String, String> annotations = (Map<String, String>) rule.get("annotations");
      assertThat(annotations).as(name).containsKeys("summary", "description", "dashboard");
      Matcher link = DASHBOARD_LINK.matcher(annotations.get("dashboard"));
      assertThat(link.matches()).as("%s dashboard annotation %s", name, annotations.get("dashboard")).isTrue();
      assertThat(link.group(1)).as("%s links a dashboard in dashboards/grafana", name).isIn(uids);
      Matcher metric = SELECTOR.matcher((String) rule.get("expr"));
      assertThat(metric.find()).as("%s uses a metric", name).isTrue();
      assertThat(queries.get(link.group(1))).as("%s links %s, which shows %s", name, link.group(1), metric.group(1))
          .contains(metric.group(1));
    }
  }

  @Test
  void every_metric_the_rules_use_is_in_the_metrics_table_with_the_labels_they_match() throws IOException {
    Map<String, Set<String>> documented = documentedMetrics();
    assertThat(documented).as("rows of docs/metrics.md").hasSizeGreaterThan(20);
    Set<String> used = new TreeSet<>();
    for (Map<String, Object> rule : rules) {
      String name = (String) rule.get("alert");
      String expr = (String) rule.get("expr");
      Set<String> labelsOfItsMetrics = new TreeSet<>();
      Matcher m = SELECTOR.matcher(expr);
      while (m.find()) {
        String metric = m.group(1);
        String family = metric.replaceFirst("_(bucket|count|sum)$", "");
        Set<String> labels = documented.containsKey(metric) ? documented.get(metric) : documented.get(family);
        assertThat(labels).as("%s uses %s, which docs/metrics.md does not list", name, metric).isNotNull();
        used.add(metric);
        labelsOfItsMetrics.addAll(labels);
        if (m.group(3) != null) {
          Matcher label = MATCHER_LABEL.matcher(m.group(3));
          while (label.find()) {
            assertThat(labels).as("%s matches %s on a label it does not have", name, metric).contains(label.group(1));
          }
        }
      }
      Matcher by = Pattern.compile("\\bby \\(([^)]*)\\)").matcher(expr);
      while (by.find()) {
        for (String l : by.group(1).split(",")) {
          assertThat(labelsOfItsMetrics).as("%s aggregates by a label its metrics lack", name).contains(l.trim());
        }
      }
    }
    assertThat(used).contains("rdv_proxy_sla_total", "rdv_proxy_defaults_total", "rdv_proxy_refused_total",
        "rdv_monitor_drift_alarm", "rdv_monitor_canary_rank_correlation", "rdv_consumer_lag_records");
  }

  @Test
  @SuppressWarnings("unchecked")
  void every_alert_has_a_unit_test_that_raises_it_and_one_that_expects_silence() throws IOException {
    Map<String, Object> file = new Yaml().load(Files.readString(RULE_TESTS));
    Set<String> raised = new TreeSet<>();
    Set<String> silent = new TreeSet<>();
    for (Map<String, Object> test : (List<Map<String, Object>>) file.get("tests")) {
      for (Map<String, Object> check : (List<Map<String, Object>>) test.get("alert_rule_test")) {
        List<Map<String, Object>> expected = (List<Map<String, Object>>) check.get("exp_alerts");
        String alert = (String) check.get("alertname");
        if (expected == null || expected.isEmpty()) {
          silent.add(alert);
          continue;
        }
        raised.add(alert);
        // A raised alert is checked whole: its labels and every annotation as Prometheus expands it.
        for (Map<String, Object> e : expected) {
          assertThat((Map<String, Object>) e.get("exp_annotations")).as(alert)
              .containsKeys("summary", "description", "dashboard");
        }
      }
    }
    Set<String> alerts = new TreeSet<>(rules.stream().map(r -> (String) r.get("alert")).toList());
    assertThat(raised).as("alerts raised by a test").isEqualTo(alerts);
    assertThat(silent).as("alerts a test expects to stay silent").isEqualTo(alerts);
  }

  /** Metric (or prefix, for rows such as {@code jvm_*}) to its labels, from docs/metrics.md's table. */
  static Map<String, Set<String>> documentedMetrics() throws IOException {
    Pattern row = Pattern.compile("^\\| `([a-z_*]+)` \\|([^|]+)\\|([^|]*)\\|");
    Map<String, Set<String>> rows = new TreeMap<>();
    for (String line : Files.readAllLines(REPO.resolve("docs/metrics.md"))) {
      Matcher m = row.matcher(line);
      if (m.find()) {
        Set<String> labels = new TreeSet<>();
        for (String l : m.group(3).split(",")) {
          if (!l.isBlank()) {
            labels.add(l.trim());
          }
        }
        rows.put(m.group(1), labels);
      }
    }
    return rows;
  }

  record Result(int exit, String output) {}

  /** Runs promtool from dashboards/ and returns its exit status and its output (stdout and stderr). */
  static Result promtool(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(promtoolBinary().toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(DASHBOARDS.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool %s finished", String.join(" ", args)).isTrue();
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** The binary, from {@code $PROMTOOL_BIN} or the PATH; fails with the command that installs it. */
  static Path promtoolBinary() {
    String configured = System.getenv("PROMTOOL_BIN");
    Optional<Path> found = configured != null ? Optional.of(Path.of(configured))
        : Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
            .map(d -> Path.of(d, "promtool")).filter(Files::isExecutable).findFirst();
    if (found.isEmpty() || !Files.isExecutable(found.get())) {
      throw new AssertionError("promtool is needed to check the alerting rules (dashboards/alerts.yml) and was not "
          + "found on the PATH (or at $PROMTOOL_BIN); install it with: apt-get install -y prometheus "
          + "(Debian's prometheus package ships promtool)");
    }
    return found.get();
  }
}
