/**
 * The OTLP collector messages, loaded once by protobufjs from the vendored opentelemetry-proto files
 * (proto/, Apache-2.0, upstream commit in proto/README.md: no npm package ships the .proto files;
 * OpenTelemetry's JS exporters carry generated code only). Decoded messages are converted to the
 * OTLP JSON encoding's shape (lowerCamelCase, enums as numbers, 64-bit integers as decimal strings),
 * so each mapping reads one form whichever encoding came in.
 */
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

const PROTO_ROOT = fileURLToPath(new URL('./proto/', import.meta.url))

const SERVICES = ['opentelemetry/proto/collector/trace/v1/trace_service.proto', 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto']

let root: protobuf.Root | undefined

/** A message type by its full name, e.g. opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest. */
export function otlpType(fullName: string): protobuf.Type {
  if (root === undefined) {
    const loading = new protobuf.Root()
    // The .proto files import each other by their path under the proto root.
    loading.resolvePath = (_origin, target) => PROTO_ROOT + target
    loading.loadSync(SERVICES)
    root = loading
  }
  return root.lookupType(fullName)
}

/** Thrown for a body that is not the expected OTLP request: a 400 / INVALID_ARGUMENT, resending cannot succeed. */
export class OtlpDecodeError extends Error {}

/** `body` decoded as `type`, in the JSON encoding's shape (bytes still base64: the caller knows which are ids). */
export function decodeOtlp(type: protobuf.Type, body: Uint8Array): unknown {
  let message: protobuf.Message
  try {
    message = type.decode(body)
  } catch (err) {
    throw new OtlpDecodeError(`the body is not a protobuf ${type.name}: ${(err as Error).message}`)
  }
  return type.toObject(message, { longs: String, enums: Number, bytes: String, defaults: false, arrays: true })
}

/** A response message as protobuf bytes. */
export function encodeOtlp(type: protobuf.Type, value: Record<string, unknown>): Uint8Array {
  return type.encode(type.fromObject(value)).finish()
}
