/**
 * The task executor alone (no driver, no broker): records/s of `StreamTask.process` over raw batches,
 * with a collector that drops output, and `flush()` (changelog + engine batch) every `--commit-every`
 * batches, as the runtime's commit interval would.
 *
 *   npx tsx bench/driver/task-bench.ts [--records 200000] [--runs 5] [--batch 1000] [--commit-every 10] [--engine memory|rocksdb]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { InMemoryRecordSink, RecordCollector, type SourceRecord, StreamTask } from '../../runtime/task/index.js'
import { engines } from '../../state/index.js'
import type { Topology } from '../../topology/index.js'
import { reportMedians, statelessChain, telemetryEvents, windowedCount, workloadOptions } from './telemetry-workload.js'

const { values } = parseArgs({
  options: {
    ...workloadOptions,
    'commit-every': { type: 'string', default: '10' },
    engine: { type: 'string', default: 'memory' },
  },
})
const RECORDS = Number(values.records)
const RUNS = Number(values.runs)
const BATCH = Number(values.batch)
const KEYS = Number(values.keys)
const COMMIT_EVERY = Number(values['commit-every'])
const ENGINE = values.engine === 'rocksdb' ? 'rocksdb' : 'memory'

function inputs(): SourceRecord[] {
  return telemetryEvents(RECORDS, KEYS).map((e, i) => ({
    topic: 'telemetry',
    partition: 0,
    offset: String(i),
    key: e.key,
    value: e.value,
    timestamp: e.timestamp,
    headers: {},
  }))
}

async function once(topology: Topology, records: readonly SourceRecord[]): Promise<number> {
  const stateDir = mkdtempSync(join(tmpdir(), 'task-bench-'))
  let produced = 0
  const task = new StreamTask({
    topology,
    plan: topology.plan('bench'),
    subtopology: 0,
    partition: 0,
    collector: new RecordCollector(new InMemoryRecordSink(() => void produced++)),
    state: { engine: ENGINE === 'rocksdb' ? engines.rocksdb() : engines.memory(), stateDir },
  })
  await task.start()
  const start = performance.now()
  let batches = 0
  for (let i = 0; i < records.length; i += BATCH) {
    await task.process(records.slice(i, i + BATCH))
    if (++batches % COMMIT_EVERY === 0) await task.flush()
  }
  await task.flush()
  const seconds = (performance.now() - start) / 1000
  await task.close()
  rmSync(stateDir, { recursive: true, force: true })
  if (produced === 0) throw new Error('the topology produced nothing: the benchmark is broken')
  return records.length / seconds
}

const records = inputs()
console.log(`records=${RECORDS} runs=${RUNS} batch=${BATCH} keys=${KEYS} commit-every=${COMMIT_EVERY} engine=${ENGINE} node=${process.version}`)
await reportMedians(
  [
    ['task: stateless chain', statelessChain],
    ['task: windowed count', windowedCount],
  ],
  records,
  RUNS,
  once,
)
