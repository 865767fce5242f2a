/**
 * An OTLP ExportTraceServiceRequest, from either OTLP/HTTP encoding, as one plain shape: the OTLP
 * JSON encoding's (lowerCamelCase fields, hex trace and span ids, enums as numbers, 64-bit integers
 * as decimal strings). Protobuf bodies are decoded by protobufjs from the vendored
 * opentelemetry-proto files (proto/, Apache-2.0, upstream commit in proto/README.md) and converted
 * to that shape, so the GenAI mapping reads one form.
 *
 * Only the fields the mapping reads are typed; anything else in a request is carried and ignored.
 */
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

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

const PROTO_ROOT = fileURLToPath(new URL('./proto/', import.meta.url))

let types: { request: protobuf.Type; response: protobuf.Type } | undefined

function protoTypes(): { request: protobuf.Type; response: protobuf.Type } {
  if (types === undefined) {
    const root = new protobuf.Root()
    // The .proto files import each other by their path under the proto root.
    root.resolvePath = (_origin, target) => PROTO_ROOT + target
    root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto')
    types = {
      request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
      response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    }
  }
  return types
}

/** Thrown for a body that is not an ExportTraceServiceRequest: a 400, resending cannot succeed. */
export class OtlpDecodeError extends Error {}

const base64ToHex = (value: unknown): unknown => (typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value)

/** Decodes a protobuf ExportTraceServiceRequest into the JSON encoding's shape. */
export function decodeTraceRequestProtobuf(body: Uint8Array): OtlpTraceRequest {
  const { request } = protoTypes()
  let message: protobuf.Message
  try {
    message = request.decode(body)
  } catch (err) {
    throw new OtlpDecodeError(`the body is not a protobuf ExportTraceServiceRequest: ${(err as Error).message}`)
  }
  const plain = request.toObject(message, { longs: String, enums: Number, bytes: String, defaults: false, arrays: true }) as OtlpTraceRequest
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
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OtlpDecodeError('the body must be a JSON object ExportTraceServiceRequest ({"resourceSpans": [...]})')
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
  const { response } = protoTypes()
  return response.encode(response.fromObject(partial === null ? {} : { partialSuccess: partial })).finish()
}
