/**
 * A group of instances of one application, each a CLI process (`sentinel-streams run`) on a state
 * directory of its own, for the benches that kill instances or add them to a running group
 * (bench/failover, bench/rebalance): the application's topics, its instances launched with the same
 * settings, a failure as soon as one exits on its own, and the cleanup (processes, topics, state).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Admin, ITopicConfig } from 'kafkajs'
import { startInstance, type CliInstance, type LogLine } from '../../test/integration/runtime/cli-instance.js'
import { createTopicsAndWait } from '../../test/kafka.js'

export interface InstanceGroupOptions {
  admin: Admin
  applicationId: string
  /** Relative to the repository root, as the CLI takes it. */
  topologyFile: string
  /** Created by `createTopics()`, deleted by `close()`. */
  topics: ITopicConfig[]
  /** The environment of every instance (the topology file reads its topics from it). */
  env: Record<string, string>
  /** The runtime's settings (`--config`) of every instance. */
  settings: Record<string, unknown>
}

/** The count-per-key topology (`count-topology.ts`), as the CLI takes it. */
export const COUNT_TOPOLOGY_FILE = 'bench/cli-group/count-topology.ts'

/** A log line saying the instance was just assigned `count` tasks. */
export const assignedTasks =
  (count: number) =>
  (l: LogLine): boolean =>
    l.msg === 'assignment received' && Array.isArray(l.assigned) && l.assigned.length === count

/** A log line at or after `since` (epoch ms; pino's `time`). */
export const loggedSince =
  (since: number, predicate: (l: LogLine) => boolean) =>
  (l: LogLine): boolean =>
    Number(l.time) >= since && predicate(l)

export class InstanceGroup {
  readonly instances: CliInstance[] = []
  readonly stateDirs: string[] = []

  constructor(private readonly options: InstanceGroupOptions) {}

  async createTopics(): Promise<void> {
    await createTopicsAndWait(this.options.admin, this.options.topics)
  }

  /** Starts one more instance; `env` is added to the group's environment. */
  launch(env: Record<string, string> = {}): CliInstance {
    const stateDir = mkdtempSync(join(tmpdir(), `${this.options.applicationId}-`))
    this.stateDirs.push(stateDir)
    const instance = startInstance({
      topologyFile: this.options.topologyFile,
      applicationId: this.options.applicationId,
      stateDir,
      env: { ...this.options.env, ...env },
      settings: this.options.settings,
    })
    this.instances.push(instance)
    return instance
  }

  /**
   * Rejects as soon as one of the instances launched so far exits, with its last error lines: a
   * bench waiting for the group (to load, to catch up) would otherwise wait forever. Race it against
   * the wait.
   */
  exitedEarly(doing: string): Promise<never> {
    const died = Promise.race(
      this.instances.map((i) =>
        i.exited.then((code) => {
          // The warnings before the error say why (a slow batch, a missed heartbeat, a rebalance).
          const lines = i.logs.filter((l) => l.level >= 40).slice(-8)
          if (process.env.BENCH_LOG_DIR)
            writeFileSync(
              join(process.env.BENCH_LOG_DIR, `${this.options.applicationId}-${i.process.pid}.log`),
              i.logs.map((l) => JSON.stringify(l)).join('\n'),
            )
          return Promise.reject(
            new Error(`an instance exited (${code}) while ${doing}; its last warnings and errors:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`),
          )
        }),
      ),
    )
    died.catch(() => undefined)
    return died
  }

  /** Until the group has committed every record of `topic` (its end offsets when called). */
  async waitForCommitted(topic: string, timeoutMs = Infinity): Promise<boolean> {
    const { admin, applicationId } = this.options
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.high]))
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const [committed] = await admin.fetchOffsets({ groupId: applicationId, topics: [topic] })
      if (committed && committed.partitions.every((p) => p.offset === ends.get(p.partition))) return true
      await new Promise((r) => setTimeout(r, 500))
    }
    return false
  }

  /** Kills what is still running, deletes the topics and the state directories. */
  async close(): Promise<void> {
    for (const instance of this.instances) instance.kill('SIGKILL')
    await Promise.all(this.instances.map((i) => i.exited))
    await this.options.admin.deleteTopics({ topics: this.options.topics.map((t) => t.topic) }).catch(() => undefined)
    for (const dir of this.stateDirs) rmSync(dir, { recursive: true, force: true })
  }
}
