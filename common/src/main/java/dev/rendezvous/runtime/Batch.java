package dev.rendezvous.runtime;

import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * One poll's records, as handed to a {@link BatchHandler}, in the order Kafka returned them (offset order
 * within each partition). The same object is handed again when the batch is retried, so a record skipped as
 * poison is counted once however many times the batch is handled.
 */
public final class Batch<K, V> implements Iterable<ConsumerRecord<K, V>> {

  /** Where poison records are reported: counted and logged by the loop. */
  interface PoisonSink {
    void poison(ConsumerRecord<?, ?> record, Exception cause);
  }

  private final ConsumerRecords<K, V> records;
  private final PoisonSink sink;
  private final Set<TopicPartitionOffset> poisoned = new HashSet<>();

  private record TopicPartitionOffset(String topic, int partition, long offset) {}

  Batch(ConsumerRecords<K, V> records, PoisonSink sink) {
    this.records = records;
    this.sink = sink;
  }

  public int count() {
    return records.count();
  }

  public ConsumerRecords<K, V> records() {
    return records;
  }

  @Override
  public Iterator<ConsumerRecord<K, V>> iterator() {
    return records.iterator();
  }

  /**
   * Reports a record the handler cannot use (it does not decode, or it is not what the topic should hold):
   * the loop logs it with its topic, partition and offset and counts it in {@code rdv_consumer_poison_skipped}.
   * The handler goes on without it.
   */
  public void skipPoison(ConsumerRecord<K, V> record, Exception cause) {
    if (poisoned.add(new TopicPartitionOffset(record.topic(), record.partition(), record.offset()))) {
      sink.poison(record, cause);
    }
  }

  /**
   * Decodes a record's value, or reports it as poison ({@link #skipPoison}) and returns null when the
   * decoder throws.
   */
  public <T> T decode(ConsumerRecord<K, V> record, Function<? super V, T> decoder) {
    try {
      return decoder.apply(record.value());
    } catch (RuntimeException e) {
      skipPoison(record, e);
      return null;
    }
  }

  /** The offsets after this batch, per partition: what a commit of the whole batch writes. */
  Map<TopicPartition, OffsetAndMetadata> nextOffsets() {
    Map<TopicPartition, OffsetAndMetadata> out = new java.util.HashMap<>();
    for (TopicPartition tp : records.partitions()) {
      var list = records.records(tp);
      out.put(tp, new OffsetAndMetadata(list.get(list.size() - 1).offset() + 1));
    }
    return out;
  }

  /** {@code topic-partition@first..last} for each partition, for log lines. */
  String describe() {
    StringBuilder b = new StringBuilder();
    for (TopicPartition tp : records.partitions()) {
      var list = records.records(tp);
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append(tp).append('@').append(list.get(0).offset()).append("..").append(list.get(list.size() - 1).offset());
    }
    return b.toString();
  }
}
