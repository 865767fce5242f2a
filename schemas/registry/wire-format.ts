/**
 * The Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian int, then the body.
 * Framing is the library's own encoder/decoder (they are not re-exported from its index, hence the
 * deep imports); this module adds the checks the library leaves out, so a short or foreign buffer is
 * a `SerdeError` naming the problem rather than a RangeError from deep inside.
 */
import * as wireEncoder from '@kafkajs/confluent-schema-registry/dist/wireEncoder.js'
import wireDecoder from '@kafkajs/confluent-schema-registry/dist/wireDecoder.js'
import { SerdeError } from '../serde.js'

/** Magic byte (1) + schema id (4). */
export const WIRE_HEADER_BYTES = 5

export function frame(schemaId: number, body: Buffer): Buffer {
  return wireEncoder.encode(schemaId, body)
}

export interface Framed {
  schemaId: number
  body: Buffer
}

export function unframe(data: Buffer, serde: string): Framed {
  if (data.length < WIRE_HEADER_BYTES) {
    throw new SerdeError(serde, `${data.length} bytes is too short for the Confluent wire format (magic byte + 4-byte schema id + body)`)
  }
  const { magicByte, registryId, payload } = wireDecoder.default(data)
  if (!magicByte.equals(wireEncoder.MAGIC_BYTE)) {
    throw new SerdeError(
      serde,
      `magic byte is ${magicByte[0]}, expected 0: this is not Confluent wire format (a plain JSON or Avro record on a registry topic?)`,
    )
  }
  return { schemaId: registryId, body: payload }
}

/** The schema id of a framed record, or undefined if it is not in the wire format. Never throws. */
export function peekSchemaId(data: Buffer | null | undefined): number | undefined {
  if (!data || data.length < WIRE_HEADER_BYTES || data[0] !== 0) return undefined
  return wireDecoder.default(data).registryId
}
