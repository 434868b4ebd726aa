package dev.rendezvous.tools;

import dev.rendezvous.decoy.ArchiveLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** The arguments that export and replay share, checked with a message that names what is wrong. */
final class ArchiveArgs {

  private ArchiveArgs() {}

  /** A time argument ({@link TimeArg}) in epoch microseconds. */
  static long time(CommandSpec spec, String text, long nowUs) {
    try {
      return TimeArg.parseMicros(text, nowUs);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /** The archive, which must hold the problem. */
  static ArchiveLayout archiveOf(CommandSpec spec, Path archive, String problem) {
    ArchiveLayout layout = new ArchiveLayout(archive);
    if (!Files.isDirectory(layout.problemDir(problem))) {
      throw new CommandLine.ParameterException(spec.commandLine(), "no archive of problem '" + problem + "' in "
          + archive.toAbsolutePath() + " (see --archive)");
    }
    return layout;
  }
}
