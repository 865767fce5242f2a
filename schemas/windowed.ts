/**
 * The key of a windowed record: a data type of the wire (windowed serdes write it) before it is a
 * state concept, so it lives here and state/ re-exports it.
 */

/** A time window [start, end). */
export interface TimeWindow {
  readonly start: number
  readonly end: number
}

/** The key of a windowed table: the record key plus the window it belongs to. */
export interface Windowed<K> {
  readonly key: K
  readonly window: TimeWindow
}
