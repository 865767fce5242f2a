/**
 * The seed's operations routes: GET /api/v1/health (with `uptime`; /health stays as an alias) and
 * GET /api/v1/config, the effective configuration with every secret of the run left out.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { effectiveConfig } from '../../../../../apps/sentinel/effective-config.js'
import { loadSentinelApp } from '../../../../../apps/sentinel/sentinel-app.js'
import { API_KEY, type Instance, startInstance, stopInstance } from './fixtures.js'

const SECRETS = {
  SENTINEL_API_KEYS: API_KEY,
  SENTINEL_WEBHOOK_URL: 'https://hook-user:hook-pass@hooks.example.com/T000/B000/XXXX',
  SENTINEL_WEBHOOK_SECRET: 'webhook-hmac-secret-value',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B1/slack-secret-path',
  PAGERDUTY_ROUTING_KEY: 'pagerduty-routing-key-value',
  SCHEMA_REGISTRY_URL: 'http://reg-user:reg-pass@registry:8081',
  SCHEMA_REGISTRY_AUTH: 'basic-user:basic-password',
}

describe('GET /api/v1/health and GET /api/v1/config', () => {
  let it: Instance
  before(async () => {
    const app = loadSentinelApp({ sentinel: {} }, { ...SECRETS })
    it = await startInstance({ apiKeys: [API_KEY], effectiveConfig: effectiveConfig(app) })
  })
  after(() => stopInstance(it))

  test('/api/v1/health answers the seed body (status, uptime, version), open; /health is the same', async () => {
    for (const url of ['/api/v1/health', '/health']) {
      const res = await it.api.inject({ method: 'GET', url })
      assert.equal(res.statusCode, 200, url)
      const body = JSON.parse(res.body) as Record<string, unknown>
      assert.equal(body.status, 'healthy')
      assert.equal(typeof body.uptime, 'number')
      assert.equal(body.uptime, body.uptime_seconds)
      assert.equal(typeof body.version, 'string')
    }
  })

  test('/api/v1/config needs the key and shows the effective settings without any secret', async () => {
    assert.equal((await it.api.inject({ method: 'GET', url: '/api/v1/config' })).statusCode, 401)
    const res = await it.api.inject({ method: 'GET', url: '/api/v1/config', headers: { authorization: `Bearer ${API_KEY}` } })
    assert.equal(res.statusCode, 200)
    for (const secret of [API_KEY, 'hook-pass', 'webhook-hmac-secret-value', 'slack-secret-path', 'pagerduty-routing-key-value', 'reg-pass', 'basic-password']) {
      assert.ok(!res.body.includes(secret), `the config shows ${secret}`)
    }
    const body = JSON.parse(res.body) as { sentinel: { api: { apiKeys: unknown }; topics: Record<string, string>; input: { schemaRegistryUrl: string } }; detectors: { detectors: unknown[] }; receivers: { name: string; type: string; enabled: boolean }[] }
    assert.deepEqual(body.sentinel.api.apiKeys, { configured: 1 })
    assert.equal(body.sentinel.topics.aggregations, 'metrics-aggregations')
    assert.equal(body.sentinel.input.schemaRegistryUrl, 'http://registry:8081')
    assert.ok(body.detectors.detectors.length > 5)
    assert.ok(body.receivers.some((r) => r.type === 'pagerduty' && r.enabled))
  })
})
