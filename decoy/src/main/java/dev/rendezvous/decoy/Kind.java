package dev.rendezvous.decoy;

/**
 * What an archive line holds. Each kind has its own segments, named by {@link #prefix()}, and carries the
 * Kafka record value verbatim in the field {@link #field()}.
 */
public enum Kind {
  /** A request from the input topic, exactly as the models received it. */
  INPUT("inputs", "input"),
  /** A score from the scores topic. */
  SCORE("scores", "score"),
  /** A ground-truth outcome from the outcomes topic. */
  OUTCOME("outcomes", "outcome"),
  /** A score computed offline by {@code rendezvous replay}, never seen by the rendezvous. */
  REPLAY("replay", "score");

  private final String prefix;
  private final String field;

  Kind(String prefix, String field) {
    this.prefix = prefix;
    this.field = field;
  }

  /** The file name prefix of this kind's segments. */
  public String prefix() {
    return prefix;
  }

  /** The line field that holds the record value. */
  public String field() {
    return field;
  }

  /** The kind whose segments have this file name, or null. */
  public static Kind ofFile(String fileName) {
    for (Kind k : values()) {
      if (fileName.startsWith(k.prefix + "-") && fileName.endsWith(ArchiveLayout.SUFFIX)) {
        return k;
      }
    }
    return null;
  }
}
