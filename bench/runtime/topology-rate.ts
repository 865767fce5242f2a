/**
 * How fast one SentinelStreams instance runs workload (a) over a filled input topic: from the
 * instance reaching `running` (partitions assigned, first fetch under way) to the last input record
 * processed, as the raw consumers' clocks run from their group join. An earlier version started at
 * the first counted batch and so left that batch out (~15% high at 200K events).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Registry } from 'prom-client'
import { SentinelStreams } from '../../runtime/kafka/sentinel-streams.js'
import type { ProcessingGuarantee } from '../../runtime/config.js'
import { windowedAggregateTopology } from './windowed-aggregate.js'

export interface TopologyRun {
  brokers: string[]
  input: string
  output: string
  events: number
  processingGuarantee?: ProcessingGuarantee
}

async function consumedSoFar(registry: Registry): Promise<number> {
  const metric = registry.getSingleMetric('sentinel_streams_records_consumed_total')
  if (!metric) return 0
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0)
}

export async function topologyRate(run: TopologyRun): Promise<number> {
  const registry = new Registry()
  const stateDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-'))
  const streams = new SentinelStreams(
    windowedAggregateTopology(run.input, run.output),
    {
      applicationId: `bench-agg-${randomBytes(4).toString('hex')}`,
      brokers: run.brokers,
      stateDir,
      commitIntervalMs: 1_000,
      processingGuarantee: run.processingGuarantee ?? 'at-least-once',
    },
    { logger: false, metrics: registry },
  )
  await streams.start()
  try {
    await streams.waitForState('running', 120_000)
    const began = performance.now()
    for (;;) {
      const consumed = await consumedSoFar(registry)
      if (consumed >= run.events) return run.events / ((performance.now() - began) / 1000)
      await new Promise((r) => setTimeout(r, 20))
    }
  } finally {
    await streams.close()
    rmSync(stateDir, { recursive: true, force: true })
  }
}
