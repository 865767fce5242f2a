/**
 * A Serde turns a typed value into bytes and back. Every topic and every store is typed by its
 * serdes, so the types a user gets in `filter`, `aggregate` or a store read flow from here.
 *
 * Serializers are synchronous on purpose: they run once per record on the hot path. Formats that need
 * a network round trip (the Schema Registry wire format) resolve schema ids ahead of time and cache
 * them, exposing `prepare()` for that one-off async work.
 */
export interface Serde<T> {
  /** A short name used in error messages and `describe()`, e.g. `json`, `avro(TelemetryEvent)`. */
  readonly name: string
  serialize(value: T, topic?: string): Buffer
  /** Throws a `SerdeError` on bytes it cannot read. */
  deserialize(data: Buffer, topic?: string): T
  /** Optional one-off async preparation (e.g. fetch or register a schema id) before first use. */
  prepare?(topic?: string): Promise<void>
}

export class SerdeError extends Error {
  constructor(
    readonly serde: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${serde}: ${message}`, options)
    this.name = 'SerdeError'
  }
}
