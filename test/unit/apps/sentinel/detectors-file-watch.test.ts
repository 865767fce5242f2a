/**
 * The watched detectors file: saves within the debounce are one version, the content found at start
 * is not published, an invalid file is logged at error with its field and fix and changes nothing,
 * and a saved edit reaches a running detector through the config topic at its next record.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import pino from 'pino'
import { Writable } from 'node:stream'
import { DetectorVersionWriter, type StoredState } from '../../../../apps/sentinel/api/detector-version-writer.js'
import { addSentinelDetection } from '../../../../apps/sentinel/detection.js'
import { parseDetectorsConfig } from '../../../../apps/sentinel/detectors-config.js'
import { watchAlertRulesFile, watchDetectorsFile } from '../../../../apps/sentinel/detectors-file-watch.js'
import { startedRulesVersion } from '../../../../apps/sentinel/alerting/alert-rule-versions.js'
import { parseAlertRulesConfig } from '../../../../apps/sentinel/alerting/alert-rules-config.js'
import { fileVersion } from '../../../../apps/sentinel/detector-versions.js'
import { TopologyTestDriver } from '../../../../runtime/testing/index.js'
import type { AnomalyEvent } from '../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../schemas/index.js'
import { StreamsBuilder } from '../../../../topology/index.js'
import { DriverRuntime } from './api/driver-runtime.js'
import { MINUTE, T0, response } from './api/fixtures.js'

const rule = (value: number, extra = '') => `
detectors:
  - id: cost-rule
    type: rule
    strategy: threshold
    groupBy: application
    metric: cost
    condition: greater_than
    value: ${value}${extra}
`

const dir = mkdtempSync(join(tmpdir(), 'detectors-watch-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** A logger whose lines the test reads. */
function capturedLog(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { log: pino({ level: 'info' }, sink), lines }
}

/** A writer that records what it is asked to publish. */
function recordingWriter(start: string) {
  const config = parseDetectorsConfig(start)
  const commits: (readonly Record<string, unknown>[])[] = []
  let current = fileVersion(config, T0)
  return {
    commits,
    writer: {
      state: async (): Promise<StoredState> => ({ versions: new Map([[current.version, current]]), current, currentRecord: null }),
      commit: async (_state: StoredState, op: string, _id: string | null, definitions: readonly Record<string, unknown>[]) => {
        assert.equal(op, 'file')
        commits.push(definitions)
        current = { ...current, version: current.version + 1, definitions }
        return { version: current.version, applied: 'live', changes: [] }
      },
    },
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('watched detectors file', () => {
  test('several saves within the debounce are one version of the last content; the content at start is never published', async () => {
    const path = join(dir, 'debounce.yaml')
    writeFileSync(path, rule(1))
    const { writer, commits } = recordingWriter(rule(1))
    const { log } = capturedLog()
    const watch = watchDetectorsFile({ path, writer, log, debounceMs: 300 })
    try {
      writeFileSync(path, rule(1))
      await pause(400)
      await watch.settled()
      assert.equal(commits.length, 0, 'saved unchanged: nothing to publish')
      for (const value of [2, 3, 4]) {
        writeFileSync(path, rule(value))
        await pause(50)
      }
      await pause(150)
      assert.equal(commits.length, 0, 'still inside the debounce of the last save')
      await pause(300)
      await watch.settled()
      assert.equal(commits.length, 1)
      assert.equal(commits[0]?.[0]?.value, 4)
      // An editor's save: a new file renamed over the old one.
      writeFileSync(`${path}.tmp`, rule(5))
      renameSync(`${path}.tmp`, path)
      await pause(400)
      await watch.settled()
      assert.deepEqual(
        commits.map((c) => c[0]?.value),
        [4, 5],
      )
    } finally {
      await watch.close()
    }
  })

  test('an invalid file is logged at error with the field and its fix, and publishes nothing', async () => {
    const path = join(dir, 'invalid.yaml')
    writeFileSync(path, rule(1))
    const { writer, commits } = recordingWriter(rule(1))
    const { log, lines } = capturedLog()
    const watch = watchDetectorsFile({ path, writer, log, debounceMs: 300 })
    try {
      writeFileSync(path, rule(2).replace('greater_than', 'bigger'))
      await pause(400)
      await watch.settled()
      assert.equal(commits.length, 0)
      const refused = lines.find((l) => l.level === 50)
      assert.ok(refused, JSON.stringify(lines))
      assert.deepEqual(
        (refused.issues as { field: string }[]).map((i) => i.field),
        ['condition'],
      )
      assert.match(String(refused.msg), /condition.*greater_than/)
      assert.match(String(refused.msg), /nothing changed/)
    } finally {
      await watch.close()
    }
  })

  test('a saved edit becomes a file version that the running detector applies at its next record', async () => {
    const path = join(dir, 'live.yaml')
    writeFileSync(path, rule(1))
    const config = parseDetectorsConfig(rule(1), path)
    const builder = new StreamsBuilder()
    addSentinelDetection(builder, { detectors: config, anomalyFormat: 'json', detectorConfigTopic: 'detector-config' })
    const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'file-watch-test' })
    const anomalies = driver.createOutputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>())
    const runtime = new DriverRuntime(driver, new Set(['llm-telemetry', 'detector-config']))
    const quiet = pino({ level: 'silent' })
    const watch = watchDetectorsFile({
      path,
      writer: new DetectorVersionWriter({ runtime, detectors: config, now: () => T0, startedAt: T0 }, 'detector-config', quiet),
      log: quiet,
    })
    let n = 0
    const call = async (cost: number) => {
      n += 1
      await runtime.send('llm-telemetry', [
        {
          key: 'chatbot',
          value: JSON.stringify(
            response('chatbot', T0 + n * MINUTE, 900, { data: { status: 'success', latency_ms: 900, model: 'gpt-4', total_tokens: 100, cost } }),
          ),
        },
      ])
      return anomalies.readValues().map((a) => a.metrics?.threshold)
    }
    try {
      assert.deepEqual(await call(2), [1])
      writeFileSync(path, rule(5))
      await pause(400)
      await watch.settled()
      const versions = [...(runtime.sent.get('detector-config') ?? [])].map((r) => JSON.parse(String(r.value)) as { version: number; op: string })
      assert.deepEqual(
        versions.map((v) => [v.version, v.op]),
        [
          [1, 'file'],
          [1, 'file'],
        ],
        'v0000000001 and current',
      )
      await call(0.1)
      assert.deepEqual(await call(2), [], 'cost 2 is under the new bound 5')
      await call(0.1)
      assert.deepEqual(await call(6), [5])
    } finally {
      await watch.close()
      await driver.close()
    }
  })

  test('the alert rules file is watched the same way: an edit is a version of the whole file, a bad one is refused naming the rule and field', async () => {
    const path = join(dir, 'alert-rules.yaml')
    const rules = (threshold: number) => `
rules:
  - alert_id: bursts
    name: Bursts
    conditions:
      trigger: anomaly
      aggregation: { window: 5m, function: count, threshold: ${threshold} }
    actions: [{ type: webhook }]
maintenance_windows:
  - name: nightly
    schedule: "0 2 * * *"
    duration: 1h
`
    writeFileSync(path, rules(3))
    let current = startedRulesVersion(parseAlertRulesConfig(rules(3)).document ?? {}, T0)
    const commits: { op: string; definitions: readonly Record<string, unknown>[]; sections: unknown }[] = []
    const writer = {
      state: async (): Promise<StoredState> => ({ versions: new Map([[current.version, current]]), current, currentRecord: null }),
      commit: async (
        _state: StoredState,
        op: string,
        _id: string | null,
        definitions: readonly Record<string, unknown>[],
        _from: number | null,
        sections: Record<string, unknown> | null = null,
      ) => {
        commits.push({ op, definitions, sections })
        current = { ...current, version: current.version + 1, definitions, sections }
        return { version: current.version, applied: 'live', changes: [] }
      },
    }
    const { log, lines } = capturedLog()
    const watch = watchAlertRulesFile({ path, writer, log, debounceMs: 300 })
    try {
      writeFileSync(path, rules(5))
      await pause(400)
      await watch.settled()
      assert.deepEqual(
        commits.map((c) => [c.op, (c.definitions[0]?.conditions as { aggregation: { threshold: number } }).aggregation.threshold]),
        [['file', 5]],
      )
      assert.deepEqual(Object.keys(commits[0]?.sections as object), ['maintenance_windows'], 'the other sections travel with the rules')
      writeFileSync(path, rules(0))
      await pause(400)
      await watch.settled()
      assert.equal(commits.length, 1)
      const refused = lines.find((l) => l.level === 50)
      assert.ok(refused, JSON.stringify(lines))
      assert.deepEqual(
        (refused.issues as { rule: string; field: string }[]).map((i) => [i.rule, i.field]),
        [['bursts', 'conditions.aggregation.threshold']],
      )
      assert.match(String(refused.msg), /^alert rules file refused, nothing changed/)
    } finally {
      await watch.close()
    }
  })
})
