/**
 * The fault suite's topology: three outputs whose correctness a reader can check from the input
 * alone. An echo (every input record once: loss and duplicates), running totals per key (a table
 * whose final value is the sum of the inputs: double counting), and per-key counts in tumbling event-time
 * windows, suppressed to one final result per window (exactly one emission per closed window).
 * Topic names come from the environment, as the CLI runs it in separate processes.
 */
import { Serdes } from '../../schemas/index.js'
import { StreamsBuilder, Suppressed, TimestampExtractors, TimeWindows } from '../../topology/index.js'

export interface ChaosRecord {
  key: string
  seq: number
  /** Event time, epoch ms: a virtual clock the load advances by seq, so windows close under any load. */
  ts: number
  amount: number
}

export interface ChaosTotal {
  count: number
  sum: number
}

export const CHAOS_WINDOW_MS = 5_000
export const CHAOS_GRACE_MS = 1_000

export default () => {
  const env = (name: string): string => {
    const value = process.env[name]
    if (!value) throw new Error(`${name} is not set: test/chaos/run.ts sets it for each instance`)
    return value
  }
  const builder = new StreamsBuilder()
  const input = builder.stream(env('CHAOS_INPUT'), { key: Serdes.string(), value: Serdes.json<ChaosRecord>(), timestamp: TimestampExtractors.epochMillisField<ChaosRecord>('ts') })
  input.mapValues((r) => String(r.seq)).to(env('CHAOS_ECHO'), { key: Serdes.string(), value: Serdes.string() })
  input
    .groupByKey()
    .aggregate<ChaosTotal>(() => ({ count: 0, sum: 0 }), (_key, r, total) => ({ count: total.count + 1, sum: total.sum + r.amount }), {
      name: 'chaos-totals',
      value: Serdes.json<ChaosTotal>(),
    })
    .toStream()
    .to(env('CHAOS_TOTALS'), { key: Serdes.string(), value: Serdes.json<ChaosTotal>() })
  input
    .groupByKey()
    .windowedBy(TimeWindows.tumbling(CHAOS_WINDOW_MS, { graceMs: CHAOS_GRACE_MS }))
    .count({ name: 'chaos-windows' })
    .suppress(Suppressed.untilWindowCloses({ name: 'chaos-windows-suppress' }))
    .toStream()
    .map((windowed, count): [string, string] => [`${windowed.key}@${windowed.window.start}`, String(count)])
    .to(env('CHAOS_WINDOWS'), { key: Serdes.string(), value: Serdes.string() })
  return builder.build()
}
