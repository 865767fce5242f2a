import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { recordLine } from '../../../../apps/cli/record-printer.js'
import { chooseRunMode } from '../../../../apps/cli/run-mode.js'

const runDir = mkdtempSync(join(tmpdir(), 'run-mode-'))
const previous = process.env.SENTINEL_RUN_DIR
process.env.SENTINEL_RUN_DIR = runDir
after(() => {
  if (previous === undefined) delete process.env.SENTINEL_RUN_DIR
  else process.env.SENTINEL_RUN_DIR = previous
  rmSync(runDir, { recursive: true, force: true })
})

const none = { standalone: false, flag: undefined, env: undefined, config: undefined }
const launcherState = (pid: number) =>
  writeFileSync(join(runDir, 'kafka.json'), JSON.stringify({ pid, bootstrap: 'localhost:39092', dataDir: '/x', kafkaVersion: '3', startedAt: 'now' }))

describe('chooseRunMode', () => {
  test('brokers from the flag, the environment or the config, in that order, mean Kafka', () => {
    assert.deepEqual(chooseRunMode({ ...none, flag: 'a:1,b:2', env: 'c:3' }), { kind: 'kafka', brokers: ['a:1', 'b:2'], source: '--brokers' })
    assert.deepEqual(chooseRunMode({ ...none, env: 'c:3', config: ['d:4'] }), { kind: 'kafka', brokers: ['c:3'], source: 'KAFKA_BROKERS' })
    assert.deepEqual(chooseRunMode({ ...none, env: '', config: ['d:4'] }), { kind: 'kafka', brokers: ['d:4'], source: "the config's brokers" })
  })

  test('a live local broker means Kafka; a dead one (stale state file) or none means standalone', () => {
    rmSync(join(runDir, 'kafka.json'), { force: true })
    assert.deepEqual(chooseRunMode(none), { kind: 'standalone', forced: false })
    launcherState(process.pid)
    assert.deepEqual(chooseRunMode(none), { kind: 'kafka', brokers: ['localhost:39092'], source: 'the local broker of npm run kafka:start' })
    const exited = spawnSync(process.execPath, ['-e', '0'])
    launcherState(exited.pid!)
    assert.deepEqual(chooseRunMode(none), { kind: 'standalone', forced: false })
  })

  test('--standalone forces it, and contradicts --brokers', () => {
    assert.deepEqual(chooseRunMode({ ...none, standalone: true, env: 'c:3' }), { kind: 'standalone', forced: true })
    assert.throws(() => chooseRunMode({ ...none, standalone: true, flag: 'a:1' }), /contradict/)
  })
})

describe('recordLine (--print)', () => {
  const base = { topic: 't', partition: 0, offset: '7', timestamp: 5, headers: {} }
  test('JSON values print as JSON, other text as a string, other bytes as base64 (marked)', () => {
    assert.deepEqual(JSON.parse(recordLine({ ...base, key: Buffer.from('k-1'), value: Buffer.from('{"score":3.5}') })), {
      ...{ topic: 't', partition: 0, offset: '7', timestamp: 5 },
      key: 'k-1',
      value: { score: 3.5 },
    })
    const avro = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xfe])
    const line = JSON.parse(recordLine({ ...base, key: null, value: avro, headers: { h: 'v' } })) as Record<string, unknown>
    assert.equal(line.key, null)
    assert.equal(line.valueEncoding, 'base64')
    assert.deepEqual(Buffer.from(line.value as string, 'base64'), avro)
    assert.deepEqual(line.headers, { h: 'v' })
    assert.equal('keyEncoding' in line, false)
  })
})
