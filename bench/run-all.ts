/**
 * `npm run bench`: every benchmark, one after another (they share two cores, so never in parallel),
 * each writing its RESULTS.md beside it. Benchmarks that need Kafka get the local broker, started
 * here if none is given and stopped afterwards. `npm run bench -- driver state` runs a subset.
 */
import { spawnSync } from 'node:child_process'
import { readLocalBroker } from '../runtime/local-broker.js'
import { startBroker, stopBroker } from '../scripts/kafka-broker.js'
import { isAlive } from '../scripts/launcher/process.js'

const BENCHES: { name: string; file: string; args?: string[]; kafka?: boolean }[] = [
  { name: 'driver', file: 'bench/driver/driver-bench.ts' },
  { name: 'task', file: 'bench/driver/task-bench.ts' },
  { name: 'state', file: 'bench/state/store-throughput.ts' },
  { name: 'restore', file: 'bench/state/restore-rate.ts', kafka: true },
  { name: 'runtime', file: 'bench/runtime/throughput.ts', kafka: true },
  { name: 'failover', file: 'bench/failover/failover.ts', kafka: true },
  { name: 'rebalance', file: 'bench/rebalance/rebalance.ts', kafka: true },
  { name: 'sentinel', file: 'bench/sentinel/run.ts' },
]

const only = process.argv.slice(2)
const selected = BENCHES.filter((b) => only.length === 0 || only.includes(b.name))
const needsKafka = selected.some((b) => b.kafka)
const preexisting = readLocalBroker()
const ownBroker = needsKafka && !process.env.KAFKA_BROKERS && !(preexisting && isAlive(preexisting.pid))
let failed = 0
try {
  const brokers = needsKafka ? await startBroker() : undefined
  for (const bench of selected) {
    console.log(`\n== bench ${bench.name}: ${bench.file}`)
    const began = Date.now()
    const result = spawnSync(process.execPath, ['--import', 'tsx', bench.file, ...(bench.args ?? [])], {
      stdio: 'inherit',
      env: { ...process.env, ...(brokers ? { KAFKA_BROKERS: brokers } : {}) },
    })
    console.log(`== bench ${bench.name}: ${result.status === 0 ? 'done' : `FAILED (exit ${result.status})`} in ${((Date.now() - began) / 1000).toFixed(0)} s`)
    if (result.status !== 0) failed++
  }
} finally {
  if (ownBroker) await stopBroker()
}
process.exit(failed === 0 ? 0 : 1)
