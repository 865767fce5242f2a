/**
 * OTLP/gRPC receiver: the collector's TraceService and MetricsService
 * (`opentelemetry.proto.collector.{trace,metrics}.v1`) on its own port (OTLP's 4317 by convention; off unless `sentinel.otlp.grpcPort` or
 * SENTINEL_OTLP_GRPC_PORT is set). Messages are decoded by protobufjs from the vendored
 * opentelemetry-proto files, as OTLP/HTTP protobuf bodies are, and go through the same ingest
 * (otlp-ingest.ts), so the mapping, validation, dedup and counting are the HTTP receiver's.
 *
 * Authentication is the API's (bearer-auth.ts): an exporter sends `authorization: Bearer <key>` as
 * gRPC metadata (OTEL_EXPORTER_OTLP_HEADERS). A missing or wrong key is UNAUTHENTICATED; an address
 * past its failed-authentication budget (shared with HTTP) is RESOURCE_EXHAUSTED, as HTTP's 429.
 * ApiErrors map to gRPC codes as OTLP's HTTP-to-gRPC table does: a write failure (503) is
 * UNAVAILABLE, which exporters retry; a bad or too large request is INVALID_ARGUMENT, which they do
 * not. gzip-compressed messages are decompressed by grpc-js; the largest message is the API's body
 * limit.
 */
import * as grpc from '@grpc/grpc-js'
import type { FastifyBaseLogger } from 'fastify'
import { randomUUID } from 'node:crypto'
import { decodeMetricsRequestProtobuf, encodeMetricsResponseProtobuf } from '../otlp/otlp-metrics-request.js'
import { OtlpDecodeError, decodeTraceRequestProtobuf, encodeTraceResponseProtobuf } from '../otlp/otlp-trace-request.js'
import type { ApiContext } from './api-context.js'
import type { AuthFailureLimit } from './auth-failure-limit.js'
import { ApiKeys } from './bearer-auth.js'
import { ApiError } from './errors.js'
import { type OtlpCaller, ingestOtlpMetrics, ingestOtlpTraces } from './otlp-ingest.js'

export interface OtlpGrpcServerOptions {
  readonly ctx: ApiContext
  readonly apiKeys: ApiKeys
  readonly failures: AuthFailureLimit | undefined
  readonly log: FastifyBaseLogger
  /** Largest message, bytes (the API's body limit). */
  readonly maxMessageBytes: number
}

/** One OTLP export RPC: the decoded request's answer as protobuf bytes; throws OtlpDecodeError or ApiError. */
export type OtlpExportHandler = (message: Buffer, caller: OtlpCaller) => Promise<Uint8Array>

const unary = (path: string): grpc.MethodDefinition<Buffer, Uint8Array> => ({
  path,
  requestStream: false,
  responseStream: false,
  // Bytes through: the handler decodes, so a malformed message is an INVALID_ARGUMENT with the reason.
  requestSerialize: (message: Buffer) => message,
  requestDeserialize: (bytes: Buffer) => bytes,
  responseSerialize: (message: Uint8Array) => Buffer.from(message),
  responseDeserialize: (bytes: Buffer) => bytes,
})

export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export'
export const METRICS_EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'

const statusOf = (error: ApiError): grpc.status => {
  if (error.statusCode === 503) return grpc.status.UNAVAILABLE
  if (error.statusCode === 429) return grpc.status.RESOURCE_EXHAUSTED
  if (error.statusCode === 401) return grpc.status.UNAUTHENTICATED
  if (error.statusCode === 403) return grpc.status.PERMISSION_DENIED
  if (error.statusCode >= 400 && error.statusCode < 500) return grpc.status.INVALID_ARGUMENT
  return grpc.status.INTERNAL
}

/** The client's address without its port, the key of the failed-authentication budget (as HTTP's request.ip). */
function peerAddress(peer: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(peer)
  if (bracketed) return bracketed[1]!
  const plain = /^([^:]+):\d+$/.exec(peer)
  return plain ? plain[1]! : peer
}

export class OtlpGrpcServer {
  private readonly server: grpc.Server
  private port: number | null = null

  constructor(private readonly options: OtlpGrpcServerOptions) {
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': options.maxMessageBytes })
    const { ctx } = options
    this.addExport(TRACE_EXPORT_PATH, async (message, caller) =>
      encodeTraceResponseProtobuf(await ingestOtlpTraces(ctx, decodeTraceRequestProtobuf(message), caller, 'otlp_grpc')),
    )
    this.addExport(METRICS_EXPORT_PATH, async (message, caller) =>
      encodeMetricsResponseProtobuf(await ingestOtlpMetrics(ctx, decodeMetricsRequestProtobuf(message), caller, 'otlp_grpc')),
    )
  }

  /** Serves `handler` at `path` (a collector service's Export), behind the API keys. */
  addExport(path: string, handler: OtlpExportHandler): void {
    const { apiKeys, failures, log } = this.options
    const name = path.slice(path.lastIndexOf('.', path.lastIndexOf('/')) + 1)
    const definition: grpc.ServiceDefinition = { Export: unary(path) }
    const implementation: grpc.UntypedServiceImplementation = {
      Export: (call: grpc.ServerUnaryCall<Buffer, Uint8Array>, callback: grpc.sendUnaryData<Uint8Array>) => {
        const id = randomUUID()
        const caller: OtlpCaller = { id, log: log.child({ reqId: id, rpc: name }) }
        if (apiKeys.enabled) {
          const [authorization] = call.metadata.get('authorization')
          const refused = apiKeys.refusal(ApiKeys.bearer(authorization), peerAddress(call.getPeer()), failures)
          if (refused !== null) {
            callback({ code: refused.reason === 'too_many_failures' ? grpc.status.RESOURCE_EXHAUSTED : grpc.status.UNAUTHENTICATED, details: refused.message })
            return
          }
        }
        handler(call.request, caller).then(
          (response) => callback(null, response),
          (err: unknown) => {
            if (err instanceof OtlpDecodeError) return callback({ code: grpc.status.INVALID_ARGUMENT, details: err.message })
            if (err instanceof ApiError) return callback({ code: statusOf(err), details: err.message })
            caller.log.error({ err }, 'OTLP/gRPC export failed')
            callback({ code: grpc.status.INTERNAL, details: `internal error; the cause is in the server log under request id ${id}` })
          },
        )
      },
    }
    this.server.addService(definition, implementation)
  }

  /** Binds and serves; the address as host:port (port 0 picks a free one). */
  async listen(host: string, port: number): Promise<string> {
    this.port = await new Promise<number>((resolve, reject) => {
      // TLS is a proxy's job here, as for the REST API.
      this.server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      )
    })
    return `${host.includes(':') ? `[${host}]` : host}:${this.port}`
  }

  /** Stops taking calls and waits for the running ones (forced after `graceMs`). */
  async close(graceMs = 5000): Promise<void> {
    if (this.port === null) return
    this.port = null
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown()
        resolve()
      }, graceMs)
      force.unref()
      this.server.tryShutdown(() => {
        clearTimeout(force)
        resolve()
      })
    })
  }
}
