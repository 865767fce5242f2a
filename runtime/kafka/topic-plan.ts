/**
 * Turns the topology plan's internal-topic rules into concrete topics for the cluster at hand:
 * partition counts come from the source topics as they exist, and every mismatch that would corrupt
 * state later (missing inputs, co-partitioned topics of different sizes) is refused at start.
 */
import type { TopologyPlan } from '../../topology/topology.js'
import type { ResolvedTopicSpec } from '../internal-topics.js'

export class TopologyStartError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TopologyStartError'
  }
}

/**
 * Resolves each internal topic's partition count. A sub-topology has as many tasks as its largest
 * source topic; a repartition topic it reads may itself be sized by another sub-topology, so this
 * iterates until nothing changes (the graph is acyclic, so it ends).
 */
export function resolveInternalTopics(plan: TopologyPlan, userTopicPartitions: ReadonlyMap<string, number>): ResolvedTopicSpec[] {
  const resolved = new Map<string, number>()
  for (const spec of plan.internalTopics) if (spec.partitions.kind === 'fixed') resolved.set(spec.name, spec.partitions.count)
  const partitionsOf = (topic: string): number | undefined => userTopicPartitions.get(topic) ?? resolved.get(topic)
  const tasksOf = (subTopology: number): number | undefined => {
    const counts = plan.subTopologies[subTopology]!.sourceTopics.map(partitionsOf)
    return counts.some((c) => c === undefined) ? undefined : Math.max(...(counts as number[]))
  }
  for (let pass = 0; pass <= plan.internalTopics.length; pass++) {
    let changed = false
    for (const spec of plan.internalTopics) {
      if (resolved.has(spec.name) || spec.partitions.kind !== 'tasks-of') continue
      const count = tasksOf(spec.partitions.subTopology)
      if (count !== undefined) {
        resolved.set(spec.name, count)
        changed = true
      }
    }
    if (!changed) break
  }
  return plan.internalTopics.map((spec) => {
    const partitions = resolved.get(spec.name)
    if (partitions === undefined) throw new TopologyStartError(`cannot size internal topic '${spec.name}': its sub-topology's source topics have no known partition count`)
    return { name: spec.name, role: spec.role, partitions, configs: spec.configs }
  })
}

/** Co-partitioned source topics (joins) must have equal partition counts. */
export function checkCoPartitioning(plan: TopologyPlan, partitionsOf: (topic: string) => number | undefined): void {
  const problems: string[] = []
  for (const sub of plan.subTopologies) {
    for (const group of sub.coPartitionGroups) {
      const counts = group.map((t) => `${t}=${partitionsOf(t) ?? '?'}`)
      if (new Set(group.map(partitionsOf)).size > 1) {
        problems.push(
          `sub-topology ${sub.id} joins ${group.join(' and ')}, which must have the same number of partitions (${counts.join(', ')}). ` +
            `Repartition one side to match, e.g. stream.repartition({ partitions: N }), or recreate the topic.`,
        )
      }
    }
  }
  if (problems.length > 0) throw new TopologyStartError(`co-partitioning does not hold:\n- ${problems.join('\n- ')}`)
}
