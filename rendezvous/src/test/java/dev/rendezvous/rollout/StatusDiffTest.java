package dev.rendezvous.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The status shows each version's diff only up to a bound, so a huge schedule cannot bloat every status. */
class StatusDiffTest {

  @Test
  void aShortDiffIsShownWholeAndALongOneIsCutWithWhereToReadTheRest() {
    assertThat(ScheduleControl.shortened("+ 9: accept: [bc-gbt]")).isEqualTo("+ 9: accept: [bc-gbt]");
    assertThat(ScheduleControl.shortened(null)).isNull();
    String huge = "x".repeat(200_000);
    String shown = ScheduleControl.shortened(huge);
    assertThat(shown).startsWith("x".repeat(ScheduleControl.MAX_STATUS_DIFF_CHARS) + "\n... (")
        .contains((200_000 - ScheduleControl.MAX_STATUS_DIFF_CHARS) + " more characters")
        .contains("schedule history --bootstrap-servers");
    assertThat(shown.length()).isLessThan(ScheduleControl.MAX_STATUS_DIFF_CHARS + 200);
  }
}
