package sentinel.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.HashMap;
import java.util.List;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.TimestampExtractor;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.common.utils.Bytes;

/**
 * The bench's workloads on Apache Kafka Streams. Workload (a): per model and minute (tumbling, 5 s
 * grace) the request count and latency sum, written as "model@windowStart" -> mean latency, the same
 * topology as bench/runtime/windowed-aggregate.ts. Workload (b): DetectionTopology. Outputs are
 * compared by the bench.
 */
final class KafkaStreamsPeer {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The event time is the event's own ISO timestamp, as the project's TimestampExtractors.isoField. */
  static final class IsoFieldTimestamp implements TimestampExtractor {
    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
      JsonNode event = (JsonNode) record.value();
      return Instant.parse(event.get("timestamp").asText()).toEpochMilli();
    }
  }

  /** Count and latency sum in 16 bytes: no JSON on the state path, as the peer's best case. */
  static final class LatencyAggregate {
    long requests;
    double latencySum;
  }

  static Serde<LatencyAggregate> aggregateSerde() {
    return Serdes.serdeFrom(
        (topic, agg) -> ByteBuffer.allocate(16).putLong(agg.requests).putDouble(agg.latencySum).array(),
        (topic, bytes) -> {
          ByteBuffer buffer = ByteBuffer.wrap(bytes);
          LatencyAggregate agg = new LatencyAggregate();
          agg.requests = buffer.getLong();
          agg.latencySum = buffer.getDouble();
          return agg;
        });
  }

  static void windowedAggregate(StreamsBuilder builder, String input, String output, AtomicLong consumed) {
    builder.stream(input, Consumed.with(Serdes.String(), jsonSerde()).withTimestampExtractor(new IsoFieldTimestamp()))
        .peek((key, value) -> consumed.incrementAndGet())
        .groupByKey(Grouped.with(Serdes.String(), jsonSerde()))
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(1), Duration.ofSeconds(5)))
        .aggregate(LatencyAggregate::new, (model, event, agg) -> {
              agg.requests += 1;
              agg.latencySum += event.get("latency_ms").asDouble();
              return agg;
            },
            Materialized.<String, LatencyAggregate, WindowStore<Bytes, byte[]>>as("latency-per-model")
                .withKeySerde(Serdes.String()).withValueSerde(aggregateSerde()))
        .toStream()
        .map((windowed, agg) -> KeyValue.pair(windowed.key() + "@" + windowed.window().start(), String.valueOf(agg.latencySum / agg.requests)))
        .to(output, Produced.with(Serdes.String(), Serdes.String()));
  }

  static Serde<JsonNode> jsonSerde() {
    return Serdes.serdeFrom(
        (topic, node) -> {
          try {
            return JSON.writeValueAsBytes(node);
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        },
        (topic, bytes) -> {
          try {
            return JSON.readTree(bytes);
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
  }

  static double run(Map<String, String> options, int pass) throws Exception {
    long events = Long.parseLong(PeerMain.required(options, "events"));
    AtomicLong consumed = new AtomicLong();
    StreamsBuilder builder = new StreamsBuilder();
    String input = PeerMain.required(options, "input");
    String output = PeerMain.required(options, "output");
    boolean detection = options.getOrDefault("workload", "a").equals("b");
    if (detection) DetectionTopology.build(builder, input, output, consumed);
    else windowedAggregate(builder, input, output, consumed);

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "peer-kstreams-" + UUID.randomUUID().toString().substring(0, 8) + "-" + pass);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, PeerMain.required(options, "brokers"));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, options.getOrDefault("threads", "1"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, options.getOrDefault("guarantee", StreamsConfig.AT_LEAST_ONCE));
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, options.getOrDefault("commitMs", "1000"));
    props.put(StreamsConfig.STATE_DIR_CONFIG, PeerMain.required(options, "stateDir") + "/pass-" + pass);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    CountDownLatch running = new CountDownLatch(1);
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING) running.countDown();
    });
    streams.start();
    try {
      if (!running.await(120, TimeUnit.SECONDS)) throw new IllegalStateException("Kafka Streams not running after 120 s");
      long began = System.nanoTime();
      while (consumed.get() < events) Thread.sleep(20);
      double rate = events / ((System.nanoTime() - began) / 1e9);
      // Work still queued behind the input (repartition topics, the last commit) is written before
      // close, as on the project's side, so that the bench compares finished runs.
      untilQuiet(PeerMain.required(options, "brokers"), output);
      return rate;
    } finally {
      streams.close(Duration.ofSeconds(60));
    }
  }

  /** Waits until the topic's end offsets have not moved for 3 s (at most a minute). */
  static void untilQuiet(String brokers, String topic) throws Exception {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    try (Admin admin = Admin.create(props)) {
      Map<TopicPartition, OffsetSpec> request = new HashMap<>();
      for (var partition : admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()) {
        request.put(new TopicPartition(topic, partition.partition()), OffsetSpec.latest());
      }
      String last = "";
      long since = System.nanoTime();
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (System.nanoTime() - since < 3_000_000_000L && System.nanoTime() < deadline) {
        Map<Integer, Long> ends = new TreeMap<>();
        admin.listOffsets(request).all().get().forEach((tp, info) -> ends.put(tp.partition(), info.offset()));
        if (!ends.toString().equals(last)) {
          last = ends.toString();
          since = System.nanoTime();
        }
        Thread.sleep(250);
      }
    }
  }

  private KafkaStreamsPeer() {}
}
