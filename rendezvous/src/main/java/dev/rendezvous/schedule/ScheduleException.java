package dev.rendezvous.schedule;

/**
 * A schedule file that cannot be used, with where and why, in the form
 * {@code source:line: field.path: what is wrong}. Unchecked so that it travels through futures unchanged;
 * whoever reloads a schedule catches it, logs the message and keeps the schedule already in force.
 */
public final class ScheduleException extends RuntimeException {

  private final String source;
  private final int line;
  private final String field;
  private final String problem;

  /**
   * @param source the file or other source name
   * @param line the 1-based line, or 0 when not known
   * @param field the field path such as {@code tiers[1].until_ms}, or empty for the file as a whole
   * @param problem what is wrong, as a sentence fragment for an operator
   */
  public ScheduleException(String source, int line, String field, String problem) {
    super(format(source, line, field, problem));
    this.source = source;
    this.line = line;
    this.field = field == null ? "" : field;
    this.problem = problem;
  }

  private static String format(String source, int line, String field, String problem) {
    StringBuilder s = new StringBuilder(source);
    if (line > 0) {
      s.append(':').append(line);
    }
    s.append(": ");
    if (field != null && !field.isEmpty()) {
      s.append(field).append(": ");
    }
    return s.append(problem).toString();
  }

  /** The file or other source name. */
  public String source() {
    return source;
  }

  /** The 1-based line of the offending text, or 0 when not known. */
  public int line() {
    return line;
  }

  /** The field path such as {@code tiers[1].until_ms}, or empty when the file as a whole is at fault. */
  public String field() {
    return field;
  }

  /** What is wrong, without the location. */
  public String problem() {
    return problem;
  }
}
