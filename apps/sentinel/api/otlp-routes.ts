/**
 * OTLP/HTTP receiver: POST /v1/traces and POST /v1/metrics, the paths every OpenTelemetry exporter
 * appends to its endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT=http://sentinel:8080`), in both encodings:
 * `application/x-protobuf` (decoded by protobufjs from the vendored .proto files) and
 * `application/json`, optionally gzip-compressed (`OTEL_EXPORTER_OTLP_COMPRESSION=gzip`; the body
 * limit applies to the decompressed body, so a small bomb is cut off at bodyLimit).
 *
 * GenAI spans (../otlp/genai-span-mapping.ts) and gen_ai.* delta metric points
 * (../otlp/genai-metric-mapping.ts) become TelemetryEvents and go through the same ingest as
 * POST /api/v1/telemetry/events and OTLP/gRPC (otlp-ingest.ts): validation, event-time bounds, recent-id dedup, auth
 * (Authorization: Bearer in the exporter's headers) and rate limit. The answer is OTLP's
 * Export*ServiceResponse in the request's encoding: 200, with `partialSuccess` counting the GenAI
 * spans or points refused and the first reasons; other spans and metrics are not Sentinel's and are
 * not counted as refused. A write failure is 503 with Retry-After, which exporters retry.
 */
import { createGunzip } from 'node:zlib'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { decodeMetricsRequestProtobuf, encodeMetricsResponseProtobuf, metricsRequestFromJson } from '../otlp/otlp-metrics-request.js'
import { OtlpDecodeError, decodeTraceRequestProtobuf, encodeTraceResponseProtobuf, traceRequestFromJson } from '../otlp/otlp-trace-request.js'
import type { RoutesOptions } from './api-context.js'
import { ApiError } from './errors.js'
import { ingestOtlpMetrics, ingestOtlpTraces } from './otlp-ingest.js'

const PROTOBUF = 'application/x-protobuf'

export const otlpRoutes: FastifyPluginAsync<RoutesOptions> = async (app, { ctx }) => {
  app.addContentTypeParser(PROTOBUF, { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = request.headers['content-encoding']
    if (encoding === undefined || encoding === 'identity') return payload
    if (encoding !== 'gzip')
      throw new ApiError(
        415,
        'unsupported_content_encoding',
        `Content-Encoding '${String(encoding).slice(0, 32)}' is not supported; send gzip or no compression`,
      )
    const gunzip = createGunzip()
    payload.on('error', (err) => gunzip.destroy(err))
    // fastify compares bodyLimit with what the parser receives (the decompressed bytes).
    Object.assign(gunzip, { receivedEncodedLength: 0 })
    payload.on('data', (chunk: Buffer) =>
      Object.assign(gunzip, { receivedEncodedLength: (gunzip as unknown as { receivedEncodedLength: number }).receivedEncodedLength + chunk.length }),
    )
    return payload.pipe(gunzip)
  })

  /** One OTLP/HTTP export route: decode by Content-Type, ingest, answer in the request's encoding. */
  const exportRoute = <Request, Partial>(
    path: string,
    summary: string,
    decode: { readonly protobuf: (body: Buffer) => Request; readonly json: (body: unknown) => Request },
    ingest: (request: Request, caller: FastifyRequest) => Promise<Partial | null>,
    encodeProtobuf: (partial: Partial | null) => Uint8Array,
  ): void => {
    app.post(path, { schema: { summary, tags: ['telemetry'] } }, async (request, reply) => {
      const protobuf = (request.headers['content-type'] ?? '').startsWith(PROTOBUF)
      let decoded: Request
      try {
        decoded = protobuf ? decode.protobuf(request.body as Buffer) : decode.json(request.body)
      } catch (err) {
        if (err instanceof OtlpDecodeError) throw new ApiError(400, 'invalid_otlp', err.message)
        throw err
      }
      const partial = await ingest(decoded, request)
      if (protobuf)
        return reply
          .code(200)
          .type(PROTOBUF)
          .send(Buffer.from(encodeProtobuf(partial)))
      return reply.code(200).send(partial === null ? {} : { partialSuccess: partial })
    })
  }

  exportRoute(
    '/traces',
    'OTLP/HTTP traces (protobuf or JSON): GenAI spans become telemetry events',
    { protobuf: decodeTraceRequestProtobuf, json: traceRequestFromJson },
    (traces, request) => ingestOtlpTraces(ctx, traces, request, 'otlp_http'),
    encodeTraceResponseProtobuf,
  )
  exportRoute(
    '/metrics',
    'OTLP/HTTP metrics (protobuf or JSON): gen_ai.* delta data points become llm.metric telemetry events',
    { protobuf: decodeMetricsRequestProtobuf, json: metricsRequestFromJson },
    (metrics, request) => ingestOtlpMetrics(ctx, metrics, request, 'otlp_http'),
    encodeMetricsResponseProtobuf,
  )
}
