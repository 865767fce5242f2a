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
 * Each member sends, in its subscription's userData, the tasks it owns now and the tasks whose state
 * it has on disk. The group leader then assigns whole tasks: first to their previous owner, then to
 * an instance with their state, then to the least-loaded instance, never exceeding ⌈tasks/members⌉
 * per member so the load stays balanced.
 */
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
}

export interface SubtopologySources {
  readonly id: number
  /** Its source topics (user topics and internal repartition topics), all with the same partition count. */
  readonly topics: readonly string[]
}

/**
 * Assigns every task to exactly one member, balanced (task counts differ by at most one) and
 * sticky (previous owner first, then a member with the task's state on disk).
 * Pure and deterministic: the same input always gives the same assignment.
 */
export function assignTasks(tasks: readonly string[], members: ReadonlyMap<string, MemberTasks>): Map<string, string[]> {
  const memberIds = [...members.keys()].sort()
  const result = new Map<string, string[]>(memberIds.map((m) => [m, []]))
  if (memberIds.length === 0) return result
  // Balanced means `extra` members hold `floor + 1` tasks and the rest `floor`: stickiness may only
  // fill a member up to `floor + 1` while fewer than `extra` members are there already.
  const floor = Math.floor(tasks.length / memberIds.length)
  const extra = tasks.length % memberIds.length
  let membersAtCeiling = 0
  const unassigned = new Set([...tasks].sort(compareTaskIds))
  const place = (task: string, member: string): void => {
    const assigned = result.get(member)!
    assigned.push(task)
    if (assigned.length === floor + 1) membersAtCeiling++
    unassigned.delete(task)
  }
  const hasRoom = (member: string): boolean => {
    const count = result.get(member)!.length
    return count < floor || (count === floor && membersAtCeiling < extra)
  }

  for (const preference of ['owned', 'onDisk'] as const) {
    for (const task of [...unassigned]) {
      const candidate = memberIds.find((m) => hasRoom(m) && members.get(m)![preference].includes(task))
      if (candidate !== undefined) place(task, candidate)
    }
  }
  for (const task of unassigned) {
    const leastLoaded = memberIds.reduce((best, m) => (result.get(m)!.length < result.get(best)!.length ? m : best))
    place(task, leastLoaded)
  }
  for (const assigned of result.values()) assigned.sort(compareTaskIds)
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
}

const encodeUserData = (tasks: MemberTasks): Buffer => Buffer.from(JSON.stringify({ owned: tasks.owned, onDisk: tasks.onDisk }))

function decodeUserData(userData: Buffer | undefined): MemberTasks {
  if (!userData || userData.length === 0) return { owned: [], onDisk: [] }
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as Partial<MemberTasks>
    return { owned: parsed.owned ?? [], onDisk: parsed.onDisk ?? [] }
  } catch {
    // A member of another version or another library: treat it as stateless rather than fail the group.
    return { owned: [], onDisk: [] }
  }
}

/** The kafkajs `partitionAssigners` entry that assigns whole tasks. */
export function taskAssignor(options: TaskAssignorOptions): PartitionAssigner {
  return ({ cluster }): Assigner => ({
    name: TASK_ASSIGNOR_NAME,
    version: PROTOCOL_VERSION,
    protocol({ topics }) {
      return {
        name: TASK_ASSIGNOR_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: PROTOCOL_VERSION, topics, userData: encodeUserData(options.localTasks()) }),
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
        members.map((m) => [m.memberId, decodeUserData(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData)]),
      )
      const assigned = assignTasks(tasks, memberTasks)
      return [...assigned].map(([memberId, ids]) => {
        const assignment: Record<string, number[]> = {}
        for (const id of ids) for (const { topic, partition } of taskTopics.get(id) ?? []) (assignment[topic] ??= []).push(partition)
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: PROTOCOL_VERSION,
            assignment,
            userData: Buffer.alloc(0),
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
