package dev.rendezvous.tools;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * Parses the times the command line takes, to epoch microseconds: an instant ({@code 2026-11-25T15:00:00Z}),
 * a UTC date-time ({@code 2026-11-25T15:00}), a UTC date ({@code 2026-11-25}), {@code now}, or a time before
 * now ({@code -90s}, {@code -30m}, {@code -2h}, {@code -7d}).
 */
public final class TimeArg {

  private TimeArg() {}

  public static long parseMicros(String text, long nowUs) {
    String t = text.trim();
    try {
      if (t.equals("now")) {
        return nowUs;
      }
      if (t.startsWith("-") && t.length() > 2) {
        long n = Long.parseLong(t.substring(1, t.length() - 1));
        long unitSeconds = switch (t.charAt(t.length() - 1)) {
          case 's' -> 1;
          case 'm' -> 60;
          case 'h' -> 3600;
          case 'd' -> 86400;
          default -> throw new IllegalArgumentException("unit");
        };
        return nowUs - n * unitSeconds * 1_000_000L;
      }
      if (t.endsWith("Z") || t.contains("+")) {
        return micros(Instant.parse(t));
      }
      if (t.contains("T")) {
        return micros(LocalDateTime.parse(t).toInstant(ZoneOffset.UTC));
      }
      return micros(LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant());
    } catch (DateTimeParseException | IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + text + "' is not a time: use 2026-11-25T15:00:00Z, 2026-11-25T15:00 "
          + "(UTC), 2026-11-25, now, or -30m / -2h / -7d");
    }
  }

  private static long micros(Instant i) {
    return i.getEpochSecond() * 1_000_000L + i.getNano() / 1_000;
  }
}
