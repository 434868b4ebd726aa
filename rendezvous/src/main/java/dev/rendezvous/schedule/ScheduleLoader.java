package dev.rendezvous.schedule;

import dev.rendezvous.common.Datatype;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads and validates a schedule file. Everything is checked before a {@link Schedule} is returned, so a
 * bad edit fails with a {@link ScheduleException} naming the file, the line, the field path and what is
 * wrong, and the schedule already in force can stay.
 *
 * <p>The file is composed into a YAML node tree rather than bound to objects, so that every value keeps its
 * line and unknown or misspelt fields are reported instead of ignored.
 */
public final class ScheduleLoader {

  private static final Pattern PROBLEM_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  private static final List<String> SCHEDULE_FIELDS =
      List.of("problem", "deadline_ms", "inputs", "outputs", "tiers", "default");
  private static final List<String> SPEC_FIELDS = List.of("name", "datatype", "shape");
  private static final List<String> TIER_FIELDS = List.of("until_ms", "accept");
  private static final List<String> DEFAULT_FIELDS = List.of("outputs");
  private static final List<String> TENSOR_FIELDS = List.of("name", "datatype", "shape", "data");

  /** Far beyond any serving deadline; it keeps every tier time representable in epoch microseconds. */
  private static final long MAX_DEADLINE_MS = 86_400_000;

  /** The largest integer a double holds exactly; INT64 values travel as doubles. */
  private static final double MAX_EXACT_INTEGER = 9_007_199_254_740_992.0;

  private ScheduleLoader() {}

  /** Reads and validates the schedule in {@code file}; the file's path names it in errors. */
  public static Schedule load(Path file) {
    String source = file.toString();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ScheduleException(source, 0, "", "no such file");
    } catch (MalformedInputException e) {
      throw new ScheduleException(source, 0, "", "is not UTF-8 text");
    } catch (IOException e) {
      throw new ScheduleException(source, 0, "", "cannot be read: " + e);
    }
    return parse(text, source);
  }

  /** Validates the schedule in {@code yamlText}; {@code sourceName} names it in errors and in the result. */
  public static Schedule parse(String yamlText, String sourceName) {
    return parse(yamlText, sourceName, id -> false);
  }

  /**
   * Validates the schedule in {@code yamlText} and also refuses a tier that names a canary: a canary scores
   * for comparison and must never answer. The file alone cannot say which models are canaries, so the
   * caller passes what it knows (runner configurations, roles seen on the scores topic).
   *
   * @param isCanary true for a model id known to run as a canary
   */
  public static Schedule parse(String yamlText, String sourceName, Predicate<String> isCanary) {
    return new Reader(sourceName, isCanary).schedule(compose(yamlText, sourceName));
  }

  private static Node compose(String yamlText, String source) {
    try {
      // Only composed, never constructed into arbitrary objects, so tags in the file cannot create classes.
      return new Yaml(new LoaderOptions()).compose(new StringReader(yamlText));
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      StringBuilder what = new StringBuilder("YAML syntax error");
      if (mark != null) {
        what.append(" at column ").append(mark.getColumn() + 1);
      }
      what.append(": ");
      if (e.getContext() != null) {
        what.append(e.getContext());
        Mark start = e.getContextMark();
        if (start != null && mark != null && start.getLine() != mark.getLine()) {
          // An unclosed bracket or quote is noticed lines later; point back to where it opened.
          what.append(" that began on line ").append(start.getLine() + 1);
        }
        what.append(", ");
      }
      what.append(e.getProblem() == null ? "" : e.getProblem().strip());
      if (e.getContext() != null && e.getContext().contains("alias")) {
        // A bare * starts a YAML alias; the wildcard model id has to be quoted.
        what.append(" (write the wildcard in quotes: \"*\")");
      }
      throw new ScheduleException(source, mark == null ? 0 : mark.getLine() + 1, "", what.toString());
    } catch (YAMLException e) {
      throw new ScheduleException(source, 0, "", "YAML syntax error: " + e.getMessage());
    }
  }

  /** Turns YAML scalars into numbers with the same rules as YAML itself (1_000, 0x1f, .inf and so on). */
  private static final class Scalars extends SafeConstructor {
    Scalars() {
      super(new LoaderOptions());
    }

    Object value(ScalarNode node) {
      return constructObject(node);
    }
  }

  /** One pass over one file's node tree; stops at the first error. */
  private static final class Reader {
    private final String source;
    private final Scalars scalars = new Scalars();
    private final Predicate<String> isCanary;

    Reader(String source, Predicate<String> isCanary) {
      this.source = source;
      this.isCanary = isCanary;
    }

    Schedule schedule(Node root) {
      if (root == null) {
        throw new ScheduleException(source, 0, "", "is empty; a schedule needs the fields " + join(SCHEDULE_FIELDS));
      }
      Fields f = new Fields(root, "", SCHEDULE_FIELDS);
      String problem = problem(f.required("problem"), "problem");
      Node deadlineNode = f.required("deadline_ms");
      long deadlineMs = wholeNumber(deadlineNode, "deadline_ms");
      if (deadlineMs <= 0) {
        throw error(deadlineNode, "deadline_ms", "must be positive, not " + deadlineMs);
      }
      if (deadlineMs > MAX_DEADLINE_MS) {
        throw error(deadlineNode, "deadline_ms",
            "must be at most " + MAX_DEADLINE_MS + " (a day), not " + deadlineMs);
      }
      List<TensorSpec> inputs = specs(f.required("inputs"), "inputs", "input");
      List<TensorSpec> outputs = specs(f.required("outputs"), "outputs", "output");
      List<Tier> tiers = tiers(f.required("tiers"), "tiers", deadlineMs);
      List<Tensor> defaults = defaults(f.required("default"), "default", outputs);
      return new Schedule(problem, deadlineMs, inputs, outputs, tiers, defaults, source);
    }

    private String problem(Node node, String path) {
      String name = text(node, path, "the problem's name");
      if (!PROBLEM_NAME.matcher(name).matches()) {
        throw error(node, path, "must be 1 to 63 lower-case letters, digits and '-', starting with a letter"
            + " or digit, not '" + name + "'");
      }
      return name;
    }

    private List<TensorSpec> specs(Node node, String path, String kind) {
      List<Node> items = list(node, path, "a list of " + kind + "s");
      if (items.isEmpty()) {
        throw error(node, path, "must list at least one " + kind);
      }
      List<TensorSpec> specs = new ArrayList<>();
      Set<String> names = new HashSet<>();
      for (int i = 0; i < items.size(); i++) {
        String p = index(path, i);
        Fields t = new Fields(items.get(i), p, SPEC_FIELDS);
        Node nameNode = t.required("name");
        String name = name(nameNode, field(p, "name"), "the " + kind + "'s name");
        if (!names.add(name)) {
          throw error(nameNode, field(p, "name"), "duplicate " + kind + " name '" + name + "'");
        }
        Datatype datatype = datatype(t.required("datatype"), field(p, "datatype"));
        long[] shape = shape(t.required("shape"), field(p, "shape"), true);
        specs.add(new TensorSpec(name, datatype.name(), shape));
      }
      return specs;
    }

    private List<Tier> tiers(Node node, String path, long deadlineMs) {
      List<Node> items = list(node, path, "a list of tiers");
      if (items.isEmpty()) {
        throw error(node, path, "must list at least one tier");
      }
      List<Tier> tiers = new ArrayList<>();
      Node untilNode = null;
      long previous = 0;
      for (int i = 0; i < items.size(); i++) {
        String p = index(path, i);
        Fields t = new Fields(items.get(i), p, TIER_FIELDS);
        untilNode = t.required("until_ms");
        long until = wholeNumber(untilNode, field(p, "until_ms"));
        if (until <= 0) {
          throw error(untilNode, field(p, "until_ms"), "must be positive, not " + until);
        }
        if (i > 0 && until <= previous) {
          throw error(untilNode, field(p, "until_ms"),
              "must be greater than the previous tier's until_ms (" + previous + "), not " + until);
        }
        previous = until;
        tiers.add(new Tier(until, accept(t.required("accept"), field(p, "accept"))));
      }
      if (previous > deadlineMs) {
        throw error(untilNode, field(index(path, items.size() - 1), "until_ms"),
            "the last tier must end by deadline_ms (" + deadlineMs + "), not " + previous);
      }
      return tiers;
    }

    private List<String> accept(Node node, String path) {
      List<Node> items = list(node, path, "a list of model ids");
      if (items.isEmpty()) {
        throw error(node, path, "must name at least one model, or \"*\" for any serving model");
      }
      List<String> ids = new ArrayList<>();
      for (int j = 0; j < items.size(); j++) {
        Node item = items.get(j);
        String p = index(path, j);
        String id = name(item, p, "a model id");
        if (!id.equals(Tier.ANY_SERVING) && id.contains("*")) {
          throw error(item, p, "'" + id + "' is not a model id; \"*\" is a wildcard only on its own");
        }
        int at = id.indexOf(Tier.VERSION_SEPARATOR);
        if (at == 0 || at == id.length() - 1 || (at > 0 && id.indexOf(Tier.VERSION_SEPARATOR, at + 1) >= 0)) {
          throw error(item, p, "'" + id + "' is neither a model id nor a model id and version (model@version)");
        }
        if (ids.contains(id)) {
          throw error(item, p, "'" + id + "' is already listed in this tier");
        }
        if (!id.equals(Tier.ANY_SERVING) && isCanary.test(Tier.modelIdOf(id))) {
          throw error(item, p, "'" + id + "' is a canary; a canary scores for comparison and never answers,"
              + " so no tier may accept it");
        }
        ids.add(id);
      }
      return ids;
    }

    private List<Tensor> defaults(Node node, String path, List<TensorSpec> outputs) {
      Fields d = new Fields(node, path, DEFAULT_FIELDS);
      String listPath = field(path, "outputs");
      Node listNode = d.required("outputs");
      List<Node> items = list(listNode, listPath, "a list of tensors");
      Map<String, Tensor> byName = new LinkedHashMap<>();
      for (int i = 0; i < items.size(); i++) {
        String p = index(listPath, i);
        Fields t = new Fields(items.get(i), p, TENSOR_FIELDS);
        Node nameNode = t.required("name");
        String name = name(nameNode, field(p, "name"), "an output's name");
        TensorSpec spec = outputs.stream().filter(o -> o.name().equals(name)).findFirst()
            .orElseThrow(() -> error(nameNode, field(p, "name"), "'" + name + "' is not an output of this"
                + " problem; the outputs are " + join(outputs.stream().map(TensorSpec::name).toList())));
        if (byName.containsKey(name)) {
          throw error(nameNode, field(p, "name"), "the default for output '" + name + "' is given twice");
        }
        Node datatypeNode = t.required("datatype");
        Datatype datatype = datatype(datatypeNode, field(p, "datatype"));
        if (!datatype.name().equals(spec.datatype())) {
          throw error(datatypeNode, field(p, "datatype"),
              "must be " + spec.datatype() + " like output " + spec + ", not " + datatype);
        }
        long[] shape = defaultShape(t.required("shape"), field(p, "shape"), spec);
        byName.put(name, data(name, t.required("data"), field(p, "data"), datatype, shape));
      }
      List<Tensor> defaults = new ArrayList<>();
      for (TensorSpec spec : outputs) {
        Tensor t = byName.get(spec.name());
        if (t == null) {
          throw error(listNode, listPath, "has no default for output '" + spec.name() + "'");
        }
        defaults.add(t);
      }
      return defaults;
    }

    private long[] defaultShape(Node node, String path, TensorSpec spec) {
      long[] shape = shape(node, path, false);
      long[] expected = spec.shape();
      if (shape.length != expected.length) {
        throw error(node, path, "must have " + expected.length + " dimensions like output " + spec
            + ", not " + Arrays.toString(shape));
      }
      List<Node> dims = ((SequenceNode) node).getValue();
      if (shape[0] != 1) {
        throw error(dims.get(0), index(path, 0),
            "must be 1: the default is one row, repeated for each row of a request; not " + shape[0]);
      }
      for (int k = 1; k < shape.length; k++) {
        if (expected[k] != -1 && shape[k] != expected[k]) {
          throw error(dims.get(k), index(path, k),
              "must be " + expected[k] + " like output " + spec + ", not " + shape[k]);
        }
      }
      return shape;
    }

    /** A default's elements: numbers, true or false for BOOL, strings for BYTES. */
    private Tensor data(String name, Node node, String path, Datatype datatype, long[] shape) {
      List<Node> items = list(node, path, datatype == Datatype.BYTES ? "a list of strings"
          : datatype == Datatype.BOOL ? "a list of true or false" : "a list of numbers");
      long expected = Tensor.elementCount(shape);
      if (items.size() != expected) {
        throw error(node, path, "has " + items.size() + " elements but shape " + Arrays.toString(shape)
            + " holds " + expected);
      }
      if (datatype == Datatype.BYTES) {
        List<String> strings = new ArrayList<>();
        for (int k = 0; k < items.size(); k++) {
          Node item = items.get(k);
          if (!(item instanceof ScalarNode sn) || !sn.getTag().equals(Tag.STR)) {
            throw error(item, index(path, k), "must be a string for BYTES, not " + describe(item));
          }
          strings.add(sn.getValue());
        }
        return Tensor.ofStrings(name, shape, strings);
      }
      double[] data = new double[items.size()];
      for (int k = 0; k < data.length; k++) {
        Node item = items.get(k);
        if (datatype == Datatype.BOOL) {
          if (!(item instanceof ScalarNode sn) || !sn.getTag().equals(Tag.BOOL)) {
            throw error(item, index(path, k), "must be true or false for BOOL, not " + describe(item));
          }
          data[k] = Boolean.TRUE.equals(scalars.value(sn)) ? 1 : 0;
          continue;
        }
        double v = number(item, index(path, k), "a number").doubleValue();
        if (!Double.isFinite(v)) { // .nan and .inf are YAML numbers, but no answer a client can use
          throw error(item, index(path, k), "must be a finite number, not " + v);
        }
        if (datatype.isFloat() && datatype.reject(v) != null) {
          throw error(item, index(path, k), datatype.reject(v));
        }
        if (datatype.isInteger()) {
          if (v != Math.rint(v)) {
            throw error(item, index(path, k), "must be a whole number for " + datatype + ", not " + v);
          }
          if (v > datatype.max() || v < datatype.min()) {
            throw error(item, index(path, k), "is out of range for " + datatype + " (" + datatype.range() + "): "
                + (long) v);
          }
        }
        data[k] = v;
      }
      return new Tensor(name, datatype.name(), shape, data);
    }

    private long[] shape(Node node, String path, boolean anySizeAllowed) {
      List<Node> dims = list(node, path, "a list of dimensions");
      if (dims.isEmpty()) {
        throw error(node, path, "must have at least one dimension; dimension 0 counts the rows");
      }
      long[] shape = new long[dims.size()];
      for (int k = 0; k < shape.length; k++) {
        long d = wholeNumber(dims.get(k), index(path, k));
        if (d <= 0 && !(anySizeAllowed && d == -1)) {
          throw error(dims.get(k), index(path, k), anySizeAllowed
              ? "must be a positive size or -1 for any size, not " + d
              : "must be a positive size, not " + d);
        }
        shape[k] = d;
      }
      return shape;
    }

    private Datatype datatype(Node node, String path) {
      String name = text(node, path, "a datatype");
      Datatype d = Datatype.parse(name);
      if (d == null) {
        throw error(node, path, "unknown datatype '" + name + "'; supported: " + Datatype.names());
      }
      return d;
    }

    /** A tensor name or model id: non-blank text without surrounding spaces, which would never match. */
    private String name(Node node, String path, String what) {
      String s = text(node, path, what);
      if (s.isBlank()) {
        throw error(node, path, "must not be blank");
      }
      if (!s.equals(s.strip())) {
        throw error(node, path, "must not start or end with spaces: '" + s + "'");
      }
      return s;
    }

    /** Any non-empty scalar, as written: a model named 2024 or yes is still text here. */
    private String text(Node node, String path, String what) {
      if (!(node instanceof ScalarNode s) || s.getTag().equals(Tag.NULL)) {
        throw error(node, path, "must be " + what + ", not " + describe(node));
      }
      return s.getValue();
    }

    private Number number(Node node, String path, String what) {
      if (node instanceof ScalarNode s && (s.getTag().equals(Tag.INT) || s.getTag().equals(Tag.FLOAT))) {
        try {
          return (Number) scalars.value(s);
        } catch (RuntimeException e) {
          throw error(node, path, "is not a valid number: '" + s.getValue() + "'");
        }
      }
      throw error(node, path, "must be " + what + ", not " + describe(node));
    }

    private long wholeNumber(Node node, String path) {
      Number n = number(node, path, "a whole number");
      if (n instanceof BigInteger b) {
        if (b.bitLength() >= 64) {
          throw error(node, path, "is too large: " + b);
        }
        return b.longValue();
      }
      if (n instanceof Double || n instanceof Float) {
        double d = n.doubleValue();
        if (d != Math.rint(d) || Math.abs(d) > MAX_EXACT_INTEGER) {
          throw error(node, path, "must be a whole number, not " + ((ScalarNode) node).getValue());
        }
        return (long) d;
      }
      return n.longValue();
    }

    private List<Node> list(Node node, String path, String what) {
      if (node instanceof SequenceNode s) {
        return s.getValue();
      }
      throw error(node, path, "must be " + what + ", not " + describe(node));
    }

    private ScheduleException error(Node node, String path, String problem) {
      return new ScheduleException(source, line(node), path, problem);
    }

    /** The fields of one mapping, checked against the allowed names; every allowed field is required. */
    private final class Fields {
      private final Node node;
      private final String path;
      private final Map<String, Node> values = new LinkedHashMap<>();

      Fields(Node node, String path, List<String> allowed) {
        this.node = node;
        this.path = path;
        if (!(node instanceof MappingNode mapping)) {
          throw error(node, path, "must be a mapping with the fields " + join(allowed) + ", not "
              + describe(node));
        }
        for (NodeTuple tuple : mapping.getValue()) {
          Node key = tuple.getKeyNode();
          if (!(key instanceof ScalarNode k)) {
            throw error(key, path, "field names must be plain text, not " + describe(key));
          }
          String name = k.getValue();
          if (!allowed.contains(name)) {
            throw error(key, field(path, name), "unknown field; allowed fields are " + join(allowed));
          }
          if (values.put(name, tuple.getValueNode()) != null) {
            throw error(key, field(path, name), "is given twice");
          }
        }
      }

      Node required(String name) {
        Node value = values.get(name);
        if (value == null) {
          throw error(node, field(path, name), "required field is missing");
        }
        return value;
      }
    }
  }

  private static String describe(Node node) {
    if (node instanceof SequenceNode) {
      return "a list";
    }
    if (node instanceof MappingNode) {
      return "a mapping";
    }
    ScalarNode s = (ScalarNode) node;
    return s.getTag().equals(Tag.NULL) ? "empty" : "'" + s.getValue() + "'";
  }

  private static int line(Node node) {
    return node == null || node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
  }

  private static String field(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  private static String index(String path, int i) {
    return path + "[" + i + "]";
  }

  private static String join(List<String> names) {
    return String.join(", ", names);
  }
}
