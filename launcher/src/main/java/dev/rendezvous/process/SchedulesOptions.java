package dev.rendezvous.process;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The schedule files: which problems a process serves, and the seed of each problem's schedule log. */
public final class SchedulesOptions {

  @Option(names = "--schedules", defaultValue = "${env:RDV_SCHEDULES:-schedules}",
      description = "Directory of schedule files, one *.yaml per problem; each component serves every problem "
          + "named there.")
  Path dir;

  public Path dir() {
    return dir;
  }
}
