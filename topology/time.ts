import { parseIsoInstant } from '../schemas/iso-instant.js'
import type { RecordHeaders } from './processor.js'

/** What a timestamp extractor sees: the deserialized record plus its Kafka metadata. */
export interface ConsumedRecord<K, V> {
  readonly key: K
  readonly value: V
  /** The Kafka record timestamp (CreateTime or LogAppendTime), epoch ms. */
  readonly timestamp: number
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly headers: RecordHeaders
}

/**
 * Returns a record's event time in epoch ms. Throwing, or returning something that is not a finite
 * non-negative number, makes the record a bad record (stage `timestamp`).
 */
export type TimestampExtractor<K, V> = (record: ConsumedRecord<K, V>) => number

export const TimestampExtractors = {
  /** The Kafka record timestamp (the default). */
  recordTime<K, V>(): TimestampExtractor<K, V> {
    return (record) => record.timestamp
  },
  /**
   * An ISO-8601 string field of the value, e.g. the telemetry event's `timestamp`. A field can also
   * be given as a function of the value (for nested fields).
   */
  isoField<V>(field: keyof V | ((value: V) => unknown)): TimestampExtractor<unknown, V> {
    const read = typeof field === 'function' ? field : (value: V) => value[field]
    const label = typeof field === 'function' ? 'the selected field' : `field '${String(field)}'`
    return (record) => {
      const raw = record.value === null || record.value === undefined ? undefined : read(record.value)
      if (typeof raw !== 'string') throw new Error(`${label} is not an ISO-8601 string (got ${typeof raw})`)
      const ms = parseIsoInstant(raw)
      if (Number.isNaN(ms)) throw new Error(`${label} is not a valid ISO-8601 timestamp: '${raw}'`)
      return ms
    }
  },
  /** A numeric epoch-milliseconds field of the value. */
  epochMillisField<V>(field: keyof V): TimestampExtractor<unknown, V> {
    return (record) => {
      const raw = record.value === null || record.value === undefined ? undefined : record.value[field]
      if (typeof raw !== 'number') throw new Error(`field '${String(field)}' is not a number of epoch ms`)
      return raw
    }
  },
}
