package dev.rendezvous.bench;

import java.util.List;
import java.util.Locale;

/**
 * A minimal SVG line chart of latency percentiles against request rate, both axes logarithmic, so a report
 * carries its picture without a plotting dependency.
 */
final class SvgPlot {

  /** One line: a label, a colour, a dash pattern (or null) and its (rate, milliseconds) points. */
  record Line(String label, String colour, String dash, List<double[]> points) {}

  private static final int W = 760;
  private static final int H = 440;
  private static final int LEFT = 70;
  private static final int RIGHT = 200;
  private static final int TOP = 30;
  private static final int BOTTOM = 50;

  private SvgPlot() {}

  static String render(String title, List<Line> lines) {
    double minX = Double.MAX_VALUE, maxX = 0, minY = Double.MAX_VALUE, maxY = 0;
    for (Line l : lines) {
      for (double[] p : l.points()) {
        minX = Math.min(minX, p[0]);
        maxX = Math.max(maxX, p[0]);
        minY = Math.min(minY, Math.max(p[1], 0.1));
        maxY = Math.max(maxY, p[1]);
      }
    }
    double lx0 = Math.floor(Math.log10(minX)), lx1 = Math.ceil(Math.log10(maxX));
    double ly0 = Math.floor(Math.log10(minY)), ly1 = Math.ceil(Math.log10(maxY));
    if (lx1 <= lx0) {
      lx1 = lx0 + 1;
    }
    if (ly1 <= ly0) {
      ly1 = ly0 + 1;
    }
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
        + "font-family='sans-serif' font-size='12'>%n<rect width='100%%' height='100%%' fill='white'/>%n", W, H));
    s.append(String.format(Locale.ROOT, "<text x='%d' y='18' font-size='14'>%s</text>%n", LEFT, title));
    int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
    for (double e = ly0; e <= ly1; e++) {
      for (int m = 1; m < 10; m++) {
        double v = m * Math.pow(10, e);
        if (Math.log10(v) > ly1) {
          break;
        }
        double y = TOP + ph - (Math.log10(v) - ly0) / (ly1 - ly0) * ph;
        s.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='%s'/>%n", LEFT,
            LEFT + pw, y, y, m == 1 ? "#bbb" : "#eee"));
        if (m == 1 || m == 2 || m == 5) {
          s.append(String.format(Locale.ROOT, "<text x='%d' y='%.1f' text-anchor='end'>%s</text>%n", LEFT - 6,
              y + 4, fmt(v)));
        }
      }
    }
    for (double e = lx0; e <= lx1; e++) {
      for (int m = 1; m < 10; m++) {
        double v = m * Math.pow(10, e);
        if (Math.log10(v) > lx1) {
          break;
        }
        double x = LEFT + (Math.log10(v) - lx0) / (lx1 - lx0) * pw;
        s.append(String.format(Locale.ROOT, "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' stroke='%s'/>%n", x, x, TOP,
            TOP + ph, m == 1 ? "#bbb" : "#eee"));
        if (m == 1 || m == 2 || m == 5) {
          s.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' text-anchor='middle'>%s</text>%n", x,
              TOP + ph + 16, fmt(v)));
        }
      }
    }
    s.append(String.format(Locale.ROOT, "<text x='%d' y='%d' text-anchor='middle'>requests per second</text>%n",
        LEFT + pw / 2, H - 12));
    s.append(String.format(Locale.ROOT, "<text x='16' y='%d' transform='rotate(-90 16 %d)' "
        + "text-anchor='middle'>latency (ms)</text>%n", TOP + ph / 2, TOP + ph / 2));
    int legendY = TOP + 10;
    for (Line l : lines) {
      StringBuilder pts = new StringBuilder();
      for (double[] p : l.points()) {
        double x = LEFT + (Math.log10(p[0]) - lx0) / (lx1 - lx0) * pw;
        double y = TOP + ph - (Math.log10(Math.max(p[1], 0.1)) - ly0) / (ly1 - ly0) * ph;
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        s.append(String.format(Locale.ROOT, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>%n", x, y, l.colour()));
      }
      s.append(String.format(Locale.ROOT, "<polyline fill='none' stroke='%s' stroke-width='2' %s points='%s'/>%n",
          l.colour(), l.dash() == null ? "" : "stroke-dasharray='" + l.dash() + "'", pts.toString().trim()));
      s.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%d' y2='%d' stroke='%s' stroke-width='2' %s/>"
          + "<text x='%d' y='%d'>%s</text>%n", LEFT + pw + 12, LEFT + pw + 36, legendY, legendY, l.colour(),
          l.dash() == null ? "" : "stroke-dasharray='" + l.dash() + "'", LEFT + pw + 42, legendY + 4, l.label()));
      legendY += 18;
    }
    return s.append("</svg>\n").toString();
  }

  private static String fmt(double v) {
    return v >= 1 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
  }
}
