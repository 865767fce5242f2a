/**
 * The exactly-once liveness pieces that need no broker: a revoked task's producer cannot reach one
 * again, what happens to a fenced task, the stalled-task report, and the level of kafkajs' logs.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import kafkajs, { type LogEntry } from 'kafkajs'
import pino from 'pino'
import { Gauge, Registry } from 'prom-client'
import { kafkajsLog } from '../../../runtime/kafka/kafkajs-log.js'
import { decideOnFence, MAX_FENCED_RECOVERIES } from '../../../runtime/kafka/fenced-recovery.js'
import { RevocableConnections } from '../../../runtime/kafka/revocable-connections.js'
import { StallWatch } from '../../../runtime/kafka/stall-watch.js'

const { Kafka, logLevel } = kafkajs

/** A TCP server that only counts the connections made to it. */
async function countingServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0
  const server = createServer((socket) => {
    connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { server, port: address.port, connections: () => connections }
}

describe('a revoked task’s producer', () => {
  test('never opens a connection: initTransactions fails before anything is sent', async () => {
    const { server, port, connections } = await countingServer()
    try {
      const gate = new RevocableConnections()
      const kafka = new Kafka({ clientId: 'revoked', brokers: [`127.0.0.1:${port}`], socketFactory: gate.socketFactory, logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 10 } })
      gate.revoke('0_3')
      const producer = kafka.producer({ transactionalId: 'app-0_3', idempotent: true, maxInFlightRequests: 1 })
      await assert.rejects(producer.connect())
      await assert.rejects(producer.transaction())
      await producer.disconnect()
      assert.equal(connections(), 0, 'no connection reached the broker')
    } finally {
      server.close()
    }
  })

  test('connects normally while the task is owned (the gate is the only difference)', async () => {
    const { server, port, connections } = await countingServer()
    try {
      const gate = new RevocableConnections()
      const kafka = new Kafka({ clientId: 'owned', brokers: [`127.0.0.1:${port}`], socketFactory: gate.socketFactory, logLevel: logLevel.NOTHING, retry: { retries: 0 } })
      const producer = kafka.producer()
      await assert.rejects(producer.connect()) // the counting server is no broker
      assert.ok(connections() >= 1)
    } finally {
      server.close()
    }
  })
})

describe('a fenced task', () => {
  test('still assigned here and the group stable: re-initialised, with growing backoff', () => {
    const delays = Array.from({ length: MAX_FENCED_RECOVERIES }, (_, i) => decideOnFence({ assignedHere: true, rebalancing: false, attempt: i + 1 }))
    assert.ok(delays.every((d) => d.action === 'reinitialize'))
    const ms = delays.map((d) => (d.action === 'reinitialize' ? d.delayMs : -1))
    assert.deepEqual([...ms].sort((a, b) => a - b), ms, 'backoff never shrinks')
    assert.ok(ms[0]! < 1_000 && ms.at(-1)! <= 10_000)
  })

  test('past the bound the instance gives up (the group then moves its tasks)', () => {
    assert.deepEqual(decideOnFence({ assignedHere: true, rebalancing: false, attempt: MAX_FENCED_RECOVERIES + 1 }), { action: 'give-up', attempts: MAX_FENCED_RECOVERIES })
  })

  test('no longer assigned here, or fenced during a rebalance: left to the rebalance', () => {
    assert.equal(decideOnFence({ assignedHere: false, rebalancing: false, attempt: 1 }).action, 'wait-for-rebalance')
    assert.equal(decideOnFence({ assignedHere: true, rebalancing: true, attempt: 1 }).action, 'wait-for-rebalance')
  })
})

describe('stalled tasks', () => {
  function watch(boundMs = 60_000): { stalls: StallWatch; lines: Record<string, unknown>[]; gauge: () => Promise<number> } {
    const lines: Record<string, unknown>[] = []
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) })
    const registry = new Registry()
    const g = new Gauge({ name: 'stalled', help: 'stalled', registers: [registry] })
    return { stalls: new StallWatch({ boundMs, logger, gauge: g }), lines, gauge: async () => (await g.get()).values[0]?.value ?? 0 }
  }
  const errors = (lines: Record<string, unknown>[]): Record<string, unknown>[] => lines.filter((l) => l.level === 50)

  test('an assigned task not running past the bound is logged at error once, with its cause, and counted', async () => {
    const { stalls, lines, gauge } = watch()
    const assigned = new Set(['0_0', '0_1'])
    const running = (id: string): boolean => id === '0_0'
    stalls.check(assigned, running, 0)
    stalls.note('0_1', 'fenced by a newer owner; waiting for the rebalance', new Error('PRODUCER_FENCED'))
    stalls.check(assigned, running, 59_999)
    assert.equal(errors(lines).length, 0, 'not before the bound')
    assert.equal(await gauge(), 0)
    stalls.check(assigned, running, 60_000)
    stalls.check(assigned, running, 120_000)
    assert.equal(errors(lines).length, 1, 'once')
    assert.equal(errors(lines)[0]!.task, '0_1')
    assert.equal(errors(lines)[0]!.cause, 'fenced by a newer owner; waiting for the rebalance')
    assert.equal(await gauge(), 1)
  })

  test('a stalled task that runs again, or is no longer assigned, is no longer counted', async () => {
    const { stalls, lines, gauge } = watch(1_000)
    stalls.check(new Set(['0_0', '0_1']), () => false, 0)
    stalls.check(new Set(['0_0', '0_1']), () => false, 1_000)
    assert.equal(await gauge(), 2)
    stalls.check(new Set(['0_0']), (id) => id === '0_0', 2_000)
    assert.equal(await gauge(), 0)
    assert.ok(lines.some((l) => l.msg === 'stalled task is running again' && l.task === '0_0'))
    // Its clock starts again if it stops running later.
    stalls.check(new Set(['0_0']), () => false, 3_000)
    stalls.check(new Set(['0_0']), () => false, 3_500)
    assert.equal(await gauge(), 0)
  })
})

describe('kafkajs logs', () => {
  const entry = (level: number, message: string, extra: Record<string, unknown> = {}): LogEntry => ({
    namespace: 'Connection',
    level,
    label: 'ERROR',
    log: { timestamp: '', logger: 'kafkajs', message, ...extra },
  })
  function sink(): { log: (e: LogEntry) => void; lines: Record<string, unknown>[]; clock: { now: number } } {
    const lines: Record<string, unknown>[] = []
    const clock = { now: 0 }
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) })
    return { log: kafkajsLog({ logger, windowMs: 30_000, now: () => clock.now }), lines, clock }
  }

  test('what a healthy start produces (coordinator loading, not the leader, rebalancing, topic races) is debug', () => {
    const { log, lines } = sink()
    log(entry(logLevel.ERROR, 'Response InitProducerId(key: 22, version: 1)', { error: "The coordinator is loading and hence can't process requests for this group" }))
    log(entry(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', { error: 'This server is not the leader for that topic-partition' }))
    log(entry(logLevel.ERROR, 'Response FindCoordinator(key: 10, version: 2)', { error: 'The group coordinator is not available' }))
    log(entry(logLevel.ERROR, 'Response Heartbeat(key: 12, version: 3)', { error: 'The group is rebalancing, so a rejoin is needed' }))
    log(entry(logLevel.ERROR, 'Response CreateTopics(key: 19, version: 3)', { error: 'Topic creation errors' }))
    assert.deepEqual(lines.map((l) => l.level), [20, 20, 20, 20, 20])
  })

  test('anything else is a warning, one per distinct message per window, then counted', () => {
    const { log, lines, clock } = sink()
    const refused = (): void => log(entry(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'))
    refused()
    clock.now = 1_000
    refused()
    refused()
    clock.now = 31_000
    refused()
    const warnings = lines.filter((l) => l.level === 40)
    assert.equal(warnings.length, 2)
    assert.equal(warnings[1]!.suppressed, 2)
    assert.equal(lines.filter((l) => l.level === 50).length, 0, 'kafkajs never logs at error through us: the caller that gets the failure does')
  })
})
