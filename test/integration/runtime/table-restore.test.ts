/**
 * A table's store restores from its source topic (the topic is its changelog): an instance that
 * takes over with an empty state directory, after the table's records were consumed and committed
 * by another, still finds them.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { Serdes } from '../../../schemas/index.js'
import { StreamsBuilder, type Topology } from '../../../topology/index.js'
import { createTopicsAndWait, kafkaBrokers, readTextValues, testKafka, uniqueTopic } from '../../kafka.js'

function enrich(topics: { tiers: string; calls: string; out: string }): Topology {
  const b = new StreamsBuilder()
  const tiers = b.table(topics.tiers, { key: Serdes.string(), value: Serdes.string(), name: 'tiers' })
  b.stream(topics.calls, { key: Serdes.string(), value: Serdes.string() })
    .leftJoin(tiers, (call, tier) => `${call}:${tier ?? 'unknown'}`)
    .to(topics.out, { key: Serdes.string(), value: Serdes.string() })
  return b.build()
}

for (const processingGuarantee of ['at-least-once', 'exactly-once'] as const) {
  test(`${processingGuarantee}: a fresh instance restores a table from its source topic before joining`, { timeout: 180_000 }, async () => {
    const kafka = testKafka()
    const admin = kafka.admin()
    await admin.connect()
    const topics = { tiers: uniqueTopic('tiers'), calls: uniqueTopic('calls'), out: uniqueTopic('enriched') }
    await createTopicsAndWait(admin, Object.values(topics).map((topic) => ({ topic, numPartitions: 2 })))
    await admin.disconnect()
    const applicationId = uniqueTopic('table-restore')
    const producer = kafka.producer()
    await producer.connect()
    const dirs: string[] = []
    const start = async (): Promise<SentinelStreams> => {
      const dir = mkdtempSync(join(tmpdir(), 'table-restore-'))
      dirs.push(dir)
      const streams = new SentinelStreams(enrich(topics), { applicationId, brokers: kafkaBrokers(), stateDir: dir, commitIntervalMs: 200, processingGuarantee }, { logger: false })
      await streams.start()
      await streams.waitForState('running')
      return streams
    }
    try {
      const first = await start()
      await producer.send({ topic: topics.tiers, messages: [{ key: 'acme', value: 'gold' }, { key: 'globex', value: 'silver' }] })
      // The table and the stream are separate topics with no order between them: probe until the
      // first instance has the tiers (and has committed them), then stop it.
      for (let probe = 1; ; probe++) {
        await producer.send({ topic: topics.calls, messages: [{ key: 'acme', value: `p${probe}` }, { key: 'globex', value: `p${probe}` }] })
        const seen = await readTextValues(topics.out, 2 * probe)
        if (seen.includes(`p${probe}:gold`) && seen.includes(`p${probe}:silver`)) break
        assert.ok(probe < 30, `the first instance never joined the tiers: ${seen.join(', ')}`)
        await new Promise((r) => setTimeout(r, 500))
      }
      await first.close()

      // A new instance, new state directory: the tiers were consumed and committed by the first.
      const second = await start()
      try {
        const before = (await readTextValues(topics.out, 2)).length
        await producer.send({ topic: topics.calls, messages: [{ key: 'globex', value: 'c2' }, { key: 'acme', value: 'c3' }] })
        const after = (await readTextValues(topics.out, before + 2)).filter((v) => v.startsWith('c'))
        assert.deepEqual(after.sort(), ['c2:silver', 'c3:gold'], 'the tiers came back from the table topic, not from reprocessing it')
      } finally {
        await second.close()
      }
    } finally {
      await producer.disconnect()
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    }
  })
}
