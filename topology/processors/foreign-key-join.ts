/**
 * KTable-KTable foreign-key join, after Kafka Streams' subscription/response design (KIP-213):
 *
 *   left table --(K, V)--> SubscriptionSender --(FK, sub/unsub K@version)--> registration topic
 *   registration topic --> SubscriptionReceiver: records K under FK, answers with the right row
 *   right table --(FK, VO)--> RightUpdateSender: answers every K subscribed to FK
 *   responses --(K, version, VO)--> ResponseResolver: joins if `version` is still K's latest
 *
 * Differences, each with the same results: the right side keeps one row per foreign key listing its
 * subscribers (Kafka Streams: one row per (FK, K), read by prefix scan), since stores here are read
 * by the sub-topology's source key; staleness is judged by a per-key subscription version kept on
 * the left (Kafka Streams: a hash of the left value), so a response to any older subscription is
 * dropped; and a left row whose foreign key is null, or a deleted left row, is resolved on the left
 * at once (no round trip).
 */
import type { Serde } from '../../schemas/serde.js'
import type { KeyValueStore } from '../../state/types.js'
import type { Processor, ProcessorContext, StreamRecord } from '../processor.js'
import type { ForeignKeyState, Subscribers, Subscription, SubscriptionResponse } from './foreign-key-join-serdes.js'

/** Child names the sender forwards to: subscriptions to the registration sink, results to the merge. */
export interface SenderChildren {
  readonly registration: string
  readonly result: string
}

/** Left table updates: (re)subscribes K to its foreign key, unsubscribes it from the previous one. */
export class SubscriptionSender<K, V, FK, VO, VR> implements Processor<K, V | null, unknown, unknown> {
  private context!: ProcessorContext<unknown, unknown>
  private state!: KeyValueStore<K, ForeignKeyState>
  constructor(
    private readonly stateStore: string,
    private readonly leftKeySerde: Serde<K>,
    private readonly foreignKeySerde: Serde<FK>,
    private readonly extractor: (value: V, key: K) => FK | null | undefined,
    private readonly joiner: (value: V, otherValue: VO | undefined, key: K) => VR,
    private readonly inner: boolean,
    private readonly children: SenderChildren,
  ) {}
  init(context: ProcessorContext<unknown, unknown>): void {
    this.context = context
    this.state = context.getStateStore<KeyValueStore<K, ForeignKeyState>>(this.stateStore)
  }
  process(record: StreamRecord<K, V | null>): void {
    if (record.key === null || record.key === undefined) return
    const previous = this.state.get(record.key)
    const value = record.value ?? undefined
    const extracted = value === undefined ? undefined : this.extractor(value, record.key)
    const foreignKey = extracted === null || extracted === undefined ? null : this.foreignKeySerde.serialize(extracted)
    // Versions only grow (a deleted row keeps its entry): a response to any earlier subscription of this key is stale.
    const version = (previous?.version ?? 0) + 1
    this.state.put(record.key, { foreignKey, version })
    const leftKey = this.leftKeySerde.serialize(record.key)
    const send = (fk: FK, op: Subscription['op']): void =>
      this.context.forward({ key: fk, value: { op, version, leftKey } satisfies Subscription, timestamp: record.timestamp, headers: record.headers }, this.children.registration)
    if (previous?.foreignKey && (foreignKey === null || !previous.foreignKey.equals(foreignKey))) {
      send(this.foreignKeySerde.deserialize(previous.foreignKey), 'unsub')
    }
    if (foreignKey !== null) {
      send(extracted as FK, 'sub')
      return
    }
    // No foreign key (or no row): nothing to ask the right side.
    const result = value === undefined || this.inner ? null : this.joiner(value, undefined, record.key)
    this.context.forward({ key: record.key, value: result, timestamp: record.timestamp, headers: record.headers }, this.children.result)
  }
}

/** The right row (serialized) for a response, or null. */
function rightBytes<FK, VO>(table: KeyValueStore<FK, VO>, valueSerde: Serde<VO>, foreignKey: FK): Buffer | null {
  const value = table.get(foreignKey)
  return value === undefined ? null : valueSerde.serialize(value)
}

/** Registrations, keyed by foreign key: records or removes the subscriber, and answers a `sub` with the right row. */
export class SubscriptionReceiver<FK, VO> implements Processor<FK, Subscription, Buffer, SubscriptionResponse> {
  private context!: ProcessorContext<Buffer, SubscriptionResponse>
  private subscribers!: KeyValueStore<FK, Subscribers>
  private table!: KeyValueStore<FK, VO>
  constructor(
    private readonly subscriberStore: string,
    private readonly rightStore: string,
    private readonly rightValueSerde: Serde<VO>,
  ) {}
  init(context: ProcessorContext<Buffer, SubscriptionResponse>): void {
    this.context = context
    this.subscribers = context.getStateStore<KeyValueStore<FK, Subscribers>>(this.subscriberStore)
    this.table = context.getStateStore<KeyValueStore<FK, VO>>(this.rightStore)
  }
  process(record: StreamRecord<FK, Subscription>): void {
    const { op, version, leftKey } = record.value
    // A new map on every change: the store keeps the object it was given until its flush.
    const subscribers: Subscribers = new Map(this.subscribers.get(record.key))
    if (op === 'unsub') subscribers.delete(leftKey.toString('latin1'))
    else subscribers.set(leftKey.toString('latin1'), version)
    if (subscribers.size === 0) this.subscribers.delete(record.key)
    else this.subscribers.put(record.key, subscribers)
    if (op === 'unsub') return
    const response: SubscriptionResponse = { version, rightValue: rightBytes(this.table, this.rightValueSerde, record.key) }
    this.context.forward({ key: leftKey, value: response, timestamp: record.timestamp, headers: record.headers })
  }
}

/** Right table updates: the new row (or its deletion) goes to every left key subscribed to it. */
export class RightUpdateSender<FK, VO> implements Processor<FK, VO | null, Buffer, SubscriptionResponse> {
  private context!: ProcessorContext<Buffer, SubscriptionResponse>
  private subscribers!: KeyValueStore<FK, Subscribers>
  constructor(
    private readonly subscriberStore: string,
    private readonly rightValueSerde: Serde<VO>,
  ) {}
  init(context: ProcessorContext<Buffer, SubscriptionResponse>): void {
    this.context = context
    this.subscribers = context.getStateStore<KeyValueStore<FK, Subscribers>>(this.subscriberStore)
  }
  process(record: StreamRecord<FK, VO | null>): void {
    if (record.key === null || record.key === undefined) return
    const subscribers = this.subscribers.get(record.key)
    if (subscribers === undefined) return
    const rightValue = record.value === null || record.value === undefined ? null : this.rightValueSerde.serialize(record.value)
    for (const [leftKey, version] of subscribers) {
      this.context.forward({ key: Buffer.from(leftKey, 'latin1'), value: { version, rightValue }, timestamp: record.timestamp, headers: record.headers })
    }
  }
}

/** Responses, keyed by the left key: joined with the left row if they answer its latest subscription. */
export class ResponseResolver<K, V, VO, VR> implements Processor<K, SubscriptionResponse, K, VR | null> {
  private context!: ProcessorContext<K, VR | null>
  private state!: KeyValueStore<K, ForeignKeyState>
  private left!: KeyValueStore<K, V>
  constructor(
    private readonly stateStore: string,
    private readonly leftStore: string,
    private readonly rightValueSerde: Serde<VO>,
    private readonly joiner: (value: V, otherValue: VO | undefined, key: K) => VR,
    private readonly inner: boolean,
  ) {}
  init(context: ProcessorContext<K, VR | null>): void {
    this.context = context
    this.state = context.getStateStore<KeyValueStore<K, ForeignKeyState>>(this.stateStore)
    this.left = context.getStateStore<KeyValueStore<K, V>>(this.leftStore)
  }
  process(record: StreamRecord<K, SubscriptionResponse>): void {
    const { version, rightValue } = record.value
    if (this.state.get(record.key)?.version !== version) return
    const value = this.left.get(record.key)
    const right = rightValue === null ? undefined : this.rightValueSerde.deserialize(rightValue)
    const result = value === undefined || (right === undefined && this.inner) ? null : this.joiner(value, right, record.key)
    this.context.forward({ key: record.key, value: result, timestamp: record.timestamp, headers: record.headers })
  }
}
