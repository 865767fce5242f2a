/**
 * Restore rate of a 1M-record changelog per engine: produce the changelog once, then restore it into
 * a fresh store several times per engine. Needs the local broker (`npm run --silent kafka:start`).
 * Keys are all distinct, so log compaction cannot shrink the changelog below the 1M records measured.
 * Run: npx tsx bench/state/restore-rate.ts [--records 1000000] [--runs 3] [--engines rocksdb,leveldb,memory]
 */
// First, as the runtime's entry points: kafkajs must load with the project's replacements.
import '../../runtime/kafka/kafkajs-replacements.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel } from 'kafkajs'
import { pino } from 'pino'
import { resolveBrokers } from '../../runtime/local-broker.js'
import type { Serde } from '../../schemas/serde.js'
import { ChangelogRestorer, createRecordCache, engines, ensureChangelogTopics, openKeyValueStore } from '../../state/index.js'
import type { StorageEngine } from '../../state/index.js'
import { fmt, median } from './stats.js'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}
const RECORDS = arg('records', 1_000_000)
const RUNS = arg('runs', 3)
const onlyAt = process.argv.indexOf('--engines')
const ONLY = onlyAt === -1 ? undefined : process.argv[onlyAt + 1]?.split(',')

const brokers = resolveBrokers()
if (!brokers) throw new Error('no broker: run `npm run --silent kafka:start` first, or set KAFKA_BROKERS')
const kafka = new Kafka({ clientId: 'state-restore-bench', brokers, logLevel: logLevel.NOTHING })
const applicationId = `restore-bench-${randomBytes(3).toString('hex')}`
const topic = `${applicationId}-counts-changelog`
const raw: Serde<Buffer> = { name: 'bytes', serialize: (b) => b, deserialize: (b) => b }

const admin = kafka.admin()
await admin.connect()
const dir = await mkdtemp(join(tmpdir(), 'restore-bench-'))
try {
  await ensureChangelogTopics(admin, [{ topic, store: 'counts', partitions: 1 }])
  const producer = kafka.producer()
  await producer.connect()
  let t = Date.now()
  const value = Buffer.alloc(64, 1)
  const CHUNK = 5_000
  for (let i = 0; i < RECORDS; i += CHUNK) {
    const messages = []
    for (let j = i; j < Math.min(RECORDS, i + CHUNK); j++) messages.push({ key: Buffer.from(`key-${j}`.padEnd(16, '.')), value, partition: 0 })
    await producer.send({ topic, messages })
  }
  await producer.disconnect()
  console.error(`produced ${fmt(RECORDS)} changelog records in ${((Date.now() - t) / 1000).toFixed(1)} s`)

  const restorer = new ChangelogRestorer({ kafka, applicationId, logger: pino({ level: 'silent' }) })
  const rows: string[] = []
  for (const [name, make] of [
    ['rocksdb', () => engines.rocksdb()],
    ['leveldb', engines.leveldb],
    ['memory', engines.memory],
  ] as [string, () => StorageEngine][]) {
    if (ONLY && !ONLY.includes(name)) continue
    const rates: number[] = []
    for (let run = 0; run < RUNS; run++) {
      const store = await openKeyValueStore(
        { name: 'counts', keySerde: raw, valueSerde: raw, logged: false },
        { applicationId, taskId: `${name}-${run}`, stateDir: dir, engine: make(), cache: createRecordCache(1 << 20) },
      )
      // logged: false keeps the store from needing a sink; the restore target names the topic.
      t = Date.now()
      const [result] = await restorer.restore([{ store, partition: 0, topic }])
      const seconds = (Date.now() - t) / 1000
      if (result?.restored !== RECORDS) throw new Error(`restored ${result?.restored} of ${RECORDS}`)
      const count = await store.approximateCount()
      await store.close()
      rates.push(RECORDS / seconds)
      console.error(`${name} run ${run + 1}: ${fmt(RECORDS / seconds)} records/s (${seconds.toFixed(1)} s, ~${fmt(count)} keys)`)
    }
    rows.push(`| ${name} | ${fmt(median(rates))} | ${rates.map(fmt).join(', ')} |`)
  }
  console.log(`| engine | restore records/s (median of ${RUNS}, ${fmt(RECORDS)} records, 16 B keys, 64 B values) | runs |`)
  console.log('|---|---:|---|')
  for (const row of rows) console.log(row)
} finally {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
  await admin.disconnect()
  await rm(dir, { recursive: true, force: true })
}
