/** The lifecycle of a streams application, shared by the Kafka and standalone runtimes (Kafka Streams' KafkaStreams.State). */
export type StreamsState = 'created' | 'rebalancing' | 'running' | 'pending-shutdown' | 'not-running' | 'error'

export type StateListener = (next: StreamsState, previous: StreamsState) => void

/** Which state may follow which; anything else is a bug in the runtime. */
export const STATE_TRANSITIONS: Record<StreamsState, readonly StreamsState[]> = {
  created: ['rebalancing', 'pending-shutdown', 'error'],
  rebalancing: ['running', 'rebalancing', 'pending-shutdown', 'error'],
  running: ['rebalancing', 'pending-shutdown', 'error'],
  'pending-shutdown': ['not-running'],
  'not-running': [],
  error: ['pending-shutdown'],
}

/** What `waitForStreamsState` watches: a runtime's state and its changes. */
export interface StateSource {
  readonly state: StreamsState
  onStateChange(listener: StateListener): () => void
}

/** Resolves when `source` is in `state`; rejects when it goes to `error` first, or after `timeoutMs`. */
export function waitForStreamsState(source: StateSource, state: StreamsState, timeoutMs: number): Promise<void> {
  if (source.state === state) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`state did not become '${state}' within ${timeoutMs} ms (it is '${source.state}')`))
    }, timeoutMs)
    const off = source.onStateChange((next) => {
      if (next === state || (next === 'error' && state !== 'error')) {
        clearTimeout(timer)
        off()
        if (next === state) resolve()
        else reject(new Error(`the application went to 'error' while waiting for '${state}'`))
      }
    })
  })
}
