package dev.rendezvous.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The median and range of repeated measurements. */
class SpreadTest {

  @Test
  void an_odd_count_has_its_middle_value_as_median_whatever_the_order() {
    Spread s = Spread.of(List.of(14.2, 11.0, 12.3));
    assertThat(s.median()).isEqualTo(12.3);
    assertThat(s.min()).isEqualTo(11.0);
    assertThat(s.max()).isEqualTo(14.2);
    assertThat(s.count()).isEqualTo(3);
  }

  @Test
  void an_even_count_has_the_mean_of_the_two_middle_values_as_median() {
    assertThat(Spread.of(List.of(4.0, 1.0, 3.0, 2.0)).median()).isEqualTo(2.5);
  }

  @Test
  void values_that_are_not_numbers_are_left_out() {
    Spread s = Spread.of(Arrays.asList(Double.NaN, 5.0, null, 7.0));
    assertThat(s.count()).isEqualTo(2);
    assertThat(s.median()).isEqualTo(6.0);
    assertThat(Spread.of(List.of(Double.NaN)).format(2)).isEqualTo("n/a");
  }

  @Test
  void the_format_shows_the_median_then_the_range_only_for_several_values() {
    assertThat(Spread.of(List.of(14.2, 11.02, 12.3)).format(2)).isEqualTo("12.30 (11.02-14.20)");
    assertThat(Spread.of(List.of(99.95)).format(1)).isEqualTo("100.0");
    assertThat(Spread.of(List.of(1.0, 2.0, 3.0)).format(0)).isEqualTo("2 (1-3)");
  }
}
