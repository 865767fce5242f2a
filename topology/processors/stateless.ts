/** The stateless DSL operators, each a small Processor. */
import type { Processor, ProcessorContext, StreamRecord } from '../processor.js'

export type Predicate<K, V> = (key: K, value: V, record: StreamRecord<K, V>) => boolean
export type KeyValueMapper<K, V, R> = (key: K, value: V, record: StreamRecord<K, V>) => R
export type ValueMapper<K, V, R> = (value: V, key: K, record: StreamRecord<K, V>) => R

abstract class ForwardingProcessor<KIn, VIn, KOut, VOut> implements Processor<KIn, VIn, KOut, VOut> {
  protected context!: ProcessorContext<KOut, VOut>
  init(context: ProcessorContext<KOut, VOut>): void {
    this.context = context
  }
  abstract process(record: StreamRecord<KIn, VIn>): void
}

export class FilterProcessor<K, V> extends ForwardingProcessor<K, V, K, V> {
  constructor(
    private readonly predicate: Predicate<K, V>,
    private readonly keepWhen: boolean,
  ) {
    super()
  }
  process(record: StreamRecord<K, V>): void {
    if (this.predicate(record.key, record.value, record) === this.keepWhen) this.context.forward(record)
  }
}

export class MapProcessor<K, V, K2, V2> extends ForwardingProcessor<K, V, K2, V2> {
  constructor(private readonly mapper: KeyValueMapper<K, V, readonly [K2, V2]>) {
    super()
  }
  process(record: StreamRecord<K, V>): void {
    const [key, value] = this.mapper(record.key, record.value, record)
    this.context.forward({ key, value, timestamp: record.timestamp, headers: record.headers })
  }
}

export class MapValuesProcessor<K, V, V2> extends ForwardingProcessor<K, V, K, V2> {
  constructor(private readonly mapper: ValueMapper<K, V, V2>) {
    super()
  }
  process(record: StreamRecord<K, V>): void {
    const value = this.mapper(record.value, record.key, record)
    this.context.forward({ key: record.key, value, timestamp: record.timestamp, headers: record.headers })
  }
}

export class FlatMapProcessor<K, V, K2, V2> extends ForwardingProcessor<K, V, K2, V2> {
  constructor(private readonly mapper: KeyValueMapper<K, V, Iterable<readonly [K2, V2]>>) {
    super()
  }
  process(record: StreamRecord<K, V>): void {
    for (const [key, value] of this.mapper(record.key, record.value, record)) {
      this.context.forward({ key, value, timestamp: record.timestamp, headers: record.headers })
    }
  }
}

export class FlatMapValuesProcessor<K, V, V2> extends ForwardingProcessor<K, V, K, V2> {
  constructor(private readonly mapper: ValueMapper<K, V, Iterable<V2>>) {
    super()
  }
  process(record: StreamRecord<K, V>): void {
    for (const value of this.mapper(record.value, record.key, record)) {
      this.context.forward({ key: record.key, value, timestamp: record.timestamp, headers: record.headers })
    }
  }
}

export class SelectKeyProcessor<K, V, K2> extends ForwardingProcessor<K, V, K2, V> {
  constructor(private readonly selector: KeyValueMapper<K, V, K2>) {
    super()
  }
  process(record: StreamRecord<K, V>): void {
    const key = this.selector(record.key, record.value, record)
    this.context.forward({ key, value: record.value, timestamp: record.timestamp, headers: record.headers })
  }
}

/** Calls `action` then forwards (peek), or only calls it (foreach: no children). */
export class PeekProcessor<K, V> extends ForwardingProcessor<K, V, K, V> {
  constructor(private readonly action: KeyValueMapper<K, V, void>) {
    super()
  }
  process(record: StreamRecord<K, V>): void {
    this.action(record.key, record.value, record)
    this.context.forward(record)
  }
}

/** Forwards unchanged: merge points and other structural nodes. */
export class PassThroughProcessor<K, V> extends ForwardingProcessor<K, V, K, V> {
  process(record: StreamRecord<K, V>): void {
    this.context.forward(record)
  }
}

/** Sends each record to the first branch whose predicate holds, else to the default branch (if any). */
export class BranchProcessor<K, V> extends ForwardingProcessor<K, V, K, V> {
  constructor(
    private readonly branches: readonly { readonly predicate: Predicate<K, V>; readonly child: string }[],
    private readonly defaultChild: string | undefined,
  ) {
    super()
  }
  process(record: StreamRecord<K, V>): void {
    for (const branch of this.branches) {
      if (branch.predicate(record.key, record.value, record)) {
        this.context.forward(record, branch.child)
        return
      }
    }
    if (this.defaultChild !== undefined) this.context.forward(record, this.defaultChild)
  }
}
