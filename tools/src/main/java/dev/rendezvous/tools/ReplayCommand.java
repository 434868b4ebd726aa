package dev.rendezvous.tools;

import static dev.rendezvous.tools.ArchiveArgs.archiveOf;
import static dev.rendezvous.tools.ArchiveArgs.time;

import dev.rendezvous.common.Clock;
import dev.rendezvous.runner.RunnerConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Scores archived inputs offline with a candidate model, through any engine a runner can use (docs/decoy.md). */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = "Score PROBLEM's archived inputs offline with the model of a runner configuration and write "
        + "the scores beside the recorded ones (<archive>/<problem>/replay/), where export finds them.")
public final class ReplayCommand implements Callable<Integer> {

  @CommandLine.Parameters(index = "0", paramLabel = "PROBLEM", description = "The served problem.")
  String problem;

  @Option(names = "--model", required = true, description = "A runner configuration file (YAML).")
  Path model;

  @Option(names = "--since", defaultValue = "1970-01-01", description = "First time included (default: ${DEFAULT-VALUE}).")
  String since;

  @Option(names = "--until", defaultValue = "now", description = "First time excluded (default: ${DEFAULT-VALUE}).")
  String until;

  @Option(names = "--archive", defaultValue = "data/archive",
      description = "The decoy's archive (default: ${DEFAULT-VALUE}).")
  Path archive;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    long now = Clock.SYSTEM.nowMicros();
    RunnerConfig candidate;
    try {
      candidate = RunnerConfig.load(model);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    Replay.Summary s = Replay.run(archiveOf(spec, archive, problem),
        problem, candidate, time(spec, since, now), time(spec, until, now), Clock.SYSTEM, System.err);
    System.out.println(s.scored() + " requests scored, " + s.errors() + " errors, written to " + s.file());
    return s.errors() == 0 ? 0 : 1;
  }
}
