import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import kafkajs, { type Cluster } from 'kafkajs'
import { assignTasks, membersOnTarget, taskAssignor, tasksOfAssignment, type MemberTasks, type TopologyGeneration } from '../../../runtime/assignor.js'

const { AssignerProtocol } = kafkajs

const taskIds = (subtopologies: number, partitions: number): string[] =>
  Array.from({ length: subtopologies * partitions }, (_, i) => `${Math.floor(i / partitions)}_${i % partitions}`)

const members = (entries: [string, Partial<MemberTasks>][]): Map<string, MemberTasks> =>
  new Map(entries.map(([id, t]) => [id, { owned: t.owned ?? [], onDisk: t.onDisk ?? [] }]))

describe('assignTasks', () => {
  test('property: every task exactly once, counts differ by at most one in total and within each sub-topology', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.tuple(fc.nat(5), fc.nat(47), fc.boolean()), { maxLength: 40 }),
        (subs, parts, memberCount, claims) => {
          const tasks = taskIds(subs, parts)
          const ms = members(Array.from({ length: memberCount }, (_, i) => [`m${i}`, {}]))
          for (const [m, t, owned] of claims) {
            const member = ms.get(`m${m % memberCount}`)!
            const task = tasks[t % tasks.length]!
            ;(owned ? (member.owned as string[]) : (member.onDisk as string[])).push(task)
          }
          const result = assignTasks(tasks, ms)
          const all = [...result.values()].flat()
          assert.deepEqual([...all].sort(), [...tasks].sort())
          const counts = [...result.values()].map((a) => a.length)
          assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `unbalanced: ${counts}`)
          for (let sub = 0; sub < subs; sub++) {
            const perSub = [...result.values()].map((a) => a.filter((t) => t.startsWith(`${sub}_`)).length)
            assert.ok(Math.max(...perSub) - Math.min(...perSub) <= 1, `sub-topology ${sub} unbalanced: ${perSub}`)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  test('sticky: a task goes back to its owner, then to a member with its state on disk', () => {
    const tasks = taskIds(1, 4)
    const result = assignTasks(
      tasks,
      members([
        ['a', { owned: ['0_3', '0_2'] }],
        ['b', { onDisk: ['0_0'] }],
      ]),
    )
    assert.deepEqual(result.get('a'), ['0_2', '0_3'])
    assert.deepEqual(result.get('b'), ['0_0', '0_1'])
  })

  test('a new member takes over tasks only as far as balance needs', () => {
    const tasks = taskIds(1, 6)
    const result = assignTasks(tasks, members([['a', { owned: tasks }], ['b', {}]]))
    assert.deepEqual(result.get('a'), ['0_0', '0_1', '0_2'])
    assert.deepEqual(result.get('b'), ['0_3', '0_4', '0_5'])
  })

  test('a second member gets a share of every sub-topology, not the last sub-topologies whole', () => {
    const tasks = taskIds(3, 2)
    const result = assignTasks(tasks, members([['a', { owned: tasks }], ['b', {}]]))
    assert.deepEqual(result.get('a'), ['0_0', '1_0', '2_0'])
    assert.deepEqual(result.get('b'), ['0_1', '1_1', '2_1'])
  })

  test('no members: nothing assigned', () => {
    assert.equal(assignTasks(['0_0'], new Map()).size, 0)
  })
})

describe('taskAssignor (kafkajs adapter)', () => {
  const partitionsOf: Record<string, number> = { clicks: 3, users: 3, 'app-agg-repartition': 2 }
  const cluster = {
    findTopicPartitionMetadata: (topic: string) => Array.from({ length: partitionsOf[topic] ?? 0 }, (_, partitionId) => ({ partitionId })),
  } as unknown as Cluster
  const subtopologies = [
    { id: 0, topics: ['clicks', 'users'] },
    { id: 1, topics: ['app-agg-repartition'] },
  ]

  test('co-partitioned topics: partition N of every source topic of a sub-topology goes to one member', async () => {
    const make = (owned: string[]) => taskAssignor({ subtopologies, localTasks: () => ({ owned, onDisk: [] }) })({ cluster, groupId: 'g', logger: console as never })
    const a = make(['0_1'])
    const b = make([])
    const topics = ['clicks', 'users', 'app-agg-repartition']
    const result = await a.assign({
      topics,
      members: [
        { memberId: 'a', memberMetadata: a.protocol({ topics }).metadata },
        { memberId: 'b', memberMetadata: b.protocol({ topics }).metadata },
      ],
    })
    const byMember = new Map(result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment]))
    for (const assignment of byMember.values()) assert.deepEqual(assignment.clicks ?? [], assignment.users ?? [])
    assert.ok(byMember.get('a')!.clicks?.includes(1), 'task 0_1 stays with its owner')
    const tasks = [...byMember.values()].flatMap((assignment) => tasksOfAssignment(assignment, subtopologies))
    assert.deepEqual(tasks.sort(), ['0_0', '0_1', '0_2', '1_0', '1_1'])
  })

  test('a member with unreadable userData is treated as stateless, not a failure', async () => {
    const assigner = taskAssignor({ subtopologies, localTasks: () => ({ owned: [], onDisk: [] }) })({ cluster, groupId: 'g', logger: console as never })
    const garbage = AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['clicks'], userData: Buffer.from('not json') })
    const result = await assigner.assign({ topics: ['clicks', 'users'], members: [{ memberId: 'x', memberMetadata: garbage }] })
    assert.deepEqual(AssignerProtocol.MemberAssignment.decode(result[0]!.memberAssignment)!.assignment.clicks, [0, 1, 2])
  })

  describe('topology generations: no task runs under two topologies', () => {
    const topics = ['clicks', 'users', 'app-agg-repartition']
    const oldGen: TopologyGeneration = { fingerprint: 'aaaa', version: 0 }
    const newGen: TopologyGeneration = { fingerprint: 'bbbb', version: 5 }
    const member = (topology: TopologyGeneration | undefined, mismatches: unknown[] = []) =>
      taskAssignor({
        subtopologies,
        localTasks: () => ({ owned: [], onDisk: [] }),
        ...(topology ? { topology } : {}),
        onTopologyMismatch: (m) => mismatches.push(m),
      })({ cluster, groupId: 'g', logger: console as never })
    const tasksByMember = (result: { memberId: string; memberAssignment: Buffer }[]) =>
      new Map(result.map((r) => [r.memberId, tasksOfAssignment(AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment, subtopologies)]))

    test('a leader on the newest topology gives every task to the members on it, none to the others', async () => {
      const mismatches: unknown[] = []
      const a = member(newGen, mismatches)
      const b = member(oldGen)
      const c = member(newGen)
      const members = [a, b, c].map((m, i) => ({ memberId: 'abc'[i]!, memberMetadata: m.protocol({ topics }).metadata }))
      const byMember = tasksByMember(await a.assign({ topics, members }))
      assert.deepEqual(byMember.get('b'), [], 'the member on the older topology waits')
      assert.deepEqual([...byMember.get('a')!, ...byMember.get('c')!].sort(), ['0_0', '0_1', '0_2', '1_0', '1_1'])
      assert.deepEqual(mismatches, [{ idle: ['b'], target: newGen, leaderOnTarget: true }])
    })

    test('a leader on an older topology than another member gives no tasks at all (it cannot name the new ones)', async () => {
      const mismatches: unknown[] = []
      const a = member(oldGen, mismatches)
      const b = member(newGen)
      const members = [a, b].map((m, i) => ({ memberId: 'ab'[i]!, memberMetadata: m.protocol({ topics }).metadata }))
      const byMember = tasksByMember(await a.assign({ topics, members }))
      assert.deepEqual([...byMember.values()].flat(), [])
      assert.deepEqual(mismatches, [{ idle: ['a', 'b'], target: newGen, leaderOnTarget: false }])
    })

    test('the same structure under a newer configuration version is the same topology: everyone works', () => {
      const live = { fingerprint: 'bbbb', version: 6 }
      const members = new Map<string, MemberTasks>([
        ['a', { owned: [], onDisk: [], topology: newGen }],
        ['b', { owned: [], onDisk: [], topology: live }],
      ])
      assert.deepEqual(membersOnTarget(members, newGen).eligible, ['a', 'b'])
    })

    test('equal versions with different structures: every leader picks the same one (the smaller fingerprint)', () => {
      const other = { fingerprint: 'cccc', version: 5 }
      const members = new Map<string, MemberTasks>([
        ['a', { owned: [], onDisk: [], topology: other }],
        ['b', { owned: [], onDisk: [], topology: newGen }],
      ])
      assert.deepEqual(membersOnTarget(members, newGen), { eligible: ['b'], target: newGen })
      assert.deepEqual(membersOnTarget(members, other), { eligible: [], target: newGen })
    })

    test('members that do not version their topology all take tasks, as before', () => {
      const members = new Map<string, MemberTasks>([
        ['a', { owned: [], onDisk: [] }],
        ['b', { owned: [], onDisk: [] }],
      ])
      assert.deepEqual(membersOnTarget(members, undefined), { eligible: ['a', 'b'], target: null })
    })
  })
})
