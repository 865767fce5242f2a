import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DLQ_HEADERS, StreamTaskError } from '../../../../runtime/task/index.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import { Serdes } from '../../../../schemas/index.js'
import { type ProcessorContext, StreamsBuilder, TimestampExtractors, type Topology } from '../../../../topology/index.js'

interface Call {
  tenant: string
  tokens: number
}
const calls = { key: Serdes.string(), value: Serdes.json<Call>({ name: 'json(Call)' }) }
const json = (v: unknown) => Buffer.from(JSON.stringify(v))

/** Doubles tokens, but throws on a poisoned tenant, then counts per tenant. */
function pipeline(): Topology {
  const b = new StreamsBuilder()
  b.stream('calls', calls)
    .mapValues((v) => {
      if (v.tenant === 'poison') throw new RangeError(`cannot price tenant ${v.tenant}`)
      return { ...v, tokens: v.tokens * 2 }
    }, { name: 'price' })
    .to('priced', { value: calls.value })
  return b.build()
}

describe('bad records under the dlq policy (default)', () => {
  test('a malformed JSON record goes to the DLQ with headers; the good records around it are processed', async () => {
    const driver = await TopologyTestDriver.create(pipeline(), { applicationId: 'app' })
    await driver.pipeRaw('calls', [
      { key: Buffer.from('k1'), value: json({ tenant: 'a', tokens: 1 }), timestamp: 10 },
      { key: Buffer.from('k2'), value: Buffer.from('{"tenant": "b", "tok'), timestamp: 11, headers: { origin: 'gateway' } },
      { key: Buffer.from('k3'), value: json({ tenant: 'c', tokens: 3 }), timestamp: 12 },
    ])
    assert.deepEqual(driver.createOutputTopic('priced', calls.key, calls.value).readKeyValues(), [['k1', { tenant: 'a', tokens: 2 }], ['k3', { tenant: 'c', tokens: 6 }]])
    assert.equal(driver.deadLetterTopic, 'app-dlq')
    const [dead, ...more] = driver.deadLetters()
    assert.equal(more.length, 0)
    assert.equal(dead!.key!.toString(), 'k2')
    assert.equal(dead!.value!.toString(), '{"tenant": "b", "tok', 'the raw bytes, as consumed')
    assert.equal(dead!.timestamp, 11)
    assert.equal(dead!.headers[DLQ_HEADERS.stage], 'deserialize')
    assert.equal(dead!.headers[DLQ_HEADERS.errorClass], 'SerdeError')
    assert.match(dead!.headers[DLQ_HEADERS.errorMessage]!, /^json\(Call\): invalid JSON/)
    assert.equal(dead!.headers[DLQ_HEADERS.processor], 'KSTREAM-SOURCE-0000000000')
    assert.equal(dead!.headers[DLQ_HEADERS.sourceTopic], 'calls')
    assert.equal(dead!.headers[DLQ_HEADERS.sourcePartition], '0')
    assert.equal(dead!.headers[DLQ_HEADERS.sourceOffset], '1')
    assert.equal(dead!.headers[DLQ_HEADERS.applicationId], 'app')
    assert.equal(dead!.headers.origin, 'gateway', 'original headers are kept')
    assert.equal(driver.metrics().deadLettered, 1)
    assert.equal(driver.metrics().processed, 2)
    await driver.close()
  })

  test('a processor that throws sends the raw input record to the DLQ, naming the processor', async () => {
    const driver = await TopologyTestDriver.create(pipeline())
    const input = driver.createInputTopic('calls', calls.key, calls.value)
    await input.pipeRecords([
      { key: 'k1', value: { tenant: 'a', tokens: 1 } },
      { key: 'k2', value: { tenant: 'poison', tokens: 5 } },
      { key: 'k3', value: { tenant: 'c', tokens: 3 } },
    ])
    assert.deepEqual(driver.createOutputTopic('priced', calls.key, calls.value).readKeyValues().map(([k]) => k), ['k1', 'k3'])
    const [dead] = driver.deadLetters()
    assert.deepEqual(JSON.parse(dead!.value!.toString()), { tenant: 'poison', tokens: 5 })
    assert.equal(dead!.headers[DLQ_HEADERS.stage], 'process')
    assert.equal(dead!.headers[DLQ_HEADERS.processor], 'price')
    assert.equal(dead!.headers[DLQ_HEADERS.errorClass], 'RangeError')
    assert.equal(dead!.headers[DLQ_HEADERS.errorMessage], 'cannot price tenant poison')
    assert.equal(dead!.headers[DLQ_HEADERS.sourceOffset], '1')
    await driver.close()
  })

  test('a bad timestamp, a raw Avro record that does not decode, and a value that cannot be serialized', async () => {
    const b = new StreamsBuilder()
    interface Timed {
      at: string
      n: number
    }
    b.stream('timed', { key: Serdes.string(), value: Serdes.json<Timed>(), timestamp: TimestampExtractors.isoField<Timed>('at') })
      .mapValues((v) => v.n)
      .to('ints', { value: Serdes.int() })
    const avro = Serdes.avro<{ id: string }>({ type: 'record', name: 'Ping', fields: [{ name: 'id', type: 'string' }] })
    b.stream('pings', { key: Serdes.string(), value: avro }).to('pongs')
    const driver = await TopologyTestDriver.create(b.build())
    const timed = driver.createInputTopic('timed', Serdes.string(), Serdes.json<Timed>())
    await timed.pipe('ok', { at: '2026-01-01T00:00:00Z', n: 1 })
    await timed.pipe('no-time', { at: 'yesterday', n: 2 })
    await timed.pipe('too-big', { at: '2026-01-01T00:00:01Z', n: 2 ** 40 })
    await driver.pipeRaw('pings', [{ key: Buffer.from('p1'), value: Buffer.from([0x08]) }, { key: Buffer.from('p2'), value: avro.serialize({ id: 'x' }) }])
    const out = driver.createOutputTopic('ints', Serdes.string(), Serdes.int()).readRecords()
    assert.deepEqual(out.map((r) => [r.key, r.value, r.timestamp]), [['ok', 1, Date.parse('2026-01-01T00:00:00Z')]])
    assert.deepEqual(driver.createOutputTopic('pongs', Serdes.string(), avro).readKeyValues().map(([k]) => k), ['p2'])
    const stages = driver.deadLetters().map((d) => [d.key!.toString(), d.headers[DLQ_HEADERS.stage], d.headers[DLQ_HEADERS.errorMessage]])
    assert.equal(stages.length, 3)
    assert.deepEqual(stages[0]!.slice(0, 2), ['no-time', 'timestamp'])
    assert.match(stages[0]![2]!, /field 'at' is not a valid ISO-8601 timestamp: 'yesterday'/)
    assert.deepEqual(stages[1]!.slice(0, 2), ['too-big', 'serialize'])
    assert.match(stages[1]![2]!, /not a 32-bit integer/)
    assert.deepEqual(stages[2]!.slice(0, 2), ['p1', 'deserialize'])
    assert.match(stages[2]![2]!, /avro\(Ping\): cannot decode/)
    await driver.close()
  })

  test('a throwing punctuator is dead-lettered (no source record) and the task keeps running', async () => {
    const b = new StreamsBuilder()
    b.stream('calls', calls).process(() => ({
      init(context: ProcessorContext) {
        context.schedule(1000, 'wall-clock', () => {
          throw new Error('report endpoint down')
        })
      },
      process() {},
    }), { name: 'reporter' })
    const driver = await TopologyTestDriver.create(b.build())
    await driver.advanceWallClockTime(1000)
    const [dead] = driver.deadLetters()
    assert.equal(dead!.headers[DLQ_HEADERS.stage], 'punctuate')
    assert.equal(dead!.headers[DLQ_HEADERS.processor], 'reporter')
    assert.equal(dead!.value, null)
    await driver.createInputTopic('calls', calls.key, calls.value).pipe('k', { tenant: 'a', tokens: 1 })
    assert.equal(driver.metrics().processed, 1)
    await driver.close()
  })
})

describe('the skip and fail policies', () => {
  test('skip: bad records are counted and dropped; the DLQ stays empty', async () => {
    const driver = await TopologyTestDriver.create(pipeline(), { errorPolicy: 'skip' })
    await driver.pipeRaw('calls', [
      { key: Buffer.from('k1'), value: Buffer.from('not json') },
      { key: Buffer.from('k2'), value: json({ tenant: 'poison', tokens: 1 }) },
      { key: Buffer.from('k3'), value: json({ tenant: 'ok', tokens: 1 }) },
    ])
    assert.equal(driver.createOutputTopic('priced', calls.key, calls.value).readRecords().length, 1)
    assert.equal(driver.deadLetters().length, 0)
    assert.equal(driver.metrics().skipped, 2)
    await driver.close()
  })

  test('fail: the first bad record stops processing with an error naming stage, processor and offset', async () => {
    const driver = await TopologyTestDriver.create(pipeline(), { errorPolicy: 'fail' })
    const input = driver.createInputTopic('calls', calls.key, calls.value)
    await input.pipe('k1', { tenant: 'a', tokens: 1 })
    await assert.rejects(input.pipe('k2', { tenant: 'poison', tokens: 1 }), (err: unknown) => {
      assert.ok(err instanceof StreamTaskError)
      assert.equal(err.stage, 'process')
      assert.equal(err.processor, 'price')
      assert.deepEqual(err.source, { topic: 'calls', partition: 0, offset: '1' })
      assert.match(err.message, /task 0_0: process failed in price at calls-0@1: cannot price tenant poison/)
      return true
    })
  })
})
