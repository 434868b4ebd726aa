package dev.rendezvous.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rendezvous.Main;
import dev.rendezvous.canary.MonitorConfig;
import dev.rendezvous.decoy.DecoyConfig;
import dev.rendezvous.embedded.EmbeddedSystem;
import dev.rendezvous.proxy.AdmissionConfig;
import dev.rendezvous.proxy.ProxyConfig;
import dev.rendezvous.rendezvous.RendezvousConfig;
import dev.rendezvous.runner.RunnerConfig;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine;

/**
 * Every component is configured the same way by {@code up} and by its own command: options that fall back to
 * {@code RDV_*} variables, then to the documented defaults, and build the component's configuration.
 */
class ComponentOptionsTest {

  @TempDir Path dir;

  @Test
  void every_option_of_every_component_command_falls_back_to_an_rdv_variable() {
    CommandLine main = new CommandLine(new Main());
    for (String name : ConfigurationDoc.COMPONENT_COMMANDS) {
      CommandSpec command = main.getSubcommands().get(name).getCommandSpec();
      for (ArgSpec arg : command.args()) {
        if (arg instanceof OptionSpec o && (o.usageHelp() || o.versionHelp())) {
          continue;
        }
        assertThat(Environment.of(arg)).as("%s %s", name, arg.paramLabel()).isPresent()
            .get().extracting(Environment.Fallback::variable).asString().startsWith("RDV_");
      }
    }
    // up hosts every component, so it takes every option a component command takes; its /metrics is the proxy's.
    CommandSpec up = main.getSubcommands().get("up").getCommandSpec();
    for (String name : List.of("proxy", "rendezvous", "decoy", "monitor")) {
      for (OptionSpec o : main.getSubcommands().get(name).getCommandSpec().options()) {
        if (o.longestName().startsWith("--metrics-")) {
          continue;
        }
        assertThat(up.findOption(o.longestName())).as("up " + o.longestName()).isNotNull();
      }
    }
  }

  @Test
  void with_no_option_and_no_variable_each_component_gets_its_documented_defaults() {
    assumeTrue(System.getenv().keySet().stream().noneMatch(k -> k.startsWith("RDV_")), "RDV_* variables are set");
    EmbeddedSystem.Options up = EmbeddedSystem.Options.parse();
    EmbeddedSystem.Options o = up;
    assertThat(o.rendezvous().toConfig("p", "k:9092")).isEqualTo(RendezvousConfig.defaults("p", "k:9092"));
    assertThat(o.admission().toConfig()).isEqualTo(AdmissionConfig.defaults());
    assertThat(o.monitor().toConfig("p")).isEqualTo(new MonitorConfig("p", "rdv.p.monitor", 1000, 200, 10, 1e-4, 200,
        null));
    assertThat(o.decoy().toConfig("p", Path.of("data/archive"))).isEqualTo(new DecoyConfig("p",
        Path.of("data/archive"), "rdv.p.decoy", 128L << 20, 15 * 60_000L, 200, 5000, 168, false, 0));
    ProxyConfig proxy = o.proxy().toConfig("k:9092");
    assertThat(proxy).extracting(ProxyConfig::host, ProxyConfig::port, ProxyConfig::bodyLimitBytes,
        ProxyConfig::resultsPartition).containsExactly("127.0.0.1", 8080, 1L << 20, 0);
    assertThat(o.kafka().given()).isFalse();
    assertThat(o.kafka().bootstrapServers()).isEqualTo(KafkaOptions.DEFAULT_BOOTSTRAP_SERVERS);
    assertThat(up.dataDir()).isEqualTo(Path.of("data"));
  }

  @Test
  void options_set_each_components_configuration_and_a_bad_value_names_its_option() {
    EmbeddedSystem.Options up = EmbeddedSystem.Options.parse("--max-pending", "500", "--orphan-ttl-ms", "2000",
        "--guard-margin-ms", "2.5", "--admission-limit", "vegas", "--archive-segment-max-bytes", "1024",
        "--archive-warm-up", "--monitor-window-size", "50", "--body-limit-bytes", "4096", "--device", "cpu",
        "--batch-size", "8", "--archive", dir.toString());
    EmbeddedSystem.Options o = up;
    assertThat(o.rendezvous().toConfig("p", "k").maxPending()).isEqualTo(500);
    assertThat(o.rendezvous().toConfig("p", "k").orphanTtlMs()).isEqualTo(2000);
    assertThat(o.admission().toConfig().limit()).isEqualTo("vegas");
    assertThat(o.admission().toConfig().guardMarginMs()).isEqualTo(2.5);
    DecoyConfig decoy = o.decoy().toConfig("p", Path.of("ignored"));
    assertThat(decoy.archiveDir()).isEqualTo(dir);
    assertThat(decoy.segmentMaxBytes()).isEqualTo(1024);
    assertThat(decoy.recordWarmUp()).isTrue();
    assertThat(o.monitor().toConfig("p").windowSize()).isEqualTo(50);
    assertThat(o.proxy().toConfig("k").bodyLimitBytes()).isEqualTo(4096);
    RunnerConfig runner = o.runner().apply(RunnerConfig.load(Path.of("..", "model-runners/config/breast-cancer/bc-mlp.yaml")));
    assertThat(runner.device()).isEqualTo("cpu");
    assertThat(runner.batchSize()).isEqualTo(8);

    assertThatThrownBy(() -> EmbeddedSystem.Options.parse("--orphan-ttl-ms", "10s"))
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--orphan-ttl-ms")
        .hasMessageContaining("10s");
    assertThatThrownBy(() -> EmbeddedSystem.Options.parse("--admission-min-limit", "300")
        .admission().toConfig()).hasMessageContaining("1 <= min <= initial <= max");
    assertThatThrownBy(() -> EmbeddedSystem.Options.parse("--max-decided", "0").rendezvous()
        .toConfig("p", "k")).hasMessageContaining("maxDecided must be positive");
  }

  @Test
  void tls_needs_both_files_or_neither() throws Exception {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
    Path key = Files.writeString(dir.resolve("key.pem"), "x");
    Path token = dir.resolve("admin-token");
    assertThat(EmbeddedSystem.Options.parse("--tls-cert-file", cert.toString(), "--tls-key-file",
        key.toString()).proxy().access(token).tls()).get().extracting(t -> t.key()).isEqualTo(key);
    assertThatThrownBy(() -> EmbeddedSystem.Options.parse("--tls-cert-file", cert.toString())
        .proxy().access(token)).hasMessageContaining("needs both").hasMessageContaining("--tls-key-file");
  }

  /**
   * The variables themselves, in a JVM started with them: picocli reads the process's environment, which a test
   * cannot change in its own JVM. A variable sets what no option sets; an option wins over a variable.
   */
  @Test
  void variables_set_what_options_do_not_and_options_win() throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), PrintConfigs.class.getName(), "--max-orphans", "7"));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(Map.of("RDV_MAX_PENDING", "500", "RDV_MAX_ORPHANS", "300",
        "RDV_ADMISSION_LIMIT", "none", "RDV_ARCHIVE_FLUSH_INTERVAL_MS", "20", "RDV_MONITOR_BINS", "5",
        "RDV_PROXY_PORT", "0", "RDV_BOOTSTRAP_SERVERS", "elsewhere:9092"));
    Process p = builder.start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    p.getInputStream().transferTo(out);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(printed).contains("maxPending=500", "maxOrphans=7", "limit=none", "flushIntervalMs=20", "bins=5",
        "port=0", "bootstrap=elsewhere:9092");
  }

  /** Prints the configurations that {@code up}'s options build, for the test above. */
  public static final class PrintConfigs {
    public static void main(String[] args) {
      EmbeddedSystem.Options o = EmbeddedSystem.Options.parse(args);
      System.out.println(o.rendezvous().toConfig("p", "k") + " " + o.admission().toConfig() + " "
          + o.decoy().toConfig("p", Path.of("a")) + " " + o.monitor().toConfig("p") + " " + o.proxy().toConfig("k")
          + " bootstrap=" + o.kafka().bootstrapServers());
    }
  }
}
