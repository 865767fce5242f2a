/**
 * The seed's Shield `ActionRequest` (001, shield-action.proto) as JSON in the proto3 JSON mapping:
 * `POST {endpoint}/v1/actions`. The seed has Shield speak gRPC (`ShieldAction.EnforceAction`); this
 * receiver talks to an HTTP JSON gateway in front of it (grpc-gateway style) — a gRPC client is out
 * of scope here.
 *
 * - action_id: UUIDv5 of the alert id and receiver, so a resend (retry, redelivered batch) carries
 *   the same id and Shield can apply it once.
 * - type: the rule action's `config.action` (block, rate_limit, ...), else the receiver's `action`,
 *   else ALERT_ONLY (checkReferences refuses that case at start).
 * - target_entity: the action's `config.target_entity` as given; else `config.target` (user,
 *   application, model, endpoint) picks that entity from the anomaly or the alert's group; else the
 *   anomaly's affected entity; written `type:id`, e.g. `user:u-123`.
 * - duration: proto3 JSON Duration (`"3600s"`) of `config.duration`, else the receiver's, else absent.
 * - parameters: the action's `config.parameters` as strings, plus alert_id, rule_id, anomaly_id,
 *   severity and score.
 */
import { createHash } from 'node:crypto'
import type { AlertAction, AlertEvent } from '../../../schemas/alert/alert-event.js'
import { parseDuration } from '../detectors-config.js'
import { type ShieldActionType, type ShieldReceiver, shieldActionOf } from './receivers-config.js'

export interface ShieldActionRequest {
  readonly action_id: string
  readonly type: ShieldActionType
  readonly target_entity: string
  readonly reason: string
  readonly duration?: string
  readonly parameters: Readonly<Record<string, string>>
}

const SHIELD_NAMESPACE = Buffer.from('3d0c8f4e1a2b4c6d8e9f0a1b2c3d4e5f', 'hex')

/** A UUID version 5 (SHA-1 of namespace + name), as anomaly ids are made. */
export function shieldActionId(alertId: string, receiver: string): string {
  const hash = createHash('sha1').update(SHIELD_NAMESPACE).update(`${alertId.length}:${alertId}|${receiver}`, 'utf8').digest()
  hash[6] = (hash[6]! & 0x0f) | 0x50
  hash[8] = (hash[8]! & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const GROUP_FIELD: Record<string, readonly string[]> = {
  user: ['user_id', 'user'],
  application: ['application_id', 'application'],
  model: ['model', 'model_id'],
  endpoint: ['endpoint'],
  tenant: ['tenant_id', 'tenant'],
}

function targetEntity(alert: AlertEvent, config: Readonly<Record<string, unknown>>): string {
  if (typeof config.target_entity === 'string' && config.target_entity.length > 0) return config.target_entity
  const entity = alert.anomaly.affected_entity
  const kind = typeof config.target === 'string' ? config.target : null
  if (kind !== null && GROUP_FIELD[kind] !== undefined) {
    if (entity?.type === kind && entity.id !== null) return `${kind}:${entity.id}`
    if (kind === 'application' && alert.application_id !== null) return `application:${alert.application_id}`
    if (kind === 'tenant' && alert.anomaly.tenant_id !== null) return `tenant:${alert.anomaly.tenant_id}`
    for (const field of GROUP_FIELD[kind] ?? []) {
      const value = alert.group[field]
      if (value !== undefined) return `${kind}:${value}`
    }
  }
  if (entity && entity.id !== null) return `${entity.type ?? 'entity'}:${entity.id}`
  return `application:${alert.application_id ?? alert.anomaly.application_id ?? 'unknown'}`
}

export function shieldActionRequest(alert: AlertEvent, action: AlertAction | null, receiver: Pick<ShieldReceiver, 'name' | 'action' | 'durationMs'>): ShieldActionRequest {
  const config = action?.config ?? {}
  const parameters: Record<string, string> = {}
  const given = config.parameters
  if (typeof given === 'object' && given !== null && !Array.isArray(given))
    for (const [k, v] of Object.entries(given)) parameters[k] = typeof v === 'string' ? v : JSON.stringify(v)
  Object.assign(parameters, {
    alert_id: alert.alert_id,
    rule_id: alert.rule_id,
    anomaly_id: alert.anomaly.anomaly_id,
    severity: alert.severity,
    score: String(alert.anomaly.score),
  })
  const durationMs = (config.duration === undefined ? null : parseDuration(config.duration)) ?? receiver.durationMs
  const givenReason = typeof given === 'object' && given !== null ? (given as Record<string, unknown>).reason : undefined
  const reason = typeof givenReason === 'string' && givenReason.length > 0 ? givenReason : alert.title
  const request: ShieldActionRequest = {
    action_id: shieldActionId(alert.alert_id, receiver.name),
    type: shieldActionOf(config.action) ?? receiver.action ?? 'ALERT_ONLY',
    target_entity: targetEntity(alert, config),
    reason,
    parameters,
  }
  return durationMs === null ? request : { ...request, duration: `${durationMs / 1000}s` }
}
