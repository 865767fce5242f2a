/** Shared fixtures of the delivery tests: an alert, a receivers config, a local HTTP receiver. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AlertEvent } from '../../../../../schemas/alert/alert-event.js'
import { DEFAULT_DELIVERY, type DeliverySettings } from '../../../../../apps/sentinel/delivery/receivers-config.js'

export function sampleAlert(overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
    alert_id: '7d3c1a52-0b1e-5c4f-9a77-3f2e1d0c9b8a',
    rule_id: 'critical-anomalies',
    rule_name: 'Critical anomalies',
    timestamp: '2025-11-06T12:35:00.000Z',
    severity: 'critical',
    group: { detector_id: 'token-rate-spike', application_id: 'chatbot-prod' },
    title: 'Token rate spike detected in chatbot-prod',
    description: 'Token processing rate increased by 450% above baseline',
    application_id: 'chatbot-prod',
    anomaly_ids: ['660e8400-e29b-41d4-a716-446655440001'],
    anomaly: {
      anomaly_id: '660e8400-e29b-41d4-a716-446655440001',
      timestamp: '2025-11-06T12:35:00.000Z',
      detector_id: 'token-rate-spike',
      detector_type: 'statistical',
      severity: 'critical',
      score: 0.87,
      status: 'active',
      application_id: 'chatbot-prod',
      tenant_id: null,
      title: 'Token rate spike',
      description: 'Token processing rate increased by 450% above baseline',
      affected_entity: { type: 'model', id: 'gpt-4', name: 'GPT-4 Turbo' },
      metrics: { baseline_value: 1000, observed_value: 5500, deviation: 4.5, threshold: 3 },
      context: null,
      actions_taken: [],
      // The detector groups by model (affected_entity is the model).
      dimensions: { model: 'gpt-4' },
    },
    aggregation: null,
    suppressed_count: 0,
    actions: [{ type: 'notification', config: { receivers: ['hook'] } }],
    ...overrides,
  }
}

/** Fast delivery settings for tests: millisecond backoffs, short timeouts. */
export function fastDelivery(overrides: Partial<DeliverySettings> = {}): DeliverySettings {
  return {
    ...DEFAULT_DELIVERY,
    timeoutMs: 2_000,
    retry: { maxAttempts: 4, initialBackoffMs: 1, maxBackoffMs: 5 },
    circuitBreaker: { failureThreshold: 3, successThreshold: 1, coolDownMs: 60_000 },
    ...overrides,
  }
}

export interface ReceivedRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

export interface TestReceiver {
  readonly url: string
  readonly requests: ReceivedRequest[]
  close(): Promise<void>
}

/** A local HTTP receiver; `respond` decides each answer (the n-th request is `requests.length - 1`). */
export async function startReceiver(respond: (request: ReceivedRequest, index: number, res: ServerResponse) => void): Promise<TestReceiver> {
  const requests: ReceivedRequest[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      requests.push(received)
      respond(received, requests.length - 1, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function reply(res: ServerResponse, status: number, body = '', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain', ...headers })
  res.end(body)
}
