import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Counter, Registry } from 'prom-client'
import { untilDrained } from '../../../../bench/runtime/drained.js'

function runtimeCounters(): { registry: Registry; produced: Counter<'topic'>; consumed: Counter<'topic'> } {
  const registry = new Registry()
  const produced = new Counter({ name: 'sentinel_streams_records_produced_total', help: 'p', labelNames: ['topic'], registers: [registry] })
  const consumed = new Counter({ name: 'sentinel_streams_records_consumed_total', help: 'c', labelNames: ['topic'], registers: [registry] })
  return { registry, produced, consumed }
}

test('a run is drained only once every repartition topic is consumed as far as it was produced', async () => {
  const { registry, produced, consumed } = runtimeCounters()
  produced.inc({ topic: 'by-model' }, 100)
  produced.inc({ topic: 'history' }, 10)
  consumed.inc({ topic: 'by-model' }, 100)
  consumed.inc({ topic: 'history' }, 4)
  let done = false
  const drained = untilDrained(registry, ['by-model', 'history']).then(() => (done = true))
  await new Promise((r) => setTimeout(r, 700))
  assert.equal(done, false, 'history has 6 records not consumed yet')
  consumed.inc({ topic: 'history' }, 6)
  await drained
})

test('a topic that stays behind rejects after the timeout, naming it', async () => {
  const { registry, produced } = runtimeCounters()
  produced.inc({ topic: 'by-model' }, 1)
  await assert.rejects(untilDrained(registry, ['by-model', 'history'], 300), /records produced to by-model were not all consumed within 300 ms/)
})
