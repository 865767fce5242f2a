/**
 * The host map for interactive queries: each member's address in its subscription, the leader's map
 * (address → tasks) in every member's assignment, decoded back by members, and the consumer-side
 * holder of the last known map.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import kafkajs, { type Cluster } from 'kafkajs'
import {
  decodeHostAssignment,
  decodeMemberAssignment,
  decodeMemberTasks,
  encodeHostAssignment,
  encodeMemberTasks,
  hostAssignment,
  taskAssignor,
  tasksOfAssignment,
  type MemberTasks,
} from '../../../runtime/assignor.js'
import { ConfigError, parseHostInfo, resolveConfig } from '../../../runtime/config.js'
import { sameAssignment } from '../../../runtime/kafka/host-map-refresher.js'
import { TaskHosts } from '../../../runtime/query/task-hosts.js'

const { AssignerProtocol } = kafkajs

describe('member subscription userData', () => {
  test('carries the address beside owned and on-disk tasks', () => {
    const tasks: MemberTasks = { owned: ['0_1'], onDisk: ['0_2'], host: 'sentinel-1:8080' }
    assert.deepEqual(decodeMemberTasks(encodeMemberTasks(tasks)), tasks)
  })

  test('a member without an address (or of the previous version) decodes without one', () => {
    assert.deepEqual(decodeMemberTasks(encodeMemberTasks({ owned: ['0_0'], onDisk: [] })), { owned: ['0_0'], onDisk: [] })
    assert.deepEqual(decodeMemberTasks(Buffer.from(JSON.stringify({ owned: ['0_0'], onDisk: [] }))), { owned: ['0_0'], onDisk: [] })
    assert.deepEqual(decodeMemberTasks(Buffer.from('{"owned": 3, "host": 7}')), { owned: [], onDisk: [] })
    assert.deepEqual(decodeMemberTasks(Buffer.from('not json')), { owned: [], onDisk: [] })
  })
})

describe('hostAssignment', () => {
  test('lists every address with its tasks, members without an address left out, empty members kept', () => {
    const assigned = new Map([
      ['m-b', ['0_1', '0_3']],
      ['m-a', ['0_0', '0_2']],
      ['m-c', []],
      ['m-none', ['1_0']],
    ])
    const members = new Map<string, MemberTasks>([
      ['m-a', { owned: [], onDisk: [], host: 'a:1' }],
      ['m-b', { owned: [], onDisk: [], host: 'b:2' }],
      ['m-c', { owned: [], onDisk: [], host: 'c:3' }],
      ['m-none', { owned: [], onDisk: [] }],
    ])
    assert.deepEqual(hostAssignment(assigned, members), {
      hosts: [
        { host: 'a:1', tasks: ['0_0', '0_2'] },
        { host: 'b:2', tasks: ['0_1', '0_3'] },
        { host: 'c:3', tasks: [] },
      ],
    })
  })

  test('two members giving one address: their tasks are listed together, in task order', () => {
    const map = hostAssignment(
      new Map([
        ['m1', ['0_2', '1_0']],
        ['m2', ['0_10']],
      ]),
      new Map<string, MemberTasks>([
        ['m1', { owned: [], onDisk: [], host: 'x:1' }],
        ['m2', { owned: [], onDisk: [], host: 'x:1' }],
      ]),
    )
    assert.deepEqual(map, { hosts: [{ host: 'x:1', tasks: ['0_2', '0_10', '1_0'] }] })
  })

  test('property: encode/decode round trip', () => {
    const task = fc.tuple(fc.nat(3), fc.nat(31)).map(([s, p]) => `${s}_${p}`)
    const address = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/), fc.integer({ min: 1, max: 65_535 })).map(([h, p]) => `${h}:${p}`)
    const entry = fc.tuple(address, fc.array(task)).map(([host, tasks]) => ({ host, tasks }))
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), (hosts) => {
        assert.deepEqual(decodeHostAssignment(encodeHostAssignment({ hosts })), { hosts })
      }),
      { numRuns: 200 },
    )
  })

  test('decoding tolerates what another version or library may send', () => {
    assert.deepEqual(decodeHostAssignment(Buffer.alloc(0)), { hosts: [] })
    assert.deepEqual(decodeHostAssignment(undefined), { hosts: [] })
    assert.deepEqual(decodeHostAssignment(Buffer.from('garbage')), { hosts: [] })
    assert.deepEqual(decodeHostAssignment(Buffer.from('{"hosts": {"a": 1}}')), { hosts: [] })
    assert.deepEqual(decodeHostAssignment(Buffer.from('{"hosts": [{"host": 5}, {"host": "a:1", "tasks": ["0_0", 7]}, null]}')), {
      hosts: [{ host: 'a:1', tasks: ['0_0'] }],
    })
  })
})

describe('taskAssignor: the leader sends every member the whole host map', () => {
  const cluster = {
    findTopicPartitionMetadata: (topic: string) => Array.from({ length: topic === 'requests' ? 4 : 0 }, (_, partitionId) => ({ partitionId })),
  } as unknown as Cluster
  const subtopologies = [{ id: 0, topics: ['requests'] }]
  const make = (applicationServer?: string) =>
    taskAssignor({ subtopologies, localTasks: () => ({ owned: [], onDisk: [] }), ...(applicationServer ? { applicationServer } : {}) })({
      cluster,
      groupId: 'g',
      logger: console as never,
    })

  test('each member decodes the same map, and it matches the topic-partitions each was given', async () => {
    const topics = ['requests']
    const members = { m1: make('a:1'), m2: make('b:2'), m3: make() }
    const result = await members.m1.assign({
      topics,
      members: Object.entries(members).map(([memberId, assigner]) => ({ memberId, memberMetadata: assigner.protocol({ topics }).metadata })),
    })
    const decoded = new Map(result.map((r) => [r.memberId, decodeMemberAssignment(r.memberAssignment)!]))
    const maps = [...decoded.values()].map((d) => d.hosts)
    for (const map of maps) assert.deepEqual(map, maps[0], 'every member gets the same map')
    const tasksOf = (memberId: string): string[] => tasksOfAssignment(decoded.get(memberId)!.assignment, subtopologies)
    assert.deepEqual(maps[0], {
      hosts: [
        { host: 'a:1', tasks: tasksOf('m1') },
        { host: 'b:2', tasks: tasksOf('m2') },
      ],
    })
    assert.equal(tasksOf('m3').length > 0, true, 'the member without an address still gets tasks; they have no host in the map')
    const mapped = new Set(maps[0]!.hosts.flatMap((h) => h.tasks))
    assert.ok(tasksOf('m3').every((t) => !mapped.has(t)))
  })

  test('a member reading back its assignment compares topic-partitions, not their order', () => {
    assert.ok(sameAssignment({ requests: [2, 0], other: [] }, { requests: [0, 2] }))
    assert.ok(!sameAssignment({ requests: [0, 2] }, { requests: [0, 1] }))
    assert.ok(!sameAssignment({ requests: [0] }, { other: [0] }))
  })

  test('an assignment encoded by the previous version (no userData) decodes with an empty map', () => {
    const old = AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: { requests: [0, 1] }, userData: Buffer.alloc(0) })
    assert.deepEqual(decodeMemberAssignment(old), { assignment: { requests: [0, 1] }, hosts: { hosts: [] }, standby: [] })
    assert.equal(decodeMemberAssignment(Buffer.alloc(0)), null)
  })
})

describe('TaskHosts (last known map)', () => {
  test('empty and unassigned before the first map; then answers per task', () => {
    const hosts = new TaskHosts()
    assert.equal(hosts.assigned, false)
    assert.equal(hosts.hostOf('0_0'), null)
    hosts.update({ hosts: [{ host: 'a:1', tasks: ['0_0'] }, { host: 'b:2', tasks: ['0_1'] }, { host: 'idle:3', tasks: [] }] })
    assert.equal(hosts.assigned, true)
    assert.deepEqual(hosts.hostOf('0_1'), { host: 'b', port: 2 })
    assert.equal(hosts.hostOf('0_9'), null)
    assert.deepEqual(hosts.all(), [
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
      { host: 'idle', port: 3 },
    ])
  })

  test('a new map replaces the old one whole; an address it cannot parse is skipped', () => {
    const hosts = new TaskHosts()
    hosts.update({ hosts: [{ host: 'a:1', tasks: ['0_0', '0_1'] }] })
    hosts.update({ hosts: [{ host: 'b:2', tasks: ['0_0'] }, { host: 'no port', tasks: ['0_1'] }] })
    assert.deepEqual(hosts.hostOf('0_0'), { host: 'b', port: 2 })
    assert.equal(hosts.hostOf('0_1'), null)
    assert.deepEqual(hosts.tasksOf({ host: 'b', port: 2 }), ['0_0'])
  })
})

describe('applicationServer config', () => {
  const base = { applicationId: 'app', brokers: 'k:9092' }

  test('parsed into hostInfo; unset is null', () => {
    assert.deepEqual(resolveConfig({ ...base, applicationServer: 'sentinel-1:8080' }).applicationServer, { host: 'sentinel-1', port: 8080 })
    assert.deepEqual(parseHostInfo('10.0.0.7:1'), { host: '10.0.0.7', port: 1 })
    assert.deepEqual(parseHostInfo('[::1]:8080'), { host: '[::1]', port: 8080 })
    assert.equal(resolveConfig(base).applicationServer, null)
  })

  test('anything but host:port is a ConfigError naming the field and the fix', () => {
    for (const bad of ['sentinel-1', 'sentinel-1:0', 'sentinel-1:70000', ':8080', 'a b:1', 'http://x:1', 'a:1,b:2', 8080]) {
      assert.throws(
        () => resolveConfig({ ...base, applicationServer: bad as string }),
        (e: unknown) => e instanceof ConfigError && e.field === 'applicationServer' && /is not host:port.*e\.g\. "sentinel-1:8080"/.test(e.message),
        `rejects ${JSON.stringify(bad)}`,
      )
    }
  })
})
