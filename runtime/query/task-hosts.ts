/**
 * The last known map of task → instance address, from the group's latest assignment. kafkajs
 * rebalances eagerly and stops the world, so while a rebalance runs this map is the previous
 * generation's: a query routed by it may reach an instance that just gave the task away, which then
 * answers `StoreNotQueryableError` (retry). It is empty only before the first assignment is known.
 */
import type { HostAssignment } from '../assignor.js'
import { formatHostInfo, parseHostInfo } from '../config.js'
import type { HostInfo } from '../streams-runtime.js'

export class TaskHosts {
  private readonly hostOfTask = new Map<string, HostInfo>()
  private hosts: HostInfo[] = []
  private known = false

  /** True once an assignment's map was received. */
  get assigned(): boolean {
    return this.known
  }

  update(map: HostAssignment): void {
    this.hostOfTask.clear()
    const hosts: HostInfo[] = []
    for (const entry of map.hosts) {
      let host: HostInfo
      try {
        host = parseHostInfo(entry.host)
      } catch {
        continue // a member of another version with an address we cannot route to
      }
      hosts.push(host)
      for (const task of entry.tasks) this.hostOfTask.set(task, host)
    }
    this.hosts = hosts
    this.known = true
  }

  hostOf(taskId: string): HostInfo | null {
    return this.hostOfTask.get(taskId) ?? null
  }

  /** Every instance with an address, as of the last assignment. */
  all(): HostInfo[] {
    return this.hosts.map((h) => ({ ...h }))
  }

  /** Tasks of one address (for logs and tests). */
  tasksOf(host: HostInfo): string[] {
    const address = formatHostInfo(host)
    return [...this.hostOfTask].filter(([, h]) => formatHostInfo(h) === address).map(([task]) => task)
  }
}
