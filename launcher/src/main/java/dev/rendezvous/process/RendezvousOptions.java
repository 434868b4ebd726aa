package dev.rendezvous.process;

import dev.rendezvous.rendezvous.RendezvousConfig;
import picocli.CommandLine.Option;

/**
 * The bounds of the tables each problem's rendezvous keeps (see {@link RendezvousConfig} for what each holds).
 * The TTLs are enforced by a sweep once a second, so an entry may outlive its TTL by up to a second; the caps
 * hold at all times.
 */
public final class RendezvousOptions {

  @Option(names = "--max-pending", defaultValue = "${env:RDV_MAX_PENDING:-100000}",
      description = "Most undecided requests held per problem; beyond it a new request gets the default at once "
          + "(reason overload).")
  int maxPending;

  @Option(names = "--orphan-ttl-ms", defaultValue = "${env:RDV_ORPHAN_TTL_MS:-10000}",
      description = "How long a score that overtook its request waits for it before it is dropped and counted "
          + "(rdv_rendezvous_orphans_dropped_total).")
  long orphanTtlMs;

  @Option(names = "--max-orphans", defaultValue = "${env:RDV_MAX_ORPHANS:-100000}",
      description = "Most such scores kept per problem; beyond it the oldest request's scores are dropped and "
          + "counted the same way.")
  int maxOrphans;

  @Option(names = "--decided-ttl-ms", defaultValue = "${env:RDV_DECIDED_TTL_MS:-10000}",
      description = "How long decided request ids are remembered, so that later scores are counted as late "
          + "(rdv_rendezvous_late_scores_total) and a redelivered request is not decided twice.")
  long decidedTtlMs;

  @Option(names = "--max-decided", defaultValue = "${env:RDV_MAX_DECIDED:-1000000}",
      description = "Most decided request ids remembered per problem; beyond it the oldest are forgotten early.")
  int maxDecided;

  @Option(names = "--instance-id", defaultValue = "${env:RDV_INSTANCE_ID}",
      description = "This replica's stable name in each problem's consumer group (static membership): a "
          + "replacement started with the same id after a crash owns the partitions again at once instead of "
          + "after the session timeout. Unique per replica, e.g. the pod name. Unset: a dynamic member.")
  String instanceId;

  /** The rendezvous of one problem against this cluster. */
  public RendezvousConfig toConfig(String problem, String bootstrapServers) {
    return new RendezvousConfig(problem, bootstrapServers, maxPending, orphanTtlMs, maxOrphans, decidedTtlMs,
        maxDecided, instanceId == null || instanceId.isBlank() ? null : instanceId.strip());
  }
}
