/**
 * The whole Sentinel app topology on StandaloneStreams (RocksDB), fed the generator's telemetry, as
 * bench/sentinel/run.ts's topology runs, reporting CPU time beside wall time: events per CPU-second
 * (user + system, every thread of the process) varies far less than events/s on a shared machine,
 * so two builds compare by it. Also the script to profile:
 *
 *   npx tsx bench/sentinel/topology-cpu.ts [hours=12] [runs=3]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/sentinel/topology-cpu.ts 12 1
 *
 * Each run also prints the anomalies and alerts written, and a digest of the anomalies' keys and
 * values (in log order): two builds whose digests match produced the same anomalies.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import pino from 'pino'
import { Registry } from 'prom-client'
import { TelemetryGenerator } from '../../apps/sentinel/generator/index.js'
import { buildSentinelAppTopology, loadSentinelApp } from '../../apps/sentinel/sentinel-app.js'
import { StandaloneStreams } from '../../runtime/standalone/index.js'

const hours = Number(process.argv[2] ?? 12)
const runs = Number(process.argv[3] ?? 3)
const silent = pino({ level: 'silent' })
const events = [...new TelemetryGenerator({ hours, seed: 42 }).events()]
const records = events.map((e) => ({ key: e.application_id, value: JSON.stringify(e), timestamp: Date.parse(e.timestamp) }))

/** How many records a topic holds, and a digest of their keys and values in log order. */
function written(runtime: StandaloneStreams, topic: string): { anomalies: number; digest: string } {
  const hash = createHash('sha256')
  let n = 0
  for (let p = 0; p < (runtime.log.partitionCount(topic) ?? 0); p++) {
    for (let offset = runtime.log.startOffset(topic, p); offset < runtime.log.endOffset(topic, p); ) {
      const batch = runtime.log.read(topic, p, offset)
      if (batch.length === 0) break
      for (const r of batch) {
        hash.update(r.key ?? '-').update(r.value ?? '-')
        n++
      }
      offset += batch.length
    }
  }
  return { anomalies: n, digest: hash.digest('hex').slice(0, 12) }
}

for (let i = 0; i < runs; i++) {
  const applicationId = `sentinel-cpu-${i}`
  const stateDir = mkdtempSync(join(tmpdir(), 'sentinel-cpu-'))
  // Generated telemetry of a fixed day: event times far behind the wall clock.
  const app = loadSentinelApp({ applicationId, sentinel: { api: { enabled: false }, eventTime: { maxBehind: 'off' } } }, {})
  const metrics = new Registry()
  const runtime = new StandaloneStreams(buildSentinelAppTopology(app, { metrics, logger: silent }), { applicationId, stateDir, storeEngine: 'rocksdb' }, { logger: false, metrics })
  try {
    await runtime.start()
    const began = performance.now()
    const cpu = process.cpuUsage()
    for (let at = 0; at < records.length; at += 1000) await runtime.send(app.settings.topics.telemetry, records.slice(at, at + 1000))
    await runtime.idle(300_000)
    const used = process.cpuUsage(cpu)
    const seconds = (performance.now() - began) / 1000
    const { anomalies, digest } = written(runtime, app.settings.topics.anomalies)
    const alerts = written(runtime, app.settings.topics.alerts).anomalies
    console.log(
      `run ${i + 1}: ${Math.round(records.length / seconds)} events/s, ${Math.round(records.length / ((used.user + used.system) / 1e6))} events/cpu-s, ` +
        `${anomalies} anomalies (digest ${digest}), ${alerts} alerts`,
    )
  } finally {
    await runtime.close()
    rmSync(stateDir, { recursive: true, force: true })
  }
}
