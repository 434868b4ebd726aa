package dev.rendezvous.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Role;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The binary encoding compared against JSON must carry the same messages, or the comparison means nothing. */
class CodecTimingTest {

  @Test
  void binary_round_trip_keeps_every_field_of_a_request_and_a_score() {
    Tensor t = new Tensor("features", "FP32", new long[] {1, 3}, new double[] {1.5, -2.25, 0.125});
    InferenceRequest r = new InferenceRequest("id-1", "client", "p", "rdv.p.results:0", 10, 20, List.of(t));
    assertThat(CodecTiming.decodeRequest(CodecTiming.encodeRequest(r))).isEqualTo(r);
    Score s = new Score("id-1", "m", "2", Role.CANARY, List.of(t), "", "runner", "cpu", 10, 15, 3);
    assertThat(CodecTiming.decodeScore(CodecTiming.encodeScore(s))).isEqualTo(s);
  }

  @Test
  void the_timing_reports_both_formats_with_their_sizes() {
    List<CodecTiming.Result> results = CodecTiming.run(new double[30], 200);
    assertThat(results).hasSize(2);
    assertThat(results).allSatisfy(res -> {
      assertThat(res.jsonNs()).isPositive();
      assertThat(res.binaryNs()).isPositive();
      assertThat(res.binaryBytes()).isLessThan(res.jsonBytes());
    });
  }
}
