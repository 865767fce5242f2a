/**
 * One worker of `sentinel-streams run --threads N` (thread-supervisor.ts forks them): a whole
 * SentinelStreams instance in the application's consumer group, told apart from its siblings by its
 * index. What makes it a good sibling: its own state directory (two instances must not share task
 * locks of one host's directory), its share of the record cache, a client id suffix for broker logs,
 * and its readiness and metrics reported to the supervisor, which serves the ports for all of them.
 */
import cluster from 'node:cluster'
import { join } from 'node:path'
import { AggregatorRegistry, type Registry } from 'prom-client'
import { DEFAULTS, defaultStateDir, type StreamsConfig } from '../../runtime/config.js'
import { Readiness, type ReadinessReport } from '../../runtime/readiness.js'
import type { StateSource } from '../../runtime/streams-state.js'

/** The environment variable the supervisor passes each worker its index in. */
export const THREAD_INDEX_ENV = 'SENTINEL_STREAMS_THREAD_INDEX'

/** The IPC message a worker sends the supervisor on each state change. */
export const READINESS_MESSAGE = 'sentinel-streams:readiness'

/** The IPC message a worker sends once it is ready to join the consumer group (join-barrier.ts). */
export const READY_TO_JOIN_MESSAGE = 'sentinel-streams:ready-to-join'

/** The IPC message the supervisor answers it with when the worker may join. */
export const JOIN_MESSAGE = 'sentinel-streams:join'

export interface ReadinessMessage extends ReadinessReport {
  readonly type: typeof READINESS_MESSAGE
  readonly alive: boolean
}

export interface ThreadIdentity {
  readonly index: number
  readonly count: number
}

/** This process's thread, when it is a `--threads` worker; undefined in the primary or a plain run. */
export function threadIdentity(count: number): ThreadIdentity | undefined {
  const index = process.env[THREAD_INDEX_ENV]
  if (!cluster.isWorker || index === undefined) return undefined
  return { index: Number(index), count }
}

/**
 * The settings that differ per thread. The record cache budget is the process's, divided among its
 * threads as Kafka Streams divides `statestore.cache.max.bytes` among its stream threads, so N
 * threads use the memory one did.
 */
export function threadConfig(config: Partial<StreamsConfig>, thread: ThreadIdentity): { stateDir: string; cacheMaxBytes: number } {
  return {
    stateDir: join(config.stateDir ?? defaultStateDir(), `thread-${thread.index}`),
    cacheMaxBytes: Math.floor((config.cacheMaxBytes ?? DEFAULTS.cacheMaxBytes) / thread.count),
  }
}

/**
 * Reports this worker's readiness to the supervisor on each state change, and answers its requests
 * for the registry's metrics (prom-client's AggregatorRegistry listens for them in a worker once one
 * is made).
 */
export function reportToSupervisor(runtime: StateSource, metrics: Registry): void {
  new AggregatorRegistry()
  AggregatorRegistry.setRegistries(metrics)
  const readiness = new Readiness(runtime)
  const send = (): void => {
    const message: ReadinessMessage = { type: READINESS_MESSAGE, ...readiness.report(), alive: readiness.alive() }
    // The callback keeps a send racing the supervisor's exit from becoming an 'error' event nobody handles.
    if (process.connected) process.send?.(message, undefined, undefined, () => undefined)
  }
  send()
  runtime.onStateChange(send)
}

/**
 * The runtime's `beforeJoin` for a worker: tells the supervisor this thread is ready to join the
 * group and resolves when the supervisor lets it (once every thread is ready, see join-barrier.ts).
 * Resolves at once without a supervisor, and if the supervisor goes away (the worker is then being
 * stopped anyway).
 */
export function joinWhenSupervisorSays(): Promise<void> {
  if (!process.connected || !process.send) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('message', onMessage)
      process.off('disconnect', done)
      resolve()
    }
    const onMessage = (message: unknown): void => {
      if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === JOIN_MESSAGE) done()
    }
    process.on('message', onMessage)
    process.on('disconnect', done)
    process.send!({ type: READY_TO_JOIN_MESSAGE }, undefined, undefined, () => undefined)
  })
}
