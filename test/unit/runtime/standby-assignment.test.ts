import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import kafkajs, { type Cluster } from 'kafkajs'
import { assignStandbyTasks, assignTasks, decodeMemberAssignment, encodeMemberTasks, taskAssignor, type MemberTasks } from '../../../runtime/assignor.js'

const { AssignerProtocol } = kafkajs

const taskIds = (subtopologies: number, partitions: number): string[] =>
  Array.from({ length: subtopologies * partitions }, (_, i) => `${Math.floor(i / partitions)}_${i % partitions}`)

const members = (entries: [string, Partial<MemberTasks>][]): Map<string, MemberTasks> =>
  new Map(entries.map(([id, t]) => [id, { owned: t.owned ?? [], onDisk: t.onDisk ?? [], standby: t.standby ?? [] }]))

describe('assignStandbyTasks', () => {
  test('property: min(replicas, members - 1) copies per task, never on its active owner, never twice on one member', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 3 }), (parts, memberCount, replicas) => {
        const tasks = taskIds(1, parts)
        const ms = members(Array.from({ length: memberCount }, (_, i) => [`m${i}`, {}]))
        const active = assignTasks(tasks, ms)
        const standbys = assignStandbyTasks(active, tasks, ms, replicas)
        for (const task of tasks) {
          const holders = [...standbys].filter(([, ts]) => ts.includes(task)).map(([m]) => m)
          assert.equal(holders.length, Math.min(replicas, memberCount - 1), `copies of ${task}`)
          assert.equal(new Set(holders).size, holders.length)
          const owner = [...active].find(([, ts]) => ts.includes(task))![0]
          assert.ok(!holders.includes(owner), `${task} has a standby on its owner ${owner}`)
        }
      }),
    )
  })

  test('a member already holding the standby keeps it, even when another member has fewer tasks', () => {
    const ms = members([
      ['a', { owned: ['0_0', '0_1'] }],
      ['b', { owned: ['0_2', '0_3'], standby: ['0_0', '0_1'] }],
      ['c', {}],
    ])
    const active = new Map([
      ['a', ['0_0', '0_1']],
      ['b', ['0_2', '0_3']],
      ['c', []],
    ])
    const standbys = assignStandbyTasks(active, ['0_0', '0_1', '0_2', '0_3'], ms, 1)
    assert.deepEqual(standbys.get('b'), ['0_0', '0_1'])
    assert.deepEqual(standbys.get('c'), ['0_2', '0_3'])
  })

  test('zero replicas or stateless tasks: no standbys', () => {
    const ms = members([
      ['a', {}],
      ['b', {}],
    ])
    const active = assignTasks(['0_0', '0_1'], ms)
    assert.deepEqual([...assignStandbyTasks(active, ['0_0', '0_1'], ms, 0).values()].flat(), [])
    assert.deepEqual([...assignStandbyTasks(active, [], ms, 1).values()].flat(), [])
  })
})

describe('assignTasks with standbys', () => {
  test('a task whose owner left goes to the member that held its standby, not to one with an older copy on disk', () => {
    // `a` died; it owned 0_0. `b` kept 0_0 warm; `c` has an old directory of it.
    const ms = members([
      ['b', { owned: ['0_1'], standby: ['0_0'] }],
      ['c', { owned: ['0_2'], onDisk: ['0_0'] }],
    ])
    const result = assignTasks(['0_0', '0_1', '0_2', '0_3'], ms)
    assert.ok(result.get('b')!.includes('0_0'), `0_0 went to ${JSON.stringify([...result])}`)
  })
})

describe('taskAssignor', () => {
  test('each member reads its own standby tasks back from its assignment userData, on stateful sub-topologies only', async () => {
    const cluster = {
      findTopicPartitionMetadata: (topic: string) => Array.from({ length: topic === 'counts' ? 4 : 2 }, (_, partition) => ({ partitionId: partition })),
    } as unknown as Cluster
    const assigner = taskAssignor({
      subtopologies: [
        { id: 0, topics: ['counts'] },
        { id: 1, topics: ['stateless'] },
      ],
      localTasks: () => ({ owned: [], onDisk: [] }),
      numStandbyReplicas: 1,
      statefulSubtopologies: new Set([0]),
    })({ cluster, groupId: 'g', logger: undefined as never })
    const metadata = (tasks: MemberTasks): Buffer =>
      AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['counts', 'stateless'], userData: encodeMemberTasks(tasks) })
    const result = await assigner.assign({
      members: [
        { memberId: 'a', memberMetadata: metadata({ owned: [], onDisk: [] }) },
        { memberId: 'b', memberMetadata: metadata({ owned: [], onDisk: [] }) },
      ] as never,
      topics: ['counts', 'stateless'],
    })
    const decoded = new Map(result.map((r) => [r.memberId, decodeMemberAssignment(r.memberAssignment)!]))
    const activeOf = (m: string): string[] => (decoded.get(m)!.assignment.counts ?? []).map((p) => `0_${p}`)
    assert.deepEqual([...decoded.get('a')!.standby].sort(), activeOf('b').sort())
    assert.deepEqual([...decoded.get('b')!.standby].sort(), activeOf('a').sort())
    assert.ok(
      [...decoded.values()].every((d) => d.standby.every((t) => t.startsWith('0_'))),
      'no standby of the stateless sub-topology',
    )
  })
})
