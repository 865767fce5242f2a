/** A plain gRPC client for the OTLP receiver tests: raw messages in, status or raw response out. */
import * as grpc from '@grpc/grpc-js'
import { otlpType } from '../../../../../apps/sentinel/otlp/otlp-proto-types.js'

export const withKey = (key: string | null): grpc.Metadata => {
  const metadata = new grpc.Metadata()
  if (key !== null) metadata.set('authorization', `Bearer ${key}`)
  return metadata
}

/** A unary call of raw bytes, as any gRPC client makes it. */
export function call(
  address: string,
  path: string,
  message: Buffer,
  metadata: grpc.Metadata,
): Promise<{ error: grpc.ServiceError | null; response: Buffer | undefined }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure())
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (m: Buffer) => m,
      (b: Buffer) => b,
      message,
      metadata,
      (error, response) => {
        client.close()
        resolve({ error, response })
      },
    )
  })
}

/** An Export*ServiceResponse as a plain object (64-bit counts as strings). */
export function decodeResponse<T>(signal: 'trace' | 'metrics', bytes: Buffer): T {
  const type = otlpType(`opentelemetry.proto.collector.${signal}.v1.Export${signal === 'trace' ? 'Trace' : 'Metrics'}ServiceResponse`)
  return type.toObject(type.decode(bytes), { longs: String }) as T
}
