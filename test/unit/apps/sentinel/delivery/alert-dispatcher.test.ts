/**
 * Unit tests of the AlertDispatcher alone: StreamsRuntime's consume/send are an in-memory fake
 * written here (the batch handler is called directly, sends are captured). The end-to-end test on
 * the real broker and runtime belongs to the app's integration tests.
 */
import { after, describe, test } from 'node:test'
import type { ServerResponse } from 'node:http'
import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import { AlertDispatcher, DispatcherStoppedError } from '../../../../../apps/sentinel/delivery/alert-dispatcher.js'
import type { DeliveryRecord } from '../../../../../apps/sentinel/delivery/delivery-record.js'
import { parseReceiversConfig } from '../../../../../apps/sentinel/delivery/receivers-config.js'
import { verifyWebhookSignature } from '../../../../../apps/sentinel/delivery/webhook-signature.js'
import { type TestReceiver, reply, sampleAlert, startReceiver } from './fixtures.js'
import { FakeRuntime } from './fake-runtime.js'

const servers: TestReceiver[] = []
after(() => Promise.all(servers.map((s) => s.close())))

async function receiver(respond: Parameters<typeof startReceiver>[0]): Promise<TestReceiver> {
  const server = await startReceiver(respond)
  servers.push(server)
  return server
}

const FAST = `delivery:
  timeout: 2s
  retry: { maxAttempts: 3, initialBackoff: 1ms, maxBackoff: 2ms }
  circuitBreaker: { failureThreshold: 3, coolDown: 1h }
`

async function setup(): Promise<{ runtime: FakeRuntime; dispatcher: AlertDispatcher; hook: TestReceiver; dead: TestReceiver; im: TestReceiver; inline: TestReceiver; registry: Registry }> {
  const hook = await receiver((_req, _i, res) => reply(res, 200))
  const dead = await receiver((_req, _i, res) => reply(res, 503, 'down'))
  const im = await receiver((_req, _i, res) => reply(res, 201, '{"id":"INC-1"}'))
  const inline = await receiver((_req, _i, res) => reply(res, 202))
  const receivers = parseReceiversConfig(
    `${FAST}
publicUrl: http://sentinel.local
receivers:
  - name: hook
    type: webhook
    config: { url: "${hook.url}/hook", secret: hook-secret }
  - name: dead
    type: slack
    config: { webhookUrl: "${dead.url}/slack" }
  - name: im
    type: incident-manager
    config: { endpoint: "${im.url}", apiKey: im-key }
  - name: pd
    type: pagerduty
    enabled: false
`,
    { env: {}, source: 'receivers.test.yaml' },
  )
  const runtime = new FakeRuntime()
  const registry = new Registry()
  const dispatcher = new AlertDispatcher({ receivers, runtime, groupId: 'dispatcher-test', metrics: registry })
  await dispatcher.start()
  return { runtime, dispatcher, hook, dead, im, inline, registry }
}

const strip = (r: DeliveryRecord): Partial<DeliveryRecord> => ({ alert_id: r.alert_id, receiver: r.receiver, type: r.type, action: r.action, status: r.status, attempts: r.attempts, http_status: r.http_status })

describe('AlertDispatcher (unit, with a fake runtime)', () => {
  test('consumes the alerts topic and delivers every action\'s receivers, recording one delivery each', async () => {
    const { runtime, dispatcher, hook, dead, im, inline, registry } = await setup()
    assert.deepEqual(runtime.consumers.map((c) => [c.topic, c.options]), [['alerts', { groupId: 'dispatcher-test', from: 'earliest' }]])
    const alert = sampleAlert({
      actions: [
        { type: 'notification', config: { receivers: ['hook', 'dead', 'pd'] } },
        { type: 'incident', config: { severity: 'P1' } },
        { type: 'webhook', config: { url: `${inline.url}/inline` } },
        { type: 'notification', config: { receivers: ['hook'] } },
      ],
    })
    await runtime.batch([alert])
    assert.equal(runtime.sent.length, 1, 'one history write per batch')
    assert.equal(runtime.sent[0]?.topic, 'alert-deliveries')
    assert.ok(runtime.sent[0]?.records.every((r) => r.key === alert.alert_id))
    assert.deepEqual(runtime.deliveries().map(strip), [
      { alert_id: alert.alert_id, receiver: 'hook', type: 'webhook', action: 'notification', status: 'success', attempts: 1, http_status: 200 },
      { alert_id: alert.alert_id, receiver: 'dead', type: 'slack', action: 'notification', status: 'failed', attempts: 3, http_status: 503 },
      { alert_id: alert.alert_id, receiver: 'pd', type: 'pagerduty', action: 'notification', status: 'skipped', attempts: 0, http_status: null },
      { alert_id: alert.alert_id, receiver: 'im', type: 'incident-manager', action: 'incident', status: 'success', attempts: 1, http_status: 201 },
      { alert_id: alert.alert_id, receiver: `webhook:${inline.url}/inline`, type: 'webhook', action: 'webhook', status: 'success', attempts: 1, http_status: 202 },
    ])
    assert.equal(runtime.deliveries()[1]?.last_error, 'HTTP 503: down')
    assert.equal(hook.requests.length, 1, 'a receiver named by two actions gets the alert once')
    assert.equal(verifyWebhookSignature(hook.requests[0]?.body ?? '', hook.requests[0]?.headers ?? {}, 'hook-secret').ok, true)
    assert.equal(dead.requests.length, 3)
    assert.equal(im.requests[0]?.headers.authorization, 'Bearer im-key')
    assert.equal(JSON.parse(im.requests[0]?.body ?? '{}').severity, 'P1')
    assert.equal(inline.requests.length, 1)
    const metrics = await registry.metrics()
    assert.match(metrics, /sentinel_alerts_sent_total\{receiver="hook",status="success"\} 1/)
    assert.match(metrics, /sentinel_alerts_sent_total\{receiver="dead",status="failed"\} 1/)
    assert.match(metrics, /sentinel_alerts_sent_total\{receiver="pd",status="skipped"\} 1/)
    assert.match(metrics, /sentinel_alert_delivery_retries_total\{receiver="dead"\} 2/)
    assert.match(metrics, /sentinel_alert_delivery_seconds_count\{receiver="hook"\} 1/)
    assert.match(metrics, /sentinel_alert_receiver_circuit_state\{receiver="hook"\} 0/)
    assert.match(metrics, /sentinel_alert_receiver_circuit_state\{receiver="dead"\} 2/, "3 failed attempts open its circuit")
    await dispatcher.stop()
    assert.equal(runtime.consumers[0]?.stopped, true)
  })

  test('a dead receiver\'s circuit opens; later alerts record circuit_open and the healthy receiver gets every alert', async () => {
    const { runtime, dispatcher, hook, dead, registry } = await setup()
    const alerts = Array.from({ length: 4 }, (_, i) => sampleAlert({ alert_id: `alert-${i}`, actions: [{ type: 'notification', config: { receivers: ['dead', 'hook'] } }] }))
    await runtime.batch(alerts.slice(0, 2))
    // Two deliveries ran at once: the circuit opened at the 3rd failure, with the 4th attempt already in flight.
    const callsInFirstBatch = dead.requests.length
    assert.ok(callsInFirstBatch >= 3 && callsInFirstBatch <= 4, `the dead receiver was called ${callsInFirstBatch} times`)
    await runtime.batch(alerts.slice(2))
    assert.equal(dead.requests.length, callsInFirstBatch, 'an open circuit is not called')
    assert.equal(hook.requests.length, 4)
    const deadStatuses = runtime.deliveries().filter((r) => r.receiver === 'dead').map((r) => r.status)
    assert.equal(deadStatuses.length, 4)
    assert.deepEqual(deadStatuses.slice(2), ['circuit_open', 'circuit_open'])
    assert.equal(dispatcher.circuitStates().dead, 'open')
    assert.match(await registry.metrics(), /sentinel_alert_receiver_circuit_state\{receiver="dead"\} 2/)
    await dispatcher.stop()
  })

  test('a malformed record is recorded as failed with its reason and does not block the batch', async () => {
    const { runtime, dispatcher, hook } = await setup()
    const good = sampleAlert({ alert_id: 'good', actions: [{ type: 'notification', config: { receivers: ['hook'] } }] })
    await runtime.batch(['{not json', JSON.stringify({ alert_id: 'x' }), good])
    const records = runtime.deliveries()
    assert.equal(records.length, 3)
    assert.deepEqual([records[0]?.status, records[0]?.receiver, records[0]?.alert_id], ['failed', null, null])
    assert.match(records[0]?.last_error ?? '', /^malformed alert at alerts\[0\]@0: value is not JSON/)
    assert.match(records[1]?.last_error ?? '', /not an AlertEvent: rule_id must be a string/)
    assert.deepEqual([records[2]?.alert_id, records[2]?.status], ['good', 'success'])
    assert.equal(hook.requests.length, 1)
    await dispatcher.stop()
  })

  test('a receiver unknown at run time is recorded as failed, not thrown', async () => {
    const { runtime, dispatcher } = await setup()
    await runtime.batch([sampleAlert({ actions: [{ type: 'notification', config: { receivers: ['renamed'] } }] })])
    const [record] = runtime.deliveries()
    assert.deepEqual([record?.status, record?.receiver, record?.last_error], ['failed', 'renamed', "receiver 'renamed' is not defined in receivers.test.yaml"])
    await dispatcher.stop()
  })

  test('a redelivered batch is not resent: the successful delivery\'s record is written again', async () => {
    const { runtime, dispatcher, hook } = await setup()
    const alert = sampleAlert({ actions: [{ type: 'notification', config: { receivers: ['hook'] } }] })
    await runtime.batch([alert])
    await runtime.batch([alert])
    assert.equal(hook.requests.length, 1)
    const [first, second] = runtime.deliveries()
    assert.deepEqual(second, first)
    const twice = sampleAlert({ alert_id: 'twice', actions: [{ type: 'notification', config: { receivers: ['hook'] } }] })
    await runtime.batch([twice, twice])
    assert.equal(hook.requests.length, 2, 'a duplicate inside one batch is delivered once')
    await dispatcher.stop()
  })

  test('a failed history write fails the handler (no commit); the retried batch writes it without resending', async () => {
    const { runtime, dispatcher, hook } = await setup()
    const alert = sampleAlert({ actions: [{ type: 'notification', config: { receivers: ['hook'] } }] })
    runtime.failSends = 1
    await assert.rejects(runtime.batch([alert]), /broker unavailable/)
    await runtime.batch([alert])
    assert.equal(hook.requests.length, 1)
    assert.deepEqual(runtime.deliveries().map((r) => [r.receiver, r.status]), [['hook', 'success']])
    await dispatcher.stop()
  })

  test('stop aborts deliveries waiting out a backoff; the batch fails so its offsets are not committed', async () => {
    const slow = await receiver((_req, _i, res) => reply(res, 500))
    const receivers = parseReceiversConfig(
      `delivery: { retry: { maxAttempts: 5, initialBackoff: 1h, maxBackoff: 1h } }\nreceivers:\n  - name: slow\n    type: webhook\n    config: { url: "${slow.url}" }\n`,
      { env: {} },
    )
    const runtime = new FakeRuntime()
    const dispatcher = new AlertDispatcher({ receivers, runtime, clientOptions: { random: () => 1 } })
    await dispatcher.start()
    const batch = runtime.batch([sampleAlert({ actions: [{ type: 'notification', config: { receivers: ['slow'] } }] })])
    await new Promise<void>((resolve) => {
      const poll = (): void => void (slow.requests.length > 0 ? setTimeout(resolve, 5) : setImmediate(poll))
      poll()
    })
    await dispatcher.stop()
    await assert.rejects(batch, DispatcherStoppedError)
    assert.equal(runtime.sent.length, 0)
    await assert.rejects(runtime.batch([sampleAlert()]), DispatcherStoppedError, 'a stopped dispatcher takes no batch')
  })

  test('per-receiver lanes: a stuck receiver\'s lane lags while the other lanes deliver and commit', async () => {
    const held: ServerResponse[] = []
    const stuck = await receiver((_req, _i, res) => void held.push(res))
    const hook = await receiver((_req, _i, res) => reply(res, 200))
    const receivers = parseReceiversConfig(
      `receivers:
  - name: hook
    type: webhook
    config: { url: "${hook.url}" }
  - name: stuck
    type: webhook
    config: { url: "${stuck.url}", timeoutMs: 60000 }
  - name: pd
    type: pagerduty
    enabled: false
`,
      { env: {} },
    )
    const runtime = new FakeRuntime()
    const dispatcher = new AlertDispatcher({ receivers, runtime, groupId: 'lanes', lanes: 'per-receiver' })
    await dispatcher.start()
    assert.deepEqual(runtime.consumers.map((c) => c.options.groupId), ['lanes', 'lanes.hook', 'lanes.stuck'])
    const alerts = [1, 2].map((i) => sampleAlert({ alert_id: `a${i}`, actions: [{ type: 'notification', config: { receivers: ['hook', 'stuck', 'pd'] } }] }))
    let stuckDone = false
    const stuckLane = runtime.batchFor('lanes.stuck', [alerts[0]!]).then(() => void (stuckDone = true))
    await runtime.batchFor('lanes.hook', [alerts[0]!])
    await runtime.batchFor('lanes.hook', [alerts[1]!])
    await runtime.batchFor('lanes', ['garbage', alerts[0]!])
    assert.equal(stuckDone, false)
    assert.equal(hook.requests.length, 2, 'the hook lane went on to its next batch')
    assert.deepEqual(runtime.deliveries().map((r) => [r.alert_id, r.receiver, r.status]), [
      ['a1', 'hook', 'success'],
      ['a2', 'hook', 'success'],
      [null, null, 'failed'],
      ['a1', 'pd', 'skipped'],
    ])
    for (const res of held.splice(0)) reply(res, 200)
    await stuckLane
    assert.deepEqual(runtime.deliveries().at(-1)?.receiver, 'stuck')
    await dispatcher.stop()
    assert.ok(runtime.consumers.every((c) => c.stopped))
  })
})
