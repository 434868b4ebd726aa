package dev.rendezvous.process;

import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Ansi.Text;
import picocli.CommandLine.Model.ArgSpec;

/**
 * The environment fallback of the component options: each option's default is {@code ${env:RDV_NAME:-default}}
 * (or {@code ${env:RDV_NAME}} when it has none), so a command-line option wins over the variable, and the
 * variable over the default. {@link #install} makes {@code --help} show both under each option's description.
 */
public final class Environment {

  /** A default that reads a variable: {@code ${env:NAME}} or {@code ${env:NAME:-fallback}}. */
  static final Pattern ENV_DEFAULT = Pattern.compile("^\\$\\{env:([A-Z0-9_]+)(?::-(.*))?}$");

  /** The variable and the fallback of an option or parameter. */
  record Fallback(String variable, Optional<String> value) {

    String describe() {
      return "env " + variable + ", default " + value.filter(v -> !v.isEmpty()).orElse("unset");
    }
  }

  private Environment() {}

  /** The environment fallback of the argument, if its default reads a variable. */
  static Optional<Fallback> of(ArgSpec arg) {
    String raw = arg.defaultValueString(false);
    Matcher m = raw == null ? null : ENV_DEFAULT.matcher(raw);
    return m != null && m.matches() ? Optional.of(new Fallback(m.group(1), Optional.ofNullable(m.group(2))))
        : Optional.empty();
  }

  /** Shows the variable and the default of every option and parameter in the usage help of the whole tree. */
  public static CommandLine install(CommandLine commandLine) {
    return commandLine.setHelpFactory((spec, scheme) -> new Help(spec, scheme) {
      @Override
      public IOptionRenderer createDefaultOptionRenderer() {
        IOptionRenderer base = super.createDefaultOptionRenderer();
        return (option, labels, colors) -> withFallback(base.render(option, labels, colors), option, colors);
      }

      @Override
      public IParameterRenderer createDefaultParameterRenderer() {
        IParameterRenderer base = super.createDefaultParameterRenderer();
        return (param, labels, colors) -> withFallback(base.render(param, labels, colors), param, colors);
      }
    });
  }

  private static Text[][] withFallback(Text[][] rows, ArgSpec arg, Help.ColorScheme colors) {
    Optional<Fallback> fallback = of(arg);
    if (fallback.isEmpty() || rows.length == 0) {
      return rows;
    }
    Text[][] out = Arrays.copyOf(rows, rows.length + 1);
    Text[] row = new Text[rows[0].length];
    Arrays.fill(row, colors.text(""));
    row[row.length - 1] = colors.text("(" + fallback.get().describe() + ")");
    out[rows.length] = row;
    return out;
  }
}
