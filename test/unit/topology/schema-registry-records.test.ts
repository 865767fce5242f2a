import assert from 'node:assert/strict'
import { test } from 'node:test'
import type avro from 'avsc'
import { DLQ_HEADERS } from '../../../runtime/task/index.js'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { type Serde, SerdeError, Serdes } from '../../../schemas/index.js'
import { frame, registryAvroSerde, UnknownSchemaIdError } from '../../../schemas/registry/index.js'
import { StreamsBuilder } from '../../../topology/index.js'

interface Ping {
  id: string
  latencyMs: number
}
const schema: avro.Schema = {
  type: 'record',
  name: 'Ping',
  namespace: 'sentinel.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'latencyMs', type: 'double' },
  ],
}
const pings = registryAvroSerde<Ping>({ schema, knownSchemas: { 7: schema }, useSchemaId: 7 })

test('an Avro record with an unknown schema id goes to the DLQ; the records around it are processed', async () => {
  const b = new StreamsBuilder()
  b.stream('pings', { key: Serdes.string(), value: pings }).mapValues((p) => p.latencyMs).to('latencies', { value: Serdes.double() })
  const driver = await TopologyTestDriver.create(b.build(), { applicationId: 'app' })
  await pings.prepare('pings') // resolves the writer schema id (pinned: 7) for the test producer
  const good = (id: string) => pings.serialize({ id, latencyMs: 12.5 }, 'pings')
  const body = good('x').subarray(5)
  await driver.pipeRaw('pings', [
    { key: Buffer.from('a'), value: good('a') },
    { key: Buffer.from('b'), value: frame(99, body) },
    { key: Buffer.from('c'), value: good('c') },
  ])
  assert.deepEqual(driver.createOutputTopic('latencies', Serdes.string(), Serdes.double()).readKeyValues(), [['a', 12.5], ['c', 12.5]])
  const [dead, ...rest] = driver.deadLetters()
  assert.equal(rest.length, 0)
  assert.equal(dead!.key!.toString(), 'b')
  assert.deepEqual(dead!.value, frame(99, body), 'raw bytes as consumed')
  assert.equal(dead!.headers[DLQ_HEADERS.stage], 'deserialize')
  assert.equal(dead!.headers[DLQ_HEADERS.errorClass], 'SerdeError')
  assert.match(dead!.headers[DLQ_HEADERS.errorMessage]!, /99/)
  assert.equal(dead!.headers[DLQ_HEADERS.sourceOffset], '1')
  await driver.close()
})

test('a schema id not cached yet is fetched once (await ready) and the record retried, not dead-lettered', async () => {
  let fetches = 0
  let cached = false
  const inner = Serdes.string()
  const lazy: Serde<string> = {
    name: 'lazy-registry',
    serialize: (v) => inner.serialize(v),
    deserialize(data) {
      if (!cached) {
        throw new UnknownSchemaIdError('lazy-registry', 5, async () => {
          fetches++
          cached = true
        })
      }
      if (data.length === 0) throw new SerdeError('lazy-registry', 'empty')
      return inner.deserialize(data)
    },
  }
  const b = new StreamsBuilder()
  b.stream('in', { key: Serdes.string(), value: lazy }).to('out', { value: Serdes.string() })
  const driver = await TopologyTestDriver.create(b.build())
  await driver.pipeRaw('in', [
    { key: Buffer.from('k1'), value: Buffer.from('v1') },
    { key: Buffer.from('k2'), value: Buffer.alloc(0) },
    { key: Buffer.from('k3'), value: Buffer.from('v3') },
  ])
  assert.equal(fetches, 1)
  assert.deepEqual(driver.createOutputTopic('out', Serdes.string(), Serdes.string()).readValues(), ['v1', 'v3'])
  assert.equal(driver.deadLetters().length, 1, 'a real SerdeError after the schema is known still goes to the DLQ')
  await driver.close()
})
