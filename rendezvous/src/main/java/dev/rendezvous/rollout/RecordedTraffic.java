package dev.rendezvous.rollout;

import dev.rendezvous.common.Arrival;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Result;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads recorded traffic of a problem for {@link WhatIf}: the results (decisions with the arrivals they saw),
 * joined by request id with the input topic (for each request's own deadline) and the scores topic (for the
 * scores that came after the decision).
 *
 * <p>A score that came after the decision has no recorded arrival time. Its time is estimated as the moment
 * the runner finished it ({@code scoredAtUs - receivedAtUs}) plus the model's median delay between finishing
 * and arriving at the rendezvous, measured on the scores whose arrival was recorded (zero when none was).
 *
 * <p>Warm-up requests of the embedded launcher and requests answered because of overload (which never met the
 * schedule) are left out.
 */
public final class RecordedTraffic {

  private RecordedTraffic() {}

  /**
   * Which results to read.
   *
   * @param last the newest this many results, or 0 for no limit
   * @param sinceUs results decided at or after this instant, epoch microseconds, or 0 for no limit
   */
  public record Selection(int last, long sinceUs) {}

  public static List<WhatIf.Recorded> read(String bootstrapServers, String problem, Selection selection) {
    Topics topics = Topics.of(problem);
    try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrapServers)) {
      List<Result> results = new ArrayList<>();
      readTopic(consumer, topics.results(), selection.sinceUs(), selection.last(), r -> {
        Result result = Json.decode(r.value(), Result.class);
        if (!dev.rendezvous.common.WarmUp.isWarmUp(result.requestId()) && !"overload".equals(result.reason())
            && result.decidedAtUs() >= selection.sinceUs()) {
          results.add(result);
        }
      });
      results.sort(Comparator.comparingLong(Result::decidedAtUs));
      List<Result> chosen = selection.last() > 0 && results.size() > selection.last()
          ? results.subList(results.size() - selection.last(), results.size()) : results;
      if (chosen.isEmpty()) {
        return List.of();
      }
      Map<String, Result> byId = new LinkedHashMap<>();
      long earliestUs = Long.MAX_VALUE;
      for (Result r : chosen) {
        byId.put(r.requestId(), r);
        earliestUs = Math.min(earliestUs, r.decidedAtUs() - Math.round(r.elapsedMs() * 1000));
      }
      // Inputs and scores were written around the receipt; a margin covers clocks of other hosts.
      long fromUs = earliestUs - 5_000_000;
      Map<String, Double> budgets = new HashMap<>();
      readTopic(consumer, topics.input(), fromUs, 0, r -> {
        if (byId.containsKey(r.key())) {
          InferenceRequest req = Json.decode(r.value(), InferenceRequest.class);
          budgets.put(req.requestId(), req.budgetMs());
        }
      });
      Map<String, List<Score>> scores = new HashMap<>();
      readTopic(consumer, topics.scores(), fromUs, 0, r -> {
        if (byId.containsKey(r.key())) {
          scores.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(Json.decode(r.value(), Score.class));
        }
      });
      return join(new ArrayList<>(byId.values()), budgets, scores);
    }
  }

  /**
   * Joins results with their budgets and scores; scores missing from a result's arrivals are added with an
   * estimated time.
   */
  static List<WhatIf.Recorded> join(List<Result> results, Map<String, Double> budgets, Map<String, List<Score>> scores) {
    Map<String, List<Double>> delays = new HashMap<>();
    List<Double> allDelays = new ArrayList<>();
    for (Result r : results) {
      for (Arrival a : r.arrivals()) {
        Score s = find(scores.get(r.requestId()), a.modelId());
        if (s != null) {
          double delay = a.atMs() - finishedMs(s);
          delays.computeIfAbsent(a.modelId(), k -> new ArrayList<>()).add(delay);
          allDelays.add(delay);
        }
      }
    }
    double fallback = median(allDelays);
    List<WhatIf.Recorded> out = new ArrayList<>(results.size());
    for (Result r : results) {
      List<Arrival> arrivals = new ArrayList<>(r.arrivals());
      Set<String> known = new HashSet<>();
      r.arrivals().forEach(a -> known.add(a.modelId()));
      int estimated = 0;
      for (Score s : scores.getOrDefault(r.requestId(), List.of())) {
        if (known.add(s.modelId())) {
          List<Double> d = delays.get(s.modelId());
          double delay = d == null ? fallback : median(d);
          double at = Math.max(finishedMs(s) + delay, r.elapsedMs());
          arrivals.add(new Arrival(s.modelId(), s.modelVersion(), s.role(), at, s.failed()));
          estimated++;
        }
      }
      out.add(new WhatIf.Recorded(r, budgets.get(r.requestId()), arrivals, estimated));
    }
    return out;
  }

  private static double finishedMs(Score s) {
    return (s.scoredAtUs() - s.receivedAtUs()) / 1000.0;
  }

  private static Score find(List<Score> scores, String modelId) {
    if (scores != null) {
      for (Score s : scores) {
        if (s.modelId().equals(modelId)) {
          return s;
        }
      }
    }
    return null;
  }

  private static double median(List<Double> values) {
    if (values.isEmpty()) {
      return 0;
    }
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(v);
    return v[v.length / 2];
  }

  /**
   * Reads every partition of a topic to its current end, from the first record at or after {@code fromUs}
   * (epoch microseconds) and, when {@code lastPerPartition} is positive, no earlier than that many records
   * before the end.
   */
  private static void readTopic(KafkaConsumer<String, byte[]> consumer, String topic, long fromUs,
      int lastPerPartition, Consumer<ConsumerRecord<String, byte[]>> sink) {
    List<TopicPartition> partitions = new ArrayList<>();
    for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
      partitions.add(new TopicPartition(topic, info.partition()));
    }
    consumer.assign(partitions);
    Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
    Map<TopicPartition, Long> start = new HashMap<>(begin);
    if (fromUs > 0) {
      Map<TopicPartition, Long> times = new HashMap<>();
      partitions.forEach(tp -> times.put(tp, fromUs / 1000));
      for (Map.Entry<TopicPartition, OffsetAndTimestamp> e : consumer.offsetsForTimes(times).entrySet()) {
        start.put(e.getKey(), e.getValue() == null ? end.get(e.getKey()) : e.getValue().offset());
      }
    }
    for (TopicPartition tp : partitions) {
      long from = start.get(tp);
      if (lastPerPartition > 0) {
        from = Math.max(from, end.get(tp) - lastPerPartition);
      }
      consumer.seek(tp, Math.max(from, begin.get(tp)));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out reading " + topic);
      }
      for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition())) && r.value() != null) {
          try {
            sink.accept(r);
          } catch (RuntimeException e) {
            // a record that is not of this topic's type: not traffic to replay
          }
        }
      }
    }
  }

  private static KafkaConsumer<String, byte[]> consumer(String bootstrapServers) {
    Map<String, Object> props = new HashMap<>(KafkaSettings.client(bootstrapServers));
    props.put("enable.auto.commit", "false");
    props.put("max.poll.records", "5000");
    props.put("max.partition.fetch.bytes", Integer.toString(8 << 20));
    return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
  }
}
