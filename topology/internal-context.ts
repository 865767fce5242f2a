import type { ProcessorContext } from './processor.js'

/** A record a windowed operator dropped because its window had closed. */
export interface LateRecord {
  readonly processor: string
  /** The stream time at which the (last) window covering the record closed. */
  readonly closedAt: number
  /** Also send the raw source record here (a user topic), with headers explaining why. */
  readonly lateRecordsTopic?: string
}

/** What DSL operators need from the task beyond the public context. */
export interface InternalProcessorContext<KOut, VOut> extends ProcessorContext<KOut, VOut> {
  recordLate(late: LateRecord): void
}

export function internal<KOut, VOut>(context: ProcessorContext<KOut, VOut>): InternalProcessorContext<KOut, VOut> {
  return context as InternalProcessorContext<KOut, VOut>
}
