/**
 * The lifecycle both runtimes share (`SentinelStreams` on Kafka, `StandaloneStreams` on the embedded
 * log): the state machine of `streams-state.ts` with its listeners, start once, close once, and a
 * fatal error that moves to `error` and closes. Each runtime supplies only what differs: how it
 * shuts down (`shutdown`), and what else a transition must wake (`onTransition`).
 */
import pino from 'pino'
import { STATE_TRANSITIONS, type StateListener, type StateSource, type StreamsState, waitForStreamsState } from './streams-state.js'

/**
 * The runtime's pino logger: the one given (a child naming the application), silence for `false`,
 * else pino at `SENTINEL_LOG_LEVEL` (default `info`) to stderr, so stdout stays the application's.
 */
export function runtimeLogger(option: pino.Logger | false | undefined, applicationId: string): pino.Logger {
  if (option === false) return pino({ level: 'silent' })
  return (option ?? pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'info' }, pino.destination(2))).child({ app: applicationId })
}

export abstract class RuntimeLifecycle implements StateSource {
  private current: StreamsState = 'created'
  private readonly listeners = new Set<StateListener>()
  private closing: Promise<void> | undefined
  private failure: Error | undefined

  protected constructor(protected readonly logger: pino.Logger) {}

  get state(): StreamsState {
    return this.current
  }

  /** Calls `listener` on every state change; returns a function that removes it. */
  onStateChange(listener: StateListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Resolves when the state is `state`; rejects on `error`, or after `timeoutMs`. */
  waitForState(state: StreamsState, timeoutMs = 60_000): Promise<void> {
    return waitForStreamsState(this, state, timeoutMs)
  }

  /**
   * Shuts down once (later calls get the same promise): `pending-shutdown`, the runtime's
   * `shutdown()`, then `not-running` even when that threw (logged), so a caller never waits on a
   * half-closed instance.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.current === 'not-running') return
      this.transition('pending-shutdown')
      try {
        await this.shutdown()
      } catch (e) {
        this.logger.error({ err: e }, 'error while stopping')
      } finally {
        this.transition('not-running')
      }
    })()
    return this.closing
  }

  /** What the runtime stops, flushes and releases on close. */
  protected abstract shutdown(): Promise<void>

  /** Called after each transition, before the listeners: state the runtime must update with it. */
  protected onTransition(_next: StreamsState, _previous: StreamsState): void {}

  /** True once close() was called (also after a failure, which closes). */
  protected get closeRequested(): boolean {
    return this.closing !== undefined
  }

  /** True after a fatal error: shutdown must not commit what the failed processing left behind. */
  protected get failed(): boolean {
    return this.failure !== undefined
  }

  /** An instance starts once: a second start() names the state and the fix. */
  protected checkStartable(): void {
    if (this.current !== 'created') throw new Error(`start() called in state '${this.current}'; create a new instance to start again`)
  }

  /**
   * Moves to `next` when `STATE_TRANSITIONS` allows it and tells the listeners; a move it does not
   * allow (a late rebalance callback after close) is ignored. `rebalancing` again is a new
   * rebalance, so it is reported; any other repeat is not.
   */
  protected transition(next: StreamsState): void {
    const previous = this.current
    if (previous === next && next !== 'rebalancing') return
    if (!STATE_TRANSITIONS[previous].includes(next)) return
    this.current = next
    this.logger.info({ from: previous, to: next }, 'state change')
    this.onTransition(next, previous)
    for (const listener of this.listeners) listener(next, previous)
  }

  /** A fatal error in processing: `error`, then close. Ignored once shutting down or failed. */
  protected fail(error: Error): void {
    if (this.current === 'error' || this.current === 'pending-shutdown' || this.current === 'not-running') return
    this.failure = error
    this.logger.error({ err: error }, 'stream processing failed: shutting down this instance')
    this.transition('error')
    void this.close()
  }
}
