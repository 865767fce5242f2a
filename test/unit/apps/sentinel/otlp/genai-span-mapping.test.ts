/**
 * The GenAI span mapping on its own, for what the SDK tests (api/otlp-traces.test.ts) do not send:
 * older attribute names, JSON numbers for 64-bit times, timeouts, unusable spans.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { genAiSpansToTelemetry } from '../../../../../apps/sentinel/otlp/genai-span-mapping.js'
import type { OtlpKeyValue, OtlpSpan } from '../../../../../apps/sentinel/otlp/otlp-trace-request.js'

const START_NS = 1_767_225_600_000_000_000n // 2026-01-01T00:00:00Z
const kv = (key: string, value: string | number): OtlpKeyValue => ({ key, value: typeof value === 'string' ? { stringValue: value } : Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value } })
const span = (over: Partial<OtlpSpan>): OtlpSpan => ({
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  name: 'chat',
  startTimeUnixNano: String(START_NS),
  endTimeUnixNano: String(START_NS + 1_500_000_000n),
  ...over,
})
const request = (spans: OtlpSpan[], resource: OtlpKeyValue[] = [kv('service.name', 'legacy-bot')]) => ({ resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ spans }] }] })

test('older semantic-convention names, JSON numbers for times, a timeout', () => {
  const mapped = genAiSpansToTelemetry(
    request([
      span({
        // A JSON number above 2^53: rounded by JSON.parse, still within a microsecond.
        startTimeUnixNano: Number(START_NS),
        endTimeUnixNano: Number(START_NS + 30_000_000_000n),
        attributes: [kv('gen_ai.system', 'openai'), kv('gen_ai.request.model', 'gpt-3.5-turbo'), kv('gen_ai.usage.prompt_tokens', 12), kv('gen_ai.usage.completion_tokens', 0), kv('enduser.id', 'alice'), kv('error.type', 'TimeoutError')],
        status: { code: 2, message: 'deadline exceeded' },
      }),
    ]),
  )
  assert.deepEqual(mapped.rejected, [])
  const [req, outcome] = mapped.events.map((e) => e.event)
  assert.equal(req?.timestamp, '2026-01-01T00:00:00.000Z')
  assert.deepEqual(req?.metadata, { user_id: 'alice', tags: { 'gen_ai.system': 'openai' } })
  assert.equal(outcome?.event_type, 'llm.error')
  assert.deepEqual(outcome?.data, { status: 'timeout', latency_ms: 30_000, model: 'gpt-3.5-turbo', prompt_tokens: 12, completion_tokens: 0, total_tokens: 12, finish_reason: 'error' })
})

test('the same span gives the same event ids (an exporter retry); other spans skipped; unusable GenAI spans rejected with the reason', () => {
  const genai = span({ attributes: [kv('gen_ai.request.model', 'm')] })
  const first = genAiSpansToTelemetry(request([genai])).events.map((e) => e.event.event_id)
  assert.deepEqual(genAiSpansToTelemetry(request([genai])).events.map((e) => e.event.event_id), first)
  assert.equal(new Set(first).size, 2)

  const mapped = genAiSpansToTelemetry(
    request([
      span({ attributes: [kv('http.route', '/x')] }),
      span({ attributes: [kv('gen_ai.request.model', 'm')], endTimeUnixNano: String(START_NS - 1n) }),
      span({ attributes: [kv('gen_ai.request.model', 'm')], spanId: 'xyz' }),
    ]),
  )
  assert.equal(mapped.skipped, 1)
  assert.equal(mapped.spans, 3)
  assert.deepEqual(mapped.rejected.map((r) => [r.span, r.message]), [
    [1, 'startTimeUnixNano and endTimeUnixNano are required, end not before start'],
    [2, 'traceId (32 hex digits) and spanId (16 hex digits) are required'],
  ])
  assert.deepEqual(genAiSpansToTelemetry(request([genai], [])).rejected.map((r) => r.message), ['the resource needs service.name (it is the application_id)'])
})
