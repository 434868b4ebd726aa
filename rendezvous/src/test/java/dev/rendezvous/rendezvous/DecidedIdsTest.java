package dev.rendezvous.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DecidedIdsTest {

  @Test
  void ids_are_forgotten_by_age_oldest_first() {
    DecidedIds ids = new DecidedIds(1_000);
    ids.add("a", 100);
    ids.add("b", 200);
    ids.add("c", 300);

    ids.forgetUpTo(200);

    assertThat(ids.contains("a")).isFalse();
    assertThat(ids.contains("b")).isFalse();
    assertThat(ids.contains("c")).isTrue();
    assertThat(ids.size()).isEqualTo(1);
  }

  @Test
  void the_cap_forgets_the_oldest_and_says_so() {
    DecidedIds ids = new DecidedIds(3);
    assertThat(ids.add("a", 1)).isFalse();
    assertThat(ids.add("b", 2)).isFalse();
    assertThat(ids.add("c", 3)).isFalse();

    assertThat(ids.add("d", 4)).isTrue();

    assertThat(ids.contains("a")).isFalse();
    assertThat(List.of("b", "c", "d")).allMatch(ids::contains);
    assertThat(ids.size()).isEqualTo(3);
  }

  @Test
  void it_grows_past_its_first_arrays_and_keeps_every_id_in_order() {
    DecidedIds ids = new DecidedIds(1_000_000);
    for (int i = 0; i < 10_000; i++) {
      ids.add("proxy-" + i, i);
    }
    assertThat(ids.size()).isEqualTo(10_000);

    ids.forgetUpTo(4_999);

    assertThat(ids.size()).isEqualTo(5_000);
    for (int i = 0; i < 10_000; i++) {
      assertThat(ids.contains("proxy-" + i)).as("proxy-%d", i).isEqualTo(i >= 5_000);
    }
  }

  @Test
  void an_id_decided_again_after_it_was_forgotten_stays_remembered() {
    DecidedIds ids = new DecidedIds(10);
    ids.add("a", 1);
    ids.forgetUpTo(1);
    ids.add("a", 5);

    ids.forgetUpTo(4);

    assertThat(ids.contains("a")).isTrue();
  }

  @Test
  void it_agrees_with_an_ordered_map_under_random_adds_expiries_and_evictions() {
    for (int cap : new int[] {1, 7, 100, 5_000}) {
      DecidedIds ids = new DecidedIds(cap);
      LinkedHashMap<String, Long> model = new LinkedHashMap<>();
      List<String> seen = new ArrayList<>();
      Random random = new Random(cap);
      long now = 0;
      for (int step = 0; step < 40_000; step++) {
        now += random.nextInt(3);
        if (random.nextInt(10) < 8) {
          String id = "p-" + random.nextLong();
          seen.add(id);
          boolean evicted = ids.add(id, now);
          model.put(id, now);
          boolean modelEvicted = model.size() > cap;
          if (modelEvicted) {
            Iterator<String> oldest = model.keySet().iterator();
            oldest.next();
            oldest.remove();
          }
          assertThat(evicted).isEqualTo(modelEvicted);
        } else {
          long limit = now - random.nextInt(200);
          ids.forgetUpTo(limit);
          model.values().removeIf(t -> t <= limit);
        }
        assertThat(ids.size()).isEqualTo(model.size());
        if (step % 97 == 0) {
          for (int k = Math.max(0, seen.size() - 300); k < seen.size(); k++) {
            String id = seen.get(k);
            assertThat(ids.contains(id)).as("cap %d, step %d, %s", cap, step, id).isEqualTo(model.containsKey(id));
          }
        }
      }
      for (Map.Entry<String, Long> e : model.entrySet()) {
        assertThat(ids.contains(e.getKey())).isTrue();
      }
    }
  }

  @Test
  void the_hash_is_never_the_empty_marker_and_a_cap_must_be_positive() {
    assertThat(DecidedIds.hash("")).isNotZero();
    assertThatThrownBy(() -> new DecidedIds(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
