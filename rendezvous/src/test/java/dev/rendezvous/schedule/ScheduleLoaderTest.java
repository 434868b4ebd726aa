package dev.rendezvous.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a schedule file may contain, and how each kind of mistake is reported: always with the file, the
 * line and the field path. Each bad file is the valid one below with one edit.
 */
class ScheduleLoaderTest {

  /** Line numbers in the tests refer to this text. */
  private static final String VALID = """
      problem: breast-cancer
      deadline_ms: 50
      inputs:
        - {name: features, datatype: FP32, shape: [-1, 30]}
      outputs:
        - {name: probability, datatype: FP32, shape: [-1, 1]}
      tiers:
        - until_ms: 30
          accept: [bc-gbt]
        - until_ms: 40
          accept: [bc-gbt, bc-mlp]
        - until_ms: 45
          accept: ["*"]
      default:
        outputs: [{name: probability, datatype: FP32, shape: [1, 1], data: [0.0]}]
      """;

  private static final String SOURCE = "schedules/bad.yaml";

  @Test
  void valid_file_gives_the_signature_tiers_and_default_it_describes() {
    Schedule s = ScheduleLoader.parse(VALID, "schedules/breast-cancer.yaml");
    assertThat(s.problem()).isEqualTo("breast-cancer");
    assertThat(s.deadlineMs()).isEqualTo(50);
    assertThat(s.inputs()).containsExactly(new TensorSpec("features", "FP32", new long[] {-1, 30}));
    assertThat(s.outputs()).containsExactly(new TensorSpec("probability", "FP32", new long[] {-1, 1}));
    assertThat(s.tiers()).containsExactly(
        new Tier(30, List.of("bc-gbt")),
        new Tier(40, List.of("bc-gbt", "bc-mlp")),
        new Tier(45, List.of("*")));
    assertThat(s.defaultOutputs()).containsExactly(
        new Tensor("probability", "FP32", new long[] {1, 1}, new double[] {0.0}));
    assertThat(s.source()).isEqualTo("schedules/breast-cancer.yaml");
    assertThat(s.marginMs()).isEqualTo(5.0);
  }

  @Test
  void shipped_breast_cancer_schedule_loads_with_the_champion_first_and_a_10ms_margin() {
    Schedule shipped = ScheduleLoader.load(repositoryRoot().resolve("schedules/breast-cancer.yaml"));
    assertThat(shipped.problem()).isEqualTo("breast-cancer");
    assertThat(shipped.tiers()).extracting(Tier::untilMs).containsExactly(25L, 35L, 40L);
    assertThat(shipped.tiers().get(0).accept()).containsExactly("bc-mlp");
    assertThat(shipped.tiers().get(2).accept()).containsExactly("*");
    assertThat(shipped.marginMs()).isEqualTo(10.0);
    assertThat(shipped.inputs()).isEqualTo(ScheduleLoader.parse(VALID, SOURCE).inputs());
  }

  @Test
  void accept_entries_may_name_a_model_version() {
    Schedule s = ScheduleLoader.parse(VALID.replace("accept: [bc-gbt]", "accept: [bc-gbt@3, bc-mlp]"), SOURCE);
    assertThat(s.tiers().get(0).accept()).containsExactly("bc-gbt@3", "bc-mlp");
  }

  @Test
  void anchors_let_tiers_share_an_accept_list() {
    Schedule s = ScheduleLoader.parse(VALID
        .replace("accept: [bc-gbt, bc-mlp]", "accept: &both [bc-gbt, bc-mlp]")
        .replace("accept: [\"*\"]", "accept: *both"), SOURCE);
    assertThat(s.tiers().get(2).accept()).containsExactly("bc-gbt", "bc-mlp");
  }

  @Test
  void whole_numbers_may_be_written_with_underscores_or_a_trailing_point_zero() {
    Schedule s = ScheduleLoader.parse(edit("deadline_ms: 50", "deadline_ms: 5_0.0"), SOURCE);
    assertThat(s.deadlineMs()).isEqualTo(50);
  }

  @Test
  void integer_outputs_take_whole_numbers_in_the_default() {
    Schedule s = ScheduleLoader.parse(VALID
        .replace("{name: probability, datatype: FP32, shape: [-1, 1]}", "{name: label, datatype: INT64, shape: [-1]}")
        .replace("{name: probability, datatype: FP32, shape: [1, 1], data: [0.0]}",
            "{name: label, datatype: INT64, shape: [1], data: [-1]}"), SOURCE);
    assertThat(s.defaultOutputs(2)).containsExactly(
        new Tensor("label", "INT64", new long[] {2}, new double[] {-1, -1}));
  }

  @Nested
  class Syntax {

    @Test
    void unclosed_bracket_on_line_9_is_a_syntax_error_reported_on_line_10_pointing_back() {
      ScheduleException e = rejected(edit("accept: [bc-gbt]", "accept: [bc-gbt"));
      assertThat(e.line()).isEqualTo(10);
      assertThat(e.field()).isEmpty();
      assertThat(e.getMessage()).startsWith(SOURCE + ":10: YAML syntax error")
          .contains("began on line 9");
    }

    @Test
    void unquoted_wildcard_on_line_13_is_a_syntax_error_that_says_to_quote_it() {
      ScheduleException e = rejected(edit("accept: [\"*\"]", "accept: [*]"));
      assertThat(e.getMessage()).startsWith(SOURCE + ":13: YAML syntax error").contains("\"*\"");
    }

    @Test
    void tab_indentation_on_line_2_is_a_syntax_error() {
      assertThat(rejected(edit("deadline_ms: 50", "\tdeadline_ms: 50")).getMessage())
          .startsWith(SOURCE + ":2: YAML syntax error");
    }

    @Test
    void second_document_on_line_16_is_refused() {
      assertThat(rejected(VALID + "---\nproblem: other\n").getMessage())
          .startsWith(SOURCE + ":16: YAML syntax error").contains("single document");
    }

    @Test
    void empty_file_is_refused_and_the_required_fields_are_listed() {
      assertThat(rejected("# nothing yet\n").getMessage())
          .isEqualTo(SOURCE + ": is empty; a schedule needs the fields problem, deadline_ms, inputs, outputs,"
              + " tiers, default");
    }

    @Test
    void list_at_the_top_is_refused_on_line_1() {
      assertRejected("- problem: x\n", 1, "", "must be a mapping with the fields problem, deadline_ms");
    }
  }

  @Nested
  class UnknownAndMissingFields {

    @Test
    void misspelt_deadline_on_line_2_is_unknown_and_the_allowed_fields_are_listed() {
      assertRejected(edit("deadline_ms: 50", "deadline: 50"), 2, "deadline",
          "unknown field; allowed fields are problem, deadline_ms, inputs, outputs, tiers, default");
    }

    @Test
    void unknown_field_in_tier_1_on_line_10_lists_the_tier_fields() {
      assertRejected(edit("  - until_ms: 40", "  - until: 40"), 10, "tiers[1].until",
          "unknown field; allowed fields are until_ms, accept");
    }

    @Test
    void unknown_field_in_input_0_on_line_4_lists_the_tensor_spec_fields() {
      assertRejected(edit("shape: [-1, 30]}", "shape: [-1, 30], dims: 2}"), 4, "inputs[0].dims",
          "unknown field; allowed fields are name, datatype, shape");
    }

    @Test
    void unknown_field_in_the_default_tensor_on_line_15_lists_the_default_tensor_fields() {
      assertRejected(edit("data: [0.0]", "value: [0.0]"), 15, "default.outputs[0].value",
          "unknown field; allowed fields are name, datatype, shape, data");
    }

    @Test
    void field_given_twice_on_line_2_is_refused() {
      assertRejected(edit("deadline_ms: 50", "problem: again"), 2, "problem", "is given twice");
    }

    @Test
    void missing_deadline_is_reported_on_line_1_where_the_file_begins() {
      assertRejected(edit("deadline_ms: 50\n", ""), 1, "deadline_ms", "required field is missing");
    }

    @Test
    void missing_accept_in_tier_1_is_reported_on_line_10_where_the_tier_begins() {
      assertRejected(edit("    accept: [bc-gbt, bc-mlp]\n", ""), 10, "tiers[1].accept",
          "required field is missing");
    }

    @Test
    void missing_default_data_on_line_15_is_refused() {
      assertRejected(edit(", data: [0.0]", ""), 15, "default.outputs[0].data", "required field is missing");
    }
  }

  @Nested
  class WrongTypes {

    @Test
    void deadline_written_as_a_word_on_line_2_is_not_a_number() {
      assertRejected(edit("deadline_ms: 50", "deadline_ms: fifty"), 2, "deadline_ms",
          "must be a whole number, not 'fifty'");
    }

    @Test
    void deadline_in_quotes_on_line_2_is_text_not_a_number() {
      assertRejected(edit("deadline_ms: 50", "deadline_ms: \"50\""), 2, "deadline_ms",
          "must be a whole number, not '50'");
    }

    @Test
    void fractional_until_ms_in_tier_0_on_line_8_is_refused() {
      assertRejected(edit("until_ms: 30", "until_ms: 30.5"), 8, "tiers[0].until_ms",
          "must be a whole number, not 30.5");
    }

    @Test
    void empty_problem_on_line_1_is_refused() {
      assertRejected(edit("problem: breast-cancer", "problem:"), 1, "problem",
          "must be the problem's name, not empty");
    }

    @Test
    void tiers_written_as_a_mapping_on_line_7_is_not_a_list() {
      String yaml = VALID.replaceAll("(?s)tiers:.*default:", "tiers: {until_ms: 30, accept: [bc-gbt]}\ndefault:");
      assertRejected(yaml, 7, "tiers", "must be a list of tiers, not a mapping");
    }

    @Test
    void accept_of_tier_0_written_without_brackets_on_line_9_is_not_a_list() {
      assertRejected(edit("accept: [bc-gbt]", "accept: bc-gbt"), 9, "tiers[0].accept",
          "must be a list of model ids, not 'bc-gbt'");
    }

    @Test
    void accept_entry_with_an_empty_version_on_line_9_is_refused() {
      assertRejected(edit("accept: [bc-gbt]", "accept: [bc-gbt@]"), 9, "tiers[0].accept[0]",
          "'bc-gbt@' is neither a model id nor a model id and version (model@version)");
    }

    @Test
    void accept_entry_with_two_versions_on_line_9_is_refused() {
      assertRejected(edit("accept: [bc-gbt]", "accept: [bc-gbt@3@4]"), 9, "tiers[0].accept[0]",
          "'bc-gbt@3@4' is neither a model id nor a model id and version (model@version)");
    }

    @Test
    void shape_of_input_0_written_as_a_number_on_line_4_is_not_a_list() {
      assertRejected(edit("shape: [-1, 30]", "shape: 30"), 4, "inputs[0].shape",
          "must be a list of dimensions, not '30'");
    }

    @Test
    void default_data_element_written_as_a_word_on_line_15_is_not_a_number() {
      assertRejected(edit("data: [0.0]", "data: [zero]"), 15, "default.outputs[0].data[0]",
          "must be a number, not 'zero'");
    }

    @Test
    void tier_written_as_a_plain_value_on_line_10_is_not_a_mapping() {
      assertRejected(edit("  - until_ms: 40\n    accept: [bc-gbt, bc-mlp]", "  - 40"), 10, "tiers[1]",
          "must be a mapping with the fields until_ms, accept, not '40'");
    }
  }

  @Nested
  class ProblemAndDeadline {

    @Test
    void problem_with_capitals_and_underscores_on_line_1_is_refused() {
      assertRejected(edit("problem: breast-cancer", "problem: Breast_Cancer"), 1, "problem",
          "lower-case letters, digits and '-'");
    }

    @Test
    void problem_starting_with_a_dash_on_line_1_is_refused() {
      assertRejected(edit("problem: breast-cancer", "problem: \"-bc\""), 1, "problem", "not '-bc'");
    }

    @Test
    void problem_of_64_characters_on_line_1_is_refused() {
      assertRejected(edit("problem: breast-cancer", "problem: " + "a".repeat(64)), 1, "problem",
          "1 to 63");
    }

    @Test
    void problem_of_63_characters_is_accepted() {
      assertThat(ScheduleLoader.parse(edit("problem: breast-cancer", "problem: " + "a".repeat(63)), SOURCE)
          .problem()).hasSize(63);
    }

    @Test
    void deadline_of_0ms_on_line_2_is_refused() {
      assertRejected(edit("deadline_ms: 50", "deadline_ms: 0"), 2, "deadline_ms", "must be positive, not 0");
    }

    @Test
    void deadline_longer_than_a_day_on_line_2_is_refused() {
      assertRejected(edit("deadline_ms: 50", "deadline_ms: 86400001"), 2, "deadline_ms",
          "must be at most 86400000 (a day), not 86400001");
    }

    @Test
    void negative_deadline_on_line_2_is_refused() {
      assertRejected(edit("deadline_ms: 50", "deadline_ms: -5"), 2, "deadline_ms", "must be positive, not -5");
    }
  }

  @Nested
  class Tiers {

    @Test
    void empty_tier_list_on_line_7_is_refused() {
      String yaml = VALID.replaceAll("(?s)tiers:.*default:", "tiers: []\ndefault:");
      assertRejected(yaml, 7, "tiers", "must list at least one tier");
    }

    @Test
    void tier_1_ending_at_30ms_like_tier_0_on_line_10_is_refused() {
      assertRejected(edit("until_ms: 40", "until_ms: 30"), 10, "tiers[1].until_ms",
          "must be greater than the previous tier's until_ms (30), not 30");
    }

    @Test
    void tier_1_ending_at_25ms_before_tier_0_on_line_10_is_refused() {
      assertRejected(edit("until_ms: 40", "until_ms: 25"), 10, "tiers[1].until_ms",
          "must be greater than the previous tier's until_ms (30), not 25");
    }

    @Test
    void tier_0_ending_at_0ms_on_line_8_is_refused() {
      assertRejected(edit("until_ms: 30", "until_ms: 0"), 8, "tiers[0].until_ms", "must be positive, not 0");
    }

    @Test
    void last_tier_ending_at_55ms_after_the_50ms_deadline_on_line_12_is_refused() {
      assertRejected(edit("until_ms: 45", "until_ms: 55"), 12, "tiers[2].until_ms",
          "the last tier must end by deadline_ms (50), not 55");
    }

    @Test
    void last_tier_ending_exactly_at_the_50ms_deadline_leaves_no_margin_and_is_accepted() {
      assertThat(ScheduleLoader.parse(edit("until_ms: 45", "until_ms: 50"), SOURCE).marginMs()).isEqualTo(0.0);
    }

    @Test
    void empty_accept_list_of_tier_1_on_line_11_is_refused() {
      assertRejected(edit("accept: [bc-gbt, bc-mlp]", "accept: []"), 11, "tiers[1].accept",
          "must name at least one model, or \"*\" for any serving model");
    }

    @Test
    void blank_accept_entry_on_line_11_is_refused() {
      assertRejected(edit("accept: [bc-gbt, bc-mlp]", "accept: [bc-gbt, \" \"]"), 11, "tiers[1].accept[1]",
          "must not be blank");
    }

    @Test
    void empty_accept_entry_on_line_11_is_refused() {
      assertRejected(edit("accept: [bc-gbt, bc-mlp]", "accept: [bc-gbt, ~]"), 11, "tiers[1].accept[1]",
          "must be a model id, not empty");
    }

    @Test
    void accept_entry_with_surrounding_spaces_on_line_11_is_refused() {
      assertRejected(edit("accept: [bc-gbt, bc-mlp]", "accept: [bc-gbt, \"bc-mlp \"]"), 11,
          "tiers[1].accept[1]", "must not start or end with spaces");
    }

    @Test
    void model_listed_twice_in_tier_1_on_line_11_is_refused() {
      assertRejected(edit("accept: [bc-gbt, bc-mlp]", "accept: [bc-gbt, bc-gbt]"), 11, "tiers[1].accept[1]",
          "'bc-gbt' is already listed in this tier");
    }

    @Test
    void partial_wildcard_in_tier_2_on_line_13_is_refused() {
      assertRejected(edit("accept: [\"*\"]", "accept: [\"bc-*\"]"), 13, "tiers[2].accept[0]",
          "\"*\" is a wildcard only on its own");
    }
  }

  @Nested
  class Signature {

    @Test
    void duplicate_input_name_on_line_5_is_refused() {
      assertRejected(edit("shape: [-1, 30]}\n",
              "shape: [-1, 30]}\n  - {name: features, datatype: FP32, shape: [-1]}\n"),
          5, "inputs[1].name", "duplicate input name 'features'");
    }

    @Test
    void unknown_datatype_of_input_0_on_line_4_lists_the_supported_ones() {
      assertRejected(edit("datatype: FP32, shape: [-1, 30]", "datatype: FP8, shape: [-1, 30]"), 4,
          "inputs[0].datatype", "unknown datatype 'FP8'; supported: BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16,"
          + " INT32, INT64, FP16, FP32, FP64, BYTES");
    }

    @Test
    void zero_dimension_of_input_0_on_line_4_is_refused() {
      assertRejected(edit("shape: [-1, 30]", "shape: [-1, 0]"), 4, "inputs[0].shape[1]",
          "must be a positive size or -1 for any size, not 0");
    }

    @Test
    void dimension_of_minus_2_in_output_0_on_line_6_is_refused() {
      assertRejected(edit("shape: [-1, 1]}", "shape: [-2, 1]}"), 6, "outputs[0].shape[0]",
          "must be a positive size or -1 for any size, not -2");
    }

    @Test
    void shape_without_dimensions_on_line_4_is_refused() {
      assertRejected(edit("shape: [-1, 30]", "shape: []"), 4, "inputs[0].shape",
          "must have at least one dimension");
    }

    @Test
    void empty_output_list_on_line_5_is_refused() {
      assertRejected(edit("outputs:\n  - {name: probability, datatype: FP32, shape: [-1, 1]}", "outputs: []"),
          5, "outputs", "must list at least one output");
    }
  }

  @Nested
  class Default {

    @Test
    void default_of_nan_or_infinity_on_line_15_is_refused_because_no_client_could_use_it() {
      assertRejected(edit("data: [0.0]", "data: [.nan]"), 15, "default.outputs[0].data[0]",
          "must be a finite number, not NaN");
      assertRejected(edit("data: [0.0]", "data: [-.inf]"), 15, "default.outputs[0].data[0]",
          "must be a finite number, not -Infinity");
      assertRejected(edit("data: [0.0]", "data: [1e39]"), 15, "default.outputs[0].data[0]",
          "does not fit in FP32");
    }

    @Test
    void default_for_an_output_the_problem_lacks_on_line_15_is_refused() {
      assertRejected(edit("[{name: probability,", "[{name: prob,"),
          15, "default.outputs[0].name", "'prob' is not an output of this problem; the outputs are probability");
    }

    @Test
    void default_of_datatype_fp64_for_an_fp32_output_on_line_15_is_refused() {
      assertRejected(edit("datatype: FP32, shape: [1, 1]", "datatype: FP64, shape: [1, 1]"), 15,
          "default.outputs[0].datatype", "must be FP32 like output probability FP32 [-1, 1], not FP64");
    }

    @Test
    void default_of_two_rows_on_line_15_is_refused_because_it_is_one_row_repeated() {
      assertRejected(edit("shape: [1, 1], data: [0.0]", "shape: [2, 1], data: [0.0, 0.0]"), 15,
          "default.outputs[0].shape[0]", "must be 1: the default is one row, repeated for each row");
    }

    @Test
    void default_of_two_columns_for_a_one_column_output_on_line_15_is_refused() {
      assertRejected(edit("shape: [1, 1], data: [0.0]", "shape: [1, 2], data: [0.0, 0.0]"), 15,
          "default.outputs[0].shape[1]", "must be 1 like output probability FP32 [-1, 1], not 2");
    }

    @Test
    void default_with_one_dimension_for_a_two_dimensional_output_on_line_15_is_refused() {
      assertRejected(edit("shape: [1, 1], data: [0.0]", "shape: [1], data: [0.0]"), 15,
          "default.outputs[0].shape", "must have 2 dimensions like output probability FP32 [-1, 1], not [1]");
    }

    @Test
    void default_with_two_elements_for_shape_1_by_1_on_line_15_is_refused() {
      assertRejected(edit("data: [0.0]", "data: [0.0, 1.0]"), 15, "default.outputs[0].data",
          "has 2 elements but shape [1, 1] holds 1");
    }

    @Test
    void default_without_elements_on_line_15_is_refused() {
      assertRejected(edit("data: [0.0]", "data: []"), 15, "default.outputs[0].data",
          "has 0 elements but shape [1, 1] holds 1");
    }

    @Test
    void default_missing_for_an_output_on_line_15_is_refused() {
      assertRejected(edit("outputs: [{name: probability, datatype: FP32, shape: [1, 1], data: [0.0]}]", "outputs: []"),
          15, "default.outputs", "has no default for output 'probability'");
    }

    @Test
    void default_given_twice_for_one_output_on_line_15_is_refused() {
      assertRejected(edit("data: [0.0]}]",
              "data: [0.0]}, {name: probability, datatype: FP32, shape: [1, 1], data: [1.0]}]"),
          15, "default.outputs[1].name", "the default for output 'probability' is given twice");
    }

    @Test
    void fractional_default_for_an_int32_output_on_line_15_is_refused() {
      String yaml = VALID
          .replace("{name: probability, datatype: FP32, shape: [-1, 1]}", "{name: label, datatype: INT32, shape: [-1]}")
          .replace("{name: probability, datatype: FP32, shape: [1, 1], data: [0.0]}",
              "{name: label, datatype: INT32, shape: [1], data: [0.5]}");
      assertRejected(yaml, 15, "default.outputs[0].data[0]", "must be a whole number for INT32, not 0.5");
    }
  }

  @Nested
  class FilesOnDisk {

    @TempDir
    Path dir;

    @Test
    void error_in_a_loaded_file_names_the_file_path_and_the_line() throws IOException {
      Path file = dir.resolve("breast-cancer.yaml");
      Files.writeString(file, edit("until_ms: 40", "until_ms: 30"));
      assertThatThrownBy(() -> ScheduleLoader.load(file))
          .isInstanceOf(ScheduleException.class)
          .hasMessage(file + ":10: tiers[1].until_ms: must be greater than the previous tier's until_ms (30),"
              + " not 30");
    }

    @Test
    void missing_file_is_reported_by_its_path() {
      Path file = dir.resolve("nowhere.yaml");
      assertThatThrownBy(() -> ScheduleLoader.load(file))
          .isInstanceOf(ScheduleException.class)
          .hasMessage(file + ": no such file");
    }

    @Test
    void loaded_schedule_records_its_path_as_source() throws IOException {
      Path file = dir.resolve("breast-cancer.yaml");
      Files.writeString(file, VALID);
      assertThat(ScheduleLoader.load(file).source()).isEqualTo(file.toString());
    }
  }

  /** VALID with exactly one occurrence of {@code from} replaced. */
  private static String edit(String from, String to) {
    int at = VALID.indexOf(from);
    assertThat(at).as("'%s' occurs in the valid file", from).isNotNegative();
    assertThat(VALID.indexOf(from, at + 1)).as("'%s' occurs once in the valid file", from).isNegative();
    return VALID.substring(0, at) + to + VALID.substring(at + from.length());
  }

  private static ScheduleException rejected(String yaml) {
    ScheduleException e = catchThrowableOfType(ScheduleException.class, () -> ScheduleLoader.parse(yaml, SOURCE));
    assertThat(e).as("the schedule is rejected").isNotNull();
    assertThat(e.source()).isEqualTo(SOURCE);
    return e;
  }

  private static void assertRejected(String yaml, int line, String field, String what) {
    ScheduleException e = rejected(yaml);
    assertThat(e.line()).as("line of: %s", e.getMessage()).isEqualTo(line);
    assertThat(e.field()).as("field of: %s", e.getMessage()).isEqualTo(field);
    assertThat(e.getMessage())
        .startsWith(SOURCE + ":" + line + ": " + (field.isEmpty() ? "" : field + ": "))
        .contains(what);
  }

  private static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("schedules"))) {
      dir = dir.getParent();
    }
    assertThat(dir).as("a parent directory holding schedules/").isNotNull();
    return dir;
  }

  @Test
  void a_tier_naming_a_known_canary_is_refused_on_its_line_but_the_wildcard_is_fine() {
    String text = """
        problem: p
        deadline_ms: 50
        inputs: [{name: x, datatype: FP32, shape: [-1, 1]}]
        outputs: [{name: y, datatype: FP32, shape: [-1, 1]}]
        tiers:
          - until_ms: 20
            accept: [bc-mlp, bc-canary]
          - until_ms: 40
            accept: ["*"]
        default: {outputs: [{name: y, datatype: FP32, shape: [1, 1], data: [0]}]}
        """;
    assertThatThrownBy(() -> ScheduleLoader.parse(text, "s.yaml", "bc-canary"::equals))
        .isInstanceOf(ScheduleException.class)
        .hasMessage("s.yaml:7: tiers[0].accept[1]: 'bc-canary' is a canary; a canary scores for comparison and"
            + " never answers, so no tier may accept it");
    // Without knowledge of roles the loader cannot tell, and the same text passes.
    assertThat(ScheduleLoader.parse(text, "s.yaml").tiers().get(0).accept()).containsExactly("bc-mlp", "bc-canary");
    assertThatThrownBy(() -> ScheduleLoader.parse(text.replace("bc-canary]", "bc-canary@1]"), "s.yaml",
        "bc-canary"::equals)).hasMessageContaining("'bc-canary@1' is a canary");
  }
}
