/**
 * An OTLP ExportMetricsServiceRequest, from protobuf (otlp-proto-types.ts) or the JSON encoding, as
 * the JSON encoding's shape. Only the fields the GenAI metric mapping reads are typed.
 */
import { OtlpDecodeError, decodeOtlp, encodeOtlp, otlpType } from './otlp-proto-types.js'
import type { OtlpKeyValue } from './otlp-trace-request.js'

/** AggregationTemporality of metrics.proto. */
export const TEMPORALITY_DELTA = 1
export const TEMPORALITY_CUMULATIVE = 2

export interface OtlpNumberDataPoint {
  readonly attributes?: readonly OtlpKeyValue[]
  readonly startTimeUnixNano?: string | number
  readonly timeUnixNano?: string | number
  readonly asDouble?: number
  readonly asInt?: string | number
}

/** A histogram or exponential histogram point: only its count and sum are read. */
export interface OtlpHistogramDataPoint {
  readonly attributes?: readonly OtlpKeyValue[]
  readonly startTimeUnixNano?: string | number
  readonly timeUnixNano?: string | number
  readonly count?: string | number
  readonly sum?: number
}

export interface OtlpMetric {
  readonly name?: string
  readonly unit?: string
  readonly gauge?: { readonly dataPoints?: readonly OtlpNumberDataPoint[] }
  readonly sum?: { readonly dataPoints?: readonly OtlpNumberDataPoint[]; readonly aggregationTemporality?: number }
  readonly histogram?: { readonly dataPoints?: readonly OtlpHistogramDataPoint[]; readonly aggregationTemporality?: number }
  readonly exponentialHistogram?: { readonly dataPoints?: readonly OtlpHistogramDataPoint[]; readonly aggregationTemporality?: number }
  readonly summary?: { readonly dataPoints?: readonly unknown[] }
}

export interface OtlpMetricsRequest {
  readonly resourceMetrics?: readonly {
    readonly resource?: { readonly attributes?: readonly OtlpKeyValue[] }
    readonly scopeMetrics?: readonly { readonly metrics?: readonly OtlpMetric[] }[]
  }[]
}

const REQUEST = 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'
const RESPONSE = 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'

export function decodeMetricsRequestProtobuf(body: Uint8Array): OtlpMetricsRequest {
  return decodeOtlp(otlpType(REQUEST), body) as OtlpMetricsRequest
}

/** Checks the top of a JSON-encoded request (the mapping checks each point's fields as it reads them). */
export function metricsRequestFromJson(body: unknown): OtlpMetricsRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new OtlpDecodeError('the body must be a JSON object ExportMetricsServiceRequest ({"resourceMetrics": [...]})')
  const resourceMetrics = (body as { resourceMetrics?: unknown }).resourceMetrics
  if (resourceMetrics !== undefined && !Array.isArray(resourceMetrics)) throw new OtlpDecodeError('resourceMetrics must be an array')
  return body as OtlpMetricsRequest
}

export interface MetricsPartialSuccess {
  readonly rejectedDataPoints: number
  readonly errorMessage: string
}

/** ExportMetricsServiceResponse as protobuf bytes; no partialSuccess when nothing was rejected. */
export function encodeMetricsResponseProtobuf(partial: MetricsPartialSuccess | null): Uint8Array {
  return encodeOtlp(otlpType(RESPONSE), partial === null ? {} : { partialSuccess: partial })
}
