/**
 * Task assignment for a consumer group of sentinel-streams instances.
 *
 * kafkajs' built-in assigner spreads topic-partitions round-robin, which breaks the two things a
 * stateful streams application needs:
 *  - co-partitioning: partition N of every source topic of a sub-topology must land on the same
 *    instance, because they share that task's state (a task = sub-topology × partition number);
 *  - stickiness: a task should go back to the instance that owned it, or failing that to one that
 *    still has its state on disk, so a rebalance does not mean restoring from the changelog.
 *
 * Each member sends, in its subscription's userData, the tasks it owns now, the tasks whose state
 * it has on disk, and its `applicationServer` address. The group leader then assigns whole tasks:
 * balanced per sub-topology and in total, and within that first to their previous owner, then to
 * an instance with their state (see `assignTasks`).
 *
 * Interactive queries need every instance to know which instance runs which task. The leader alone
 * sees all members, so it writes the whole map (address → tasks) into every member's assignment
 * userData (Kafka Streams' `partitionsByHost`). kafkajs drops assignment userData on receipt, so a
 * member reads it back from the coordinator (DescribeGroups; see `HostMapRefresher`).
 */
import type { TopologyGeneration } from '../topology/topology-generation.js'
import kafkajs, { type Assigner, type GroupMember, type GroupMemberAssignment, type PartitionAssigner } from 'kafkajs'

// kafkajs is CommonJS; Node's static analysis does not see this export.
const { AssignerProtocol } = kafkajs

export const TASK_ASSIGNOR_NAME = 'SentinelTaskAssignor'
const PROTOCOL_VERSION = 1

/** A task is one sub-topology on one partition number: `<subtopology>_<partition>`, as Kafka Streams names them. */
export interface TaskId {
  readonly subtopology: number
  readonly partition: number
}

export const taskIdString = (task: TaskId): string => `${task.subtopology}_${task.partition}`

export function parseTaskId(id: string): TaskId {
  const match = /^(\d+)_(\d+)$/.exec(id)
  if (!match) throw new Error(`not a task id: '${id}' (expected <subtopology>_<partition>)`)
  return { subtopology: Number(match[1]), partition: Number(match[2]) }
}

/** What a member tells the leader about itself. */
export interface MemberTasks {
  /** Tasks it processes right now (before this rebalance). */
  readonly owned: readonly string[]
  /** Tasks whose state it has on disk, owned or not. */
  readonly onDisk: readonly string[]
  /** Tasks whose stores it keeps warm as a standby right now (caught up to within the standby lag). */
  readonly standby?: readonly string[]
  /** Its `applicationServer` ("host:port"), if it has one. */
  readonly host?: string
  /** The topology it runs, when its application versions its topology (see `TopologyGeneration`). */
  readonly topology?: TopologyGeneration
}

/*
 * A member that says which topology it runs (`TopologyGeneration`: an application that rebuilds its
 * topology while running, `SentinelStreams.replaceTopology`) takes tasks only while it runs the
 * group's newest: under kafkajs' eager protocol every member rejoins on each rebalance, and members
 * part-way through a switch would otherwise be handed tasks whose sub-topology numbers mean
 * different things to them.
 */
export type { TopologyGeneration }

/**
 * The topology the group runs this generation: the fingerprint of the member with the highest
 * version (ties: the smallest fingerprint, so every leader picks the same one). Null when no member
 * says (an application that does not version its topology): then every member takes tasks.
 */
export function targetTopology(members: Iterable<MemberTasks>): TopologyGeneration | null {
  let target: TopologyGeneration | null = null
  for (const { topology } of members) {
    if (topology === undefined) continue
    if (target === null || topology.version > target.version || (topology.version === target.version && topology.fingerprint < target.fingerprint)) target = topology
  }
  return target
}

/**
 * The members that take tasks this generation: those on the target topology, and those that do not
 * say which they run. Empty when the leader itself is not on the target: its sub-topologies are not
 * the group's, so it cannot name the target's tasks; it is about to switch, and its rejoin then
 * starts the next rebalance.
 */
export function membersOnTarget(members: ReadonlyMap<string, MemberTasks>, leader: TopologyGeneration | undefined): { eligible: string[]; target: TopologyGeneration | null } {
  const target = targetTopology(members.values())
  if (target === null) return { eligible: [...members.keys()], target }
  if (leader !== undefined && leader.fingerprint !== target.fingerprint) return { eligible: [], target }
  return { eligible: [...members].filter(([, m]) => m.topology === undefined || m.topology.fingerprint === target.fingerprint).map(([id]) => id), target }
}

export interface SubtopologySources {
  readonly id: number
  /** Its source topics (user topics and internal repartition topics), all with the same partition count. */
  readonly topics: readonly string[]
}

/**
 * Assigns every task to exactly one member, balanced twice over — within each sub-topology (its
 * task counts per member differ by at most one) and in total (likewise) — and sticky within that
 * (previous owner first, then a member with the task's state on disk).
 *
 * Balancing each sub-topology, as Kafka Streams does, matters because sub-topologies differ in cost:
 * balancing only the totals lets a whole sub-topology (say every detector task) gather on the first
 * instance while the other gets only the cheap ones, and interactive queries of one store would
 * all land on one instance. Quotas come first: per sub-topology every member gets ⌊n/m⌋ tasks and
 * the n mod m extra ones go to the members with the fewest tasks so far (which keeps the totals
 * within one); stickiness then only chooses which tasks fill a member's quota.
 * Pure and deterministic: the same input always gives the same assignment.
 */
export function assignTasks(tasks: readonly string[], members: ReadonlyMap<string, MemberTasks>): Map<string, string[]> {
  const memberIds = [...members.keys()].sort()
  const result = new Map<string, string[]>(memberIds.map((m) => [m, []]))
  if (memberIds.length === 0) return result
  const bySubtopology = new Map<number, string[]>()
  for (const task of [...tasks].sort(compareTaskIds)) {
    const sub = parseTaskId(task).subtopology
    bySubtopology.set(sub, [...(bySubtopology.get(sub) ?? []), task])
  }
  for (const subTasks of bySubtopology.values()) {
    const floor = Math.floor(subTasks.length / memberIds.length)
    const extra = subTasks.length % memberIds.length
    const fewestFirst = [...memberIds].sort((a, b) => result.get(a)!.length - result.get(b)!.length || a.localeCompare(b))
    const quota = new Map(fewestFirst.map((m, i) => [m, floor + (i < extra ? 1 : 0)]))
    const unassigned = new Set(subTasks)
    const place = (task: string, member: string): void => {
      result.get(member)!.push(task)
      quota.set(member, quota.get(member)! - 1)
      unassigned.delete(task)
    }
    // A standby's stores are caught up to the changelog's tail; a directory on disk may be hours old.
    for (const preference of ['owned', 'standby', 'onDisk'] as const) {
      for (const task of [...unassigned]) {
        const candidate = memberIds.find((m) => quota.get(m)! > 0 && (members.get(m)![preference] ?? []).includes(task))
        if (candidate !== undefined) place(task, candidate)
      }
    }
    for (const task of unassigned) place(task, memberIds.find((m) => quota.get(m)! > 0)!)
  }
  for (const assigned of result.values()) assigned.sort(compareTaskIds)
  return result
}

/**
 * Places `replicas` standby copies of each stateful task (Kafka Streams' `num.standby.replicas`), each
 * on a member that does not run the task and holds no other copy of it. Among those, a member that
 * already keeps the task warm comes first (its copy stays caught up), then one with the task's state
 * on disk, then the one with the fewest tasks (active and standby) so far; a tie goes to the lower id.
 * With fewer members than `replicas + 1` some copies cannot be placed and are skipped. Pure and
 * deterministic.
 */
export function assignStandbyTasks(
  active: ReadonlyMap<string, readonly string[]>,
  statefulTasks: readonly string[],
  members: ReadonlyMap<string, MemberTasks>,
  replicas: number,
): Map<string, string[]> {
  const memberIds = [...members.keys()].sort()
  const result = new Map<string, string[]>(memberIds.map((m) => [m, []]))
  if (replicas <= 0) return result
  const ownerOf = new Map<string, string>()
  for (const [member, tasks] of active) for (const task of tasks) ownerOf.set(task, member)
  const load = new Map(memberIds.map((m) => [m, active.get(m)?.length ?? 0]))
  const rank = (member: string, task: string): number => {
    const info = members.get(member)!
    if ((info.standby ?? []).includes(task)) return 0
    return info.onDisk.includes(task) ? 1 : 2
  }
  for (const task of [...statefulTasks].sort(compareTaskIds)) {
    for (let copy = 0; copy < replicas; copy++) {
      const candidates = memberIds.filter((m) => m !== ownerOf.get(task) && !result.get(m)!.includes(task))
      if (candidates.length === 0) break
      candidates.sort((a, b) => rank(a, task) - rank(b, task) || load.get(a)! - load.get(b)! || a.localeCompare(b))
      const chosen = candidates[0]!
      result.get(chosen)!.push(task)
      load.set(chosen, load.get(chosen)! + 1)
    }
  }
  for (const tasks of result.values()) tasks.sort(compareTaskIds)
  return result
}

function compareTaskIds(a: string, b: string): number {
  const ta = parseTaskId(a)
  const tb = parseTaskId(b)
  return ta.subtopology - tb.subtopology || ta.partition - tb.partition
}

export interface TaskAssignorOptions {
  readonly subtopologies: readonly SubtopologySources[]
  /** Called when this member joins, to say what it owns and has on disk. */
  readonly localTasks: () => MemberTasks
  /** This member's `applicationServer` ("host:port"), sent to the leader for the host map. */
  readonly applicationServer?: string
  /** Standby copies per stateful task (`numStandbyReplicas`; default 0). */
  readonly numStandbyReplicas?: number
  /** Sub-topologies with a store restored from a changelog: only their tasks get standbys. */
  readonly statefulSubtopologies?: ReadonlySet<number>
  /** The topology this member runs, when the application versions it (`membersOnTarget`). */
  readonly topology?: TopologyGeneration
  /** Told, when this member leads, of the members left without tasks because they run another topology. */
  readonly onTopologyMismatch?: (mismatch: { readonly idle: readonly string[]; readonly target: TopologyGeneration; readonly leaderOnTarget: boolean }) => void
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [])

export const encodeMemberTasks = (tasks: MemberTasks): Buffer =>
  Buffer.from(
    JSON.stringify({
      owned: tasks.owned,
      onDisk: tasks.onDisk,
      ...(tasks.standby === undefined || tasks.standby.length === 0 ? {} : { standby: tasks.standby }),
      ...(tasks.host === undefined ? {} : { host: tasks.host }),
      ...(tasks.topology === undefined ? {} : { topology: tasks.topology }),
    }),
  )

function readTopology(value: unknown): TopologyGeneration | undefined {
  const { fingerprint, version } = (value ?? {}) as { fingerprint?: unknown; version?: unknown }
  return typeof fingerprint === 'string' && Number.isSafeInteger(version) ? { fingerprint, version: version as number } : undefined
}

export function decodeMemberTasks(userData: Buffer | null | undefined): MemberTasks {
  if (!userData || userData.length === 0) return { owned: [], onDisk: [] }
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as Record<string, unknown>
    const topology = readTopology(parsed.topology)
    const tasks = {
      owned: strings(parsed.owned),
      onDisk: strings(parsed.onDisk),
      ...(Array.isArray(parsed.standby) ? { standby: strings(parsed.standby) } : {}),
      ...(topology === undefined ? {} : { topology }),
    }
    return typeof parsed.host === 'string' ? { ...tasks, host: parsed.host } : tasks
  } catch {
    // A member of another version or another library: treat it as stateless rather than fail the group.
    return { owned: [], onDisk: [] }
  }
}

/**
 * Which instance runs which task, as the leader assigned them: one entry per address, members
 * without an `applicationServer` left out (their tasks have no queryable host). Every member gets
 * the same map in its assignment userData.
 */
export interface HostAssignment {
  readonly hosts: readonly { readonly host: string; readonly tasks: readonly string[] }[]
}

/** The map of an assignment: each address with the tasks of the member(s) that gave it. */
export function hostAssignment(assigned: ReadonlyMap<string, readonly string[]>, members: ReadonlyMap<string, MemberTasks>): HostAssignment {
  const byHost = new Map<string, string[]>()
  for (const [memberId, tasks] of [...assigned].sort(([a], [b]) => a.localeCompare(b))) {
    const host = members.get(memberId)?.host
    if (host === undefined) continue
    // Two members giving the same address is a misconfiguration; their tasks are listed together.
    byHost.set(host, [...(byHost.get(host) ?? []), ...tasks].sort(compareTaskIds))
  }
  return { hosts: [...byHost].sort(([a], [b]) => a.localeCompare(b)).map(([host, tasks]) => ({ host, tasks })) }
}

/** The host map, and the member's own standby tasks when it has any (each member's userData differs only there). */
export const encodeHostAssignment = (map: HostAssignment, standby: readonly string[] = []): Buffer =>
  Buffer.from(JSON.stringify({ version: PROTOCOL_VERSION, hosts: map.hosts, ...(standby.length > 0 ? { standby } : {}) }))

/** The standby tasks an assignment's userData gives its member; none from a member of another version. */
export function decodeStandbyAssignment(userData: Buffer | null | undefined): string[] {
  if (!userData || userData.length === 0) return []
  try {
    return strings((JSON.parse(userData.toString('utf8')) as { standby?: unknown }).standby)
  } catch {
    return []
  }
}

/** The host map of an assignment's userData; empty for a member of another version (no map sent). */
export function decodeHostAssignment(userData: Buffer | null | undefined): HostAssignment {
  if (!userData || userData.length === 0) return { hosts: [] }
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as { hosts?: unknown }
    if (!Array.isArray(parsed.hosts)) return { hosts: [] }
    const hosts = (parsed.hosts as unknown[]).flatMap((entry) => {
      const { host, tasks } = (entry ?? {}) as { host?: unknown; tasks?: unknown }
      return typeof host === 'string' ? [{ host, tasks: strings(tasks) }] : []
    })
    return { hosts }
  } catch {
    return { hosts: [] }
  }
}

/** A member's assignment as the coordinator holds it (DescribeGroups): its topic-partitions, the host map and its standby tasks. */
export function decodeMemberAssignment(memberAssignment: Buffer): { assignment: Record<string, number[]>; hosts: HostAssignment; standby: string[] } | null {
  if (memberAssignment.length === 0) return null
  const decoded = AssignerProtocol.MemberAssignment.decode(memberAssignment)
  if (!decoded) return null
  return { assignment: decoded.assignment, hosts: decodeHostAssignment(decoded.userData), standby: decodeStandbyAssignment(decoded.userData) }
}

/** The kafkajs `partitionAssigners` entry that assigns whole tasks. */
export function taskAssignor(options: TaskAssignorOptions): PartitionAssigner {
  return ({ cluster }): Assigner => ({
    name: TASK_ASSIGNOR_NAME,
    version: PROTOCOL_VERSION,
    protocol({ topics }) {
      return {
        name: TASK_ASSIGNOR_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: PROTOCOL_VERSION,
          topics,
          userData: encodeMemberTasks({
            ...options.localTasks(),
            ...(options.applicationServer === undefined ? {} : { host: options.applicationServer }),
            ...(options.topology === undefined ? {} : { topology: options.topology }),
          }),
        }),
      }
    },
    async assign({ members, topics }: { members: GroupMember[]; topics: string[] }): Promise<GroupMemberAssignment[]> {
      const subscribed = new Set(topics)
      const tasks: string[] = []
      const taskTopics = new Map<string, { topic: string; partition: number }[]>()
      for (const sub of options.subtopologies) {
        const partitions = Math.max(0, ...sub.topics.map((t) => (subscribed.has(t) ? cluster.findTopicPartitionMetadata(t).length : 0)))
        for (let partition = 0; partition < partitions; partition++) {
          const id = taskIdString({ subtopology: sub.id, partition })
          tasks.push(id)
          taskTopics.set(
            id,
            sub.topics.filter((t) => subscribed.has(t)).map((topic) => ({ topic, partition })),
          )
        }
      }
      const memberTasks = new Map(
        members.map((m) => [m.memberId, decodeMemberTasks(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData)]),
      )
      const { eligible, target } = membersOnTarget(memberTasks, options.topology)
      const onTarget = new Map(eligible.map((id) => [id, memberTasks.get(id)!]))
      if (target !== null && eligible.length < memberTasks.size) {
        const idle = [...memberTasks.keys()].filter((id) => !onTarget.has(id)).sort()
        options.onTopologyMismatch?.({ idle, target, leaderOnTarget: eligible.length > 0 })
      }
      const assigned = assignTasks(eligible.length === 0 ? [] : tasks, onTarget)
      for (const id of memberTasks.keys()) if (!assigned.has(id)) assigned.set(id, [])
      const stateful = tasks.filter((id) => options.statefulSubtopologies?.has(parseTaskId(id).subtopology) ?? false)
      const standbys = assignStandbyTasks(assigned, eligible.length === 0 ? [] : stateful, onTarget, options.numStandbyReplicas ?? 0)
      const hostMap = hostAssignment(assigned, memberTasks)
      return [...assigned].map(([memberId, ids]) => {
        const assignment: Record<string, number[]> = {}
        for (const id of ids) for (const { topic, partition } of taskTopics.get(id) ?? []) (assignment[topic] ??= []).push(partition)
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: PROTOCOL_VERSION,
            assignment,
            userData: encodeHostAssignment(hostMap, standbys.get(memberId)),
          }),
        }
      })
    },
  })
}

/** The tasks a member was given, derived from its topic-partitions (what kafkajs hands the consumer). */
export function tasksOfAssignment(assignment: Readonly<Record<string, readonly number[]>>, subtopologies: readonly SubtopologySources[]): string[] {
  const tasks = new Set<string>()
  for (const sub of subtopologies) {
    for (const topic of sub.topics) for (const partition of assignment[topic] ?? []) tasks.add(taskIdString({ subtopology: sub.id, partition }))
  }
  return [...tasks].sort(compareTaskIds)
}
