package dev.rendezvous.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** docs/configuration.md is what the command line says, so that the documentation cannot fall behind the code. */
class ConfigurationDocTest {

  static final Path DOC = Path.of("..").toAbsolutePath().normalize().resolve("docs/configuration.md");

  @Test
  void the_committed_table_is_the_generated_one() throws Exception {
    String generated = ConfigurationDoc.markdown(new CommandLine(new Main()));
    assertThat(Files.exists(DOC) ? Files.readString(DOC) : "")
        .as("docs/configuration.md is out of date; regenerate it from the repository root with: "
            + ConfigurationDoc.REGENERATE)
        .isEqualTo(generated);
  }

  @Test
  void the_table_lists_each_component_option_with_its_variable_and_default_once_per_options_class() {
    String md = ConfigurationDoc.markdown(new CommandLine(new Main()));
    assertThat(md).contains("| `--max-pending` | `RDV_MAX_PENDING` | `100000` | up, rendezvous |")
        .contains("| `--bootstrap-servers` | `RDV_BOOTSTRAP_SERVERS` | unset | up, proxy, rendezvous, runner, decoy, "
            + "monitor |")
        .contains("| `CONFIG...` | `RDV_RUNNER_CONFIG` | unset | runner |")
        .doesNotContain("`-h, --help`").doesNotContain("## `configuration-doc`").doesNotContain("--since");
    assertThat(md.split("`--max-pending`", -1)).hasSize(2);
  }
}
