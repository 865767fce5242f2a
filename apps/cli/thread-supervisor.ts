/**
 * `sentinel-streams run --threads N`: the primary process of a node:cluster, which forks N workers
 * (the same command; thread-worker.ts), each a whole SentinelStreams instance in the application's
 * consumer group, like Kafka Streams' `num.stream.threads` but one process per thread, because one
 * Node event loop uses one core. The primary runs no topology: it restarts a worker that crashes
 * (worker-restart-policy.ts), passes SIGINT and SIGTERM on and exits once every worker has, and
 * serves /metrics (the workers' registries summed over IPC) and /health and /ready (ready when every
 * worker is). At the first start it holds each worker just before it joins the group until all
 * are ready to, so they join in one rebalance (join-barrier.ts).
 */
import cluster, { type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import type pino from 'pino'
import { AggregatorRegistry } from 'prom-client'
import type { ReadinessReport } from '../../runtime/readiness.js'
import { UsageError } from './command-args.js'
import { missingGlibcMallocEnv } from './glibc-malloc-env.js'
import { type OperationsServer, type ReadinessSource, serveOperationsPorts } from './operations-server.js'
import { JoinBarrier } from './join-barrier.js'
import { JOIN_MESSAGE, READINESS_MESSAGE, READY_TO_JOIN_MESSAGE, type ReadinessMessage, THREAD_INDEX_ENV } from './thread-worker.js'
import { RESTART_POLICY, type RestartPolicySettings, WorkerRestartPolicy } from './worker-restart-policy.js'

/** `--threads`: a count from 1 to 64, or `auto` for the cores node may use. */
export function threadCount(text: string | undefined): number {
  if (text === undefined) return 1
  if (text === 'auto') return availableParallelism()
  const n = Number(text)
  if (!/^\d+$/.test(text) || n < 1 || n > 64) throw new UsageError(`--threads needs a count from 1 to 64 or 'auto', got '${text}'`)
  return n
}

export interface SupervisorOptions {
  readonly threads: number
  readonly logger: pino.Logger
  readonly metricsPort: number | undefined
  readonly healthPort: number | undefined
  readonly restartPolicy?: RestartPolicySettings
}

/**
 * How long the first start waits for every thread to be ready to join before letting in those that
 * are. A thread that cannot get ready (crashing on start, a slow global table) must not hold the others
 * out of the group for long; a crash loop gives up after 5 quick crashes, ~15 s of backoff.
 */
const JOIN_BARRIER_TIMEOUT_MS = 30_000

interface ThreadSlot {
  readonly index: number
  readonly policy: WorkerRestartPolicy
  worker: Worker | undefined
  startedAt: number
  restartTimer: NodeJS.Timeout | undefined
  /** The last readiness the worker reported; undefined until its first, and after it exits. */
  report: ReadinessMessage | undefined
}

/** Runs the workers until they have all exited; resolves with the run's exit code. */
export async function superviseThreads(options: SupervisorOptions): Promise<number> {
  const { threads, logger } = options
  const slots: ThreadSlot[] = Array.from({ length: threads }, (_, index) => ({
    index,
    policy: new WorkerRestartPolicy(options.restartPolicy ?? RESTART_POLICY),
    worker: undefined,
    startedAt: 0,
    restartTimer: undefined,
    report: undefined,
  }))
  let stopping: { code: number } | undefined
  const barrier = new JoinBarrier(threads)
  const letJoin = (indexes: readonly number[]): void => {
    for (const i of indexes) slots[i]!.worker?.send({ type: JOIN_MESSAGE }, undefined, undefined, () => undefined)
  }
  let finish: (code: number) => void = () => undefined
  const finished = new Promise<number>((resolve) => (finish = resolve))
  const settleIfDone = (): void => {
    if (stopping && slots.every((s) => s.worker === undefined)) finish(stopping.code)
  }

  const barrierTimer = setTimeout(() => {
    if (barrier.isOpen) return
    const waiting = barrier.release()
    logger.warn(
      { ready: waiting, threads, waitedMs: JOIN_BARRIER_TIMEOUT_MS },
      'not every thread got ready to join in time: the ready ones join now, the others when they are',
    )
    letJoin(waiting)
  }, JOIN_BARRIER_TIMEOUT_MS)
  const stop = (code: number, why: string, signal: NodeJS.Signals = 'SIGTERM'): void => {
    if (!stopping) {
      stopping = { code }
      logger.info({ reason: why, threads }, 'stopping every thread')
    }
    for (const slot of slots) {
      clearTimeout(slot.restartTimer)
      slot.restartTimer = undefined
      slot.worker?.process.kill(signal)
    }
    clearTimeout(barrierTimer)
    settleIfDone()
  }

  const fork = (slot: ThreadSlot): void => {
    slot.restartTimer = undefined
    slot.startedAt = Date.now()
    // A worker is a fresh process, so it can take the malloc settings the primary may have started without.
    const worker = cluster.fork({ ...missingGlibcMallocEnv(process.env), [THREAD_INDEX_ENV]: String(slot.index) })
    slot.worker = worker
    worker.on('message', (message: unknown) => {
      if (isMessage(message, READINESS_MESSAGE)) slot.report = message as ReadinessMessage
      else if (isMessage(message, READY_TO_JOIN_MESSAGE)) {
        const wasOpen = barrier.isOpen
        const joining = barrier.arrive(slot.index)
        // Logged before they are let in, so the line comes before any thread's assignment.
        if (!wasOpen && barrier.isOpen) logger.info({ threads }, 'every thread is ready: joining the group together')
        letJoin(joining)
      }
    })
    worker.on('exit', (code, signal) => {
      slot.worker = undefined
      slot.report = undefined
      barrier.leave(slot.index)
      if (stopping) {
        if (code !== 0) logger.warn({ thread: slot.index, code, signal }, 'thread exited uncleanly while stopping')
        if (code !== 0 && stopping.code === 0) stopping = { code: code ?? 1 }
        return settleIfDone()
      }
      const decision = slot.policy.onExit(code, Date.now() - slot.startedAt)
      switch (decision.action) {
        case 'restart':
          logger.warn({ thread: slot.index, code, signal, restartInMs: decision.delayMs, quickCrashes: decision.quickCrashes }, 'thread crashed: restarting it')
          slot.restartTimer = setTimeout(() => fork(slot), decision.delayMs)
          return
        case 'give-up':
          logger.error(
            { thread: slot.index, code, signal, quickCrashes: decision.quickCrashes },
            'thread crashed soon after each start: giving up, stopping the others',
          )
          return stop(1, 'a thread kept crashing')
        case 'end-run':
          return stop(decision.code, decision.why)
      }
    })
  }

  // The first signal stops every worker; a repeat is passed on too, and each worker decides, as a
  // single-thread run does, whether it is the same Ctrl-C (within a second) or the user insisting.
  const onSignal = (signal: NodeJS.Signals): void => stop(0, signal, signal)
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const metrics = new AggregatorRegistry()
  const operations: OperationsServer = await serveOperationsPorts(
    { metricsPort: options.metricsPort, healthPort: options.healthPort },
    { metrics: { contentType: metrics.contentType, metrics: () => metrics.clusterMetrics() }, readiness: threadsReadiness(slots) },
    logger,
  )
  logger.info({ threads }, `running ${threads} threads: one process each, all in the application's consumer group`)
  // A signal while the ports were opening has already ended the run: no worker to start then.
  if (!stopping) for (const slot of slots) fork(slot)
  const code = await finished
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  await operations.close()
  logger.info({ code }, 'every thread has exited')
  return code
}

/** Ready when every thread is; alive unless one has failed (a crashed one is being restarted). */
function threadsReadiness(slots: readonly ThreadSlot[]): ReadinessSource {
  return {
    report(): ReadinessReport {
      const waiting = slots.find((s) => !s.report?.ready)
      if (!waiting) return { ready: true, state: 'running', reason: `all ${slots.length} threads ready` }
      const report = waiting.report
      return {
        ready: false,
        state: report?.state ?? 'created',
        reason: `thread ${waiting.index}: ${report?.reason ?? (waiting.worker ? 'starting' : 'restarting after a crash')}`,
      }
    },
    alive: () => slots.every((s) => s.report?.alive !== false),
  }
}

function isMessage(message: unknown, type: string): boolean {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type
}
