/**
 * Driver-based micro-benchmark: records/s through the TopologyTestDriver (same tasks, processors,
 * serdes and stores as production; in-memory engine; no broker).
 *
 *   npx tsx bench/driver/driver-bench.ts [--records 200000] [--runs 5] [--batch 1000]
 *
 * Inputs are serialized up front and piped as raw batches of `--batch` records (one consumer poll
 * each), so the figure is the task's processing: decode, prefetch, operators, encode, output.
 */
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { type RawInput, TopologyTestDriver } from '../../runtime/test-driver.js'
import type { Topology } from '../../topology/index.js'
import { reportMedians, statelessChain, telemetryEvents, windowedCount, workloadOptions } from './telemetry-workload.js'

const { values } = parseArgs({ options: workloadOptions })
const RECORDS = Number(values.records)
const RUNS = Number(values.runs)
const BATCH = Number(values.batch)
const KEYS = Number(values.keys)

async function once(topology: Topology, records: readonly RawInput[]): Promise<number> {
  const driver = await TopologyTestDriver.create(topology, { applicationId: 'bench' })
  const start = performance.now()
  for (let i = 0; i < records.length; i += BATCH) await driver.pipeRaw('telemetry', records.slice(i, i + BATCH))
  const seconds = (performance.now() - start) / 1000
  await driver.close()
  return records.length / seconds
}

const records: RawInput[] = telemetryEvents(RECORDS, KEYS)
console.log(`records=${RECORDS} runs=${RUNS} batch=${BATCH} keys=${KEYS} node=${process.version}`)
await reportMedians(
  [
    ['stateless chain (filter, mapValues, filter, mapValues, to)', statelessChain],
    ['windowed count (tumbling 1 min, grace 5 s, logged store)', windowedCount],
  ],
  records,
  RUNS,
  once,
)
