/**
 * POST /api/v1/detectors/:id/test: a definition (loaded, or posted) run on posted events or on the
 * newest events this instance wrote, answering what the detector would flag with nothing written.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { type Instance, MINUTE, T0, response, startInstance, stopInstance } from './fixtures.js'

const json = (body: string): Record<string, unknown> => JSON.parse(body) as Record<string, unknown>

/** One call a minute for chatbot; the costs given, in order. */
const costly = (costs: readonly number[]) =>
  costs.map((cost, i) =>
    response('chatbot', T0 - 30 * MINUTE + i * MINUTE, 900, { data: { status: 'success', latency_ms: 900, model: 'gpt-4', total_tokens: 120, cost } }),
  )

describe('POST /detectors/:id/test', () => {
  let it: Instance
  before(async () => {
    it = await startInstance()
  })
  after(() => stopInstance(it))

  const post = (id: string, payload: object) => it.api.inject({ method: 'POST', url: `/api/v1/detectors/${id}/test`, payload })

  test('a loaded detector on posted events flags what the live one would, and nothing reaches the topics', async () => {
    const before = it.driver.records('anomalies').length + it.driver.records('llm-telemetry').length
    const res = await post('cost-rule', { events: costly([0.1, 2, 0.2, 3, 0.1]) })
    assert.equal(res.statusCode, 200, res.body)
    const body = json(res.body)
    assert.equal(body.sample, 'given')
    assert.equal(body.events, 5)
    assert.equal(body.flagged, 2)
    assert.equal(body.dry_run, true)
    const anomalies = body.anomalies as { detector_id: string; application_id: string }[]
    assert.deepEqual(
      anomalies.map((a) => [a.detector_id, a.application_id]),
      [
        ['cost-rule', 'chatbot'],
        ['cost-rule', 'chatbot'],
      ],
    )
    assert.equal(it.driver.records('anomalies').length + it.driver.records('llm-telemetry').length, before)
  })

  test('a posted definition is run instead of the loaded one: a new threshold changes what is flagged', async () => {
    const res = await post('cost-rule', {
      detector: { type: 'rule', strategy: 'threshold', metric: 'cost', condition: 'greater_than', value: 2.5 },
      events: costly([0.1, 2, 0.2, 3, 0.1]),
    })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(json(res.body).flagged, 1)
    assert.equal((json(res.body).detector as { threshold: number }).threshold, 2.5)
  })

  test('a detector that does not exist yet can be tried by its definition; without one it is 404', async () => {
    const res = await post('new-cost', {
      detector: { type: 'rule', strategy: 'consecutive', metric: 'cost_per_request', condition: 'greater_than', value: 1, consecutive: 2 },
      events: costly([2, 2, 0.1, 3]),
    })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(json(res.body).flagged, 1)
    assert.equal((await post('new-cost', { events: costly([2]) })).statusCode, 404)
  })

  test('a bad definition is refused with each field and its fix, and the loaded detector is untouched', async () => {
    const res = await post('cost-rule', { detector: { type: 'ml', strategy: 'classifier', metric: 'cost' } })
    assert.equal(res.statusCode, 422)
    const body = json(res.body)
    assert.equal(body.error, 'invalid_detector')
    assert.deepEqual(
      (body.details as { field: string }[]).map((d) => d.field),
      ['type'],
    )
    const bad = json(
      (await post('cost-rule', { detector: { type: 'rule', strategy: 'threshold', metric: 'cost', condition: 'greater_than', value: 'one' } })).body,
    )
    assert.deepEqual(
      (bad.details as { field: string; message: string }[]).map((d) => d.field),
      ['value'],
    )
    assert.match((bad.details as { message: string }[])[0]!.message, /give/)
    const listed = json((await it.api.inject({ method: 'GET', url: '/api/v1/detectors' })).body).detectors as { id: string; threshold: number }[]
    assert.equal(listed.find((d) => d.id === 'cost-rule')?.threshold, 1)
  })

  test('an id in the definition must be the path id; invalid events are named by index', async () => {
    assert.equal((await post('cost-rule', { detector: { id: 'other', type: 'rule', strategy: 'threshold', metric: 'cost', value: 1 } })).statusCode, 400)
    const res = await post('cost-rule', { events: [...costly([2]), { event_id: 'x' }] })
    assert.equal(res.statusCode, 400)
    assert.deepEqual(
      (json(res.body).details as { index: number }[]).map((d) => d.index),
      [1],
    )
  })

  test('without events: the newest events this instance wrote, at most `limit`', async () => {
    const ingest = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: costly([3, 0.1, 4, 0.2, 5]) })
    assert.equal(ingest.statusCode, 202, ingest.body)
    const all = json((await post('cost-rule', {})).body)
    assert.deepEqual([all.sample, all.events, all.flagged], ['recent', 5, 3])
    // The newest two: 0.2 and 5.
    const two = json((await post('cost-rule', { limit: 2 })).body)
    assert.deepEqual([two.events, two.flagged], [2, 1])
  })
})
