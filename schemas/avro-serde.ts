import { readFileSync } from 'node:fs'
import avro from 'avsc'
import { type Serde, SerdeError } from './serde.js'

/**
 * Raw Avro binary (no Schema Registry framing): both sides must agree on the schema out of band.
 * For the Confluent wire format use the Schema Registry serde in `schemas/registry/`.
 */
export function avroSerde<T>(schema: avro.Schema | avro.Type, options: { name?: string } = {}): Serde<T> {
  const type = schema instanceof avro.Type ? schema : avro.Type.forSchema(schema)
  const name = options.name ?? `avro(${type.name ?? type.typeName})`
  return {
    name,
    serialize(value) {
      try {
        return type.toBuffer(value)
      } catch (err) {
        throw new SerdeError(name, `value does not match the schema: ${(err as Error).message}`, { cause: err })
      }
    },
    deserialize(data) {
      try {
        return type.fromBuffer(data) as T
      } catch (err) {
        throw new SerdeError(name, `cannot decode: ${(err as Error).message}`, { cause: err })
      }
    },
  }
}

/** Raw Avro from an `.avsc` file (JSON schema). */
export function avroSerdeFromFile<T>(path: string, options: { name?: string } = {}): Serde<T> {
  let schema: avro.Schema
  try {
    schema = JSON.parse(readFileSync(path, 'utf8')) as avro.Schema
  } catch (err) {
    throw new Error(`cannot read Avro schema ${path}: ${(err as Error).message}`, { cause: err })
  }
  return avroSerde<T>(schema, options)
}
