package dev.rendezvous.rollout;

import java.util.ArrayList;
import java.util.List;

/**
 * A line diff between two schedule texts, for history and for what an edit changed. Schedules are a few
 * dozen lines, so a plain longest-common-subsequence table is cheap.
 */
public final class ScheduleDiff {

  private ScheduleDiff() {}

  /**
   * The lines removed (prefixed {@code "- "}) and added ({@code "+ "}) to turn {@code before} into
   * {@code after}, each prefixed with its line number in the file it belongs to; empty when equal.
   */
  public static String between(String before, String after) {
    String[] a = lines(before);
    String[] b = lines(after);
    int[][] lcs = new int[a.length + 1][b.length + 1];
    for (int i = a.length - 1; i >= 0; i--) {
      for (int j = b.length - 1; j >= 0; j--) {
        lcs[i][j] = a[i].equals(b[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    List<String> out = new ArrayList<>();
    int i = 0;
    int j = 0;
    while (i < a.length || j < b.length) {
      if (i < a.length && j < b.length && a[i].equals(b[j])) {
        i++;
        j++;
      } else if (i < a.length && (j == b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
        out.add("- " + (i + 1) + ": " + a[i]);
        i++;
      } else {
        out.add("+ " + (j + 1) + ": " + b[j]);
        j++;
      }
    }
    return String.join("\n", out);
  }

  private static String[] lines(String text) {
    return text == null || text.isEmpty() ? new String[0] : text.split("\r?\n", -1);
  }
}
