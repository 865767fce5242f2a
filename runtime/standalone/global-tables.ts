/**
 * The standalone runtime's global consumer: applies each global table's topic, every partition, to
 * its store. `catchUp()` runs before the tasks start (so they never see a half-loaded table) and
 * then at the head of every processing round, so a table update appended before a stream record is
 * visible to it, as on Kafka once the global consumer has fetched it.
 */
import type { OpenedGlobalStore } from '../task/global-stores.js'
import type { EmbeddedLog } from './embedded-log.js'

/** Records applied per partition and call: one engine batch each. */
const CHUNK = 10_000

export class EmbeddedGlobalTables {
  /** Next offset to apply, by topic and partition. */
  private readonly positions = new Map<string, number[]>()

  constructor(
    private readonly log: EmbeddedLog,
    private readonly opened: readonly OpenedGlobalStore[],
  ) {
    for (const { plan } of opened) {
      const count = log.partitionCount(plan.topic) ?? log.createTopic(plan.topic)
      this.positions.set(plan.topic, Array.from({ length: count }, (_, p) => log.startOffset(plan.topic, p)))
    }
  }

  get topics(): string[] {
    return this.opened.map((g) => g.plan.topic)
  }

  /** Applies what the log holds beyond the positions (up to `CHUNK` per partition); returns how many records. */
  async catchUp(): Promise<number> {
    let applied = 0
    for (const { plan, store } of this.opened) {
      const positions = this.positions.get(plan.topic)!
      for (let partition = 0; partition < positions.length; partition++) {
        const records = this.log.read(plan.topic, partition, positions[partition]!, CHUNK)
        if (records.length === 0) continue
        // Records without a key cannot be rows (Kafka Streams' global consumer drops them too).
        await store.restoreBatch(records.flatMap((r) => (r.key === null ? [] : [{ key: r.key, value: r.value }])))
        positions[partition] = records[records.length - 1]!.offset + 1
        applied += records.length
      }
    }
    return applied
  }

  /** Applies everything the log holds now. */
  async restore(): Promise<void> {
    while ((await this.catchUp()) > 0) {
      // Until caught up.
    }
  }
}
