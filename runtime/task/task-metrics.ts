/** Plain counters of one task; the runtime exports them to prom-client, the driver to tests. */
export class TaskMetrics {
  processed = 0
  /** Records sent to the DLQ. */
  deadLettered = 0
  /** Bad records dropped under the `skip` policy. */
  skipped = 0
  /** Records dropped because every window they belong to had closed. */
  late = 0
  readonly lateByProcessor = new Map<string, number>()
  punctuations = 0
  /** Punctuator errors tolerated under `dlq`/`skip`. */
  punctuationErrors = 0
  /** Times an idle timeout advanced stream time. */
  idleAdvances = 0
  /** Records refused by a source's event-time bounds (also dead-lettered or skipped), by side. */
  readonly outOfBounds = { ahead: 0, behind: 0 }
  /** Records dropped as repeats of an id already seen (`stream(..., { deduplicate })`). */
  duplicates = 0

  recordOutOfBounds(verdict: 'ahead' | 'behind'): void {
    this.outOfBounds[verdict]++
  }

  recordDuplicate(_processor: string): void {
    this.duplicates++
  }

  recordLate(processor: string): void {
    this.late++
    this.lateByProcessor.set(processor, (this.lateByProcessor.get(processor) ?? 0) + 1)
  }
}
