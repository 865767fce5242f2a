/**
 * A built topology: the graph cut into sub-topologies (connected parts; a topic between a sink and a
 * source is a cut), its description, and the plan the runtime and the test driver execute.
 */
import { type TopologyGeneration, topologyGeneration } from './topology-generation.js'
import { type NodeDef, type SinkNodeDef, type SourceNodeDef, type TopicRef, type TopologyGraph, isTopicRef } from './graph.js'
import type { GlobalStoreDef } from './global-ktable.js'
import type { AnyStoreDefinition, KeyValueStoreDefinition, StoreKind } from './stores.js'

export interface Subtopology {
  readonly id: number
  /** In creation order. */
  readonly nodes: readonly NodeDef[]
  readonly sources: readonly SourceNodeDef[]
  readonly sinks: readonly SinkNodeDef[]
  readonly storeNames: readonly string[]
  /** Groups of source topics (refs) that must be co-partitioned. */
  readonly coPartitionGroups: readonly (readonly TopicRef[])[]
}

export type InternalTopicRole = 'repartition' | 'changelog' | 'dlq'

export type PartitionRule =
  | { readonly kind: 'fixed'; readonly count: number }
  /** As many partitions as the sub-topology has tasks (= max partitions of its source topics). */
  | { readonly kind: 'tasks-of'; readonly subtopology: number }

export interface InternalTopicSpec {
  readonly name: string
  readonly role: InternalTopicRole
  readonly partitions: PartitionRule
  /** Topic configs to create it with, e.g. `cleanup.policy`. */
  readonly configs: Readonly<Record<string, string>>
}

export interface StorePlan {
  readonly name: string
  readonly kind: StoreKind
  readonly definition: AnyStoreDefinition
  readonly logged: boolean
  /** Topic to restore from (its own changelog, or a table's source topic); null when not logged. */
  readonly changelogTopic: string | null
  /** True when `changelogTopic` is a table's source topic, which the store must not write to. */
  readonly restoresFromSourceTopic: boolean
  readonly retentionMs?: number
}

/** @deprecated Renamed `Subtopology`, the one spelling (Kafka Streams' too); the alias goes in 0.2. */
export type SubTopology = Subtopology

export interface SubtopologyPlan {
  readonly id: number
  readonly sourceTopics: readonly string[]
  readonly userSourceTopics: readonly string[]
  readonly repartitionSourceTopics: readonly string[]
  /** Statically known sink topics (a `to(fn)` sink adds topics known only per record). */
  readonly sinkTopics: readonly string[]
  readonly repartitionSinkTopics: readonly string[]
  readonly dynamicSinks: boolean
  readonly stores: readonly StorePlan[]
  /** Topics whose partition N must be processed together by task N (joins). */
  readonly coPartitionGroups: readonly (readonly string[])[]
  readonly requiresCoPartitioning: boolean
}

/** @deprecated Renamed `SubtopologyPlan`; the alias goes in 0.2. */
export type SubTopologyPlan = SubtopologyPlan

/** A global table's store: filled from every partition of `topic` on every instance, by no task. */
export interface GlobalStorePlan {
  readonly name: string
  readonly topic: string
  readonly definition: KeyValueStoreDefinition<unknown, unknown>
}

export interface TopologyPlan {
  readonly applicationId: string
  readonly dlqTopic: string
  readonly subtopologies: readonly SubtopologyPlan[]
  readonly globalStores: readonly GlobalStorePlan[]
  readonly internalTopics: readonly InternalTopicSpec[]
  topicName(ref: TopicRef): string
}

/** Changelog topics of window/session stores keep this much beyond the store retention (as Kafka Streams). */
export const CHANGELOG_ADDITIONAL_RETENTION_MS = 24 * 60 * 60 * 1000

export class Topology {
  readonly subtopologies: readonly Subtopology[]
  /** Global tables, in creation order; not part of any sub-topology (no tasks). */
  readonly globalStores: readonly GlobalStoreDef[]
  private readonly nodes: ReadonlyMap<string, NodeDef>
  private readonly stores: ReadonlyMap<string, AnyStoreDefinition>
  private readonly childrenOf = new Map<string, string[]>()
  private readonly readerPartitionedTopics: ReadonlySet<string>
  private tagged: TopologyGeneration | undefined

  constructor(
    graph: TopologyGraph,
    /** Explicit partition counts of repartition topics (by unprefixed name). */
    private readonly repartitionPartitions: ReadonlyMap<string, number>,
  ) {
    this.nodes = new Map(graph.nodes)
    this.stores = new Map(graph.stores)
    this.globalStores = [...graph.globalStores.values()]
    this.readerPartitionedTopics = new Set(graph.readerPartitionedTopics)
    for (const node of this.nodes.values()) {
      this.childrenOf.set(node.name, [])
      for (const parent of node.parents) this.childrenOf.get(parent)?.push(node.name)
    }
    this.validate()
    this.subtopologies = this.cut(graph.coPartitionGroups)
  }

  /**
   * Tags this topology with the configuration version it was built from (`topology-generation.ts`),
   * for an application that replaces its topology while running; returns the topology.
   */
  versioned(version: number): this {
    this.tagged = topologyGeneration(this, version)
    return this
  }

  /** Its generation, when `versioned` tagged it. */
  get generation(): TopologyGeneration | undefined {
    return this.tagged
  }

  node(name: string): NodeDef {
    const node = this.nodes.get(name)
    if (!node) throw new Error(`unknown node '${name}'`)
    return node
  }

  children(name: string): readonly string[] {
    return this.childrenOf.get(name) ?? []
  }

  store(name: string): AnyStoreDefinition {
    const store = this.stores.get(name)
    if (!store) throw new Error(`unknown store '${name}'`)
    return store
  }

  private validate(): void {
    for (const node of this.nodes.values()) {
      if (node.kind === 'processor') {
        for (const store of node.stores) {
          if (!this.stores.has(store)) {
            throw new Error(
              `processor '${node.name}' uses store '${store}', which is not defined; add it with builder.addStateStore(Stores.keyValue('${store}', ...)) or fix the name`,
            )
          }
        }
      }
      if (node.kind === 'source' && this.children(node.name).length === 0) {
        throw new Error(`source '${node.name}' has no downstream operator; a stream that is read must be used`)
      }
    }
  }

  private cut(coPartitionGroups: readonly string[][]): Subtopology[] {
    const parent = new Map<string, string>()
    const find = (x: string): string => {
      let root = x
      while (parent.get(root) !== root) root = parent.get(root)!
      parent.set(x, root)
      return root
    }
    const union = (a: string, b: string): void => {
      const ra = find(a)
      const rb = find(b)
      if (ra !== rb) parent.set(rb, ra)
    }
    for (const name of this.nodes.keys()) parent.set(name, name)
    const storeUser = new Map<string, string>()
    for (const node of this.nodes.values()) {
      for (const p of node.parents) union(node.name, p)
      if (node.kind === 'processor') {
        for (const store of node.stores) {
          const other = storeUser.get(store)
          if (other) union(node.name, other)
          else storeUser.set(store, node.name)
        }
      }
    }
    const groups = new Map<string, NodeDef[]>()
    for (const node of this.nodes.values()) {
      const root = find(node.name)
      const list = groups.get(root)
      if (list) list.push(node)
      else groups.set(root, [node])
    }
    return [...groups.values()].map((nodes, id) => {
      const sources = nodes.filter((n): n is SourceNodeDef => n.kind === 'source')
      const sourceNames = new Set(sources.map((s) => s.name))
      return {
        id,
        nodes,
        sources,
        sinks: nodes.filter((n): n is SinkNodeDef => n.kind === 'sink'),
        storeNames: [...new Set(nodes.flatMap((n) => (n.kind === 'processor' ? n.stores : [])))],
        coPartitionGroups: coPartitionGroups
          .filter((group) => group.some((s) => sourceNames.has(s)))
          .map((group) => group.flatMap((s) => (this.nodes.get(s) as SourceNodeDef).topics)),
      }
    })
  }

  /** The topology resolved for one application id: topic names, stores, internal topics. */
  plan(applicationId: string): TopologyPlan {
    if (!applicationId || /[^A-Za-z0-9._-]/.test(applicationId)) {
      throw new Error(`applicationId '${applicationId}' is invalid; use letters, digits, '.', '_' and '-'`)
    }
    const topicName = (ref: TopicRef): string => (ref.internal ? `${applicationId}-${ref.name}` : ref.name)
    const internalTopics: InternalTopicSpec[] = []
    const writerOf = new Map<string, number>()
    for (const sub of this.subtopologies) {
      for (const sink of sub.sinks) if (isTopicRef(sink.topic) && sink.topic.internal) writerOf.set(sink.topic.name, sub.id)
    }
    const subtopologies = this.subtopologies.map((sub): SubtopologyPlan => {
      const refs = sub.sources.flatMap((s) => s.topics)
      const sinkRefs = sub.sinks.flatMap((s) => (isTopicRef(s.topic) ? [s.topic] : []))
      const stores = sub.storeNames.map((name): StorePlan => {
        const definition = this.store(name)
        const fromSource = definition.restoreFromSourceTopic
        const changelogTopic = fromSource ?? (definition.logged ? `${applicationId}-${name}-changelog` : null)
        const retentionMs = definition.kind === 'key-value' ? undefined : definition.retentionMs
        if (changelogTopic && !fromSource) {
          const configs: Record<string, string> =
            retentionMs === undefined
              ? { 'cleanup.policy': 'compact' }
              : { 'cleanup.policy': 'compact,delete', 'retention.ms': String(retentionMs + CHANGELOG_ADDITIONAL_RETENTION_MS) }
          internalTopics.push({ name: changelogTopic, role: 'changelog', partitions: { kind: 'tasks-of', subtopology: sub.id }, configs })
        }
        return {
          name,
          kind: definition.kind,
          definition,
          logged: changelogTopic !== null,
          changelogTopic,
          restoresFromSourceTopic: fromSource !== undefined,
          ...(retentionMs === undefined ? {} : { retentionMs }),
        }
      })
      return {
        id: sub.id,
        sourceTopics: refs.map(topicName),
        userSourceTopics: refs.filter((r) => !r.internal).map(topicName),
        repartitionSourceTopics: refs.filter((r) => r.internal).map(topicName),
        sinkTopics: sinkRefs.map(topicName),
        repartitionSinkTopics: sinkRefs.filter((r) => r.internal).map(topicName),
        dynamicSinks: sub.sinks.some((s) => !isTopicRef(s.topic)),
        stores,
        coPartitionGroups: sub.coPartitionGroups.map((g) => g.map(topicName)),
        requiresCoPartitioning: sub.coPartitionGroups.length > 0,
      }
    })
    const readerOf = new Map<string, number>()
    for (const sub of this.subtopologies) for (const ref of sub.sources.flatMap((s) => s.topics)) if (ref.internal) readerOf.set(ref.name, sub.id)
    for (const [name, writer] of writerOf) {
      const fixed = this.repartitionPartitions.get(name)
      const partitionedBy = this.readerPartitionedTopics.has(name) ? (readerOf.get(name) ?? writer) : writer
      internalTopics.unshift({
        name: `${applicationId}-${name}`,
        role: 'repartition',
        partitions: fixed === undefined ? { kind: 'tasks-of', subtopology: partitionedBy } : { kind: 'fixed', count: fixed },
        // Records are consumed soon after being written; the runtime may also purge them after commit.
        configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * 24 * 60 * 60 * 1000) },
      })
    }
    const dlqTopic = `${applicationId}-dlq`
    internalTopics.push({ name: dlqTopic, role: 'dlq', partitions: { kind: 'fixed', count: 1 }, configs: { 'cleanup.policy': 'delete' } })
    const globalStores = this.globalStores.map((g): GlobalStorePlan => ({ name: g.store.name, topic: g.topic, definition: g.store }))
    return { applicationId, dlqTopic, subtopologies, globalStores, internalTopics, topicName }
  }

  /** A readable description, in the layout of Kafka Streams' `Topology#describe()`. */
  describe(): string {
    const lines: string[] = ['Topologies:']
    const topicLabel = (ref: TopicRef): string => ref.name
    for (const sub of this.subtopologies) {
      lines.push(`   Sub-topology: ${sub.id}`)
      for (const node of sub.nodes) {
        const children = this.children(node.name)
        if (node.kind === 'source') {
          lines.push(`    Source: ${node.name} (topics: [${node.topics.map(topicLabel).join(', ')}])`)
        } else if (node.kind === 'processor') {
          lines.push(`    Processor: ${node.name} (stores: [${node.stores.join(', ')}])`)
        } else {
          const topic = isTopicRef(node.topic) ? `topic: ${topicLabel(node.topic)}` : 'topic extractor'
          lines.push(`    Sink: ${node.name} (${topic})`)
        }
        if (children.length > 0) lines.push(`      --> ${children.join(', ')}`)
        if (node.parents.length > 0) lines.push(`      <-- ${node.parents.join(', ')}`)
      }
      lines.push('')
    }
    // Numbered after the task sub-topologies, so adding a global table never renumbers tasks (Kafka
    // Streams numbers them in creation order among the others).
    this.globalStores.forEach((g, i) => {
      lines.push(`   Sub-topology: ${this.subtopologies.length + i} for global store (will not generate tasks)`)
      lines.push(`    Source: ${g.source} (topics: [${g.topic}])`, `      --> ${g.processor}`)
      lines.push(`    Processor: ${g.processor} (stores: [${g.store.name}])`, '      --> none', `      <-- ${g.source}`, '')
    })
    const stores = [...this.stores.values(), ...this.globalStores.map((g) => g.store)]
    if (stores.length > 0) {
      lines.push('Stores:')
      for (const store of stores) {
        const extra = store.kind === 'key-value' ? '' : `, retention=${store.retentionMs}ms`
        const global = this.globalStores.some((g) => g.store === store) ? 'global, ' : ''
        const changelog = store.restoreFromSourceTopic
          ? `${global}restores from ${store.restoreFromSourceTopic}`
          : store.logged
            ? `changelog ${store.name}-changelog`
            : 'not logged'
        lines.push(`   ${store.name} (${store.kind}, key=${store.key.name}, value=${store.value.name}${extra}, ${changelog})`)
      }
      lines.push('')
    }
    const internal = this.subtopologies.flatMap((sub) =>
      sub.sinks.flatMap((s) => (isTopicRef(s.topic) && s.topic.internal ? [s.topic.name] : [])),
    )
    if (internal.length > 0) {
      lines.push('Repartition topics (prefixed with the application id):')
      for (const name of internal) lines.push(`   ${name}`)
      lines.push('')
    }
    return lines.join('\n')
  }
}

/** Partition counts the runtime (or the driver) derives from the source topics' real counts. */
export interface ResolvedPartitions {
  readonly tasksPerSubtopology: ReadonlyMap<number, number>
  /** Every topic of the plan: user sources and internal topics. */
  readonly topicPartitions: ReadonlyMap<string, number>
}

/**
 * Derives internal topics' partition counts from the user topics' counts, as Kafka Streams does
 * (a repartition topic gets the max of its writer sub-topology's source partitions), and checks
 * co-partitioning. Throws an error naming the topics when it cannot hold.
 */
export function resolvePartitions(plan: TopologyPlan, userTopicPartitions: (topic: string) => number | undefined): ResolvedPartitions {
  const topicPartitions = new Map<string, number>()
  const tasks = new Map<number, number>()
  const repartition = new Map(plan.internalTopics.filter((t) => t.role === 'repartition').map((t) => [t.name, t]))
  for (const t of repartition.values()) if (t.partitions.kind === 'fixed') topicPartitions.set(t.name, t.partitions.count)
  for (const sub of plan.subtopologies) {
    for (const topic of sub.userSourceTopics) {
      const count = userTopicPartitions(topic)
      if (count === undefined) throw new Error(`source topic '${topic}' (sub-topology ${sub.id}) does not exist; create it first`)
      topicPartitions.set(topic, count)
    }
  }
  // Sub-topologies form a DAG through repartition topics; iterate until every count is known.
  // A topic partitioned like its reader (foreign-key joins) does not decide the reader's task count.
  const decides = (sub: SubtopologyPlan, topic: string): boolean => {
    const rule = repartition.get(topic)?.partitions
    return !(rule?.kind === 'tasks-of' && rule.subtopology === sub.id)
  }
  for (let round = 0; round <= plan.subtopologies.length; round++) {
    for (const sub of plan.subtopologies) {
      if (tasks.has(sub.id)) continue
      const counts = sub.sourceTopics.filter((t) => decides(sub, t)).map((t) => topicPartitions.get(t))
      if (counts.length === 0 || counts.some((c) => c === undefined)) continue
      tasks.set(sub.id, Math.max(...(counts as number[])))
    }
    for (const spec of repartition.values()) {
      if (spec.partitions.kind !== 'tasks-of' || topicPartitions.has(spec.name)) continue
      const count = tasks.get(spec.partitions.subtopology)
      if (count !== undefined) topicPartitions.set(spec.name, count)
    }
  }
  for (const sub of plan.subtopologies) {
    if (!tasks.has(sub.id)) throw new Error(`cannot derive the partition count of sub-topology ${sub.id} (a repartition cycle?)`)
    for (const group of sub.coPartitionGroups) {
      const counts = group.map((t) => `${t}=${topicPartitions.get(t)}`)
      if (new Set(group.map((t) => topicPartitions.get(t))).size > 1) {
        throw new Error(
          `sub-topology ${sub.id} joins topics that are not co-partitioned (${counts.join(', ')}); give them the same partition count, or repartition() the stream with that count`,
        )
      }
    }
  }
  for (const t of plan.internalTopics) {
    if (t.role === 'changelog' && t.partitions.kind === 'tasks-of') topicPartitions.set(t.name, tasks.get(t.partitions.subtopology)!)
    if (t.role === 'dlq' && t.partitions.kind === 'fixed') topicPartitions.set(t.name, t.partitions.count)
  }
  return { tasksPerSubtopology: tasks, topicPartitions }
}
