package dev.rendezvous.tools;

import static dev.rendezvous.tools.ArchiveArgs.archiveOf;
import static dev.rendezvous.tools.ArchiveArgs.time;

import dev.rendezvous.common.Clock;
import dev.rendezvous.decoy.ArchiveLayout;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Writes a training set from the decoy's archive (docs/decoy.md). */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Write a training set: one row per archived request of PROBLEM received in [--since, --until), "
        + "with its inputs, every model's scores (replayed ones as <model>@replay) and its outcome.")
public final class ExportCommand implements Callable<Integer> {

  @CommandLine.Parameters(index = "0", paramLabel = "PROBLEM", description = "The served problem.")
  String problem;

  @Option(names = "--since", defaultValue = "1970-01-01",
      description = "First time included: 2026-11-25T15:00:00Z, 2026-11-25T15:00 (UTC), 2026-11-25, now, -2h, "
          + "-7d (default: ${DEFAULT-VALUE}).")
  String since;

  @Option(names = "--until", defaultValue = "now", description = "First time excluded (default: ${DEFAULT-VALUE}).")
  String until;

  @Option(names = "--out", required = true, description = "The file to write.")
  Path out;

  @Option(names = "--format", defaultValue = "csv",
      description = "csv or jsonl (default: ${DEFAULT-VALUE}).")
  String format;

  @Option(names = "--archive", defaultValue = "data/archive",
      description = "The decoy's archive (default: ${DEFAULT-VALUE}, as `up --data data` writes it).")
  Path archive;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    long now = Clock.SYSTEM.nowMicros();
    TrainingSetExport.Format f = switch (format.toLowerCase(Locale.ROOT)) {
      case "csv" -> TrainingSetExport.Format.CSV;
      case "jsonl", "json-lines" -> TrainingSetExport.Format.JSONL;
      default -> throw new CommandLine.ParameterException(spec.commandLine(),
          "--format must be csv or jsonl, not " + format);
    };
    ArchiveLayout layout = archiveOf(spec, archive, problem);
    TrainingSetExport.Summary s = TrainingSetExport.export(layout, problem, time(spec, since, now),
        time(spec, until, now), out, f, System.err);
    System.out.println(s.rows() + " rows (" + s.withOutcome() + " with an outcome), models " + s.models()
        + ", written to " + s.file());
    return 0;
  }
}
