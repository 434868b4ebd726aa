package dev.rendezvous.rendezvous;

/**
 * Settings of one problem's rendezvous; each is an option of the {@code rendezvous} command and of {@code up}.
 * Every table the rendezvous keeps has a cap and a time to live, so its memory stays bounded whatever the traffic;
 * see {@link RendezvousTable} for what each one holds.
 *
 * @param problem the served problem
 * @param bootstrapServers the Kafka cluster
 * @param maxPending most undecided requests held; beyond it a new request gets the default at once (reason
 *     {@code overload}) so memory stays bounded. A pending request lives at most until its schedule's last
 *     tier ends, so this cap is also the table's size at the highest rate it absorbs. Default 100,000
 *     ({@code --max-pending}).
 * @param orphanTtlMs how long a score whose request has not been read yet is kept waiting for it (input and
 *     scores are separate topics, so a score can overtake its request); then it is dropped and counted.
 *     Default 10,000 ({@code --orphan-ttl-ms}).
 * @param maxOrphans most such scores kept; beyond it the oldest request's waiting scores are dropped and
 *     counted, as if their TTL had passed. Default 100,000 ({@code --max-orphans}).
 * @param decidedTtlMs how long decided request ids are remembered, so that later scores are counted as late
 *     rather than as orphans and a redelivered request is not decided twice. Default 10,000
 *     ({@code --decided-ttl-ms}).
 * @param maxDecided most decided ids remembered; beyond it the oldest are forgotten early. Default 1,000,000
 *     ({@code --max-decided}): ten seconds at 100,000 decisions a second.
 * @param instanceId this replica's stable name in the problem's consumer group ({@code group.instance.id}, static
 *     membership), or null for a dynamic member. A replacement started with the same id after a crash takes
 *     the partitions over at once, instead of after the dead member's session timeout; every replica needs its
 *     own (a second process with the same id fences the first). Default none ({@code --instance-id}).
 */
public record RendezvousConfig(
    String problem,
    String bootstrapServers,
    int maxPending,
    long orphanTtlMs,
    int maxOrphans,
    long decidedTtlMs,
    int maxDecided,
    String instanceId) {

  public static final int DEFAULT_MAX_PENDING = 100_000;
  public static final long DEFAULT_ORPHAN_TTL_MS = 10_000;
  public static final int DEFAULT_MAX_ORPHANS = 100_000;
  public static final long DEFAULT_DECIDED_TTL_MS = 10_000;
  public static final int DEFAULT_MAX_DECIDED = 1_000_000;

  public RendezvousConfig {
    positive(maxPending, "maxPending");
    positive(orphanTtlMs, "orphanTtlMs");
    positive(maxOrphans, "maxOrphans");
    positive(decidedTtlMs, "decidedTtlMs");
    positive(maxDecided, "maxDecided");
    if (instanceId != null && (instanceId.isBlank() || !instanceId.matches("[A-Za-z0-9._-]{1,200}"))) {
      throw new IllegalArgumentException("instance id must be 1 to 200 letters, digits, '.', '_' or '-', not '"
          + instanceId + "'");
    }
  }

  /** Settings of a dynamic member of the group (no instance id). */
  public RendezvousConfig(String problem, String bootstrapServers, int maxPending, long orphanTtlMs, int maxOrphans,
      long decidedTtlMs, int maxDecided) {
    this(problem, bootstrapServers, maxPending, orphanTtlMs, maxOrphans, decidedTtlMs, maxDecided, null);
  }

  /** The same settings with this instance id (null: a dynamic member). */
  public RendezvousConfig withInstanceId(String id) {
    return new RendezvousConfig(problem, bootstrapServers, maxPending, orphanTtlMs, maxOrphans, decidedTtlMs,
        maxDecided, id);
  }

  /** The documented defaults; for tests and tools. */
  public static RendezvousConfig defaults(String problem, String bootstrapServers) {
    return new RendezvousConfig(problem, bootstrapServers, DEFAULT_MAX_PENDING, DEFAULT_ORPHAN_TTL_MS,
        DEFAULT_MAX_ORPHANS, DEFAULT_DECIDED_TTL_MS, DEFAULT_MAX_DECIDED);
  }

  private static void positive(long value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, not " + value);
    }
  }
}
