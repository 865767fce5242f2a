/**
 * Workload (b) of the peers bench: the shape of LLM-Sentinel's detection (z-score windows, a
 * consecutive counter, session profiles) on TelemetryEvent JSON, written in DSL primitives that
 * Kafka Streams runs identically (bench/peers/java/.../DetectionTopology.java), so that the final
 * results can be compared key by key. It is not the app's own operators: those have no Java twin.
 *
 * Input key: the user. Results, all to one topic:
 *  - `s:<user>@<start>-<end>` -> `<requests>:<tokens>`: a user's session (10 s inactivity gap), final;
 *  - `c:<user>` -> `<streaks>:<failures>:<lastStreakTime>`: how many times a user's consecutive
 *    failed calls reached 3, the current run of failures, and when the last streak reached 3;
 *  - `z:<model>` -> `<windows>:<lastStart>:<lastZ>:<mean>:<m2>`: the z-score of a model's latest
 *    closed 10 s mean latency against its earlier windows (Welford), final windows only, through two
 *    repartitions (user -> model, windowed -> model).
 * Every value carries its history, so the final value per key is the same whatever the record cache
 * folded between commits: both sides run with their default caches.
 */
import type { Admin, Producer } from 'kafkajs'
import { Serdes } from '../../schemas/index.js'
import { SessionWindows, StreamsBuilder, Suppressed, TimestampExtractors, TimeWindows, type Topology } from '../../topology/index.js'
import { UNLIMITED_RETENTION } from '../runtime/input.js'

export interface TelemetryEvent {
  user: string
  model: string
  application: string
  status: number
  latency_ms: number
  total_tokens: number
  timestamp: string
}

const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet', 'llama-3-70b', 'mistral-large', 'gemini-1.5-pro', 'qwen-2-72b', 'phi-3']
const USERS = 200
/** Each user sends a burst of this many calls (1 ms apart), then is idle while the others send. */
const BURST = 500

export function telemetryEvent(i: number, start: number, partitions: number): { key: string; value: string; timestamp: string; partition: number } {
  const userIndex = Math.floor(i / BURST) % USERS
  const spread = Math.imul(i, 2654435761) >>> 0
  const event: TelemetryEvent = {
    user: `user-${userIndex}`,
    model: MODELS[i % MODELS.length]!,
    application: `app-${i % 13}`,
    status: spread % 10 === 0 ? 500 : 200,
    latency_ms: 200 + ((i * 7919) % 800),
    total_tokens: 100 + ((i * 104729) % 2000),
    timestamp: new Date(start + i).toISOString(),
  }
  return { key: event.user, value: JSON.stringify(event), timestamp: String(start + i), partition: userIndex % partitions }
}

/** Creates `topic` (retention off) and fills it with `count` telemetry events keyed by user. */
export async function fillTelemetryTopic(admin: Admin, producer: Producer, topic: string, count: number, partitions: number): Promise<void> {
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, configEntries: UNLIMITED_RETENTION }] })
  const start = Date.parse('2026-01-01T00:00:00Z')
  for (let i = 0; i < count; i += 1_000) {
    await producer.send({ topic, messages: Array.from({ length: Math.min(1_000, count - i) }, (_, j) => telemetryEvent(i + j, start, partitions)) })
  }
}

interface Counts {
  requests: number
  tokens: number
}
interface Streak {
  failures: number
  streaks: number
  lastStreakTime: number
}
interface LatencySum {
  requests: number
  latencySum: number
}
interface WindowMean {
  start: number
  mean: number
}
/** Welford's running mean and squared deviations of a model's window means; z of the latest one. */
interface MeanHistory {
  n: number
  mean: number
  m2: number
  lastStart: number
  lastZ: number
}

export function detectionTopology(input: string, output: string): Topology {
  const builder = new StreamsBuilder()
  const json = <T>() => Serdes.json<T>()
  const events = builder.stream(input, { key: Serdes.string(), value: json<TelemetryEvent>(), timestamp: TimestampExtractors.isoField<TelemetryEvent>('timestamp') })
  const byUser = events.groupByKey()
  const out = { key: Serdes.string(), value: Serdes.string() }

  byUser
    .windowedBy(SessionWindows.withGap(10_000, { graceMs: 0 }))
    .aggregate<Counts>(
      () => ({ requests: 0, tokens: 0 }),
      (_user, e, agg) => ({ requests: agg.requests + 1, tokens: agg.tokens + e.total_tokens }),
      (_user, a, b) => ({ requests: a.requests + b.requests, tokens: a.tokens + b.tokens }),
      { name: 'session-profiles', value: json<Counts>() },
    )
    .suppress(Suppressed.untilWindowCloses({ name: 'session-profiles-final' }))
    .toStream()
    .map((w, agg): [string, string] => [`s:${w.key}@${w.window.start}-${w.window.end}`, `${agg.requests}:${agg.tokens}`])
    .to(output, out)

  byUser
    .aggregate<Streak>(
      () => ({ failures: 0, streaks: 0, lastStreakTime: 0 }),
      (_user, e, agg) => {
        const failures = e.status >= 500 ? agg.failures + 1 : 0
        return failures === 3 ? { failures, streaks: agg.streaks + 1, lastStreakTime: Date.parse(e.timestamp) } : { ...agg, failures }
      },
      { name: 'error-streaks', value: json<Streak>() },
    )
    .toStream()
    .filter((_user, streak) => streak.streaks > 0)
    .map((user, s): [string, string] => [`c:${user}`, `${s.streaks}:${s.failures}:${s.lastStreakTime}`])
    .to(output, out)

  events
    .selectKey((_user, e) => e.model)
    .groupByKey({ key: Serdes.string(), value: json<TelemetryEvent>() })
    .windowedBy(TimeWindows.tumbling(10_000, { graceMs: 60_000 }))
    .aggregate<LatencySum>(
      () => ({ requests: 0, latencySum: 0 }),
      (_model, e, agg) => ({ requests: agg.requests + 1, latencySum: agg.latencySum + e.latency_ms }),
      { name: 'latency-windows', value: json<LatencySum>() },
    )
    .suppress(Suppressed.untilWindowCloses({ name: 'latency-windows-final' }))
    .toStream()
    .map((w, agg): [string, WindowMean] => [w.key, { start: w.window.start, mean: agg.latencySum / agg.requests }])
    .groupByKey({ key: Serdes.string(), value: json<WindowMean>() })
    .aggregate<MeanHistory>(
      () => ({ n: 0, mean: 0, m2: 0, lastStart: 0, lastZ: 0 }),
      (_model, w, h) => {
        const sd = h.n >= 2 ? Math.sqrt(h.m2 / (h.n - 1)) : 0
        const z = sd > 0 ? (w.mean - h.mean) / sd : 0
        const n = h.n + 1
        const delta = w.mean - h.mean
        const mean = h.mean + delta / n
        return { n, mean, m2: h.m2 + delta * (w.mean - mean), lastStart: w.start, lastZ: z }
      },
      { name: 'latency-history', value: json<MeanHistory>() },
    )
    .toStream()
    .filter((_model, h) => h.n >= 3)
    .map((model, h): [string, string] => [`z:${model}`, `${h.n}:${h.lastStart}:${h.lastZ}:${h.mean}:${h.m2}`])
    .to(output, out)

  return builder.build()
}
