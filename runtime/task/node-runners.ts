/**
 * The nodes of a task's processor graph at run time: sources hand records to their children,
 * processors run user code and forward, sinks serialize and hand records to the task's collector.
 * A record goes through them synchronously, depth first, as in Kafka Streams.
 */
import { SchemaNotReadyError } from '../../schemas/registry/errors.js'
import { type SinkNodeDef, type SourceNodeDef, isTopicRef } from '../../topology/graph.js'
import type { Processor, StreamRecord } from '../../topology/processor.js'
import type { TopologyPlan } from '../../topology/topology.js'
import type { RecordCollector } from './record-collector.js'
import type { ErrorStage } from './records.js'

/** What the runners need of their task: where errors are attributed, and where records go. */
export interface RunnerHost {
  /** Set while a node runs, so an error names the processor that threw. */
  currentNode: string | undefined
  currentStage: ErrorStage
  readonly collector: RecordCollector
  /** A sink whose serde needs an async schema look-up first: the record is sent once it is done. */
  deferOutput(sink: SinkRunner, record: StreamRecord<unknown, unknown>, topic: string, error: SchemaNotReadyError): void
}

export interface Runner {
  readonly name: string
  process(record: StreamRecord<unknown, unknown>): void
}

export class SourceRunner implements Runner {
  children: Runner[] = []
  constructor(readonly def: SourceNodeDef) {}
  get name(): string {
    return this.def.name
  }
  process(record: StreamRecord<unknown, unknown>): void {
    for (const child of this.children) child.process(record)
  }
}

export class ProcessorRunner implements Runner {
  children: Runner[] = []
  readonly byName = new Map<string, Runner>()
  constructor(
    readonly name: string,
    readonly processor: Processor<unknown, unknown, unknown, unknown>,
    private readonly task: RunnerHost,
  ) {}
  process(record: StreamRecord<unknown, unknown>): void {
    const previous = this.task.currentNode
    this.task.currentNode = this.name
    this.processor.process(record)
    this.task.currentNode = previous
  }
  forward(record: StreamRecord<unknown, unknown>, childName?: string): void {
    if (childName === undefined) {
      for (const child of this.children) child.process(record)
      return
    }
    const child = this.byName.get(childName)
    if (!child) throw new Error(`processor '${this.name}' forwarded to '${childName}', which is not one of its children (${[...this.byName.keys()].join(', ')})`)
    child.process(record)
  }
}

export class SinkRunner implements Runner {
  private readonly staticTopic: string | undefined
  constructor(
    readonly def: SinkNodeDef,
    plan: TopologyPlan,
    private readonly task: RunnerHost,
  ) {
    this.staticTopic = isTopicRef(def.topic) ? plan.topicName(def.topic) : undefined
  }
  get name(): string {
    return this.def.name
  }
  process(record: StreamRecord<unknown, unknown>): void {
    const task = this.task
    const previous = task.currentNode
    task.currentNode = this.name
    const def = this.def
    const topic = this.staticTopic ?? (def.topic as (k: unknown, v: unknown, r: StreamRecord<unknown, unknown>) => unknown)(record.key, record.value, record)
    if (typeof topic !== 'string' || topic.length === 0) {
      throw new Error(`sink '${this.name}': the topic extractor returned ${JSON.stringify(topic)}, not a topic name`)
    }
    task.currentStage = 'serialize'
    try {
      this.send(record, topic)
    } catch (err) {
      // A registry serde without the topic's schema id yet: sent after the record, once resolved.
      if (!(err instanceof SchemaNotReadyError)) throw err
      task.deferOutput(this, record, topic, err)
    }
    task.currentStage = 'process'
    task.currentNode = previous
  }

  send(record: StreamRecord<unknown, unknown>, topic: string): void {
    const def = this.def
    // Null keys and values are written as absent bytes (a null key, or a tombstone).
    const key = record.key === null || record.key === undefined ? null : def.key.serialize(record.key, topic)
    const value = record.value === null || record.value === undefined ? null : def.value.serialize(record.value, topic)
    const partitioner = def.partitioner
    this.task.collector.send({
      topic,
      key,
      value,
      timestamp: record.timestamp,
      headers: record.headers,
      ...(partitioner ? { choosePartition: (count: number) => partitioner(record.key, record.value, count) } : {}),
    })
  }
}
