import { type Serde, SerdeError } from './serde.js'

export interface JsonSerdeOptions<T> {
  /** Shown in error messages and `describe()`, e.g. `json(TelemetryEvent)`. */
  name?: string
  /**
   * Checks a parsed value is really a `T` (e.g. a type guard or a schema validator). Returning false or
   * throwing makes the record a bad record (SerdeError), so it follows the topology's error policy.
   */
  validate?: (value: unknown) => value is T
}

/**
 * UTF-8 JSON. The type parameter states what the topic holds; without `validate` it is trusted, so
 * give a validator at the edges where producers are not under your control.
 */
export function jsonSerde<T>(options: JsonSerdeOptions<T> = {}): Serde<T> {
  const name = options.name ?? 'json'
  const validate = options.validate
  return {
    name,
    serialize(value) {
      const text = JSON.stringify(value)
      if (text === undefined) throw new SerdeError(name, `value of type ${typeof value} is not JSON-serializable`)
      return Buffer.from(text, 'utf8')
    },
    deserialize(data) {
      let parsed: unknown
      try {
        parsed = JSON.parse(data.toString('utf8'))
      } catch (err) {
        throw new SerdeError(name, `invalid JSON: ${(err as Error).message}`, { cause: err })
      }
      if (validate) {
        let ok: boolean
        try {
          ok = validate(parsed)
        } catch (err) {
          throw new SerdeError(name, `validation failed: ${(err as Error).message}`, { cause: err })
        }
        if (!ok) throw new SerdeError(name, 'value does not match the expected shape')
      }
      return parsed as T
    },
  }
}
