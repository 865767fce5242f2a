/**
 * OTLP/HTTP trace receiver: POST /v1/traces, the path every OpenTelemetry exporter appends to its
 * endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT=http://sentinel:8080`), in both encodings:
 * `application/x-protobuf` (decoded by protobufjs from the vendored .proto files) and
 * `application/json`, optionally gzip-compressed (`OTEL_EXPORTER_OTLP_COMPRESSION=gzip`; the body
 * limit applies to the decompressed body, so a small bomb is cut off at bodyLimit).
 *
 * GenAI spans become TelemetryEvents (../otlp/genai-span-mapping.ts) and go through the same
 * ingest as POST /api/v1/telemetry/events: validation, event-time bounds, recent-id dedup, auth
 * (Authorization: Bearer in the exporter's headers) and rate limit. The answer is OTLP's
 * ExportTraceServiceResponse in the request's encoding: 200, with `partialSuccess` counting the
 * GenAI spans refused and the first reasons; other spans are not Sentinel's and are not counted as
 * refused. A write failure is 503 with Retry-After, which exporters retry.
 */
import { createGunzip } from 'node:zlib'
import type { FastifyPluginAsync } from 'fastify'
import { genAiSpansToTelemetry } from '../otlp/genai-span-mapping.js'
import { OtlpDecodeError, type OtlpTraceRequest, type PartialSuccess, decodeTraceRequestProtobuf, encodeTraceResponseProtobuf, traceRequestFromJson } from '../otlp/otlp-trace-request.js'
import type { RoutesOptions } from './api-context.js'
import { ApiError } from './errors.js'

const PROTOBUF = 'application/x-protobuf'

/** Reasons quoted in partialSuccess.errorMessage; the rest are counted. */
const MAX_QUOTED_REASONS = 5

export const otlpRoutes: FastifyPluginAsync<RoutesOptions> = async (app, { ctx }) => {
  app.addContentTypeParser(PROTOBUF, { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = request.headers['content-encoding']
    if (encoding === undefined || encoding === 'identity') return payload
    if (encoding !== 'gzip') throw new ApiError(415, 'unsupported_content_encoding', `Content-Encoding '${String(encoding).slice(0, 32)}' is not supported; send gzip or no compression`)
    const gunzip = createGunzip()
    payload.on('error', (err) => gunzip.destroy(err))
    // fastify compares bodyLimit with what the parser receives (the decompressed bytes).
    Object.assign(gunzip, { receivedEncodedLength: 0 })
    payload.on('data', (chunk: Buffer) => Object.assign(gunzip, { receivedEncodedLength: (gunzip as unknown as { receivedEncodedLength: number }).receivedEncodedLength + chunk.length }))
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
      const mapped = genAiSpansToTelemetry(traces)
      if (mapped.events.length > ctx.maxBatchEvents) {
        throw new ApiError(413, 'payload_too_large', `the request has ${mapped.events.length / 2} GenAI spans (two events each); at most ${ctx.maxBatchEvents / 2} per request, lower the exporter's batch size (maxExportBatchSize)`)
      }
      const result = mapped.events.length === 0 ? null : await ctx.ingest.ingest(mapped.events.map((e) => e.event), request, 'otlp_http')
      // A GenAI span that could not be mapped is an invalid input like an invalid event.
      ctx.metrics.eventsRejected('invalid', mapped.rejected.length)
      const reasons = new Map<number, string>()
      for (const r of mapped.rejected) reasons.set(r.span, `span ${r.span} '${r.name}': ${r.message}`)
      for (const error of result?.errors ?? []) {
        const span = mapped.events[error.index]!.span
        if (!reasons.has(span)) reasons.set(span, `span ${span}: ${error.reason}: ${error.issues.map((i) => `${i.path.slice(0, 64)} ${i.message}`).join('; ')}`)
      }
      const partial: PartialSuccess | null =
        reasons.size === 0
          ? null
          : {
              rejectedSpans: reasons.size,
              errorMessage: [...reasons.values()].slice(0, MAX_QUOTED_REASONS).join(' | ') + (reasons.size > MAX_QUOTED_REASONS ? ` | and ${reasons.size - MAX_QUOTED_REASONS} more` : ''),
            }
      request.log.debug({ otlp: { spans: mapped.spans, genai_spans: mapped.spans - mapped.skipped, rejected_spans: reasons.size, accepted_events: result?.accepted ?? 0, duplicates: result?.duplicates ?? 0 } }, 'OTLP traces ingested')
      if (protobuf) return reply.code(200).type(PROTOBUF).send(Buffer.from(encodeTraceResponseProtobuf(partial)))
      return reply.code(200).send(partial === null ? {} : { partialSuccess: partial })
    },
  )
}
