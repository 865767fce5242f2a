/**
 * An OTLP ExportTraceServiceRequest, from either OTLP/HTTP encoding, as one plain shape: the OTLP
 * JSON encoding's (lowerCamelCase fields, hex trace and span ids, enums as numbers, 64-bit integers
 * as decimal strings). Protobuf bodies are decoded by otlp-proto-types.ts and converted to that
 * shape, so the GenAI mapping reads one form.
 *
 * Only the fields the mapping reads are typed; anything else in a request is carried and ignored.
 */
import { OtlpDecodeError, decodeOtlp, encodeOtlp, otlpType } from './otlp-proto-types.js'

export { OtlpDecodeError }

export interface OtlpAnyValue {
  readonly stringValue?: string
  readonly boolValue?: boolean
  readonly intValue?: string | number
  readonly doubleValue?: number
  readonly arrayValue?: { readonly values?: readonly OtlpAnyValue[] }
  readonly kvlistValue?: { readonly values?: readonly OtlpKeyValue[] }
  readonly bytesValue?: string
}

export interface OtlpKeyValue {
  readonly key: string
  readonly value?: OtlpAnyValue
}

export interface OtlpSpan {
  readonly traceId?: string
  readonly spanId?: string
  readonly name?: string
  readonly kind?: number
  readonly startTimeUnixNano?: string | number
  readonly endTimeUnixNano?: string | number
  readonly attributes?: readonly OtlpKeyValue[]
  /** code: 0 unset, 1 ok, 2 error. */
  readonly status?: { readonly code?: number; readonly message?: string }
}

export interface OtlpResourceSpans {
  readonly resource?: { readonly attributes?: readonly OtlpKeyValue[] }
  readonly scopeSpans?: readonly { readonly scope?: { readonly name?: string; readonly version?: string }; readonly spans?: readonly OtlpSpan[] }[]
}

export interface OtlpTraceRequest {
  readonly resourceSpans?: readonly OtlpResourceSpans[]
}

export const STATUS_CODE_ERROR = 2

const REQUEST = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'
const RESPONSE = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'

const base64ToHex = (value: unknown): unknown => (typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value)

/** Decodes a protobuf ExportTraceServiceRequest into the JSON encoding's shape. */
export function decodeTraceRequestProtobuf(body: Uint8Array): OtlpTraceRequest {
  const plain = decodeOtlp(otlpType(REQUEST), body) as OtlpTraceRequest
  // protobufjs renders bytes as base64; the JSON encoding (and the mapping) uses hex ids.
  for (const resourceSpans of plain.resourceSpans ?? []) {
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const mutable = span as { traceId?: unknown; spanId?: unknown }
        mutable.traceId = base64ToHex(mutable.traceId)
        mutable.spanId = base64ToHex(mutable.spanId)
      }
    }
  }
  return plain
}

/** Checks the top of a JSON-encoded request (the mapping checks each span's fields as it reads them). */
export function traceRequestFromJson(body: unknown): OtlpTraceRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new OtlpDecodeError('the body must be a JSON object ExportTraceServiceRequest ({"resourceSpans": [...]})')
  const resourceSpans = (body as { resourceSpans?: unknown }).resourceSpans
  if (resourceSpans !== undefined && !Array.isArray(resourceSpans)) throw new OtlpDecodeError('resourceSpans must be an array')
  return body as OtlpTraceRequest
}

export interface PartialSuccess {
  readonly rejectedSpans: number
  readonly errorMessage: string
}

/** ExportTraceServiceResponse as protobuf bytes; no partialSuccess when nothing was rejected (the spec's "fully accepted"). */
export function encodeTraceResponseProtobuf(partial: PartialSuccess | null): Uint8Array {
  return encodeOtlp(otlpType(RESPONSE), partial === null ? {} : { partialSuccess: partial })
}
