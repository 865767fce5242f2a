package sentinel.peers;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Workload (b), the twin of bench/peers/detection-workload.ts: session profiles and error streaks
 * per user, and z-scores of each model's 10 s mean latency against its earlier windows (Welford),
 * through two repartitions. Every arithmetic step is the TypeScript side's, in the same order, so
 * that doubles come out bit for bit equal. Aggregates are small binary serdes (the JVM's best case).
 * Every result value carries its history, so the final value per key does not depend on what the
 * record cache folded: both sides run with their default caches.
 */
final class DetectionTopology {
  /** A serde of a fixed number of 8-byte fields, each a long or a double's bits. */
  private static <T> Serde<T> fields(int count, java.util.function.Function<T, long[]> write, java.util.function.Function<long[], T> read) {
    return Serdes.serdeFrom(
        (topic, value) -> {
          ByteBuffer buffer = ByteBuffer.allocate(8 * count);
          for (long field : write.apply(value)) buffer.putLong(field);
          return buffer.array();
        },
        (topic, bytes) -> {
          ByteBuffer buffer = ByteBuffer.wrap(bytes);
          long[] out = new long[count];
          for (int i = 0; i < count; i++) out[i] = buffer.getLong();
          return read.apply(out);
        });
  }

  private static long bits(double d) {
    return Double.doubleToRawLongBits(d);
  }

  private static double real(long l) {
    return Double.longBitsToDouble(l);
  }

  record Counts(long requests, long tokens) {}

  record Streak(long failures, long streaks, long lastStreakTime) {}

  record LatencySum(long requests, double latencySum) {}

  record WindowMean(long start, double mean) {}

  record MeanHistory(long n, double mean, double m2, long lastStart, double lastZ) {}

  static final Serde<Counts> COUNTS = fields(2, c -> new long[] {c.requests, c.tokens}, f -> new Counts(f[0], f[1]));
  static final Serde<Streak> STREAK = fields(3, s -> new long[] {s.failures, s.streaks, s.lastStreakTime}, f -> new Streak(f[0], f[1], f[2]));
  static final Serde<LatencySum> LATENCY_SUM = fields(2, l -> new long[] {l.requests, bits(l.latencySum)}, f -> new LatencySum(f[0], real(f[1])));
  static final Serde<WindowMean> WINDOW_MEAN = fields(2, w -> new long[] {w.start, bits(w.mean)}, f -> new WindowMean(f[0], real(f[1])));
  static final Serde<MeanHistory> MEAN_HISTORY = fields(5,
      h -> new long[] {h.n, bits(h.mean), bits(h.m2), h.lastStart, bits(h.lastZ)},
      f -> new MeanHistory(f[0], real(f[1]), real(f[2]), f[3], real(f[4])));

  static void build(StreamsBuilder builder, String input, String output, AtomicLong consumed) {
    Produced<String, String> out = Produced.with(Serdes.String(), Serdes.String());
    KStream<String, JsonNode> events = builder
        .stream(input, Consumed.with(Serdes.String(), KafkaStreamsPeer.jsonSerde()).withTimestampExtractor(new KafkaStreamsPeer.IsoFieldTimestamp()))
        .peek((key, value) -> consumed.incrementAndGet());
    KGroupedStream<String, JsonNode> byUser = events.groupByKey(Grouped.with(Serdes.String(), KafkaStreamsPeer.jsonSerde()));

    byUser
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofSeconds(10), Duration.ZERO))
        .aggregate(() -> new Counts(0, 0),
            (user, e, agg) -> new Counts(agg.requests + 1, agg.tokens + e.get("total_tokens").asLong()),
            (user, a, b) -> new Counts(a.requests + b.requests, a.tokens + b.tokens),
            Materialized.<String, Counts, SessionStore<Bytes, byte[]>>as("session-profiles").withKeySerde(Serdes.String()).withValueSerde(COUNTS))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()).withName("session-profiles-final"))
        .toStream()
        .map((w, agg) -> KeyValue.pair("s:" + w.key() + "@" + w.window().start() + "-" + w.window().end(), agg.requests + ":" + agg.tokens))
        .to(output, out);

    byUser
        .aggregate(() -> new Streak(0, 0, 0),
            (user, e, agg) -> {
              long failures = e.get("status").asInt() >= 500 ? agg.failures + 1 : 0;
              return failures == 3
                  ? new Streak(failures, agg.streaks + 1, Instant.parse(e.get("timestamp").asText()).toEpochMilli())
                  : new Streak(failures, agg.streaks, agg.lastStreakTime);
            },
            Materialized.<String, Streak, KeyValueStore<Bytes, byte[]>>as("error-streaks").withKeySerde(Serdes.String()).withValueSerde(STREAK))
        .toStream()
        .filter((user, streak) -> streak.streaks > 0)
        .map((user, s) -> KeyValue.pair("c:" + user, s.streaks + ":" + s.failures + ":" + s.lastStreakTime))
        .to(output, out);

    events
        .selectKey((user, e) -> e.get("model").asText())
        .groupByKey(Grouped.with(Serdes.String(), KafkaStreamsPeer.jsonSerde()))
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(10), Duration.ofSeconds(60)))
        .aggregate(() -> new LatencySum(0, 0),
            (model, e, agg) -> new LatencySum(agg.requests + 1, agg.latencySum + e.get("latency_ms").asDouble()),
            Materialized.<String, LatencySum, WindowStore<Bytes, byte[]>>as("latency-windows").withKeySerde(Serdes.String()).withValueSerde(LATENCY_SUM))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()).withName("latency-windows-final"))
        .toStream()
        .map((w, agg) -> KeyValue.pair(w.key(), new WindowMean(w.window().start(), agg.latencySum / agg.requests)))
        .groupByKey(Grouped.with(Serdes.String(), WINDOW_MEAN))
        .aggregate(() -> new MeanHistory(0, 0, 0, 0, 0),
            (model, w, h) -> {
              double sd = h.n >= 2 ? Math.sqrt(h.m2 / (h.n - 1)) : 0;
              double z = sd > 0 ? (w.mean - h.mean) / sd : 0;
              long n = h.n + 1;
              double delta = w.mean - h.mean;
              double mean = h.mean + delta / n;
              return new MeanHistory(n, mean, h.m2 + delta * (w.mean - mean), w.start, z);
            },
            Materialized.<String, MeanHistory, KeyValueStore<Bytes, byte[]>>as("latency-history").withKeySerde(Serdes.String()).withValueSerde(MEAN_HISTORY))
        .toStream()
        .filter((model, h) -> h.n >= 3)
        .map((model, h) -> KeyValue.pair("z:" + model, h.n + ":" + h.lastStart + ":" + h.lastZ + ":" + h.mean + ":" + h.m2))
        .to(output, out);
  }

  private DetectionTopology() {}
}
