/**
 * Interactive queries of StandaloneStreams run between the processing loop's batches and commits,
 * never inside one: a batch is paused mid-way (a sink whose serde waits for a schema look-up that
 * the test controls, as a registry serde does) and reads issued meanwhile must wait for the batch.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { StandaloneStreams } from '../../../../runtime/standalone/standalone-streams.js'
import { Serdes, type Serde } from '../../../../schemas/index.js'
import { UnpreparedTopicError } from '../../../../schemas/registry/errors.js'
import { StreamsBuilder, type Topology } from '../../../../topology/index.js'

const dirs: string[] = []
const apps: StandaloneStreams[] = []
after(async () => {
  await Promise.all(apps.map((a) => a.close()))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/**
 * A string serde whose serialize of `pauseAt` first fails as "schema not ready": the task then
 * awaits the look-up, `paused` resolves, and the batch stays stopped until `resume()`.
 */
class PausingSerde implements Serde<string> {
  readonly name = 'pausing-string'
  private resumeBatch!: () => void
  private readonly resumed = new Promise<void>((resolve) => (this.resumeBatch = resolve))
  private signalPaused!: () => void
  readonly paused = new Promise<void>((resolve) => (this.signalPaused = resolve))
  private pausedOnce = false

  constructor(private readonly pauseAt: string) {}

  serialize(value: string, topic?: string): Buffer {
    if (value === this.pauseAt && !this.pausedOnce) {
      this.pausedOnce = true
      throw new UnpreparedTopicError(this.name, topic, () => {
        this.signalPaused()
        return this.resumed
      })
    }
    return Buffer.from(value)
  }

  deserialize(data: Buffer): string {
    return data.toString()
  }

  resume(): void {
    this.resumeBatch()
  }
}

/** Counts per key into store 'counts-store', every update forwarded at once to 'out' through `outSerde`. */
function countsTopology(outSerde: Serde<string>): Topology {
  const b = new StreamsBuilder()
  b.stream('in', { key: Serdes.string(), value: Serdes.string() })
    .groupByKey()
    .count({ name: 'counts' })
    .toStream()
    .mapValues((n) => `count=${n}`)
    .to('out', { key: Serdes.string(), value: outSerde })
  return b.build()
}

/** Whether `promise` has settled after the event loop has had many turns (timers and I/O included). */
async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  promise.then(
    () => (settled = true),
    () => (settled = true),
  )
  for (let i = 0; i < 20 && !settled; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  return settled
}

async function startedApp(serde: PausingSerde, storeEngine: 'memory' | 'rocksdb'): Promise<StandaloneStreams> {
  const stateDir = mkdtempSync(join(tmpdir(), 'standalone-iq-'))
  dirs.push(stateDir)
  const app = new StandaloneStreams(countsTopology(serde), { applicationId: 'iq-gate', stateDir, storeEngine, forwardingCacheMaxEntries: 0, commitIntervalMs: 100 }, { logger: false })
  apps.push(app)
  await app.start()
  return app
}

describe('StandaloneStreams interactive queries run between batches', () => {
  for (const engine of ['memory', 'rocksdb'] as const) {
    test(`${engine}: a read issued mid-batch resolves after the batch, with the whole batch applied`, async () => {
      const serde = new PausingSerde('count=3')
      const app = await startedApp(serde, engine)
      const counts = app.keyValueStore<string, number>('counts-store')
      // One batch: ten records of 'a' around two of 'b'; it pauses at the third update of 'a'.
      const keys = ['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a', 'a', 'a', 'a', 'a']
      await app.send(
        'in',
        keys.map((key) => ({ key, value: 'x' })),
      )
      await serde.paused

      const point = app.keyValueStore<string, number>('counts-store').get('a')
      const scan = (async () => {
        const rows: [string, number][] = []
        for await (const row of counts.all()) rows.push(row)
        return rows
      })()
      const total = counts.approximateCount()
      assert.equal(await settledSoon(point), false, 'a point read must not run inside the paused batch')
      assert.equal(await settledSoon(scan), false, 'a scan must not run inside the paused batch')
      assert.equal(await settledSoon(total), false, 'a count must not run inside the paused batch')

      serde.resume()
      assert.equal(await point, 10)
      assert.deepEqual(await scan, [
        ['a', 10],
        ['b', 2],
      ])
      assert.equal(await total, 2)
      await app.idle(5_000)
      const out = app.log.read('out', 0, 0, 100).map((r) => r.value?.toString())
      assert.deepEqual(out.slice(-1), ['count=10'], 'the paused record was sent after the look-up, and the batch went on')
    })
  }

  test('a read issued while the loop is idle is answered without waiting for input', async () => {
    const serde = new PausingSerde('never')
    const app = await startedApp(serde, 'memory')
    await app.send('in', [{ key: 'k', value: 'x' }])
    await app.idle(5_000)
    assert.equal(await app.keyValueStore<string, number>('counts-store').get('k'), 1)
    assert.equal(await app.keyValueStore<string, number>('counts-store').get('missing'), undefined)
  })

  test('reads fail with StoreNotQueryableError once the application closes', async () => {
    const serde = new PausingSerde('never')
    const app = await startedApp(serde, 'memory')
    const counts = app.keyValueStore<string, number>('counts-store')
    await app.close()
    await assert.rejects(counts.get('k'), { name: 'StoreNotQueryableError', message: /not while the application is 'not-running'/ })
  })
})
