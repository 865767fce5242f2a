package sentinel.peers;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The JVM client's ceiling: a plain consumer that JSON-parses every value, no state, no output.
 * The clock starts at the partition assignment, as the kafkajs consumer's starts at its group join.
 */
final class RawConsumerPeer {
  private static final ObjectMapper JSON = new ObjectMapper();

  static double run(Map<String, String> options, int pass) throws Exception {
    long events = Long.parseLong(PeerMain.required(options, "events"));
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, PeerMain.required(options, "brokers"));
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "peer-raw-" + UUID.randomUUID().toString().substring(0, 8) + "-" + pass);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
    long[] began = {0};
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(PeerMain.required(options, "input")), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          if (began[0] == 0) began[0] = System.nanoTime();
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}
      });
      long seen = 0;
      while (seen < events) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
        for (ConsumerRecord<byte[], byte[]> record : records) {
          if (record.value() != null) JSON.readTree(record.value());
        }
        seen += records.count();
      }
      return events / ((System.nanoTime() - began[0]) / 1e9);
    }
  }

  private RawConsumerPeer() {}
}
