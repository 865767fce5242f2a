/**
 * Input and output helpers for the runtime tests, matched to examples/tenant-request-counts.ts:
 * LLM request events keyed by tenant, counted per tenant per one-minute window.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Admin, Kafka } from 'kafkajs'
import { createTopicsAndWait, uniqueTopic } from '../../kafka.js'

export const WINDOW_MS = 60_000
const START = Date.parse('2026-03-01T00:00:00Z')

/** Final counts per `tenant@windowStart`, as the topology's output keys them. */
export type Counts = Map<string, number>

/**
 * Produces events `from` .. `from + count - 1` (event i: tenant i mod `tenants`, one second apart)
 * and adds what they contribute to `expected`.
 */
export async function produceRequests(kafka: Kafka, topic: string, from: number, count: number, tenants: number, expected: Counts = new Map()): Promise<Counts> {
  // Idempotent: a plain producer that retries a request the broker already appended (a timeout or a
  // dropped connection on a loaded machine) writes that partition's records twice. The copies of
  // closed windows are then dropped as late and only the last, open window counts them: the CI flake
  // of windowed-count.test.ts (18 where 9 were expected; an input partition of 340 records for 170).
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const messages = Array.from({ length: count }, (_, j) => {
    const i = from + j
    const tenant = `tenant-${i % tenants}`
    const at = START + i * 1000
    const key = `${tenant}@${new Date(at - (at % WINDOW_MS)).toISOString()}`
    expected.set(key, (expected.get(key) ?? 0) + 1)
    return { key: tenant, value: JSON.stringify({ tenant_id: tenant, timestamp: new Date(at).toISOString() }) }
  })
  await producer.send({ topic, messages })
  await producer.disconnect()
  return expected
}

/** Every output record (key → all values in order), read until `done(latest, all)` holds or the time is up. */
export async function readCounts(
  kafka: Kafka,
  topic: string,
  done: (latest: Counts, all: ReadonlyMap<string, number[]>) => boolean,
  options: { timeoutMs?: number; readUncommitted?: boolean } = {},
): Promise<{ latest: Counts; all: Map<string, number[]> }> {
  const latest: Counts = new Map()
  const all = new Map<string, number[]>()
  const consumer = kafka.consumer({ groupId: uniqueTopic('reader'), readUncommitted: options.readUncommitted ?? false })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      const key = String(message.key)
      const value = Number(String(message.value))
      latest.set(key, value)
      all.set(key, [...(all.get(key) ?? []), value])
    },
  })
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  while (!done(latest, all) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
  await consumer.disconnect()
  return { latest, all }
}

export const sameCounts = (expected: Counts) => (latest: Counts): boolean =>
  expected.size === latest.size && [...expected].every(([k, v]) => latest.get(k) === v)

export const sorted = (counts: Counts): Counts => new Map([...counts].sort(([a], [b]) => a.localeCompare(b)))

/** An input and an output topic with `partitions` partitions each, new for this test. */
export async function createTopicPair(admin: Admin, partitions: number): Promise<{ input: string; output: string }> {
  const input = uniqueTopic('requests')
  const output = uniqueTopic('counts')
  await createTopicsAndWait(admin, [{ topic: input, numPartitions: partitions }, { topic: output, numPartitions: partitions }])
  return { input, output }
}

/** Temporary state directories, removed together at the end of a test file. */
export class TempStateDirs {
  private readonly dirs: string[] = []

  create(): string {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-it-state-'))
    this.dirs.push(dir)
    return dir
  }

  removeAll(): void {
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  }
}
