/**
 * Failure bursts per key (application, model...) over a sliding window, judged at each failed call
 * by the probability of that many failures among the window's calls under the key's long-run
 * failure rate (operators/detectors/binomial-burst.ts: beta-binomial tail, the population's rate
 * while the key is young). A burst is reported at the failure that makes it improbable, whichever
 * way it straddles window edges, and in a quiet key as in a busy one: 3 failures out of 4 calls
 * at a 1% base rate alarm while 3 out of 300 do not.
 *
 * Every outcome (`outcome` not null) is learned into the key's and the population's counts, except
 * while the key is firing or its window is already suspicious (tail <= sqrt(significance)): a burst
 * does not teach its own normal, not even through its first failures. One anomaly per burst: the key
 * re-arms once a window's tail is back above sqrt(significance).
 *
 * State: a window store of bucket counts (`<name>-buckets`), a key-value store of the key's
 * long-run counts and firing flag (`<name>-state`), both prefetched by the source key; the
 * population's counts (one entry) in memory and in `<name>-population` (read back at `init`). A
 * restart continues where it stopped. Fails as the core does (clustered failures, too few calls).
 */
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import type { KeyValueStore, WindowStore } from '../../state/types.js'
import { type KStream, type KeyValueStoreDefinition, type Processor, type ProcessorContext, type StreamRecord, Stores, type WindowStoreDefinition } from '../../topology/index.js'
import { type BinomialBurstConfig, BinomialBurstDetector, type BinomialBurstVerdict, type FailureCounts, NO_COUNTS } from '../detectors/binomial-burst.js'
import { anomalyScore, anomalySeverity, severityOf } from '../detectors/severity.js'
import { type AnomalyOutputOptions, anomalyEvent, checkDetectorId } from './anomaly-output.js'
import { slidingBucketStore, slidingBuckets } from './sliding-sum.js'

export interface BinomialBurstOptions<V> extends AnomalyOutputOptions<V>, BinomialBurstConfig {
  /** Prefix of the processor and store names (default: `id`). */
  readonly name?: string
  /** true for a failed call, false for a successful one, null for a record that is no call outcome. */
  readonly outcome: (value: V, key: string) => boolean | null
  readonly windowMs: number
  /** Resolution of the sliding window (default windowMs / 12). */
  readonly bucketMs?: number
}

export interface BinomialBurstState extends FailureCounts {
  readonly firing: boolean
}

const POPULATION = 'population'

class BinomialBurstProcessor<V> implements Processor<string, V, string, AnomalyEvent> {
  private context!: ProcessorContext<string, AnomalyEvent>
  private buckets!: WindowStore<string, FailureCounts>
  private states!: KeyValueStore<string, BinomialBurstState>
  private populationStore!: KeyValueStore<string, FailureCounts>
  private population: FailureCounts = NO_COUNTS
  private readonly rearmTail: number

  constructor(
    private readonly options: BinomialBurstOptions<V>,
    private readonly detector: BinomialBurstDetector,
    private readonly bucketMs: number,
    private readonly bucketCount: number,
    private readonly bucketStore: WindowStoreDefinition<string, FailureCounts>,
    private readonly stateStore: KeyValueStoreDefinition<string, BinomialBurstState>,
    private readonly populationDefinition: KeyValueStoreDefinition<string, FailureCounts>,
  ) {
    this.rearmTail = Math.sqrt(options.significance)
  }

  async init(context: ProcessorContext<string, AnomalyEvent>): Promise<void> {
    this.context = context
    this.buckets = context.getStateStore(this.bucketStore)
    this.states = context.getStateStore(this.stateStore)
    this.populationStore = context.getStateStore(this.populationDefinition)
    for await (const [, counts] of this.populationStore.all()) this.population = counts
  }

  process(record: StreamRecord<string, V>): void {
    const { key, value, timestamp } = record
    if (key === null || key === undefined) return
    const failed = this.options.outcome(value, key)
    if (failed === null) return
    const windows = slidingBuckets(timestamp, this.bucketMs, this.bucketCount)
    const own = windows[windows.length - 1]!.start
    const bucket = this.buckets.get(key, own) ?? NO_COUNTS
    this.buckets.put(key, { calls: bucket.calls + 1, failures: bucket.failures + (failed ? 1 : 0) }, own)
    const before = this.states.get(key) ?? { ...NO_COUNTS, firing: false }
    // Only a failure can make the window less likely; a success matters only to re-arm a firing key.
    let verdict: BinomialBurstVerdict | undefined
    let calls = 0
    let failures = 0
    if (failed || before.firing) {
      for (const w of windows) {
        const counts = this.buckets.get(key, w.start)
        if (counts === undefined) continue
        calls += counts.calls
        failures += counts.failures
      }
      verdict = this.detector.judge(failures, calls, before, this.population)
    }
    const fire = !before.firing && verdict?.burst === true
    const firing = before.firing ? verdict!.tail <= this.rearmTail : fire
    if (firing !== before.firing) this.states.put(key, { ...before, firing })
    // Outcomes of a suspicious window (tail at or below the re-arm level) are not learned: the first
    // failures of a burst, before it is improbable enough to report, would raise the very rate it
    // is judged against.
    const suspicious = verdict !== undefined && verdict.tail <= this.rearmTail
    if (!firing && !suspicious) {
      this.states.put(key, { ...this.detector.learn(before, failed), firing: false })
      this.population = this.detector.learn(this.population, failed)
      this.populationStore.put(POPULATION, this.population)
    }
    if (fire) this.context.forward({ key, value: this.event(key, failures, calls, verdict!, timestamp, value), timestamp, headers: {} })
  }

  private event(key: string, failures: number, calls: number, verdict: BinomialBurstVerdict, at: number, value: V): AnomalyEvent {
    const minutes = this.options.windowMs / 60_000
    // In orders of magnitude of improbability: 1 at the significance, 2 at its square.
    const observed = -Math.log10(Math.max(verdict.tail, Number.MIN_VALUE))
    const bound = -Math.log10(this.options.significance)
    const expected = verdict.rate * calls
    return anomalyEvent(
      this.options,
      {
        key,
        idTime: at,
        detectedAt: at,
        detectorType: 'statistical',
        severity: anomalySeverity(severityOf(observed, bound) ?? 'low'),
        score: anomalyScore(observed, bound),
        title: `${failures} of ${calls} calls failed in ${minutes} min (expected ${expected.toFixed(1)})`,
        description: `${key}: ${failures} failures among its last ${calls} calls (${minutes} min); its failure rate is ${(verdict.rate * 100).toFixed(2)}%, so this many or more has probability ${verdict.tail.toExponential(1)} (burst at ${this.options.significance}).`,
        metrics: { baseline_value: verdict.rate, observed_value: calls > 0 ? failures / calls : 0, deviation: observed, threshold: bound },
        windowStart: at - this.options.windowMs,
        windowEnd: at,
      },
      value,
    )
  }
}

/** One AnomalyEvent per failure burst of a key (see the module comment), keyed by the source key. */
export function binomialBurst<V>(stream: KStream<string, V>, options: BinomialBurstOptions<V>): KStream<string, AnomalyEvent> {
  const name = options.name ?? options.id
  const operator = `binomialBurst('${name}')`
  checkDetectorId(operator, options.id)
  if (typeof options.outcome !== 'function') throw new Error(`${operator}: 'outcome' must be a function (value, key) => boolean | null`)
  const { store: buckets, bucketMs, count } = slidingBucketStore<FailureCounts>(operator, name, options.windowMs, options.bucketMs)
  const detector = new BinomialBurstDetector(options)
  const state = Stores.keyValue(`${name}-state`, Serdes.string(), Serdes.json<BinomialBurstState>())
  const population = Stores.keyValue(`${name}-population`, Serdes.string(), Serdes.json<FailureCounts>(), { prefetch: 'none' })
  return stream.process(() => new BinomialBurstProcessor(options, detector, bucketMs, count, buckets, state, population), { name, stores: [buckets, state, population] })
}
