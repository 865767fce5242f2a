/**
 * OTLP/HTTP trace receiver: POST /v1/traces, the path every OpenTelemetry exporter appends to its
 * endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT=http://sentinel:8080`), in both encodings:
 * `application/x-protobuf` (decoded by protobufjs from the vendored .proto files) and
 * `application/json`, optionally gzip-compressed (`OTEL_EXPORTER_OTLP_COMPRESSION=gzip`; the body
 * limit applies to the decompressed body, so a small bomb is cut off at bodyLimit).
 *
 * GenAI spans become TelemetryEvents (../otlp/genai-span-mapping.ts) and go through the same
 * ingest as POST /api/v1/telemetry/events and OTLP/gRPC (otlp-ingest.ts): validation, event-time bounds, recent-id dedup, auth
 * (Authorization: Bearer in the exporter's headers) and rate limit. The answer is OTLP's
 * ExportTraceServiceResponse in the request's encoding: 200, with `partialSuccess` counting the
 * GenAI spans refused and the first reasons; other spans are not Sentinel's and are not counted as
 * refused. A write failure is 503 with Retry-After, which exporters retry.
 */
import { createGunzip } from 'node:zlib'
import type { FastifyPluginAsync } from 'fastify'
import {
  OtlpDecodeError,
  type OtlpTraceRequest,
  decodeTraceRequestProtobuf,
  encodeTraceResponseProtobuf,
  traceRequestFromJson,
} from '../otlp/otlp-trace-request.js'
import type { RoutesOptions } from './api-context.js'
import { ApiError } from './errors.js'
import { ingestOtlpTraces } from './otlp-ingest.js'

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

  app.post(
    '/traces',
    { schema: { summary: 'OTLP/HTTP traces (protobuf or JSON): GenAI spans become telemetry events', tags: ['telemetry'] } },
    async (request, reply) => {
      const protobuf = (request.headers['content-type'] ?? '').startsWith(PROTOBUF)
      let traces: OtlpTraceRequest
      try {
        traces = protobuf ? decodeTraceRequestProtobuf(request.body as Buffer) : traceRequestFromJson(request.body)
      } catch (err) {
        if (err instanceof OtlpDecodeError) throw new ApiError(400, 'invalid_otlp', err.message)
        throw err
      }
      const partial = await ingestOtlpTraces(ctx, traces, request, 'otlp_http')
      if (protobuf)
        return reply
          .code(200)
          .type(PROTOBUF)
          .send(Buffer.from(encodeTraceResponseProtobuf(partial)))
      return reply.code(200).send(partial === null ? {} : { partialSuccess: partial })
    },
  )
}
