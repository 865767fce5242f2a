/**
 * Errors the registry serde throws when a record needs one async registry look-up before it can be
 * handled. They are deliberately not `SerdeError`s: the bytes are fine, only the schema is not cached
 * yet, so a runtime must not send such a record to the DLQ. It awaits `ready()` once and retries the
 * record; a second failure is then a real `SerdeError` (e.g. the id does not exist in the registry).
 */
export abstract class SchemaNotReadyError extends Error {
  constructor(
    readonly serde: string,
    message: string,
    private readonly fetch: () => Promise<void>,
  ) {
    super(`${serde}: ${message}`)
  }

  /**
   * Fetches what was missing into the serde's cache. Resolves even when the registry says the schema
   * does not exist (the retry then throws a `SerdeError`); rejects only if the registry cannot be
   * reached, which is an outage to retry or fail on, not a bad record.
   */
  ready(): Promise<void> {
    return this.fetch()
  }
}

/** `deserialize` met a schema id whose schema is not cached yet. */
export class UnknownSchemaIdError extends SchemaNotReadyError {
  constructor(
    serde: string,
    readonly schemaId: number,
    fetch: () => Promise<void>,
  ) {
    super(serde, `schema id ${schemaId} is not cached yet: await error.ready() (or serde.prefetchSchema(${schemaId})) and retry`, fetch)
    this.name = 'UnknownSchemaIdError'
  }
}

/** `serialize` was called for a topic whose writer schema id is not resolved yet. */
export class UnpreparedTopicError extends SchemaNotReadyError {
  constructor(
    serde: string,
    readonly topic: string | undefined,
    fetch: () => Promise<void>,
  ) {
    super(serde, `no schema id for topic ${topic ?? '(none)'} yet: await serde.prepare(topic) before producing to it`, fetch)
    this.name = 'UnpreparedTopicError'
  }
}
