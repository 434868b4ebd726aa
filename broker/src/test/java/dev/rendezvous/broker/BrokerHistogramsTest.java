package dev.rendezvous.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.yammer.metrics.core.Histogram;
import com.yammer.metrics.core.MetricName;
import com.yammer.metrics.stats.UniformSample;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.server.metrics.KafkaYammerMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A started broker's histograms are on uniform reservoirs and still count every request. */
class BrokerHistogramsTest {

  @TempDir Path dir;

  @Test
  void every_histogram_of_a_started_broker_is_uniform_and_its_request_times_still_count() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0)) {
      Map<MetricName, Histogram> histograms = histograms();
      assertThat(histograms).isNotEmpty();
      assertThat(histograms.keySet()).anyMatch(n -> n.getMBeanName().contains("RequestMetrics")
          && n.getMBeanName().contains("name=TotalTimeMs") && n.getMBeanName().contains("request=Produce"));
      for (Map.Entry<MetricName, Histogram> e : histograms.entrySet()) {
        assertThat(reservoir(e.getValue())).as(e.getKey().getMBeanName()).isInstanceOf(UniformSample.class);
      }
      // Nothing left to change.
      assertThat(BrokerHistograms.makeUniform()).isZero();

      Histogram produceTotal = histograms.entrySet().stream()
          .filter(e -> e.getKey().getMBeanName().equals(
              "kafka.network:type=RequestMetrics,name=TotalTimeMs,request=Produce"))
          .map(Map.Entry::getValue).findFirst().orElseThrow();
      long before = produceTotal.count();
      Properties p = new Properties();
      p.put("bootstrap.servers", kafka.bootstrapServers());
      try (Admin admin = Admin.create(p)) {
        admin.createTopics(java.util.List.of(new NewTopic("histograms", 1, (short) 1))).all().get();
      }
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
        for (int i = 0; i < 5; i++) {
          producer.send(new ProducerRecord<>("histograms", "k" + i, "v")).get();
        }
      }
      // The broker records a request's times once its response has gone out, which may be after the producer
      // has read it: wait (boundedly) for the last one to be counted.
      await().atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(produceTotal.count()).isGreaterThanOrEqualTo(before + 5));
      assertThat(produceTotal.getSnapshot().size()).isPositive();
      assertThat(produceTotal.max()).isGreaterThanOrEqualTo(0);
    }
  }

  private static Map<MetricName, Histogram> histograms() {
    return KafkaYammerMetrics.defaultRegistry().allMetrics().entrySet().stream()
        .filter(e -> e.getValue() instanceof Histogram)
        .collect(Collectors.toMap(Map.Entry::getKey, e -> (Histogram) e.getValue()));
  }

  private static Object reservoir(Histogram h) throws ReflectiveOperationException {
    Field sample = Histogram.class.getDeclaredField("sample");
    sample.setAccessible(true);
    return sample.get(h);
  }
}
