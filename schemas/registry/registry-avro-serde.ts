/**
 * Avro values in the Confluent Schema Registry wire format (magic byte 0 + 4-byte big-endian schema id
 * + Avro body), through `@kafkajs/confluent-schema-registry` (HTTP, schema parsing) and avsc (encoding).
 *
 * Design: `serialize` and `deserialize` are synchronous (the Serde contract) and never touch the
 * network, so every registry round trip happens in a few async entry points, each at most once per
 * topic or schema id:
 *
 * - Writing: `prepare(topic)` resolves the writer schema id of the topic's subject once — registering
 *   the serde's schema (`autoRegister`, the default, as Confluent's serializers do) or looking it up
 *   (`autoRegister: false`), or taking a pinned `useSchemaId`. `serialize` to a topic that was not
 *   prepared throws `UnpreparedTopicError` (whose `ready()` prepares it) instead of awaiting.
 * - Reading: readers are cached per writer schema id (an avsc resolver from the writer schema into the
 *   serde's schema, the reader). A record whose id is not cached makes `deserialize` throw
 *   `UnknownSchemaIdError` carrying the id; the runtime awaits `error.ready()` (= `prefetchSchema(id)`)
 *   once and retries that record. Better still, it calls `prefetchFor(batch)` before a fetched batch:
 *   one await per batch, and only when the batch holds an id not seen before.
 * - An id the registry does not know (404) is remembered as missing for `missingSchemaTtlMs`; the
 *   retry then throws a plain `SerdeError` ("schema id N does not exist"), so such a record goes to
 *   the DLQ like any unreadable record. A registry that cannot be reached makes `ready()` reject with
 *   the transport error: that is an outage, not a bad record, and must not fill the DLQ.
 * - Bytes that are not in the wire format, a body that does not decode, and a writer schema the reader
 *   cannot resolve (an incompatible change) are `SerdeError`s naming the schema id and the cause.
 *
 * Without a `registry` the serde is offline: it knows only `knownSchemas`, and an unknown id is a
 * `SerdeError` at once. That is how the TopologyTestDriver and unit tests use it, deterministically.
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import avro from 'avsc'
import { type Serde, SerdeError } from '../serde.js'
import { UnknownSchemaIdError, UnpreparedTopicError } from './errors.js'
import { createRegistryClient } from './registry-client.js'
import { type SubjectNameStrategy, topicNameStrategy } from './subject-name-strategy.js'
import { frame, peekSchemaId, unframe } from './wire-format.js'

export interface RegistryAvroSerdeOptions {
  /** The registry: a library client, or its Confluent-compatible base URL. Omit for an offline serde. */
  registry?: SchemaRegistry | string
  /** The Avro record schema values are written with and read into (the reader schema). */
  schema: avro.Schema | avro.Type
  /** Register the schema under the subject in `prepare()` (default true); false looks its id up. */
  autoRegister?: boolean
  /** Write with this schema id instead of resolving one per subject (Confluent's `use.schema.id`). */
  useSchemaId?: number
  /** Subject naming; default `topicNameStrategy` (`<topic>-value`, or `<topic>-key` with `isKey`). */
  subjectNameStrategy?: SubjectNameStrategy
  isKey?: boolean
  /** Compatibility the library sets on a subject it creates and expects on one it registers into. Default BACKWARD. */
  compatibility?: COMPATIBILITY
  /** avsc options for the reader type (logical types, `wrapUnions`, ...). */
  avroOptions?: Partial<avro.ForSchemaOptions>
  /** Schemas known without asking the registry, by id: the whole world of an offline serde. */
  knownSchemas?: ReadonlyMap<number, avro.Schema | avro.Type> | Readonly<Record<number, avro.Schema | avro.Type>>
  /** How long an id the registry answered 404 for is treated as missing before it is asked again. Default 60 s. */
  missingSchemaTtlMs?: number
}

type Reader<T> =
  | { state: 'ready'; writer: avro.Type; read: (body: Buffer) => T }
  | { state: 'missing'; until: number }
  | { state: 'unreadable'; error: SerdeError }

interface Writer {
  id: number
  type: avro.Type
}

const isNotFound = (e: unknown): boolean => typeof e === 'object' && e !== null && 'status' in e && e.status === 404

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

export class RegistryAvroSerde<T> implements Serde<T> {
  readonly name: string
  private readonly reader: avro.Type
  private readonly readerJson: string
  private readonly registry: SchemaRegistry | undefined
  private readonly readers = new Map<number, Reader<T>>()
  private readonly fetches = new Map<number, Promise<void>>()
  /** By topic, for the hot path; `undefined` is the topic-less key (record name strategy). */
  private readonly writers = new Map<string | undefined, Writer>()
  private readonly writersBySubject = new Map<string, Promise<Writer>>()

  constructor(private readonly options: RegistryAvroSerdeOptions) {
    const { schema, avroOptions } = options
    this.reader = avro.Type.isType(schema) ? (schema as avro.Type) : avro.Type.forSchema(schema as avro.Schema, avroOptions)
    if (this.reader.name === undefined) {
      throw new SerdeError('registry-avro', `schema must be a named Avro type (a record), got ${this.reader.typeName}`)
    }
    this.name = `registry-avro(${this.reader.name})`
    this.readerJson = avro.Type.isType(schema)
      ? JSON.stringify(this.reader.schema({ exportAttrs: true }))
      : JSON.stringify(schema)
    const { registry } = options
    this.registry = typeof registry === 'string' ? createRegistryClient({ url: registry }) : registry
    const known = options.knownSchemas
    const entries = known === undefined ? [] : known instanceof Map ? [...known] : Object.entries(known).map(([id, s]) => [Number(id), s] as const)
    for (const [id, s] of entries) {
      this.readers.set(id, this.readerFor(id, avro.Type.isType(s) ? (s as avro.Type) : avro.Type.forSchema(s as avro.Schema)))
    }
  }

  serialize(value: T, topic?: string): Buffer {
    const writer = this.writers.get(topic)
    if (writer === undefined) throw new UnpreparedTopicError(this.name, topic, () => this.prepare(topic))
    let body: Buffer
    try {
      body = writer.type.toBuffer(value)
    } catch (e) {
      const paths: string[] = []
      writer.type.isValid(value, { errorHook: (path) => void paths.push(path.join('.') || '(root)') })
      const where = paths.length > 0 ? ` (invalid: ${paths.join(', ')})` : ''
      throw new SerdeError(this.name, `value does not match schema id ${writer.id}${where}: ${messageOf(e)}`, { cause: e })
    }
    return frame(writer.id, body)
  }

  deserialize(data: Buffer): T {
    const { schemaId, body } = unframe(data, this.name)
    const reader = this.readers.get(schemaId)
    if (reader === undefined) {
      if (this.registry === undefined) {
        throw new SerdeError(this.name, `schema id ${schemaId} is not among the known schemas of this offline serde (no registry configured)`)
      }
      throw new UnknownSchemaIdError(this.name, schemaId, () => this.prefetchSchema(schemaId))
    }
    switch (reader.state) {
      case 'ready':
        try {
          return reader.read(body)
        } catch (e) {
          throw new SerdeError(this.name, `body does not decode with writer schema id ${schemaId} (${reader.writer.name}): ${messageOf(e)}`, {
            cause: e,
          })
        }
      case 'unreadable':
        throw reader.error
      case 'missing':
        if (Date.now() < reader.until) {
          throw new SerdeError(this.name, `schema id ${schemaId} does not exist in the schema registry`)
        }
        this.readers.delete(schemaId)
        throw new UnknownSchemaIdError(this.name, schemaId, () => this.prefetchSchema(schemaId))
    }
  }

  /** Resolves the writer schema id for `topic` (register, look up, or the pinned id). Idempotent. */
  async prepare(topic?: string): Promise<void> {
    if (this.writers.has(topic)) return
    let subject: string
    try {
      subject = (this.options.subjectNameStrategy ?? topicNameStrategy)(topic, this.options.isKey ?? false, this.reader.name ?? '')
    } catch (e) {
      throw new SerdeError(this.name, messageOf(e), { cause: e })
    }
    let pending = this.writersBySubject.get(subject)
    if (pending === undefined) {
      pending = this.resolveWriter(subject)
      this.writersBySubject.set(subject, pending)
      // A failed resolution is not cached: the next prepare() asks again.
      pending.catch(() => this.writersBySubject.delete(subject))
    }
    this.writers.set(topic, await pending)
  }

  /**
   * Fetches and caches the reader for a writer schema id. Resolves when the id does not exist (it is
   * then remembered as missing); rejects only when the registry cannot be reached.
   */
  prefetchSchema(schemaId: number): Promise<void> {
    const cached = this.readers.get(schemaId)
    if (cached !== undefined && (cached.state !== 'missing' || Date.now() < cached.until)) return Promise.resolve()
    let fetch = this.fetches.get(schemaId)
    if (fetch === undefined) {
      fetch = this.fetchReader(schemaId).finally(() => this.fetches.delete(schemaId))
      this.fetches.set(schemaId, fetch)
    }
    return fetch
  }

  /** Prefetches every schema id in a batch that is not cached yet, together: call before the record loop. */
  async prefetchFor(records: Iterable<Buffer | null | undefined>): Promise<void> {
    if (this.registry === undefined) return
    const unknown = new Set<number>()
    for (const data of records) {
      const id = peekSchemaId(data)
      if (id !== undefined && !this.readers.has(id)) unknown.add(id)
    }
    if (unknown.size > 0) await Promise.all([...unknown].map((id) => this.prefetchSchema(id)))
  }

  /** The schema id `serialize` writes for `topic`, once prepared. */
  writerSchemaId(topic?: string): number | undefined {
    return this.writers.get(topic)?.id
  }

  private async resolveWriter(subject: string): Promise<Writer> {
    const pinned = this.options.useSchemaId
    if (pinned !== undefined) {
      await this.prefetchSchema(pinned)
      const reader = this.readers.get(pinned)
      if (reader?.state === 'ready') return { id: pinned, type: reader.writer }
      const why = reader?.state === 'unreadable' ? reader.error.message : 'it does not exist in the registry'
      throw new SerdeError(this.name, `useSchemaId ${pinned} cannot be written with: ${why}`)
    }
    const registry = this.registry
    if (registry === undefined) {
      throw new SerdeError(this.name, `an offline serde cannot resolve a schema id for subject ${subject}: set useSchemaId, or give it a registry`)
    }
    const schema = { type: SchemaType.AVRO, schema: this.readerJson } as const
    let id: number
    try {
      if (this.options.autoRegister ?? true) {
        id = (await registry.register(schema, { subject, compatibility: this.options.compatibility ?? COMPATIBILITY.BACKWARD })).id
      } else {
        id = await registry.getRegistryIdBySchema(subject, schema)
      }
    } catch (e) {
      const action = this.options.autoRegister === false ? 'find' : 'register'
      throw new SerdeError(this.name, `could not ${action} the schema under subject ${subject}: the registry said: ${messageOf(e)} (${this.fixFor(e)})`, {
        cause: e,
      })
    }
    // Our own schema: read it without asking the registry for it back.
    if (!this.readers.has(id)) this.readers.set(id, this.readerFor(id, this.reader))
    return { id, type: this.reader }
  }

  /** What to do about a failed registration or look-up, by what the registry answered. */
  private fixFor(e: unknown): string {
    const status = typeof e === 'object' && e !== null && 'status' in e ? e.status : undefined
    if (status === 401 || status === 403) {
      return 'the registry refused the credentials: set SCHEMA_REGISTRY_AUTH=user:password or SCHEMA_REGISTRY_TOKEN (or the auth settings) to ones allowed to write this subject'
    }
    if (status === 409) {
      return 'the schema is incompatible with the versions already registered: evolve it compatibly (add fields with defaults; never remove or retype a field that has no default), or write to a new topic or subject'
    }
    if (status === 422) return 'the registry finds the schema invalid: fix the .avsc'
    if (this.options.autoRegister === false) return 'register it first, or set autoRegister: true'
    if (e instanceof Error && e.name === 'ConfluentSchemaRegistryCompatibilityError') {
      return "the subject has another compatibility level than the serde expects: set the serde option `compatibility` to it, or change the subject's level in the registry"
    }
    return 'check that the registry URL is a Confluent-compatible API and reachable'
  }

  private async fetchReader(schemaId: number): Promise<void> {
    const registry = this.registry
    if (registry === undefined) return
    let schema: unknown
    try {
      schema = await registry.getSchema(schemaId)
    } catch (e) {
      if (!isNotFound(e)) throw e
      this.readers.set(schemaId, { state: 'missing', until: Date.now() + (this.options.missingSchemaTtlMs ?? 60_000) })
      return
    }
    if (!avro.Type.isType(schema)) {
      const error = new SerdeError(this.name, `schema id ${schemaId} is not an Avro schema (JSON Schema or Protobuf?); this serde reads Avro only`)
      this.readers.set(schemaId, { state: 'unreadable', error })
      return
    }
    this.readers.set(schemaId, this.readerFor(schemaId, schema as avro.Type))
  }

  private readerFor(schemaId: number, writer: avro.Type): Reader<T> {
    const reader = this.reader
    // Identical schemas read directly; avsc's resolver is only for an evolved writer.
    if (reader.equals(writer)) return { state: 'ready', writer, read: (body) => reader.fromBuffer(body) as T }
    try {
      const resolver = reader.createResolver(writer)
      return { state: 'ready', writer, read: (body) => reader.fromBuffer(body, resolver) as T }
    } catch (e) {
      const error = new SerdeError(
        this.name,
        `writer schema id ${schemaId} (${writer.name ?? writer.typeName}) cannot be read as ${reader.name}: ${messageOf(e)}`,
        { cause: e },
      )
      return { state: 'unreadable', error }
    }
  }
}

/** A Schema Registry Avro serde; see the module comment for when the registry is asked. */
export function registryAvroSerde<T>(options: RegistryAvroSerdeOptions): RegistryAvroSerde<T> {
  return new RegistryAvroSerde<T>(options)
}
