/**
 * OTLP attributes as a plain map, and the TelemetryEvent fields every OTLP signal fills the same
 * way from its resource and its own attributes (application, source, tenant, user, session,
 * environment, GenAI tags): spans (genai-span-mapping.ts) and metric points
 * (genai-metric-mapping.ts) share them, so the mapping table in ../README.md holds for both.
 */
import type { Environment, TelemetryEvent, TelemetryMetadata } from '../../../schemas/telemetry/index.js'
import type { OtlpAnyValue, OtlpKeyValue } from './otlp-trace-request.js'

export type Attributes = ReadonlyMap<string, string | number | boolean | readonly (string | number | boolean)[]>

function scalar(value: OtlpAnyValue | undefined): string | number | boolean | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value.stringValue === 'string') return value.stringValue
  if (typeof value.boolValue === 'boolean') return value.boolValue
  if (value.intValue !== undefined) {
    const n = Number(value.intValue)
    return Number.isFinite(n) ? n : undefined
  }
  if (typeof value.doubleValue === 'number') return value.doubleValue
  return undefined
}

export function attributes(list: readonly OtlpKeyValue[] | undefined): Attributes {
  const map = new Map<string, string | number | boolean | readonly (string | number | boolean)[]>()
  if (!Array.isArray(list)) return map
  for (const kv of list) {
    if (typeof kv?.key !== 'string') continue
    const values = kv.value?.arrayValue?.values
    if (Array.isArray(values))
      map.set(
        kv.key,
        values.map(scalar).filter((v): v is string | number | boolean => v !== undefined),
      )
    else {
      const v = scalar(kv.value)
      if (v !== undefined) map.set(kv.key, v)
    }
  }
  return map
}

/** The first of `keys` set in the first source that has one (the span's or point's, else the resource's), as text. */
export function text(keys: readonly string[], ...sources: readonly Attributes[]): string | undefined {
  for (const source of sources) {
    for (const key of keys) {
      const v = source.get(key)
      if (typeof v === 'string' && v !== '') return v
      if (typeof v === 'number' || typeof v === 'boolean') return String(v)
    }
  }
  return undefined
}

export function count(attrs: Attributes, ...keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const v = attrs.get(key)
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v
  }
  return undefined
}

export function real(attrs: Attributes, key: string): number | undefined {
  const v = attrs.get(key)
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

/** Nanoseconds since the epoch (decimal string or number) as BigInt, or null. */
export function nanos(value: string | number | undefined): bigint | null {
  // JSON numbers above 2^53 arrive rounded (to ~256 ns today): still far finer than a millisecond.
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return BigInt(Math.round(value))
  if (typeof value === 'string' && /^\d{1,20}$/.test(value) && value !== '0') return BigInt(value)
  return null
}

const ENVIRONMENTS: Readonly<Record<string, Environment>> = {
  dev: 'dev',
  development: 'dev',
  staging: 'staging',
  stage: 'staging',
  prod: 'prod',
  production: 'prod',
}

export const isGenAi = (attrs: Attributes): boolean => [...attrs.keys()].some((k) => k.startsWith('gen_ai.'))

export const iso = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString()

export type EventOrigin = Pick<TelemetryEvent, 'source' | 'application_id' | 'tenant_id' | 'metadata'>

/** Who sent a span or data point, or why it cannot be told (no service.name). */
export function eventOrigin(attrs: Attributes, resource: Attributes): EventOrigin | string {
  const application = text(['service.name'], resource, attrs)
  if (application === undefined) return 'the resource needs service.name (it is the application_id)'
  const tenant = text(['tenant.id'], attrs, resource)
  const user = text(['user.id', 'enduser.id'], attrs, resource)
  const session = text(['session.id', 'gen_ai.conversation.id'], attrs, resource)
  const environment = ENVIRONMENTS[(text(['deployment.environment.name', 'deployment.environment'], resource, attrs) ?? '').toLowerCase()]
  const tags = Object.fromEntries(
    (['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.system'] as const).flatMap((key) => {
      const v = text([key], attrs)
      return v === undefined ? [] : [[key, v]]
    }),
  )
  const metadata: TelemetryMetadata = {
    ...(user === undefined ? {} : { user_id: user }),
    ...(session === undefined ? {} : { session_id: session }),
    ...(environment === undefined ? {} : { environment }),
    ...(Object.keys(tags).length === 0 ? {} : { tags }),
  }
  const version = text(['service.version'], resource)
  return {
    source: { service: application, host: text(['host.name'], resource) ?? 'unknown', ...(version === undefined ? {} : { version }) },
    application_id: application,
    ...(tenant === undefined ? {} : { tenant_id: tenant }),
    ...(Object.keys(metadata).length === 0 ? {} : { metadata }),
  }
}
