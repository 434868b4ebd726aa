package dev.rendezvous.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ScheduleDiffTest {

  @Test
  void a_promoted_model_shows_as_one_line_removed_and_one_added_with_their_line_numbers() {
    String before = "problem: p\ntiers:\n  - until_ms: 25\n    accept: [bc-mlp]\n";
    String after = "problem: p\ntiers:\n  - until_ms: 25\n    accept: [bc-gbt]\n";
    assertThat(ScheduleDiff.between(before, after))
        .isEqualTo("- 4:     accept: [bc-mlp]\n+ 4:     accept: [bc-gbt]");
  }

  @Test
  void equal_texts_have_an_empty_diff_and_the_first_version_is_all_additions() {
    assertThat(ScheduleDiff.between("a\nb\n", "a\nb\n")).isEmpty();
    assertThat(ScheduleDiff.between("", "a\nb")).isEqualTo("+ 1: a\n+ 2: b");
  }

  @Test
  void an_inserted_tier_keeps_the_unchanged_lines_out_of_the_diff() {
    assertThat(ScheduleDiff.between("x\nz\n", "x\ny\nz\n")).isEqualTo("+ 2: y");
  }
}
